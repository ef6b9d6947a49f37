"""Mutants of hH60's `model_parallel_zero_stages` (`training.stack_limits`; hM, session 60): expert parallelism is
model parallelism too (NeMo 2.1's FSDPStrategy builds EP = 1: nemo/lightning/pytorch/strategies/utils.py:48-53), and
the branch and bound refuses the stages on a stack that names no other ZeRO limit (no pipeline-depth table)."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training import search
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans

SAID = "ZeRO outside the stack: nemo-24.12 does not run ZeRO-2"


def test_train_notes_zero_2_with_expert_parallelism_alone() -> None:
    plan = dict(model="mixtral-8x7b", system="dgx-h100-superpod", gpus=16, tp=1, pp=1, seq_len=4096, global_batch=64,
                micro_batch=1, stack="nemo-24.12", recompute="full")
    ep8 = estimate_training(**plan, ep=8, zero=2).notes  # type: ignore[arg-type]
    assert any(n.startswith(SAID) and "EP 8" in n for n in ep8)
    assert not any(n.startswith("ZeRO outside the stack") for n in estimate_training(**plan, ep=1, zero=2).notes)  # type: ignore[arg-type]


def test_the_bound_refuses_them_without_a_pipeline_zero_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """nemo-24.12's model-parallel limit alone (every ZeRO stage at either pipeline depth): the branch and bound
    agrees with pricing every plan and proposes no ZeRO-2 plan with TP, CP or EP > 1."""
    only = load_stack("nemo-24.12").model_copy(update={"pipeline_zero_stages": (0, 1, 2, 3)})
    args = ("llama3-8b", "dgx-h100-superpod", 64, 8192, 128)
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    bounded = search_plans(*args, top=20, stack=only)
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    full = search_plans(*args, top=20, stack=only)
    assert (bounded.evaluated_count, bounded.feasible_count) == (full.evaluated_count, full.feasible_count)
    assert [r.config for r in bounded.top] == [r.config for r in full.top]
    assert not [r.config for r in bounded.top if r.config.zero == 2 and max(r.config.tp, r.config.cp) > 1]
