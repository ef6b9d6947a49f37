"""The step time's per-layer terms, priced once per distinct row of the layer keys, and what reads them before a step
is assembled (`training.step_time`): the stack's "balanced" pipeline split of the plan's layers, block recompute's
mixed layer and a search's cheap per-row bound on the heaviest stage's work.

Per micro-batch and layer on one GPU: `training.layer_time` (GEMMs, attention, element-wise work, TP/CP collectives,
recompute, the stack's overlaps, host issue time), `training.head_time` (LM head, loss, embedding) and
`training.expert_dispatch` (EP all-to-all). Within the rows of distinct `LAYER_KEYS`, PP and the rank order
(`STRIDE_ONLY_KEYS`) change only the EP all-to-all (its rank stride) and the stage split, so the rest is priced once
per stride-free row (`training.row_memo`) and spread back. The balanced split is Megatron-Core's uneven first / last
stages on the paces of the layers, the embedding and the LM head + loss (`training.stage_split`; Narayanan et al.
SC'21 for the pipeline's pace: the heaviest stage sets it). Moved out of training/step_time.py (hD, session 70),
unchanged.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.network.collectives import Fabric
from infraplan.ops.layer import ArrayLike, Collective
from infraplan.training.axes import LAYER_KEYS
from infraplan.training.cuda_graph_rule import graphed_terms
from infraplan.training.enums import Recompute
from infraplan.training.expert_dispatch import ep_seconds, with_ep_comm, with_flex_dispatcher
from infraplan.training.head_time import head_times
from infraplan.training.layer_time import layer_times_but_ep
from infraplan.training.main_grad_accumulation import layer_reads_zero, least_work_zero
from infraplan.training.memory import recomputed_stage_layers, stage_layers
from infraplan.training.mirrored_stages import end_stage_capacities, mirrored_splits
from infraplan.training.one_plan_memo import ClusterPricing, cluster_pricing
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import take_rows
from infraplan.training.row_memo import RowMemo
from infraplan.training.row_memo import computed_once as _computed_once
from infraplan.training.row_memo import distinct_rows as _distinct_rows
from infraplan.training.schedules import stack_schedules
from infraplan.training.stack_limits import expert_layout, rank_order
from infraplan.training.stage_params import MIRRORED_SCHEDULES
from infraplan.training.stage_split import with_stage_split

_FULL = int(Recompute.FULL)  # its code as an int (the one-plan checks compare it per estimate; issue 18)

# layer keys that change the per-layer times only through the EP all-to-all's rank stride (`PlanArrays.dp_stride`)
# and the pipeline stage split (`per_layer_terms` prices the rest without them; tests/training/test_search_speed.py)
STRIDE_ONLY_KEYS = ("pp", "order", "expert_layout")
FREE_KEYS = tuple(k for k in LAYER_KEYS if k not in STRIDE_ONLY_KEYS)  # the stride-free layer keys (`RowMemo`)
# relative widening of `stage_work_bound_s` (float rounding ~1e-15, the balanced split's layer tolerance 1e-9)
BOUND_MARGIN = 1e-6


def layer_times(shape: TransformerShape, rates: KernelRates, fabric: Fabric, plan: PlanArrays,
                precision: tuple[ArrayLike, ArrayLike], host_dispatch_s: float = 0.0,
                stack: Stack | None = None) -> dict[str, np.ndarray]:
    """Seconds per micro-batch for one layer, forward and backward, by component (priced `ops.layer_ops`).

    Also `host_fwd` / `host_bwd`: host issue seconds of the layer's kernels (exposed by `host_exposed_time`).
    """
    stack = stack or resolve_stack(None, "training")
    times, ep_records = layer_times_but_ep(shape, rates, fabric, plan, precision, host_dispatch_s, stack)
    times = graphed_terms(times, stack, plan)
    return with_ep_comm(times, ep_seconds(shape, fabric, ep_records, stack, precision[1] < 2.0),
                        plan.recompute == int(Recompute.FULL), stack, fabric, ep_records)


def per_layer_terms(shape: TransformerShape, rates: KernelRates, fabric: Fabric, plan: PlanArrays,
               precision_of: Callable[[PlanArrays], tuple[np.ndarray, np.ndarray]],
               stack: Stack, pricing: ClusterPricing | None = None, keep: bool = False) -> dict[str, Any]:
    """Layer and head times, computed once per distinct LAYER_KEYS row (arrays; a single estimate's floats).

    Within those rows, PP and the rank order (`STRIDE_ONLY_KEYS`) change only the EP all-to-all (through its
    rank stride) and the stage split: everything else is priced once per distinct row of the other layer keys
    (a search has ~5-15x fewer of them) and spread back; the all-to-all and the split run on every row.
    `keep`: a search keeps these rows' terms for its later calls (`RowMemo.whole_rows`: the memory's split of a
    block's rows, `balanced_split`, which the step time of the rows that fit reads again).
    """
    def compute(distinct: PlanArrays) -> dict[str, Any]:
        return _layer_rows(shape, rates, fabric, distinct, precision_of, stack)

    keys = LAYER_KEYS
    if layer_reads_zero(stack):  # (its layer terms per ZeRO stage: the search's broadcast axis spread over them)
        keys = (*LAYER_KEYS, "zero")
        plan = plan if plan.is_one else _spread(plan, keys)
    # (the rates and precision: pricing's; one plan's terms are the one-plan memo's)
    owners = None if pricing is None or plan.is_one else (shape, pricing, fabric, stack)
    return _computed_once(plan, keys,
                          compute if pricing is None else pricing.memoised("layer", shape, keys, compute),
                          owners, keep)


def _spread(plan: PlanArrays, keys: tuple[str, ...]) -> PlanArrays:
    """`plan` with its `keys` fields broadcast to one shape (`row_memo.computed_once` reads key fields of one)."""
    wide = np.broadcast_shapes(*(np.shape(getattr(plan, k)) for k in keys))
    return replace(plan, **{k: np.broadcast_to(getattr(plan, k), wide) for k in keys})


def _layer_rows(shape: TransformerShape, rates: KernelRates, fabric: Fabric, distinct: PlanArrays,
                precision_of: Callable[[PlanArrays], tuple[np.ndarray, np.ndarray]], stack: Stack) -> dict[str, Any]:
    """`per_layer_terms`'s terms of rows with distinct LAYER_KEYS (arrays; one plan's Python floats)."""
    host_s = fabric.host_kernel_dispatch_s
    if distinct.is_one:  # one plan: the same terms on its Python numbers (`PlanArrays.one_row`)
        row = distinct.one_row
        precision = precision_of(row)  # (its int dtype code picks its recipe's Python floats)
        times, ep_records = layer_times_but_ep(shape, rates, fabric, row, precision, host_s, stack)
        times = graphed_terms(times | head_times(shape, rates, row, precision, stack, host_s, fabric), stack, row)
        times = with_ep_comm(times, ep_seconds(shape, fabric, ep_records, stack, precision[1] < 2.0, True),
                             row.recompute == _FULL, stack, fabric, ep_records, True)
        # the one-plan memo keeps Python floats (in the split's key order; `float` returns a float as it is, and
        # `map` converts in C: ~120 terms, no bytecode per term; hP9)
        split = with_stage_split(shape, stack, times, float(row.pp))
        return dict(zip(split, map(float, split.values()), strict=True))
    free_keys = (*FREE_KEYS, "zero") if layer_reads_zero(stack) else FREE_KEYS  # (`per_layer_terms`'s keys)
    free = _distinct_rows([getattr(distinct, k) for k in free_keys])
    once = distinct if free is None else take_rows(distinct, free[0])

    def price(rows: PlanArrays) -> tuple[dict[str, np.ndarray], tuple[Collective, ...]]:
        return _price_free_rows(shape, rates, fabric, rows, precision_of, stack)

    memo = RowMemo.active()  # a search shares the priced rows across its blocks (`training.row_memo`)
    memo = memo if memo is not None and memo.keys == free_keys else None
    inverse = None if free is None else free[1]
    if memo is not None:  # looked up straight onto the rows (one gather per term)
        times, ep_records = memo.lookup(once, price, inverse)
    else:
        times, ep_records = price(once)
        if inverse is not None:
            n = len(once)

            def spread(v: ArrayLike) -> np.ndarray:
                return np.asarray(np.broadcast_to(np.asarray(v), (n,))[inverse])

            times = {k: spread(v) for k, v in times.items()}
            ep_records = tuple(replace(c, bytes=spread(c.bytes), group=spread(c.group), mask=spread(c.mask))
                               for c in ep_records)
    times = graphed_terms(times, stack, distinct)  # (each row's own CUDA graphs: `cuda_graph_rule`, hT70)
    fp8 = precision_of(distinct)[1] < 2.0
    if free is not None or memo is not None:  # the records' stride is the first priced row's: each row's own
        ep_records = tuple(replace(c, stride=distinct.ep_stride) for c in ep_records)
    times = with_ep_comm(times, ep_seconds(shape, fabric, ep_records, stack, fp8),
                         distinct.recompute == int(Recompute.FULL), stack, fabric, ep_records)
    # the balanced whole-layer split depends only on these rows too: bisect it once per distinct row
    return with_stage_split(shape, stack, times, distinct.pp.astype(np.float64))


def _price_free_rows(shape: TransformerShape, rates: KernelRates, fabric: Fabric, rows: PlanArrays,
                     precision_of: Callable[[PlanArrays], tuple[np.ndarray, np.ndarray]],
                     stack: Stack) -> tuple[dict[str, np.ndarray], tuple[Collective, ...]]:
    """Layer terms but the EP all-to-all, LM-head terms and the all-to-all's records of stride-free rows."""
    precision, host_s = precision_of(rows), fabric.host_kernel_dispatch_s
    times, ep_records = layer_times_but_ep(shape, rates, fabric, rows, precision, host_s, stack)
    times.update(head_times(shape, rates, rows, precision, stack, host_s, fabric))
    return times, ep_records


