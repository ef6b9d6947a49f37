"""Training step time of a transformer under a TP/CP/PP/DP/EP plan, vectorised over plans.

Per micro-batch and layer on one GPU: `training.layer_time` (GEMMs, attention, element-wise work, TP/CP
collectives, recompute, the stack's overlaps and host issue time; the LM head, loss and embedding) and
`training.expert_dispatch` (the EP all-to-all). Here they are assembled into a step.

Pipeline (Narayanan et al. SC'21): the heaviest stage (ceil(L/p) layers, or floor(L/p) layers plus the
LM head and loss on the last stage) sets the pace; step = m * t_stage + the schedule's bubble
(`training.schedules`, on the other stages' summed time o: o for 1F1B, o/v interleaved; (p-1) t_stage and
(p-1)/v t_stage for equal stages) + the p2p chain of one
micro-batch through all p*v chunks forward and back (steady-state p2p overlaps compute).
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
from infraplan.hardware.kernels import KernelRates, memory_bound_seconds, memory_bound_time
from infraplan.network.collectives import Fabric, collective_seconds, collective_time, send_recv_seconds, send_recv_time
from infraplan.ops.layer import ArrayLike, Collective
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS, MathOps, ops_of, to_float
from infraplan.training.axes import COMM_KEYS, LAYER_KEYS  # cache keys, derived from the declared plan axes
from infraplan.training.enums import Recompute, Schedule
from infraplan.training.expert_dispatch import FP8_DISPATCH_PAIR_SHARE as FP8_DISPATCH_PAIR_SHARE
from infraplan.training.expert_dispatch import _ep_seconds, _with_ep_comm
from infraplan.training.expert_dispatch import deepep_node_dedup as deepep_node_dedup
from infraplan.training.host_time import CHECKPOINT_HOST_CALLS as CHECKPOINT_HOST_CALLS
from infraplan.training.host_time import CUDA_GRAPH_LAUNCH_S, host_exposed_time, micro_batch_host_time
from infraplan.training.host_time import EAGER_EXTRA_KERNELS as EAGER_EXTRA_KERNELS
from infraplan.training.host_time import MAIN_GRAD_ADD_KERNELS as MAIN_GRAD_ADD_KERNELS
from infraplan.training.layer_time import ACT, _layer_times_but_ep, _layout, head_times
from infraplan.training.layer_time import CROSS_ENTROPY_PASSES as CROSS_ENTROPY_PASSES
from infraplan.training.layer_time import attention_core_times as attention_core_times
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
from infraplan.training.plan import PlanArrays
from infraplan.training.row_memo import RowMemo
from infraplan.training.schedules import pipeline_bubble
from infraplan.training.stage_split import heaviest_stage

__all__ = ["ACT", "CHECKPOINT_HOST_CALLS", "COMPONENTS", "CROSS_ENTROPY_PASSES", "EAGER_EXTRA_KERNELS",
           "FP8_DISPATCH_PAIR_SHARE", "MAIN_GRAD_ADD_KERNELS",
           "STRIDE_ONLY_KEYS", "attention_core_times", "deepep_node_dedup", "head_times", "host_exposed_time",
           "layer_kernel_counts", "layer_times", "one_plan_step_time", "step_time"]

# Adam: read fp32 param, grad, m, v; write param, m, v and the bf16 copy (30 B); the fp32 grad-norm read before
# clipping (Megatron clip_grad_norm_fp32, multi_tensor_l2norm) and zeroing the grad buffer (zero_grad_buffer): 8 B
ADAM_BYTES_PER_PARAM = 38.0
OPTIMIZER_KERNELS = 20.0  # multi-tensor Adam, l2norm and zeroing launches (apex multi_tensor_apply chunks)
# layer keys that change the per-layer times only through the EP all-to-all's rank stride (`PlanArrays.dp_stride`)
# and the pipeline stage split (`_per_layer` prices the rest without them; tests/training/test_search_speed.py)
STRIDE_ONLY_KEYS = ("pp", "order")
COMPONENTS = ("compute", "tp_comm", "cp_comm", "ep_comm", "pp_bubble", "pp_comm", "dp_comm_exposed",
              "optimizer", "other")


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
    """
    shape = np.shape(getattr(plan, keys[0]))
    if shape == (1,) and plan.is_one:
        return compute(plan)  # its own row: the one-plan terms, Python floats
    columns = {f.name: np.ravel(getattr(plan, f.name)) for f in fields(plan)}
    distinct = _distinct_rows([columns[k] for k in keys])
    n = columns[keys[0]].size
    if distinct is None:
        rows = PlanArrays(**{k: c if c.size == n else np.broadcast_to(c[:1], (n,)) for k, c in columns.items()})
        return {k: _array(v).reshape(shape) for k, v in compute(rows).items()}
    first, inverse = distinct
    rows = PlanArrays(**{k: c[first] if c.size == n else np.broadcast_to(c[:1], first.shape)
                         for k, c in columns.items()})
    return {k: _array(v)[inverse.reshape(shape)] for k, v in compute(rows).items()}


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
        host_s = fabric.host_kernel_dispatch_s
        if distinct.is_one:  # one plan: the same terms on its Python numbers (`PlanArrays.one_row`)
            rate, width = precision_of(distinct)
            row, precision = distinct.one_row, (float(rate[0]), float(width[0]))
            times, ep_records = _layer_times_but_ep(shape, rates, fabric, row, precision, host_s, stack)
            times.update(head_times(shape, rates, row, precision, stack, host_s))
            times = _with_ep_comm(times, _ep_seconds(shape, fabric, ep_records, stack, precision[1] < 2.0, True),
                                  row.recompute == int(Recompute.FULL), stack)
            times = _with_stage_split(shape, stack, times, float(row.pp))
            return {k: float(v) for k, v in times.items()}  # the one-plan memo keeps Python floats
        free_keys = tuple(k for k in LAYER_KEYS if k not in STRIDE_ONLY_KEYS)
        free = _distinct_rows([getattr(distinct, k) for k in free_keys])
        once = distinct if free is None else distinct.take(free[0])

        def price(rows: PlanArrays) -> tuple[dict[str, np.ndarray], tuple[Collective, ...]]:
            precision = precision_of(rows)
            times, ep_records = _layer_times_but_ep(shape, rates, fabric, rows, precision, host_s, stack)
            times.update(head_times(shape, rates, rows, precision, stack, host_s))
            return times, ep_records

        memo = RowMemo.active()  # a search shares the priced rows across its blocks (`training.row_memo`)
        memo = memo if memo is not None and memo.keys == free_keys else None
        times, ep_records = price(once) if memo is None else memo.lookup(once, price)
        if free is not None or memo is not None:
            inverse, n = (free[1], free[0].size) if free is not None else (np.arange(len(once)), len(once))

            def spread(v: ArrayLike) -> np.ndarray:
                return np.asarray(np.broadcast_to(np.asarray(v), (n,))[inverse])

            times = {k: spread(v) for k, v in times.items()}
            stride = _layout(distinct, precision_of(distinct)[1] < 2.0, stack).ep_stride
            ep_records = tuple(replace(c, bytes=spread(c.bytes), group=spread(c.group), mask=spread(c.mask),
                                       stride=stride) for c in ep_records)
        times = _with_ep_comm(times, _ep_seconds(shape, fabric, ep_records, stack, precision_of(distinct)[1] < 2.0),
                              distinct.recompute == int(Recompute.FULL), stack)
        # the balanced whole-layer split depends only on these rows too: bisect it once per distinct row
        return _with_stage_split(shape, stack, times, distinct.pp.astype(np.float64))

    return _computed_once(plan, LAYER_KEYS,
                          compute if pricing is None else pricing.memoised("layer", shape, LAYER_KEYS, compute))


