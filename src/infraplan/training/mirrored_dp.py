"""The data-parallel traffic of a rank that holds mirrored pipeline stages (DualPipe, ZB-V), on the stages it holds.

A DualPipe rank i holds stages i and p - 1 - i, two parameter copies (dualpipe 1.0.0 dualpipe.py:11-22, `DualPipe(
modules: Tuple[nn.Module, nn.Module])`; README's table: parameters 2x; DeepSeek-V3 arXiv:2412.19437 sec. 3.2.1: "two
copies of the model parameters"); a ZB-V rank i holds chunks i and 2p - 1 - i of 2p, one copy (torch 2.13.0
pipelining/_utils.py:528-543, `generate_stage_to_rank_mapping(style="v")`; Qi et al. arXiv:2401.10241 sec. 6). Its
DP ranks reduce the gradients of everything it holds and gather its parameters, so its DP collectives move both
stages' bytes (DualPipe: both copies; the two copies on a rank are two different stages, so nothing is summed
locally first), the end rank both tables: the parameters its optimizer steps and its memory holds
(`stage_params.rank_params`, `optimizer_step.mirrored_rank_params`), on the step time's own split (`stage_params.
mirrored_rank_layers` on a balanced stack, torchtitan's own V ranks under ZB-V: `mirrored_held_layers`, hZ47; the
stack's even split otherwise), the end rank and, where the split can give it more, the middle rank; the step waits for
the most of them (hO45, session 43: one stage's ceil(L / p) layers and one table before, as on 1F1B).

DualPipe's stage s lives on ranks s and p - 1 - s, each copy's gradients over half the micro-batches (one
direction's, dualpipe.py:355-356); `DualPipe.step` returns after its last weight chunks without combining them
(dualpipe.py:421-440; the package runs no reduction of gradients), so the framework sums each copy with its
mirror's. ASSUMPTION: after the DP reduce-scatter, on each copy's 1 / N shard (N: the DP group's ranks, dense and
expert groups each their own), an all-reduce over the 2 mirror ranks at the end pair's span (PP x stage stride / 2,
the farthest pair, as `step_traffic.tied_embedding_sync` prices the first and the last stage's), as hybrid
sharding's cross-replica all-reduce follows its reduce-scatter (`step_traffic._replica_all_reduce`); the ZeRO-0
all-reduce and ZeRO-3's per-layer reduce-scatters take it too (an all-reduce is a reduce-scatter and an all-gather).
Per rank that moves S bytes of a copy's S against (2N - 1) / 2N S for one reduction over the 2N ranks, and leaves
each rank its copies' shards over N to step, as the memory and the optimizer count them (x copies).

ASSUMPTION (windows): each copy's reductions hide behind its own last backward and its gathers behind its own first
forward (a micro-batch runs one of a DualPipe rank's stages, both of a ZB-V rank's chunks), so DualPipe's windows
are the heaviest rank's per-micro-batch windows times its copies (`dp_exposure.dp_windows`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.network.collectives import Fabric, collective_seconds
from infraplan.ops import params as ops_params
from infraplan.scalar_path import MathOps, anywhere, is_plain, pick
from infraplan.training.activation_memory import FIRST, MIDDLE, split_flags
from infraplan.training.distinct_collectives import distinct_collective_time
from infraplan.training.dp_exposure import dp_forms
from infraplan.training.enums import Schedule
from infraplan.training.pipeline_partition import v_cut_rank_arrays
from infraplan.training.plan import PlanArrays
from infraplan.training.schedules import PIPELINE_SCHEDULES, parameter_copies
from infraplan.training.stage_params import mirrored_rank_layers, rank_holdings, sharded_of
from infraplan.training.step_traffic import EndStageTraffic

_ZB_V = int(Schedule.ZB_V)  # (its code as an int: the mirrored schedule of one copy)
_SUMMED = ("allreduce", "scatter", "scatter_layers")  # the forms whose gradients each copy sums with its mirror's

__all__ = ["mirror_pair", "mirrored_dp_forms", "mirrored_held_layers", "mirrored_rank_stages", "rank_copies"]


def rank_copies(plan: PlanArrays) -> Any:
    """Parameter copies of each plan's rank (`schedules.parameter_copies`; DualPipe 2): a float, or an array."""
    if is_plain(plan.schedule):
        return float(PIPELINE_SCHEDULES[plan.schedule].parameter_copies)  # type: ignore[index]
    return parameter_copies(plan.schedule)


