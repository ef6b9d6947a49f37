"""The DP gradient reductions and parameter gathers a training step exposes: the windows of one micro-batch's
forward / backward they hide behind (`dp_windows`), the exposed rest per ZeRO form (`dp_forms`), and the most of
the stages' on their own windows (`end_stage_dp_forms`, hA2, session 38: every stage's DP ranks reduce their own
gradients behind their own backward, and the step ends when the last of them finishes) and their own parameters
(their layers, their table and MTP modules, `step_traffic.EndStageTraffic`: the end stages, hD5, session 39; the
heaviest and a middle stage, hT40, session 40). `training.step_assembly` composes them into the step's
`dp_comm_exposed`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.scalar_path import FLOAT_OPS, MathOps, anywhere

# The traffic key of a ZeRO 1/2 parameter all-gather run inside the optimizer step, before the next forward starts
# (seconds, exposed whole; `training.optimizers.blocking_gather`)
BLOCKING_GATHER = "gather_blocking"


def dp_windows(lt: dict[str, Any], layers: Any, host_over_gpu_fwd: Any, host_over_gpu_bwd: Any, synced: Any,
               overlap: float, moe_block: Any, ops: MathOps) -> tuple[Any, Any]:
    """Seconds of one micro-batch's forward and backward that the DP parameter gathers and gradient reductions
    hide behind, on a stage of `layers` layers (arrays or one plan's floats), from the phase's host issue time less
    its GPU time (`host_over_gpu_*`, the same work: the stage's layers, LM head, embedding, batch and loss calls).
    `moe_block`: each layer's exposed MoE host block after its forward sync, forward wall time too (the DP
    collectives' stream runs on while the compute stream waits for the host: without it a faster GPU shrank the
    window while the host held the forward, +1 % on a step; hX1, session 38; the offset syncs' waits are left out).

    The window is the layers' forward / backward: Megatron-Core's DDP buckets the parameters in reverse order
    (megatron-core 0.16.1 distributed/param_and_grad_buffer.py:711-712), dispatches a bucket's reduction once its
    gradients are ready (distributed_data_parallel.py:420-446) and waits for a bucket's gather before the module
    using it (:384-418, param_and_grad_buffer.py:302-335), so the LM head's backward runs before the first
    reduction and the embedding's after the last, and the CP / EP collectives hold the links (neither counted, as
    before). Its wall time is the layers' GPU work plus the host issue time the stage counts as exposed in that
    phase (`host_time.host_exposed_time`: synchronised phases each their own, else the backward after the
    forward's queued work), so the window is a part of the step's own time and grows no faster than it: recompute
    that makes the host the bound cannot hide more DP traffic than it adds (the host issue time of the whole
    stage against the layers' GPU time alone did: full recompute came out faster than none where DP-bound).
    """
    bank = ops.where(synced, 0.0, ops.maximum(-host_over_gpu_fwd, 0.0))
    fwd_gpu = layers * (lt["compute_fwd"] + lt["other_fwd"] + lt["tp_fwd"])
    bwd_gpu = layers * (lt["compute_bwd"] + lt["other_bwd"] + lt["tp_bwd"])
    return (overlap * (fwd_gpu + ops.maximum(host_over_gpu_fwd, 0.0)) + overlap * layers * moe_block,
            overlap * (bwd_gpu + ops.maximum(host_over_gpu_bwd - bank, 0.0)))


def dp_forms(traffic: dict[str, Any], fwd_window: Any, bwd_window: Any, ops: MathOps) -> tuple[Any, Any, Any]:
    """Exposed DP seconds per step under ZeRO 0, 1/2 and 3: the collectives of `traffic` less the windows they hide
    behind; ZeRO 1/2's `BLOCKING_GATHER` (where the traffic has it: `training.optimizers.blocking_gather`) in full."""
    allreduce, scatter, gather = traffic["allreduce"], traffic["scatter"], traffic["gather"]
    blocking = traffic.get(BLOCKING_GATHER)  # (a gather in the optimizer step, hidden behind nothing: Muon's)
    if ops is FLOAT_OPS:  # one plan's floats: FLOAT_OPS.maximum's expression written out (the same bits; hP15)
        forms = _float_forms(allreduce - bwd_window, scatter - bwd_window, gather - fwd_window,
                             traffic["gather_layers"] - fwd_window,
                             traffic["scatter_layers"] + traffic["gather_layers"] - bwd_window)
        return forms if blocking is None else (forms[0], forms[1] + blocking, forms[2])
    exposed_zero0 = ops.maximum(allreduce - bwd_window, 0.0)
    exposed_zero12 = ops.maximum(scatter - bwd_window, 0.0) + ops.maximum(gather - fwd_window, 0.0)
    if blocking is not None:
        exposed_zero12 = exposed_zero12 + blocking
    gather_layers, scatter_layers = traffic["gather_layers"], traffic["scatter_layers"]
    exposed_zero3 = (ops.maximum(gather_layers - fwd_window, 0.0)
                     + ops.maximum(scatter_layers + gather_layers - bwd_window, 0.0))
    return exposed_zero0, exposed_zero12, exposed_zero3


def _float_forms(zero0: float, scatter: float, gather: float, gather_layers: float,
                 both_layers: float) -> tuple[float, float, float]:
    """`dp_forms` of one plan from its collectives less their windows: each rest at least 0 as FLOAT_OPS.maximum
    takes it (`b if b > a else a`)."""
    return (0.0 if zero0 < 0.0 else zero0,
            (0.0 if scatter < 0.0 else scatter) + (0.0 if gather < 0.0 else gather),
            (0.0 if gather_layers < 0.0 else gather_layers) + (0.0 if both_layers < 0.0 else both_layers))


def end_stage_dp_forms(traffic: dict[str, Any], lt: dict[str, Any], layers: Any, host_over_gpu_fwd: Any,
                       host_over_gpu_bwd: Any, synced: Any, overlap: float, moe_block: Any, ops: MathOps,
                       so_far: tuple[Any, Any, Any], windows: tuple[Any, Any], counts: Any,
                       own: tuple[Any, ...], own_windows: tuple[Any, Any] | None = None,
                       own_bound: tuple[Any, Any, Any] | None = None) -> tuple[Any, Any, Any]:
    """The most of `so_far` (`dp_forms`) and a stage's where `counts`: its own DP collectives (its layers, its table
    and MTP modules: `step_traffic.EndStageTraffic`) less its own windows (`dp_windows` on its `layers` and host
    time, the MoE blocks as on the heaviest; `own_windows`: those, computed already, and `own_bound` the traffic's
    `dp_forms` on them, if it is). `own`: the stages' traffic,
    the stage's decoder layers, its MTP modules, the plan's (those the step's traffic counts), the traffic's layers
    (ceil(L / p)) and, optionally, its tables (1: an end stage's, 0: a middle stage's; 1 if left out) and where
    `so_far` holds at least the traffic's exposure on the heaviest stage's `windows` (True if left out).

    Priced only where it can set the most (the same values): a stage with no more layers than the traffic's
    ceil(L / p) and no MTP module holds no more parameters than the traffic is priced on (a table or none and, with
    MTP, the modules), so its collectives take no longer (collective time grows with the bytes, ASSUMPTION of the
    collective models; ZeRO-3's per-layer form with the layers too) and the traffic's on its windows bounds its
    exposure: where neither window is shorter than the heaviest's and `so_far` holds the traffic's exposure on those,
    or that bound sets no new most, nothing is priced; where it holds the traffic's layers and table and the traffic
    no MTP module, the bound is its exposure."""
    traffic_of, decoder_layers, mtp, mtp_all, counted, *rest = own
    table, settled = (rest[0], rest[1]) if rest else (1.0, True)
    if ops is FLOAT_OPS and not counts:  # (one plan: a stage that does not count prices nothing)
        return so_far
    fwd_window, bwd_window = (dp_windows(lt, layers, host_over_gpu_fwd, host_over_gpu_bwd, synced, overlap,
                                         moe_block, ops) if own_windows is None else own_windows)
    if ops is FLOAT_OPS:
        return _one_plan_end_stage(traffic, so_far, windows, (fwd_window, bwd_window),
                                   (traffic_of, decoder_layers, mtp, mtp_all, counted, table, settled), own_bound)
    # (possibly more parameters than the traffic's, where it moves any: a DP group of one rank moves none)
    more = ((decoder_layers > counted) | (mtp > 0.0)) & _carried(traffic)
    counts = counts & ((fwd_window < windows[0]) | (bwd_window < windows[1]) | more | np.logical_not(settled))
    if not anywhere(counts):
        return so_far
    bound = dp_forms(traffic, fwd_window, bwd_window, ops) if own_bound is None else own_bound
    # the traffic's parameters: the bound is its exposure
    same = (decoder_layers == counted) & (mtp_all == 0.0) & (table == 1.0)
    exact, other = counts & same, counts & ((decoder_layers != counted) | (mtp_all > 0.0) | (table != 1.0))
    out, need = [], []
    for k in range(3):
        exceeds = bound[k] > so_far[k]
        out.append(ops.where(exact & exceeds, bound[k], so_far[k]))
        need.append(other & (exceeds | more))
    if not anywhere(need[0] | need[1] | need[2]):
        return out[0], out[1], out[2]
    if traffic_of is None:
        raise ValueError("a stage's own DP traffic is needed (`step_traffic.EndStageTraffic`)")
    end = dp_forms(traffic_of.collectives(decoder_layers, mtp, need[0] | need[1] | need[2], table), fwd_window,
                   bwd_window, ops)  # (priced where read: `step_traffic.dp_collectives_once`'s rows)
    return (ops.where(need[0], ops.maximum(out[0], end[0]), out[0]),
            ops.where(need[1], ops.maximum(out[1], end[1]), out[1]),
            ops.where(need[2], ops.maximum(out[2], end[2]), out[2]))


def _one_plan_end_stage(traffic: dict[str, Any], so_far: tuple[Any, Any, Any], windows: tuple[Any, Any],
                        own_windows: tuple[float, float], own: tuple[Any, ...],
                        own_bound: tuple[Any, Any, Any] | None = None) -> tuple[Any, Any, Any]:
    """`end_stage_dp_forms` of one plan that counts, in its Python floats and bools: the same tests and the same
    FLOAT_OPS picks (`where`: `a if c else b`, `maximum`: `b if b > a else a`), without the element-wise masks
    (hP15, session 39: a single estimate priced its two end stages in 4 % of its instructions)."""
    traffic_of, decoder_layers, mtp, mtp_all, counted, table, settled = own
    fwd_window, bwd_window = own_windows
    more = (decoder_layers > counted or mtp > 0.0) and _carried(traffic)  # (as the array path's)
    if not (fwd_window < windows[0] or bwd_window < windows[1] or more or not settled):
        return so_far
    bound = dp_forms(traffic, fwd_window, bwd_window, FLOAT_OPS) if own_bound is None else own_bound
    if decoder_layers == counted and mtp_all == 0.0 and table == 1.0:  # the traffic's parameters: its exposure
        return (bound[0] if bound[0] > so_far[0] else so_far[0], bound[1] if bound[1] > so_far[1] else so_far[1],
                bound[2] if bound[2] > so_far[2] else so_far[2])
    need = (more or bound[0] > so_far[0], more or bound[1] > so_far[1], more or bound[2] > so_far[2])
    if not (need[0] or need[1] or need[2]):
        return so_far
    if traffic_of is None:
        raise ValueError("a stage's own DP traffic is needed (`step_traffic.EndStageTraffic`)")
    end = dp_forms(traffic_of.collectives(decoder_layers, mtp, None, table), fwd_window, bwd_window, FLOAT_OPS)
    return ((end[0] if end[0] > so_far[0] else so_far[0]) if need[0] else so_far[0],
            (end[1] if end[1] > so_far[1] else so_far[1]) if need[1] else so_far[1],
            (end[2] if end[2] > so_far[2] else so_far[2]) if need[2] else so_far[2])


def _carried(traffic: dict[str, Any]) -> Any:
    """Where the traffic moves any bytes in any form (where it does not, its DP groups hold one rank each: every stage's
    collectives on them take 0 s, whatever its parameters)."""
    return ((traffic["allreduce"] > 0.0) | (traffic["scatter"] > 0.0) | (traffic["gather"] > 0.0)
            | (traffic["scatter_layers"] > 0.0) | (traffic["gather_layers"] > 0.0))