def stage_work_bound_s(shape: TransformerShape, cluster: Cluster, rows: PlanArrays, stack: Stack) -> np.ndarray:
    """Per row (1-D rows at vpp 1, 1F1B, ZeRO 0): a lower bound on the heaviest stage's work of the step,
    `step_time(..., stage_only=True)` summed (seconds), from the row's stride-free layer terms alone: no EP
    all-to-all, no stage split (a search prices them on every row; this prices nothing per row).

    Per micro-batch the stage holds l layers of GPU time G each (compute, TP/CP/EP, element-wise) and, when it is
    the last, the LM head's GPU time h (the first: the embedding's e); exposed host time only adds. Both splits
    pick the stage of the highest pace l P + [last] H + [first] E (P, H, E: per phase the longer of GPU and host
    time) and give the p stages L layers, the head and the embedding in all, so that pace is >= (L P + H + E) / p.
    A middle stage then has l >= L / p; the last has l G + h >= (L / p) G - (H - h), as G <= P, and the first
    l G + e >= (L / p) G - (E - e). G here leaves out the EP all-to-all (which only adds: its hidden share moves to
    the compute), so m ((L / p) G - max(H - h, E - e)) bounds the stage work of the row's m micro-batches.
    Widened by `BOUND_MARGIN` over the rounding and the balanced split's 1e-9 layer tolerance.
    """
    pricing = cluster_pricing(cluster, stack)
    if layer_reads_zero(stack):  # (the least layer terms of any ZeRO stage: `least_work_zero`)
        rows = replace(rows, zero=np.full_like(rows.zero, least_work_zero(stack)))
    free = _distinct_rows([getattr(rows, k) for k in FREE_KEYS])
    once = rows if free is None else take_rows(rows, free[0])
    memo = RowMemo.active()
    memo = memo if memo is not None and memo.keys == FREE_KEYS and not layer_reads_zero(stack) else None

    def price(plans: PlanArrays) -> tuple[dict[str, np.ndarray], tuple[Collective, ...]]:
        return _price_free_rows(shape, pricing.rates, cluster.fabric, plans, pricing.precision_of, stack)

    t, _ = price(once) if memo is None else memo.lookup(once, price)
    gpu = sum(t[f"{part}_{phase}"] for part in ("compute", "tp", "cp", "other") for phase in ("fwd", "bwd"))
    head_excess = np.maximum(*((np.maximum(t[f"{end}_host_fwd"] - t[f"{end}_gpu_fwd"], 0.0)
                                + np.maximum(t[f"{end}_host_bwd"] - t[f"{end}_gpu_bwd"], 0.0))
                               for end in ("head", "embed")))  # the last stage's head, the first's embedding
    if free is not None:
        gpu, head_excess = np.asarray(gpu)[free[1]], np.asarray(head_excess)[free[1]]
    layers = shape.num_layers / rows.pp.astype(np.float64)
    if stack.pipeline_layouts:  # a layout's heaviest rank may hold fewer than L / p layers beside several heads
        layers = np.where(rows.pp > 1, 0.0, layers)  # (`training.pipeline_layout`): no cheap bound for those rows
    bound = rows.micro_batches * (layers * gpu * (1.0 - BOUND_MARGIN) - head_excess * (1.0 + BOUND_MARGIN))
    return np.asarray(np.maximum(bound, 0.0), dtype=np.float64)


