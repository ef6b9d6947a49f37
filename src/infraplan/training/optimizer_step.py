"""The optimizer step of a training step: Adam (or Muon, `training.optimizers`) over the parameters of the pipeline
stage that holds the most.

Adam is memory-bound: `ADAM_BYTES_PER_PARAM` per parameter a GPU steps (its shard under ZeRO >= 1, the distributed
optimizer's, `stage_params.sharded_of`; all its stage's parameters under ZeRO 0) in `OPTIMIZER_KERNELS` launches,
exposed: the optimizer is its own sync interval (the grad-norm / inf check reads back to the host).
Each pipeline stage's ranks step their own stage's parameters, after the gradient norm is all-reduced over the
model-parallel group (the whole world for the distributed optimizer): megatron-core 0.16.1
optimizer/optimizer.py:593-621 (`step`: `prepare_grads`' inf check, `clip_grad_norm`, then
`step_with_ready_grads` on the rank's own parameters) and optimizer/clip_grads.py:51-96 (`get_grad_norm_fp32`'s
all-reduce over `grad_stats_parallel_group`). So the stages start together and the step ends with the stage of the
most parameters: the most of the stages that exist, each on its own parameters (`step_traffic.end_stage_params`:
its layers, its table where it is an end stage, the last's MTP modules and the embedding copy beside them), the
stages `step_assembly` prices the DP exposure on (the heaviest, each end stage that is not it, with p >= 3 and an
end stage the heaviest the middle stage of the most layers); where the heaviest holds the step's traffic
parameters (one stage, or ceil(L / p) layers, a table and no MTP module: `settled`), the traffic's. A schedule whose
ranks hold mirrored stages (DualPipe, ZB-V) steps the rank's parameters as `training.memory` counts its state
(`mirrored_rank_params`: DualPipe's two stages). hO41, session 41; was: the traffic's ceil(L / p) layers, a table
and the MTP modules without their embedding copy everywhere, a stage that often does not exist (one stage of a
DualPipe rank's two).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from infraplan.catalog.stacks import Stack
from infraplan.hardware.kernels import KernelRates, memory_bound_seconds, memory_bound_time
from infraplan.scalar_path import FLOAT_OPS, MathOps, anywhere, is_plain, negate
from infraplan.training.activation_memory import FIRST, MIDDLE, split_flags
from infraplan.training.cuda_graph_rule import graph_launch_s
from infraplan.training.mirrored_dp import mirrored_held_layers
from infraplan.training.optimizer_models import (
    MUON_BYTES_PER_PARAM,
    MUON_ELEMENTWISE_KERNELS,
    NS_GEMMS_PER_STEP,
    optimizer_of,
)
from infraplan.training.plan import PlanArrays
from infraplan.training.schedules import PIPELINE_SCHEDULES, parameter_copies
from infraplan.training.stage_params import rank_params, sharded_of
from infraplan.training.step_traffic import EndStageTraffic

# Adam: read fp32 param, grad, m, v; write param, m, v and the bf16 copy (30 B); the fp32 grad-norm read before
# clipping (Megatron clip_grad_norm_fp32, multi_tensor_l2norm) and zeroing the grad buffer (zero_grad_buffer): 8 B
ADAM_BYTES_PER_PARAM = 38.0
OPTIMIZER_KERNELS = 20.0  # multi-tensor Adam, l2norm and zeroing launches (apex multi_tensor_apply chunks)

__all__ = ["ADAM_BYTES_PER_PARAM", "OPTIMIZER_KERNELS", "mirrored_rank_params", "optimizer_seconds", "stepped_params"]


def stepped_params(plan: PlanArrays, traffic: dict[str, Any], ends: EndStageTraffic | None, profile: Stack,
                   settled: Any, both_ends: Any, heaviest: tuple[Any, ...],
                   stages: Sequence[tuple[Any, Any, Any, Any]], traffic_layers: Any, ops: MathOps) -> Any:
    """Parameters one GPU steps on the stage that steps the most (module docstring): the traffic's stage
    (`traffic["params"]`, its shard `traffic["sharded"]` under ZeRO >= 1) where `settled`, the rank of a mirrored
    schedule (`both_ends`: `mirrored_rank_params`), and elsewhere the most of the heaviest stage (`heaviest`: its
    layers, MTP modules and tables, 1 an end stage's, 0 a middle stage's) and the other `stages` (the same, and
    where: a mask over plans, or a plain bool), each on its own parameters (`EndStageTraffic.stage_params`). `ends`
    None: the traffic's. Where `settled`, a stage of at most the traffic's layers (`traffic_layers`, ceil(L / p)) and
    no MTP module holds at most the traffic's parameters (a table at most, every count non-negative: the same
    products, each no larger), so it is not priced (in both paths alike)."""
    if ends is None:
        return ops.where(plan.zero >= 1, traffic["sharded"], traffic["params"])
    if ops is FLOAT_OPS and is_plain(settled):  # one plan: its floats, the picks written out (the same values)
        return _one_plan_stepped(plan, traffic, ends, profile, settled, both_ends, heaviest, stages, traffic_layers)
    traffic_held = ops.where(plan.zero >= 1, traffic["sharded"], traffic["params"])
    mirrored = anywhere(both_ends)
    unsettled = negate(settled)
    # (each stage where it may hold more than the traffic's: off the settled plans' stages within the traffic's)
    asked = [(layers, modules, tables, on & (unsettled | (layers > traffic_layers) | (modules != 0.0)))
             for layers, modules, tables, on in stages]
    if not (mirrored or anywhere(unsettled) or any(anywhere(stage[3]) for stage in asked)):
        return traffic_held
    most = ops.where(settled, traffic_held, 0.0)
    for layers, modules, tables, on in ((*heaviest[:3], unsettled), *asked):
        if not anywhere(on):
            continue
        own = _held(plan, ends, layers, modules, tables, ops)
        most = ops.maximum(most, ops.where(on, own, 0.0))
    return ops.where(both_ends, mirrored_rank_params(ends, plan, profile, ops, heaviest), most) if mirrored else most


def _one_plan_stepped(plan: PlanArrays, traffic: dict[str, Any], ends: EndStageTraffic, profile: Stack,
                      settled: bool, both_ends: Any, heaviest: tuple[Any, ...],
                      stages: Sequence[tuple[Any, Any, Any, Any]], traffic_layers: float) -> Any:
    """`stepped_params` of one plan's Python floats (`settled` a plain bool, true on a mirrored schedule)."""
    if both_ends:
        return mirrored_rank_params(ends, plan, profile, FLOAT_OPS, heaviest)
    if settled:
        most = traffic["sharded"] if plan.zero >= 1 else traffic["params"]
    else:
        most = _held(plan, ends, heaviest[0], heaviest[1], heaviest[2], FLOAT_OPS)
    zero1 = plan.zero >= 1
    priced = None
    for layers, modules, tables, on in stages:
        if not on or (settled and layers <= traffic_layers and modules == 0.0):  # (within the traffic's)
            continue
        if (layers, modules, tables) != priced:  # (the last stage its first's: priced once, hP16's rule)
            params, experts = ends.stage_params(layers, modules, tables)
            own = sharded_of(plan, params, experts) if zero1 else params
            most = own if own > most else most  # (`FLOAT_OPS.maximum`)
            priced = (layers, modules, tables)
    return most