def _kind_layers(shape: TransformerShape, plan: PlanArrays, profile: Stack, kind: int,
                 layers: tuple[Any, ...] | None) -> Any:
    """Decoder layers per copy of a stage of the kind, as `stage_params.rank_holdings` counts its parameters."""
    if layers is not None:
        return layers[kind]
    emb, loss = split_flags(profile)
    if kind != MIDDLE and not (emb or loss):  # (ceil(L / p) and a table: `stage_params.local_params`)
        return ops_params.stage_layers(shape.num_layers, plan.pp)
    return ops_params.split_stage_layers(shape.num_layers, plan.pp, emb, loss)[kind % 3]


def mirrored_rank_stages(shape: TransformerShape, plan: PlanArrays, profile: Stack, heaviest: tuple[Any, ...],
                         ops: MathOps) -> list[tuple[Any, Any, Any, Any]]:
    """(parameters, routed-expert parameters, local decoder layers, MTP modules) one GPU holds on a mirrored
    schedule's end rank and, where the split can give it more layers (a balanced stack, or an even split that counts
    an end as a layer), its middle rank: `stage_params.rank_holdings` (`rank_params`' parameters before sharding:
    its stage kind's layers and table times the copies, ZB-V's end rank the head's table too, the MTP modules once on
    the end rank; the routed experts apart, sharded over their own group) and the layers of all copies (ZeRO-3
    gathers each).
    `heaviest`: the step time's pace-setting rank (its layers per copy, MTP modules, 1 where it holds a table, and
    the end bin's tables in layers, `mirrored_stages.end_extra_layers`; `optimizer_step.stepped_params`'
    `heaviest`)."""
    copies = rank_copies(plan)
    balanced = profile.pipeline_split == "balanced"
    layers = None
    if balanced:  # (the memory's and the optimizer's split: `mirrored_rank_params`)
        end, middle = mirrored_held_layers(shape.num_layers, plan, profile, heaviest)
        layers = (middle, end, end, ops.maximum(end, middle))
    out = []
    for kind in (FIRST, MIDDLE) if any(split_flags(profile)) or balanced else (FIRST,):
        params, rank_experts, modules = rank_holdings(shape, plan, profile, kind, copies, layers)
        # (one layer at least: a rank of its tables alone gathers them once, as `EndStageTraffic.collectives`)
        local = ops.maximum(_kind_layers(shape, plan, profile, kind, layers) * copies, 1.0)
        out.append((params, rank_experts, local, modules))
    return out


def mirrored_held_layers(num_layers: int, plan: PlanArrays, profile: Stack,
                         heaviest: tuple[Any, ...]) -> tuple[Any, Any]:
    """(the end rank's, the most a middle rank holds) layers per parameter copy of a mirrored schedule on a balanced
    stack, whose DP traffic and optimizer step are priced on what each rank holds: the step time's split
    (`stage_params.mirrored_rank_layers` from `heaviest`, its pace-setting rank) or, on ZB-V rows of a fixed cut that
    pairs its own stages (torchtitan's units cut, `pipeline_partition.v_cut_rank_arrays`: ZBVZeroBubble's rank r holds
    stages r and 2p - 1 - r, torchtitan 0.3.0 distributed/pipeline_parallel.py:569-576), that cut's rank 0 and its
    fullest other rank whichever rank paces, as the memory counts them (`mirrored_stages.mirrored_splits`). hZ47,
    session 45: the end rank was L - (p - 1) X of the pace-setting middle rank's X there (llama3-70b PP8: 3 layers
    for the 9 and both tables rank 0 holds), its DP gradients and optimizer step priced on a third of its layers."""
    zb_v = plan.schedule == _ZB_V
    end, middle = mirrored_rank_layers(num_layers, plan.pp, heaviest[0], heaviest[2], zb_v,
                                       heaviest[3] if len(heaviest) > 3 else 0.0)
    if profile.pipeline_split == "balanced" and profile.pipeline_partition == "units" and anywhere(zb_v):
        cut = zb_v & (plan.pp >= 2)  # (one stage: everything, as the split's)
        cut_end, cut_middle = v_cut_rank_arrays(num_layers, plan.pp)
        end, middle = pick(cut, cut_end, end), pick(cut, cut_middle, middle)
    return end, middle


