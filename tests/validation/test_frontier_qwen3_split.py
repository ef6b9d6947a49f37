"""The Qwen3-235B frontier rows run their Megatron-Bridge recipe's pipeline split: the embedding and the loss
count as pipeline layers (`validation.sets.MODEL_RECIPE_STACK`, recipes/qwen/qwen3_moe.py:165-167), so 94 + 2 =
96 layers split over PP8 x VP3 / VP4, and the last stage carries 11 layers besides the LM head, not 12."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.validation.sets import FRONTIER_STACK, frontier_row_stack, load_frontier_rows


def _rows() -> dict[str, dict[str, str]]:
    return {r["id"]: r for r in load_frontier_rows()}


def test_only_the_qwen3_235b_rows_and_the_405b_layouts_count_embedding_and_loss() -> None:
    for key, r in _rows().items():
        stack = frontier_row_stack(r)
        counted = r["infraplan_model"] == "qwen3-235b-a22b" or r.get("pipeline_layers") == "embedding+loss"
        assert stack.account_for_embedding_in_pipeline_split is counted, key
        assert stack.account_for_loss_in_pipeline_split is counted, key


@pytest.mark.parametrize("key", ["H025", "H026"])
def test_the_recipe_split_takes_a_layer_off_the_last_stage_and_speeds_the_row(key: str) -> None:
    r = _rows()[key]
    assert (94 + 2) % (int(r["pp"]) * int(r["vpp"])) == 0 and 94 % (int(r["pp"]) * int(r["vpp"])) != 0

    def tokens_per_s(stack: object) -> float:
        clear_one_plan_memo()
        return estimate_training(r["infraplan_model"], r["infraplan_system"], int(r["n_accel"]), tp=int(r["tp"]),
                                 pp=int(r["pp"]), cp=int(r["cp"]), vpp=int(r["vpp"]), seq_len=int(r["seq_len"]),
                                 global_batch=int(r["global_batch"]), micro_batch=int(r["micro_batch"]),
                                 recompute=r["recompute"], zero=int(r["zero"]), dtype=r["precision"],
                                 stack=stack, ep=int(r["ep"]), order=r["order"],
                                 etp=int(r["etp"]) if r["etp"] else None).tokens_per_s_per_gpu  # type: ignore[arg-type]

    plain = frontier_row_stack(r).model_copy(update={"account_for_embedding_in_pipeline_split": False,
                                                     "account_for_loss_in_pipeline_split": False,
                                                     # (94 layers on 24 / 32 chunks: Megatron-Core refuses them)
                                                     "pipeline_split_divisible": False})
    assert load_stack(FRONTIER_STACK).account_for_embedding_in_pipeline_split is False
    assert tokens_per_s(frontier_row_stack(r)) > 1.03 * tokens_per_s(plain)
