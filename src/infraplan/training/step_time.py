"""Training step time of a transformer under a TP/CP/PP/DP/EP plan, vectorised over plans.

Per micro-batch and layer on one GPU: `training.layer_time` (GEMMs, attention, element-wise work, TP/CP
collectives, recompute, the stack's overlaps and host issue time; the LM head, loss and embedding) and
`training.expert_dispatch` (the EP all-to-all), priced here once per distinct layer row; the layers are split into
pipeline stages (`training.stage_split`), the p2p and data-parallel traffic priced once per distinct
communication row, and `training.step_assembly` makes a step of them.

Pipeline (Narayanan et al. SC'21): the heaviest stage (a middle stage's layers, the first's plus the embedding,
or the last's plus the LM head and loss) sets the pace; step = m * t_stage + the schedule's bubble
(`training.schedules`, on the other stages' summed time o: o for 1F1B, o/v interleaved; (p-1) t_stage and
(p-1)/v t_stage for equal stages) + the p2p chain of one micro-batch through all p*v chunks forward and back
(steady-state p2p overlaps compute; a stack with blocking p2p, `Stack.p2p_synchronize`, pays every micro-batch's
calls: `step_assembly.pipeline_p2p_time`; a Megatron-Core layout sets stages: `training.pipeline_layout`).
Data parallel: gradient all-reduce (ZeRO 0), reduce-scatter + parameter all-gather (ZeRO 1/2), or
all-gather forward and backward + reduce-scatter (ZeRO 3/FSDP), overlapped with the first micro-batch's
forward and the last one's backward; what does not fit in that window is exposed. Optimizer: Adam is
memory-bound, 30 bytes per local parameter.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.network.collectives import Fabric, collective_seconds, collective_time, send_recv_seconds, send_recv_time
from infraplan.ops.layer import ArrayLike, Collective
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS, ops_of, to_float
from infraplan.training.attention_core import attention_core_times as attention_core_times
from infraplan.training.axes import COMM_KEYS, LAYER_KEYS  # cache keys, derived from the declared plan axes
from infraplan.training.enums import Recompute
from infraplan.training.expert_dispatch import _ep_seconds, _with_ep_comm, deepep_node_dedup, with_flex_dispatcher
from infraplan.training.host_time import CHECKPOINT_HOST_CALLS as CHECKPOINT_HOST_CALLS
from infraplan.training.host_time import EAGER_EXTRA_KERNELS as EAGER_EXTRA_KERNELS
from infraplan.training.host_time import MAIN_GRAD_ADD_KERNELS as MAIN_GRAD_ADD_KERNELS
from infraplan.training.host_time import host_exposed_time as host_exposed_time
from infraplan.training.host_time import micro_batch_host_time as micro_batch_host_time
from infraplan.training.layer_time import ACT, _layer_times_but_ep, head_times
from infraplan.training.layer_time import layer_kernel_counts as layer_kernel_counts
from infraplan.training.memory import (
    GRAD_BYTES,
    WEIGHT_BYTES,
    local_expert_params,
    local_params,
    recomputed_stage_layers,
    sharded_of,
    stage_layers,
)
from infraplan.training.one_plan_memo import ClusterPricing, cluster_pricing
from infraplan.training.pipeline_layout import with_pipeline_layout
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import take_rows
from infraplan.training.row_memo import RowMemo
from infraplan.training.stage_split import with_stage_split
from infraplan.training.step_assembly import COMPONENTS as COMPONENTS
from infraplan.training.step_assembly import assemble_step

__all__ = ["ACT", "CHECKPOINT_HOST_CALLS", "COMPONENTS", "EAGER_EXTRA_KERNELS", "MAIN_GRAD_ADD_KERNELS",
           "STRIDE_ONLY_KEYS", "attention_core_times", "deepep_node_dedup", "head_times", "host_exposed_time",
           "layer_kernel_counts", "layer_times", "one_plan_step_time", "step_time"]

_FULL = int(Recompute.FULL)  # its code as an int (the one-plan checks compare it per estimate; issue 18)

# layer keys that change the per-layer times only through the EP all-to-all's rank stride (`PlanArrays.dp_stride`)
# and the pipeline stage split (`_per_layer` prices the rest without them; tests/training/test_search_speed.py)
STRIDE_ONLY_KEYS = ("pp", "order")
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
    times, ep_records = _layer_times_but_ep(shape, rates, fabric, plan, precision, host_dispatch_s, stack)
    return _with_ep_comm(times, _ep_seconds(shape, fabric, ep_records, stack, precision[1] < 2.0),
                         plan.recompute == int(Recompute.FULL), stack)


def _distinct_rows(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """(index of the first row of each distinct combination, row -> combination index), or None when every
    row is already distinct.

    Integer columns are packed into one int64 key by their value ranges (one sort instead of one per column).
    Rows enumerated in grid order (the search's rows) have strictly increasing keys: then no sort at all.
    """
    if columns[0].size <= 1:  # one plan (a single estimate): nothing to share
        return None
    lows = [int(c.min()) if c.size else 0 for c in columns]
    sizes = [int(c.max()) - low + 1 if c.size else 1 for c, low in zip(columns, lows, strict=True)]
    if np.prod(np.array(sizes, dtype=np.float64)) < 2.0**62:
        key = np.zeros(columns[0].shape, dtype=np.int64)
        for column, low, size in zip(columns, lows, sizes, strict=True):
            if size > 1:  # a constant column adds nothing to the key (key * 1 + 0)
                key = key * size + (column - low)
        if bool(np.all(key[1:] > key[:-1])):
            return None
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:  # astronomically wide ranges: fall back to row-wise unique
        _, first, inverse = np.unique(np.stack(columns, axis=1), axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _computed_once(plan: PlanArrays, keys: tuple[str, ...],
                   compute: Callable[[PlanArrays], dict[str, Any]]) -> dict[str, Any]:
    """Run `compute` once per distinct combination of the `keys` fields and broadcast back (exact).

    The plan's key fields may be arrays of any one shape (the search passes (rows, 1, 1) columns beside
    broadcast virtual-stage, schedule and ZeRO axes); the results come back in that shape. `compute` sees
    only the key fields (the others are the first row's: the cached terms do not depend on them). A single
    estimate's plan (`PlanArrays.is_one`) gets `compute`'s terms as they are: Python floats (`step_time`).
    A search's rows (those a `RowMemo` serves) differ in LAYER_KEYS: every field but DP (set by TP, CP, PP), the
    global batch (one per search) and the broadcast axes is one of them (tests/training/test_search_speed.py).
    """
    if plan.is_one:  # (every field of shape (1,))
        return compute(plan)  # its own row: the one-plan terms, Python floats
    shape = np.shape(getattr(plan, keys[0]))
    columns = {f.name: _flat(getattr(plan, f.name)) for f in fields(plan)}
    known = keys == LAYER_KEYS and RowMemo.active() is not None  # a search's rows: distinct, no check
    distinct = None if known else _distinct_rows([columns[k] for k in keys])
    n = columns[keys[0]].size
    if distinct is None:
        rows = PlanArrays(**{k: c if c.size == n else np.broadcast_to(c[:1], (n,)) for k, c in columns.items()})
        return {k: _array(v).reshape(shape) for k, v in compute(rows).items()}
    first, inverse = distinct
    rows = PlanArrays(**{k: c[first] if c.size == n else np.broadcast_to(c[:1], first.shape)
                         for k, c in columns.items()})
    return {k: _array(v)[inverse.reshape(shape)] for k, v in compute(rows).items()}


def _flat(column: np.ndarray) -> np.ndarray:
    """`np.ravel`, but a 1-D column as it is (a one-value view of the search's rows stays a view, not a copy)."""
    return column if column.ndim == 1 else np.ravel(column)


def _array(value: Any) -> np.ndarray:
    return np.array([value]) if type(value) is float else np.asarray(value)  # a one-plan term: a Python float


def _per_layer(shape: TransformerShape, rates: KernelRates, fabric: Fabric, plan: PlanArrays,
               precision_of: Callable[[PlanArrays], tuple[np.ndarray, np.ndarray]],
               stack: Stack, pricing: ClusterPricing | None = None) -> dict[str, Any]:
    """Layer and head times, computed once per distinct LAYER_KEYS row (arrays; a single estimate's floats).

    Within those rows, PP and the rank order (`STRIDE_ONLY_KEYS`) change only the EP all-to-all (through its
    rank stride) and the stage split: everything else is priced once per distinct row of the other layer keys
    (a search has ~5-15x fewer of them) and spread back; the all-to-all and the split run on every row.
    """
    def compute(distinct: PlanArrays) -> dict[str, Any]:
        return _layer_rows(shape, rates, fabric, distinct, precision_of, stack)

    return _computed_once(plan, LAYER_KEYS,
                          compute if pricing is None else pricing.memoised("layer", shape, LAYER_KEYS, compute))


def _layer_rows(shape: TransformerShape, rates: KernelRates, fabric: Fabric, distinct: PlanArrays,
                precision_of: Callable[[PlanArrays], tuple[np.ndarray, np.ndarray]], stack: Stack) -> dict[str, Any]:
    """`_per_layer`'s terms of rows with distinct LAYER_KEYS (arrays; one plan's Python floats)."""
    host_s = fabric.host_kernel_dispatch_s
    if distinct.is_one:  # one plan: the same terms on its Python numbers (`PlanArrays.one_row`)
        row = distinct.one_row
        precision = precision_of(row)  # (its int dtype code picks its recipe's Python floats)
        times, ep_records = _layer_times_but_ep(shape, rates, fabric, row, precision, host_s, stack)
        times.update(head_times(shape, rates, row, precision, stack, host_s, fabric))
        times = _with_ep_comm(times, _ep_seconds(shape, fabric, ep_records, stack, precision[1] < 2.0, True),
                              row.recompute == _FULL, stack)
        floats: dict[str, Any] = with_stage_split(shape, stack, times, float(row.pp))  # (a fresh dict)
        for k, v in floats.items():  # the one-plan memo keeps Python floats (set in place: the keys stay)
            if type(v) is not float:
                floats[k] = float(v)
        return floats
    free = _distinct_rows([getattr(distinct, k) for k in FREE_KEYS])
    once = distinct if free is None else take_rows(distinct, free[0])

    def price(rows: PlanArrays) -> tuple[dict[str, np.ndarray], tuple[Collective, ...]]:
        return _price_free_rows(shape, rates, fabric, rows, precision_of, stack)

    memo = RowMemo.active()  # a search shares the priced rows across its blocks (`training.row_memo`)
    memo = memo if memo is not None and memo.keys == FREE_KEYS else None
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
    fp8 = precision_of(distinct)[1] < 2.0
    if free is not None or memo is not None:  # the records' stride is the first priced row's: each row's own
        ep_records = tuple(replace(c, stride=distinct.ep_stride) for c in ep_records)
    times = _with_ep_comm(times, _ep_seconds(shape, fabric, ep_records, stack, fp8),
                          distinct.recompute == int(Recompute.FULL), stack)
    # the balanced whole-layer split depends only on these rows too: bisect it once per distinct row
    return with_stage_split(shape, stack, times, distinct.pp.astype(np.float64))


def _price_free_rows(shape: TransformerShape, rates: KernelRates, fabric: Fabric, rows: PlanArrays,
                     precision_of: Callable[[PlanArrays], tuple[np.ndarray, np.ndarray]],
                     stack: Stack) -> tuple[dict[str, np.ndarray], tuple[Collective, ...]]:
    """Layer terms but the EP all-to-all, LM-head terms and the all-to-all's records of stride-free rows."""
    precision, host_s = precision_of(rows), fabric.host_kernel_dispatch_s
    times, ep_records = _layer_times_but_ep(shape, rates, fabric, rows, precision, host_s, stack)
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
    free = _distinct_rows([getattr(rows, k) for k in FREE_KEYS])
    once = rows if free is None else take_rows(rows, free[0])
    memo = RowMemo.active()
    memo = memo if memo is not None and memo.keys == FREE_KEYS else None

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


def _pipeline_and_dp_traffic(shape: TransformerShape, fabric: Fabric, plan: PlanArrays, grad_bytes: float = GRAD_BYTES,
                             pricing: ClusterPricing | None = None) -> dict[str, Any]:
    """p2p time per pipeline transfer and the DP collectives of one step, once per distinct COMM_KEYS row (arrays;
    a single estimate's floats). A single estimate's plan gets its row without the DP collectives (a kind of its own
    in the one-plan memo): `one_plan_step_time` prices those of its ZeRO stage (`_dp_collectives`); a grid's rows
    (one distinct row may stand for plans of every stage) carry every stage's."""
    single = plan.is_one  # the plan itself is priced (`_computed_once` hands it to `compute` as it is)

    def compute(rows: PlanArrays) -> dict[str, Any]:
        p = rows.one_row if rows.is_one else rows  # one plan: its Python numbers (`PlanArrays.one_row`)
        boundary = p.micro_batch * p.seq_len / p.cp * shape.hidden_size * ACT / p.tp
        # dense parameters are replicated over DP; experts only over the DP/EP ranks holding the same expert
        params, experts = local_params(shape, p), local_expert_params(shape, p)
        one = p is not rows
        out = {
            "p2p": (send_recv_seconds(fabric, boundary, p.pp_stride) if one  # type: ignore[arg-type]
                    else send_recv_time(fabric, boundary, p.pp_stride)),
            **({} if single and rows is plan else _dp_collectives(shape, fabric, p, params, experts, grad_bytes)),
            "params": params,
            "sharded": sharded_of(p, params, experts),
            "embedding_sync": _tied_embedding_sync(shape, fabric, p, grad_bytes, one),
        }
        return out if p is rows else {k: float(v) for k, v in out.items()}  # one plan: Python floats

    return _computed_once(plan, COMM_KEYS, compute if pricing is None else
                          pricing.memoised("comm_no_dp" if single else "comm", shape, COMM_KEYS, compute))


def _dp_collectives(shape: TransformerShape, fabric: Fabric, p: PlanArrays, params: Any, experts: Any,
                    grad_bytes: float, zero: Any = None) -> dict[str, Any]:
    """The DP collectives of one step by ZeRO stage (arrays, or a `one_row` plan's floats) from the stage's local
    and expert parameters: gradient all-reduce (ZeRO 0), reduce-scatter + parameter all-gather (1/2), ZeRO-3 / FSDP's
    per-layer gathers and scatters (one collective per local layer at its own message size). `zero`: a single
    estimate's stage, whose collectives alone are priced (`assemble_step` picks them; the others 0.0)."""
    one = type(p.tp) is int  # type: ignore[comparison-overlap]  # a `one_row` plan: floats (`collective_seconds`)
    price: Callable[..., Any] = collective_seconds if one else collective_time
    dense, dp, dp_stride, moe = params - experts, p.dp, p.dp_stride, shape.is_moe
    edp, edp_stride = (p.edp, p.edp_stride) if moe else (None, None)

    def over_replicas(kind: str, bytes_per_param: float) -> Any:
        t = price(fabric, kind, dense * bytes_per_param, dp, dp_stride)
        if moe:
            t = t + price(fabric, kind, experts * bytes_per_param, edp, edp_stride)
        return t

    local_layers = ops_of(p.pp).ceil(shape.num_layers / to_float(p.pp))

    def per_layer(kind: str, bytes_per_param: float) -> Any:
        t = local_layers * price(fabric, kind, dense / local_layers * bytes_per_param, dp, dp_stride)
        if moe:
            t = t + local_layers * price(fabric, kind, experts / local_layers * bytes_per_param, edp, edp_stride)
        return t if one else np.asarray(t, dtype=np.float64)

    reduce, sharded, layered = (True,) * 3 if zero is None else (zero == 0, 0 != zero < 3, zero != 0 and zero >= 3)
    return {
        "allreduce": over_replicas("all_reduce", grad_bytes) if reduce else 0.0,
        "scatter": over_replicas("reduce_scatter", grad_bytes) if sharded else 0.0,
        "gather": over_replicas("all_gather", WEIGHT_BYTES) if sharded else 0.0,
        "scatter_layers": per_layer("reduce_scatter", grad_bytes) if layered else 0.0,
        "gather_layers": per_layer("all_gather", WEIGHT_BYTES) if layered else 0.0,
    }


def _tied_embedding_sync(shape: TransformerShape, fabric: Fabric, p: PlanArrays, grad_bytes: float,
                         one: bool) -> Any:
    """The tied word-embedding gradient all-reduce between the first stage (embedding) and the last (LM head), once
    per step with PP > 1: the V / TP x h gradient over the 2 ranks (PP - 1) stage strides apart (Megatron-LM
    `_allreduce_word_embedding_grads` in `finalize_model_grads`, after the DP gradient sync; untied models, e.g.
    Llama's `tie_word_embeddings: false`, have none). The pair spans the pipeline's PP x stage-stride ranks (a
    group of n at stride s spans n s in `network.collectives`): stride PP x stage stride / 2."""
    size = shape.vocab_size / to_float(p.tp) * shape.hidden_size * grad_bytes
    if one:
        pp = float(p.pp)
        return (collective_seconds(fabric, "all_reduce", size, 2.0, pp * float(p.pp_stride) / 2.0)
                if shape.tied_embeddings and pp > 1.0 else 0.0)
    pp_arr = p.pp.astype(np.float64)
    if not shape.tied_embeddings or not np.any(pp_arr > 1.0):
        return np.zeros(np.shape(pp_arr))
    seconds = collective_time(fabric, "all_reduce", size, 2.0, pp_arr * p.pp_stride / 2.0)
    return np.asarray(np.where(pp_arr > 1.0, seconds, 0.0), dtype=np.float64)


def _with_block_recompute(shape: TransformerShape, plan: PlanArrays, lt: dict[str, np.ndarray],
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


def step_time(shape: TransformerShape, cluster: Cluster, plan: PlanArrays,
              stack: str | Stack | None = None, stage_only: bool = False) -> dict[str, np.ndarray]:
    """Step time and its breakdown (seconds, arrays over plans); components add up to `step_time_s`.

    `stack`: the software-stack profile (name, file or Stack; None = `catalog.stacks.DEFAULT_TRAINING_STACK`).
    `stage_only`: only the micro-batches' stage work (compute, TP/CP/EP, other), without the pipeline and DP
    traffic (the search's step-time floor, `training.search_bounds`).
    """
    out = one_plan_step_time(shape, cluster, plan, resolve_stack(stack, "training"), stage_only)
    return {k: np.array([v]) for k, v in out.items()} if plan.is_one else out


def one_plan_step_time(shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack,
                       stage_only: bool = False) -> dict[str, Any]:
    """`step_time` under a resolved stack; a single estimate's plan (`PlanArrays.is_one`) as Python floats: the same
    formulas on its plain numbers (`PlanArrays.one_row`, `scalar_path.FLOAT_OPS`), the bits of its row in a grid."""
    profile = with_flex_dispatcher(profile, cluster.accelerator.name)  # the recipe's MoE dispatcher on this GPU
    fabric = cluster.fabric
    pricing = cluster_pricing(cluster, profile)
    rates, precision_of = pricing.rates, pricing.precision_of

    per_layer = _per_layer(shape, rates, fabric, plan, precision_of, profile, pricing)
    lt = _with_block_recompute(shape, plan, per_layer,
                               lambda p: _per_layer(shape, rates, fabric, p, precision_of, profile, pricing))
    if profile.pipeline_layouts:  # the layout matching each plan's p x v chunks (`training.pipeline_layout`)
        lt = with_pipeline_layout(shape, profile, lt, plan.one_row.pp if plan.is_one else plan.pp,
                                  plan.one_row.vpp if plan.is_one else plan.vpp)
    traffic = ({} if stage_only else
               _pipeline_and_dp_traffic(shape, fabric, plan, profile.grad_reduce_bytes, pricing))
    if plan.is_one:  # the one-plan terms are floats (one-element arrays only where block recompute mixed two rows)
        row = plan.one_row
        if not stage_only:  # the DP collectives of its ZeRO stage (`_pipeline_and_dp_traffic` keeps the rest)
            traffic = traffic | _dp_collectives(shape, fabric, row, traffic["params"], local_expert_params(shape, row),
                                                profile.grad_reduce_bytes, row.zero)
        floats = lt | traffic if lt is per_layer else {k: float(np.ravel(v)[0]) for k, v in (lt | traffic).items()}
        out = assemble_step(row, floats, floats, profile, fabric.host_kernel_dispatch_s, rates, FLOAT_OPS,
                        stage_only)
        return {k: float(v) for k, v in out.items()}
    return assemble_step(plan, lt, traffic, profile, fabric.host_kernel_dispatch_s, rates, NUMPY_OPS, stage_only)