def mirrored_dp_forms(plan: PlanArrays, ends: EndStageTraffic, profile: Stack, heaviest: tuple[Any, ...],
                      windows: tuple[Any, Any], ops: MathOps, rows: Any = None) -> tuple[Any, Any, Any]:
    """Exposed DP seconds per step under ZeRO 0, 1/2 and 3 (`dp_exposure.dp_forms`) of a mirrored schedule's rank:
    the most of its end and middle ranks' (`mirrored_rank_stages`) collectives (`ends.price`, the DP collectives'
    formulas of `step_traffic`; a grid's read on `rows`, a mask over plans) less the heaviest rank's `windows` times
    its copies (module docstring), DualPipe's with each copy's shard summed with its mirror's (`ends.pair`: the DP
    fabric and the gradient bytes, `mirror_pair`; None: not priced)."""
    copies = rank_copies(plan)
    fwd, bwd = windows[0] * copies, windows[1] * copies
    stages = mirrored_rank_stages(ends.shape, plan, profile, heaviest, ops)
    one = is_plain(plan.tp)
    priced = ends.price(stages) if one else ends.price(stages, [rows] * len(stages))
    pair = None if ends.pair is None or not anywhere(copies >= 2.0) else mirror_pair(*ends.pair, plan)
    forms: tuple[Any, Any, Any] | None = None
    for (params, experts, layers, _), collectives in zip(stages, priced, strict=True):
        if pair is not None:
            collectives = _with_pair_sum(plan, collectives, params, experts, layers, copies, pair, ops)
        own = dp_forms(collectives, fwd, bwd, ops)
        forms = own if forms is None else (ops.maximum(forms[0], own[0]), ops.maximum(forms[1], own[1]),
                                           ops.maximum(forms[2], own[2]))
    assert forms is not None  # (the end rank at least)
    return forms


def _with_pair_sum(plan: PlanArrays, collectives: dict[str, Any], params: Any, experts: Any, layers: Any,
                   copies: Any, pair: Callable[[Any], Any], ops: MathOps) -> dict[str, Any]:
    """`collectives` with DualPipe's mirror-pair all-reduce of each copy's gradient shard added to the forms that
    reduce gradients (module docstring): the rank's gradients' shard over its DP groups (`sharded_of`: the dense part
    over DP x CP, the experts over theirs; all of them on a group of one rank), whole (ZeRO 0, 1/2) or one layer's
    at a time (ZeRO-3, once per local layer). 0 on one copy (ZB-V, every other schedule; not asked where no plan
    holds two). A one-plan estimate's collectives of other ZeRO stages than its own are 0.0 and stay unread
    (`step_assembly` picks its stage's)."""
    shard = sharded_of(plan, params, experts)
    per_layer = ops.maximum(layers, 1.0)
    whole, layered = pair(shard), per_layer * pair(shard / per_layer)
    out = dict(collectives)
    for name in _SUMMED:
        added = ops.where(copies >= 2.0, layered if name == "scatter_layers" else whole, 0.0)
        out[name] = collectives[name] + added
    return out


def mirror_pair(fabric: Fabric, grad_bytes: float, plan: PlanArrays) -> Callable[[Any], Any]:
    """Seconds of an all-reduce of so many parameters' gradients (`grad_bytes` each: the stack's
    `grad_reduce_bytes`) over a DualPipe rank and its mirror (module docstring: the end pair's span, PP x stage
    stride / 2, as `step_traffic.tied_embedding_sync`), of one plan's floats or arrays over plans
    (`distinct_collective_time`: once per distinct row)."""
    if is_plain(plan.tp):
        stride = float(plan.pp) * float(plan.pp_stride) / 2.0
        return lambda count: collective_seconds(fabric, "all_reduce", float(count) * grad_bytes, 2.0, stride)
    return lambda count: distinct_collective_time(fabric, "all_reduce", *np.broadcast_arrays(
        np.asarray(count, dtype=np.float64) * grad_bytes, np.asarray(2.0),
        np.asarray(plan.pp, dtype=np.float64) * plan.pp_stride / 2.0))
