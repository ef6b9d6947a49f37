"""Megatron-Core's combined-1F1B EP overlap (`MoeRouting.overlap_ep_comm`) runs only where Megatron-Core accepts it.

megatron-core 0.16.1 transformer_config.py:1855-1877 asserts EP > 1, virtual pipeline stages when PP > 1 and no
full recompute for `overlap_moe_expert_parallel_comm`; a plan that breaks one of these runs without the overlap
(`training.step_assembly.assemble_step`), so the search cannot score a plan Megatron refuses as overlapped.
"""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import Stack, load_stack
from infraplan.training.estimate import estimate_training

PLAN = dict(seq_len=4096, global_batch=512, micro_batch=1, dtype="bf16")


def _stacks() -> tuple[Stack, Stack]:
    base = load_stack("nemo-26.04")
    on = base.model_copy(update={"moe": base.moe.model_copy(update={"overlap_ep_comm": True})})
    off = base.model_copy(update={"moe": base.moe.model_copy(update={"overlap_ep_comm": False})})
    return off, on


def _step(stack: Stack, **plan: object) -> float:
    return estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", 64, stack=stack, **{**PLAN, **plan}).step_time_s


@pytest.mark.parametrize("plan", [dict(pp=4, vpp=2, ep=16), dict(pp=1, ep=16, recompute="selective")])
def test_accepted_plans_hide_the_all_to_all(plan: dict[str, object]) -> None:
    off, on = _stacks()
    assert _step(on, **plan) < _step(off, **plan)


@pytest.mark.parametrize("plan", [dict(pp=4, vpp=1, ep=16), dict(pp=1, ep=16, recompute="full")])
def test_plans_megatron_refuses_run_without_the_overlap(plan: dict[str, object]) -> None:
    off, on = _stacks()
    assert _step(on, **plan) == _step(off, **plan)