def with_block_recompute(shape: TransformerShape, plan: PlanArrays, lt: dict[str, np.ndarray],
                          per_layer: Callable[[PlanArrays], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Layer times under block recompute (`training.memory.recomputed_stage_layers`): r of the stage's layers pay
    the full-recompute layer time, the others the no-recompute one (the stage's mean layer). Plans without
    block recompute are returned as they are."""
    if plan.is_one:  # one plan: its Python ints decide
        row = plan.one_row
        if not (row.recompute == _FULL and row.recompute_layers > 0):
            return lt
    block = (plan.recompute == int(Recompute.FULL)) & (plan.recompute_layers > 0)
    if not np.any(block):
        return lt
    plain = per_layer(replace(plan, recompute=np.where(block, int(Recompute.NONE), plan.recompute)))
    share = np.where(block, recomputed_stage_layers(shape, plan) / stage_layers(shape.num_layers, plan.pp), 1.0)
    return {k: v if k in ("stage_layers", "last_is_heaviest", "first_is_heaviest", "other_layers")
            or k.startswith(("head_", "embed_"))
            else share * v + (1.0 - share) * plain[k] for k, v in lt.items()}


def balanced_split(shape: TransformerShape, cluster: Cluster, plan: PlanArrays,
                   profile: Stack) -> tuple[Any, ...] | None:
    """The step time's split of the stack's "balanced" layer split (`stage_split.with_stage_split`, on the paces of
    the plan's layers, embedding and LM head + loss): the heaviest stage's layers and whether it is the first / the
    last (1.0 or 0.0), in the plan's shape (one plan: floats), which the memory prices its stage kinds on
    (`memory.memory_breakdown`'s `split`); None where the split is "even" (the memory's own counts, the same). The
    per-layer terms are the step time's (`per_layer_terms`, kept in the one-plan memo and a search's `RowMemo`). Where
    a plan or the stack runs a schedule whose ranks hold mirrored stages (DualPipe, ZB-V), then the split the step
    time paces those on (`mirrored_stages.mirrored_splits`, of every plan: a search's rows stand for every schedule).
    Last, the first and the last stage's capacities at the step's pace (`mirrored_stages.end_stage_capacities`,
    `stage_params.split_capacities`; hO47, session 43): 5 terms, or 10 with a mirrored schedule's.
    """
    if profile.pipeline_split != "balanced":
        return None
    profile = with_flex_dispatcher(profile, cluster.accelerator.catalog_name)  # as `one_plan_step_time`
    plan = plan.with_expert_layout(expert_layout(profile), rank_order(profile))
    pricing = cluster_pricing(cluster, profile)
    lt = per_layer_terms(shape, pricing.rates, cluster.fabric, plan, pricing.precision_of, profile, pricing, True)
    split = lt["stage_layers"], lt["first_is_heaviest"], lt["last_is_heaviest"]
    # (on the paces the step time prices: block recompute's mixed layer, `one_plan_step_time`)
    paced = with_block_recompute(shape, plan, lt, lambda p: per_layer_terms(
        shape, pricing.rates, cluster.fabric, p, pricing.precision_of, profile, pricing))
    capacities = end_stage_capacities(paced, split[0], plan.is_one)
    schedule = plan.one_row.schedule if plan.is_one else plan.schedule
    if not (np.any(np.isin(schedule, MIRRORED_SCHEDULES))
            or any(int(code) in MIRRORED_SCHEDULES for code in stack_schedules(profile))):
        return (*split, *capacities)
    return (*split, *mirrored_splits(shape, profile, paced, float(plan.one_row.pp) if plan.is_one else plan.pp),
            *capacities)
