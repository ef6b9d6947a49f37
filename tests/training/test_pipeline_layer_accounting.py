"""Pipeline chunks may count the embedding and loss as layers when the stack's even split does (H004/H005)."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training
from infraplan.training.plan_rules import pipeline_extra_layers
from infraplan.validation.sets import frontier_row_stack, load_frontier_rows

STACK = load_stack("nemo-26.04")
COUNTED = STACK.model_copy(update={"account_for_embedding_in_pipeline_split": True,
                                   "account_for_loss_in_pipeline_split": True})
H005 = dict(tp=4, pp=16, vpp=8, seq_len=8192, global_batch=1536, micro_batch=1, dtype="nvfp4")


def test_extra_layers_follow_the_stack_flags() -> None:
    assert pipeline_extra_layers(STACK) == 0 and pipeline_extra_layers(None) == 0
    assert pipeline_extra_layers(COUNTED) == 2
    only_loss = STACK.model_copy(update={"account_for_loss_in_pipeline_split": True})
    assert pipeline_extra_layers(only_loss) == 1
    # a balanced split moves whole layers; the flags belong to Megatron's even split
    assert pipeline_extra_layers(COUNTED.model_copy(update={"pipeline_split": "balanced"})) == 0


def test_128_chunks_for_126_layers_need_the_embedding_and_loss_counted() -> None:
    with pytest.raises(InputError, match="exceeds the model's 126 layers"):
        estimate_training("llama3-405b", "gb200-nvl72", 256, stack=STACK, **H005)
    counted = estimate_training("llama3-405b", "gb200-nvl72", 256, stack=COUNTED, **H005)
    assert counted.config.pp * counted.config.vpp == 128
    only_loss = STACK.model_copy(update={"account_for_loss_in_pipeline_split": True})  # 127 slots: still too few
    with pytest.raises(InputError, match=r"\(with the embedding and loss .*127\)"):
        estimate_training("llama3-405b", "gb200-nvl72", 256, stack=only_loss, **H005)


def test_the_405b_recipe_rows_carry_the_accounting_and_h005_is_scored() -> None:
    rows = {r["id"]: r for r in load_frontier_rows()}
    for row_id in ("H004", "H005"):
        assert rows[row_id]["pipeline_layers"] == "embedding+loss"
        assert pipeline_extra_layers(frontier_row_stack(rows[row_id])) == 2
    assert not rows["H005"]["awaiting_issue_13"]
    assert pipeline_extra_layers(frontier_row_stack(rows["H018"])) == 0