def _with_stage_split(shape: TransformerShape, stack: Stack, times: dict[str, Any], pp: Any) -> dict[str, Any]:
    """`times` with the heaviest stage's layers (`stage_layers`) and whether it is the last (`last_is_heaviest`)
    of the stack's split, in arrays over plans or one plan's floats (`pp` a float)."""
    one = type(pp) is float

    # a pipeline stage's pace per phase is its GPU work or its host issue time, whichever is longer (each
    # micro-batch phase is its own sync interval with PP, `host_exposed_time`): balance on that pace
    def pace(gpu: dict[str, Any], host: dict[str, Any]) -> Any:
        if one:
            return max(gpu["fwd"], host["fwd"]) + max(gpu["bwd"], host["bwd"])
        return np.asarray(np.maximum(gpu["fwd"], host["fwd"]) + np.maximum(gpu["bwd"], host["bwd"]),
                          dtype=np.float64)

    parts = ("compute", "tp", "cp", "ep", "other")
    if one:  # np.sum's order over the five parts (left to right)
        layer_gpu = {ph: sum((times[f"{part}_{ph}"] for part in parts[1:]), times[f"compute_{ph}"])
                     for ph in ("fwd", "bwd")}
    else:
        layer_gpu = {ph: np.sum([times[f"{part}_{ph}"] for part in parts], axis=0) for ph in ("fwd", "bwd")}
    layer_pace = pace(layer_gpu, {ph: times[f"host_{ph}"] for ph in ("fwd", "bwd")})
    head_pace = pace({ph: times[f"head_gpu_{ph}"] for ph in ("fwd", "bwd")},
                     {ph: times[f"head_host_{ph}"] for ph in ("fwd", "bwd")})
    _, layers, last, _ = heaviest_stage(shape.num_layers, pp, layer_pace, 0.0, head_pace, stack.pipeline_split,
                                        stack.account_for_embedding_in_pipeline_split,
                                        stack.account_for_loss_in_pipeline_split)
    out = dict(times)
    out["stage_layers"], out["last_is_heaviest"] = layers, float(last) if one else last.astype(np.float64)
    out["other_layers"] = shape.num_layers - layers  # on the other stages (their bubble, `schedules`)
    return out


