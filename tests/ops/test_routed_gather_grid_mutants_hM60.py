"""Mutants of hH60's `routed_gather_at_expert_tp` on a search's grid (`training.layer_time._layout`; hM, session 60):
a grid row prices the expert-TP gather exactly where the same plan priced alone does (Megatron stacks whose applied
dispatcher is alltoall: not torchtitan's or DeepSpeed's own MoE, not a flex backend such as DeepEP, which replaces
the alltoall dispatcher: megatron-core flex_dispatcher_backend `with_flex_dispatcher`)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.training.estimate import evaluate_plans
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans


def _deepep(name: str) -> Stack:
    stack = resolve_stack(name, "training")
    return stack.model_copy(update={"moe": stack.moe.model_copy(update={"flex_backend": "deepep"})})


@pytest.mark.parametrize("stack", ["nemo-24.12", "torchtitan", "deepspeed", "deepep"])
def test_a_grid_row_prices_the_gather_as_the_plan_alone(stack: str) -> None:
    """Mixtral 8x7B on 16 H100, plans with expert TP > 1: each grid row's TP time is its plan's priced alone."""
    profile = _deepep("nemo-26.04") if stack == "deepep" else resolve_stack(stack, "training")
    shape, cluster = load_model("mixtral-8x7b"), Cluster.resolve("dgx-h100-superpod")
    plans = enumerate_plans(shape, 16, 4096, 64, ["bf16"], max_tp=4, schedules=["1f1b"])
    plans = plans.take(valid_mask(shape, plans))
    rows = np.flatnonzero((plans.expert_tp > 1) & (plans.tp > 1))[:: 97][:6]
    assert rows.size >= 3
    plans = plans.take(rows)
    grid = evaluate_plans(shape, cluster, plans, profile)["tp_comm"]
    clear_one_plan_memo()
    alone = [float(evaluate_plans(shape, cluster, plans.take([i]), profile)["tp_comm"][0]) for i in range(rows.size)]
    clear_one_plan_memo()
    assert grid.tolist() == pytest.approx(alone, rel=1e-9)
