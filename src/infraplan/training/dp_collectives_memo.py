"""A single estimate's data-parallel collectives, kept across estimates by every input they read.

`step_time.one_plan_step_time` prices one plan's DP gradient reduction and parameter gathers
(`step_traffic.dp_collectives`, the collective formulas of `network.collectives`) for its heaviest stage and each
end stage; plans that differ only in what those collectives never read (sequence length, batch, micro-batch,
recompute, precision) share them (hP13, issue 18; hP16, session 40). Split out of `training.step_time` (hK, session
58) unchanged.
"""
from __future__ import annotations

from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.network.collectives import Fabric, collective_switches
from infraplan.ops.params import PLAN_SHAPE_COUNTS
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import dp_groups, replica_group
from infraplan.training.step_traffic import dp_collectives


def one_plan_dp_collectives(shape: TransformerShape, fabric: Fabric, row: PlanArrays, params: float,
                             experts: float, grad_bytes: float, layers: float | None = None,
                             held: tuple[Any, ...] | None = None, all_reduce: bool = False) -> dict[str, Any]:
    """`dp_collectives` of a `one_row` plan at its own ZeRO stage, kept by the model's identity in
    `ops.params.PLAN_SHAPE_COUNTS` (emptied with the one-plan memo's pricings) under every input it reads: the
    fabric (held in the value, checked with `is`), the stage's local and expert parameters, the DP x CP and the
    expert groups and their rank strides (`stage_params.dp_groups`), PP (the local layers), the gradient bytes, the
    ZeRO stage and the collective formulas' module switches (`collectives.collective_switches`). Never the sequence
    length, batch, micro-batch, recompute or precision: plans that differ only in those (the benchmark's never-seen
    plans at their own sequence lengths, a sweep) price the DP collectives once (hP13, issue 18). `layers`: an end
    stage's local layers (`step_traffic.EndStageTraffic`; None: the heaviest stage's, from PP). `held`: `dp_key_of`
    the same fabric, plan and gradient bytes, computed once for a plan's stages (hP16, session 40: the DP groups read
    three times an estimate); last in it, `all_reduce` (the stack's `grad_reduce_all_reduce`)."""
    key = ("dp_collectives", params, experts, layers,
           *((*dp_key_of(fabric, row, grad_bytes), all_reduce) if held is None else held))
    kept = PLAN_SHAPE_COUNTS.get(shape, key)
    if kept is not None and kept[0] is fabric:
        return kept[1]  # type: ignore[no-any-return]  # (Python floats: the caller merges them into a new dict)
    out = dp_collectives(shape, fabric, row, params, experts, grad_bytes, row.zero, layers, all_reduce)
    PLAN_SHAPE_COUNTS.put(shape, key, (fabric, out))
    return out


def dp_key_of(fabric: Fabric, row: PlanArrays, grad_bytes: float) -> tuple[Any, ...]:
    """What `one_plan_dp_collectives`' key reads besides the stage's parameters and layers: the fabric's identity,
    the DP x CP and expert groups and their rank strides, PP, the gradient bytes, the ZeRO stage, the collective
    formulas' module switches and, last, hybrid sharding's replica groups where it shards."""
    return (id(fabric), *dp_groups(row), row.pp, grad_bytes, row.zero, *collective_switches(),
            *(replica_group(row) if row.zero_shard else ()))  # (hybrid sharding's replicas)