def _pipeline_and_dp_traffic(shape: TransformerShape, fabric: Fabric, plan: PlanArrays, grad_bytes: float = GRAD_BYTES,
                             pricing: ClusterPricing | None = None) -> dict[str, Any]:
    """p2p time per pipeline transfer and the DP collectives of one step, once per distinct COMM_KEYS row
    (arrays; a single estimate's floats).

    ZeRO-3 / FSDP gathers and scatters layer by layer: `gather_layers` / `scatter_layers` price one collective
    per local layer at its own message size (latency and small-message efficiency each time).
    """
    def compute(rows: PlanArrays) -> dict[str, Any]:
        p = rows.one_row if rows.is_one else rows  # one plan: its Python numbers (`PlanArrays.one_row`)
        boundary = p.micro_batch * p.seq_len / p.cp * shape.hidden_size * ACT / p.tp
        # dense parameters are replicated over DP; experts only over the DP/EP ranks holding the same expert
        params, experts = local_params(shape, p), local_expert_params(shape, p)
        dense, dp_stride, one = params - experts, p.dp_stride, p is not rows

        def price(kind: str, size: Any, n: Any, stride: Any) -> Any:  # one plan: floats (`collective_seconds`)
            return (collective_seconds if one else collective_time)(fabric, kind, size, n, stride)

        def over_replicas(kind: str, bytes_per_param: float) -> Any:
            t = price(kind, dense * bytes_per_param, p.dp, dp_stride)
            if shape.is_moe:
                t = t + price(kind, experts * bytes_per_param, p.edp, p.edp_stride)
            return t

        local_layers = ops_of(p.pp).ceil(shape.num_layers / to_float(p.pp))

        def per_layer(kind: str, bytes_per_param: float) -> Any:
            t = local_layers * price(kind, dense / local_layers * bytes_per_param, p.dp, dp_stride)
            if shape.is_moe:
                t = t + local_layers * price(kind, experts / local_layers * bytes_per_param, p.edp, p.edp_stride)
            return t if one else np.asarray(t, dtype=np.float64)

        out = {
            "p2p": (send_recv_seconds(fabric, boundary, p.pp_stride) if one  # type: ignore[arg-type]
                    else send_recv_time(fabric, boundary, p.pp_stride)),
            "allreduce": over_replicas("all_reduce", grad_bytes),
            "scatter": over_replicas("reduce_scatter", grad_bytes),
            "gather": over_replicas("all_gather", WEIGHT_BYTES),
            "scatter_layers": per_layer("reduce_scatter", grad_bytes),
            "gather_layers": per_layer("all_gather", WEIGHT_BYTES),
            "params": params,
            "sharded": sharded_of(p, params, experts),
        }
        return out if p is rows else {k: float(v) for k, v in out.items()}  # one plan: Python floats

    return _computed_once(plan, COMM_KEYS,
                          compute if pricing is None else pricing.memoised("comm", shape, COMM_KEYS, compute))


