"""Mutant-killing checks of `training.layer_layout` (hJ, session 62): Megatron-Core's `moe_shared_expert_overlap`, a
stack's `moe.shared_expert_overlap`, reaches the layer's layout on both paths (one plan's row and a search's grid),
so a shared expert's SP pair is Megatron's bf16 gather (megatron-core 0.16.1 transformer/moe/shared_experts.py
:92-104, :167-170; hO61), not TE's quantised one: on an fp8 plan at TP 4 with sequence parallelism the priced TP time
is not the plain stack's (how much of it the overlap hides is `training`'s, not this wiring's, to say)."""

from __future__ import annotations

import numpy as np

from infraplan.catalog.stacks import load_stack
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training, resolve_training
from infraplan.training.layer_layout import layer_layout
from infraplan.training.plan import PlanArrays

BASE = load_stack("nemo-26.04")
OVER = BASE.model_copy(update={"moe": BASE.moe.model_copy(update={"shared_expert_overlap": True})})
PLAN = dict(tp=4, ep=8, seq_len=4096, global_batch=64, dtype="fp8", recompute="full")


def test_the_stacks_overlap_reaches_one_plans_layout() -> None:
    for stack, want in ((BASE, False), (OVER, True)):
        point = resolve_training("deepseek-v3", "dgx-h100-superpod", 64, stack=stack, **PLAN)  # type: ignore[arg-type]
        row = point.plan.one_row
        assert layer_layout(row, True, point.profile).shared_expert_overlap is want


def test_the_stacks_overlap_reaches_a_grids_layout() -> None:
    rows = PlanArrays.build(tp=np.full(2, 4), pp=1, dp=16, cp=1, ep=8, vpp=1, micro_batch=1, global_batch=64,
                            seq_len=4096, recompute=Recompute.FULL, zero=1, dtype=np.array([int(Dtype.FP8)] * 2),
                            attention=Attention.FLASH, order=RankOrder.TP_CP_DP_PP)
    assert layer_layout(rows, np.array([True, True]), OVER).shared_expert_overlap is True
    assert layer_layout(rows, np.array([True, True]), BASE).shared_expert_overlap is False


def test_the_overlap_moves_the_tp_time_of_an_fp8_plan() -> None:
    plain, over = (dict(estimate_training("deepseek-v3", "dgx-h100-superpod", 64, stack=s, **PLAN).breakdown_s)  # type: ignore[arg-type]
                   for s in (BASE, OVER))
    assert over["tp_comm"] != plain["tp_comm"]