def _held(plan: PlanArrays, ends: EndStageTraffic, layers: Any, modules: Any, tables: Any, ops: MathOps) -> Any:
    """Parameters one GPU steps on a stage (`EndStageTraffic.stage_params`): its shard under ZeRO >= 1."""
    params, experts = ends.stage_params(layers, modules, tables)
    if ops is FLOAT_OPS and is_plain(plan.zero):
        return sharded_of(plan, params, experts) if plan.zero >= 1 else params
    return ops.where(plan.zero >= 1, sharded_of(plan, params, experts), params)


def mirrored_rank_params(ends: EndStageTraffic, plan: PlanArrays, profile: Stack, ops: MathOps,
                         heaviest: tuple[Any, ...] | None = None) -> Any:
    """Parameters one GPU steps on the rank of a mirrored schedule that holds the most, as `training.memory` counts
    its state (`stage_params.rank_params`): DualPipe's rank its two stages (the first rank the first and the last,
    DeepSeek-V3 arXiv:2412.19437 sec. 3.2.1: "two copies of the model parameters"), ZB-V's first rank both tables,
    the MTP modules once on the first rank; a middle rank where the split counts an end as a layer (it holds more
    layers). Its shard under ZeRO >= 1. A balanced split (`heaviest`: the step time's pace-setting rank, its layers
    and 1 where it is the end rank): the end rank and the middle rank each on its layers of that split
    (`stage_params.mirrored_rank_layers`, the memory's; hO44, session 43; the end bin's tables in layers after them,
    `mirrored_stages.end_extra_layers`: hO46), the rank the DP traffic prices (`mirrored_dp.mirrored_held_layers`:
    a fixed cut's own ranks, hZ47)."""
    balanced = heaviest is not None and profile.pipeline_split == "balanced"
    counted = any(split_flags(profile)) or balanced
    copies = (float(PIPELINE_SCHEDULES[plan.schedule].parameter_copies)  # type: ignore[index]  # (an int's IntEnum key)
              if is_plain(plan.schedule) else parameter_copies(plan.schedule))
    layers = None
    if balanced:
        assert heaviest is not None  # (`balanced`)
        end, middle = mirrored_held_layers(ends.shape.num_layers, plan, profile, heaviest)  # (the DP traffic's)
        layers = (middle, end, end, ops.maximum(end, middle))
    most: Any = None
    for kind in (FIRST, MIDDLE) if counted else (FIRST,):
        params, shard = rank_params(ends.shape, plan, profile, kind, copies, layers)
        held = ops.where(plan.zero >= 1, shard, params)
        most = held if most is None else ops.maximum(most, held)
    return most