def _with_block_recompute(shape: TransformerShape, plan: PlanArrays, lt: dict[str, np.ndarray],
                          per_layer: Callable[[PlanArrays], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Layer times under block recompute (`training.memory.recomputed_stage_layers`): r of the stage's layers pay
    the full-recompute layer time, the others the no-recompute one (the stage's mean layer). Plans without
    block recompute are returned as they are."""
    if plan.is_one:  # one plan: its Python ints decide
        row = plan.one_row
        if not (row.recompute == int(Recompute.FULL) and row.recompute_layers > 0):
            return lt
    block = (plan.recompute == int(Recompute.FULL)) & (plan.recompute_layers > 0)
    if not np.any(block):
        return lt
    plain = per_layer(replace(plan, recompute=np.where(block, int(Recompute.NONE), plan.recompute)))
    share = np.where(block, recomputed_stage_layers(shape, plan) / stage_layers(shape.num_layers, plan.pp), 1.0)
    return {k: v if k in ("stage_layers", "last_is_heaviest", "other_layers") or k.startswith("head_")
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
    fabric = cluster.fabric
    pricing = cluster_pricing(cluster, profile)
    rates, precision_of = pricing.rates, pricing.precision_of

    per_layer = _per_layer(shape, rates, fabric, plan, precision_of, profile, pricing)
    lt = _with_block_recompute(shape, plan, per_layer,
                               lambda p: _per_layer(shape, rates, fabric, p, precision_of, profile, pricing))
    traffic = ({} if stage_only else
               _pipeline_and_dp_traffic(shape, fabric, plan, profile.grad_reduce_bytes, pricing))
    if plan.is_one:  # the one-plan terms are floats (one-element arrays only where block recompute mixed two rows)
        floats = lt | traffic if lt is per_layer else {k: float(np.ravel(v)[0]) for k, v in (lt | traffic).items()}
        out = _assemble(plan.one_row, floats, floats, profile, fabric.host_kernel_dispatch_s, rates, FLOAT_OPS,
                        stage_only)
        return {k: float(v) for k, v in out.items()}
    return _assemble(plan, lt, traffic, profile, fabric.host_kernel_dispatch_s, rates, NUMPY_OPS, stage_only)


def _assemble(plan: PlanArrays, lt: dict[str, Any], traffic: dict[str, Any], profile: Stack, dispatch_s: float,
              rates: KernelRates, ops: MathOps, stage_only: bool) -> dict[str, Any]:
    """`step_time` from the per-layer terms `lt` and the `traffic` of `_pipeline_and_dp_traffic`, element-wise in
    arrays over plans (NUMPY_OPS) or in the Python floats of one plan (FLOAT_OPS, `PlanArrays.one_row`)."""
    head_compute, head_other = lt["head_compute"], lt["head_other"]

    # DualPipe hides each chunk's EP all-to-all under the paired chunk of the other phase (`_with_ep_comm`)
    paired = plan.schedule == int(Schedule.DUALPIPE)
    per_layer = {
        "compute": ops.where(paired, lt["compute_paired"], lt["compute_fwd"] + lt["compute_bwd"]),
        "tp_comm": lt["tp_fwd"] + lt["tp_bwd"],
        "cp_comm": lt["cp_fwd"] + lt["cp_bwd"],
        "ep_comm": ops.where(paired, lt["ep_paired"], lt["ep_fwd"] + lt["ep_bwd"]),
        "other": lt["other_fwd"] + lt["other_bwd"],
    }
    pp = ops.as_float(plan.pp)
    single = plan.pp == 1
    # heaviest stage of the balanced whole-layer split (`schedules.heaviest_stage`): a middle stage, or the
    # last with the LM head + loss (one stage: everything); the embedding lookup is not priced (0 s)
    layers, last_is_heaviest = lt["stage_layers"], lt["last_is_heaviest"] > 0.5
    stage = {k: layers * v for k, v in per_layer.items()}
    stage["compute"] = stage["compute"] + ops.where(last_is_heaviest, head_compute, 0.0)
    stage["other"] = stage["other"] + ops.where(last_is_heaviest, head_other, 0.0)
    m = ops.as_float(plan.micro_batches)
    # host issue time no queued GPU work covers (per micro-batch on the heaviest stage)
    with_head = ops.where(last_is_heaviest, 1.0, 0.0)
    gpu_fwd, gpu_bwd = (layers * sum(lt[f"{part}_{phase}"] for part in ("compute", "other", "tp", "cp", "ep"))
                        + with_head * lt[f"head_gpu_{phase}"] for phase in ("fwd", "bwd"))
    host_fwd = layers * lt["host_fwd"] + with_head * lt["head_host_fwd"]
    host_bwd = layers * lt["host_bwd"] + with_head * lt["head_host_bwd"]
    # a sync ends every forward when stages exchange activations (PP) or the stack's timers synchronise
    # (`Stack.phase_sync`); the LM head and loss close that forward, so the GPU runs them after the host has
    # issued everything: the layers' host slack cannot cover them (`host_exposed_time`, `head_tail`)
    synced = ops.where(single, profile.phase_sync, True)
    tail = ops.where(synced, with_head, 0.0)
    batch_host, loss_host = micro_batch_host_time(profile, dispatch_s)
    # get_batch runs before the forward on every stage; between timer syncs nothing queued hides it. The loss
    # calls follow the LM head + loss kernels on the last stage, which cover what they can.
    host_fwd = host_fwd + ops.where(synced, 0.0, batch_host) + with_head * loss_host
    host_per_micro_batch = (host_exposed_time(host_fwd - tail * (lt["head_host_fwd"] + loss_host), host_bwd,
                                              gpu_fwd - tail * lt["head_gpu_fwd"], gpu_bwd, m, synced, dispatch_s)
                            + m * ops.where(synced, batch_host, 0.0)
                            + m * tail * ops.maximum(lt["head_host_fwd"] + loss_host - lt["head_gpu_fwd"], 0.0)) / m
    stage["other"] = stage["other"] + host_per_micro_batch
    if stage_only:
        return {k: m * v for k, v in stage.items()}
    stage_total = sum(stage.values())
    # DP traffic hides behind the wall time of a micro-batch's forward / backward: the GPU's work in it, or the
    # host's issue time when that is longer (a faster link can then not shrink the window below the host's)
    fwd_window = profile.dp_overlap_fraction * ops.maximum(
        layers * (lt["compute_fwd"] + lt["other_fwd"] + lt["tp_fwd"]), host_fwd)
    bwd_window = profile.dp_overlap_fraction * ops.maximum(
        layers * (lt["compute_bwd"] + lt["other_bwd"] + lt["tp_bwd"]), host_bwd)

    out = {k: m * v for k, v in stage.items()}
    # the other stages' time per micro-batch (`schedules`, uneven stages): their layers at the heaviest stage's
    # pace per layer (host time included), plus the LM head + loss where the last stage is not the heaviest
    head_s, paced = head_compute + head_other, ops.maximum(layers, 1.0)
    layer_s = ops.where(layers > 0.0, (stage_total - with_head * head_s) / paced, sum(per_layer.values()))
    others = lt["other_layers"] * layer_s + (1.0 - with_head) * head_s
    out["pp_bubble"] = pipeline_bubble(plan.schedule, pp, plan.vpp, m, stage_total, others)

    out["pp_comm"] = ops.where(single, 0.0, 2.0 * (pp * plan.vpp - 1.0) * traffic["p2p"])
    allreduce, scatter, gather = traffic["allreduce"], traffic["scatter"], traffic["gather"]
    exposed_zero0 = ops.maximum(allreduce - bwd_window, 0.0)
    exposed_zero12 = ops.maximum(scatter - bwd_window, 0.0) + ops.maximum(gather - fwd_window, 0.0)
    gather_layers, scatter_layers = traffic["gather_layers"], traffic["scatter_layers"]
    exposed_zero3 = (ops.maximum(gather_layers - fwd_window, 0.0)
                     + ops.maximum(scatter_layers + gather_layers - bwd_window, 0.0))
    out["dp_comm_exposed"] = ops.where(plan.zero == 0, exposed_zero0,  # np.select's values, without its overhead
                                       ops.where(plan.zero < 3, exposed_zero12, exposed_zero3))

    optimizer_params = ops.where(plan.zero >= 1, traffic["sharded"], traffic["params"])
    optimizer_gpu = (memory_bound_seconds(rates, optimizer_params * ADAM_BYTES_PER_PARAM, OPTIMIZER_KERNELS)
                     if ops is FLOAT_OPS else ops.as_float(memory_bound_time(rates, optimizer_params
                                                                             * ADAM_BYTES_PER_PARAM,
                                                                             kernels=OPTIMIZER_KERNELS)))
    # the optimizer is its own sync interval (grad-norm / inf check on the host): its launches are exposed
    optimizer_host = OPTIMIZER_KERNELS * (CUDA_GRAPH_LAUNCH_S if profile.cuda_graphs else dispatch_s)
    out["optimizer"] = optimizer_gpu + host_exposed_time(optimizer_host, 0.0, optimizer_gpu, 0.0, 1.0, False,
                                                         dispatch_s)
    out = {k: out[k] for k in COMPONENTS}
    out["step_time_s"] = sum(out[k] for k in COMPONENTS)
    return out
