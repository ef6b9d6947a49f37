"""Mutation wave 4 (hM4, session 35): the optimizer's bytes per parameter with bf16 Adam moments (memory.py).

memory.py: fp32 master weights + two moments = 12 B/param, 8 with the stack's bf16 moments (DeepSeek-V3 tech report
Sec. 3.3.3). Fails on a one-line mutant the earlier tests let through (validation/notes/test_suite_cost_tried.md,
hM4).
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.training.enums import Recompute
from infraplan.training.memory import memory_breakdown
from infraplan.training.plan import PlanArrays

LLAMA_8B = load_model("llama3-8b")


def _plan() -> PlanArrays:
    return PlanArrays.build(tp=1, pp=1, dp=8, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=64, seq_len=8192,
                            recompute=int(Recompute.NONE), zero=0, dtype=0)


@pytest.mark.parametrize(("moments", "bytes_per_param"), [("fp32", 4.0 + 2 * 4.0), ("bf16", 4.0 + 2 * 2.0)])
def test_the_optimizer_holds_fp32_master_weights_and_two_moments(moments: str, bytes_per_param: float) -> None:
    stack = resolve_stack(None, "training").model_copy(update={"adam_moment_dtype": moments})
    optimizer = memory_breakdown(LLAMA_8B, _plan(), stack)["optimizer"][0]  # ZeRO 0, PP 1: every parameter
    assert optimizer == pytest.approx(LLAMA_8B.total_params() * bytes_per_param, rel=1e-12)