def optimizer_seconds(params: Any, rates: KernelRates, profile: Stack, dispatch_s: float,
                      exposed: Callable[..., Any], ops: MathOps,
                      traffic: Mapping[str, Any] | None = None, graphs: Any = None) -> tuple[Any, Any]:
    """Seconds of the optimizer step over `params` parameters (`stepped_params`), as (its GPU time, the host time of
    its launches that the GPU work does not cover): Adam memory-bound, the stack's `adamw_bytes_per_param` where
    set, else `ADAM_BYTES_PER_PARAM`; the launches' exposure by `host_time`'s `exposed`, one interval. The step's
    `optimizer` is their sum; its breakdown shows the second in `host_exposed` (`host_row.with_host_row`).
    Muon (`training.optimizers`, where `traffic` carries `newton_schulz_terms`): its unfused pass per matrix
    (`MUON_BYTES_PER_PARAM`, `MUON_ELEMENTWISE_KERNELS`) and its Newton-Schulz GEMMs, each stepped parameter priced
    as a matrix's (ASSUMPTION: the tables' AdamW pass at Muon's rate, a few % of the parameters; the stack's
    `adamw_bytes_per_param`, Adam's pass, is not read there). `graphs`: whether each plan's optimizer launches from
    a graph (`cuda_graph_rule.optimizer_graphed`; None: the stack's `cuda_graphs` with its `optimizer_graphs`)."""
    graphs = (profile.cuda_graphs and profile.optimizer_graphs) if graphs is None else graphs
    if traffic is not None and "newton_schulz_s_per_param" in traffic:
        matrices = params * traffic["matrices_per_param"]
        kernels = OPTIMIZER_KERNELS + matrices * MUON_ELEMENTWISE_KERNELS
        launches = kernels + matrices * NS_GEMMS_PER_STEP * optimizer_of(profile).newton_schulz_steps
        gpu = (memory_bound_seconds(rates, params * MUON_BYTES_PER_PARAM, kernels) if ops is FLOAT_OPS
               else ops.as_float(memory_bound_time(rates, params * MUON_BYTES_PER_PARAM, kernels=kernels)))
        gpu = gpu + params * traffic["newton_schulz_s_per_param"]
        host = launches * graph_launch_s(graphs, dispatch_s)
        return gpu, exposed(host, 0.0, gpu, 0.0, 1.0, False, dispatch_s)
    per_param = ADAM_BYTES_PER_PARAM if profile.adamw_bytes_per_param is None else profile.adamw_bytes_per_param
    gpu = (memory_bound_seconds(rates, params * per_param, OPTIMIZER_KERNELS) if ops is FLOAT_OPS
           else ops.as_float(memory_bound_time(rates, params * per_param, kernels=OPTIMIZER_KERNELS)))
    # the optimizer is its own sync interval (grad-norm / inf check on the host): its launches are exposed
    host = OPTIMIZER_KERNELS * graph_launch_s(graphs, dispatch_s)
    return gpu, exposed(host, 0.0, gpu, 0.0, 1.0, False, dispatch_s)
