"""The pipeline's stage-to-stage sends of one training step, each hop priced where its two stages sit: inside one
scale-up domain at the scale-up rate, across a domain edge at the scale-out rate (as serving's,
`serving.pipeline_hops`).

Layout (`training.plan`): a stage's TP x CP ranks are one block of b = TP x CP consecutive ranks; pipeline neighbours
are `pp_stride` s apart (tp-cp-pp-dp: s = b, the DP replicas d TP CP PP apart; tp-cp-dp-pp, Megatron-Core's
`RankGenerator` order: s = b DP, the replicas b apart). Consecutive ranks fill the fabric's placement unit U
(`network.placement`; the scale-up domain without one). Hop j of a replica crosses when some rank of its block
and the rank s further sit in different domains (`network.placement.pipeline_hops_across`, which counts the most
crossing hops n of any replica): TP8 PP16 at DP 4 tp-cp-dp-pp on GB200 NVL72 run in 64-GPU Slurm segments (s = 32)
crosses on the 7 odd hops of 15, where the single stride priced every hop inside (gcd(64, 2 x 32) = 64 >= 2 s).

What the schedule waits for (`pipeline_p2p_time`, from `training.step_assembly` since hN53): the overlapped
stacks expose the chain of one micro-batch through the p v chunks forward and back, 2 (p v - 1) transfers passing
each hop v times and the wrap (stage p - 1 -> 0, whose pair block holds every hop's, so it crosses exactly when
some hop does) v - 1 times: the chain's mean transfer is ((N - C) t_in + C t_out) / N with N = p v - 1,
C = v n + (v - 1) [n > 0] (`chain_mean`). The blocking stacks' steady state exchanges all stages at once in
lock-step, each exchange as long as the slowest hop (t_out where n > 0). ASSUMPTION: the DP replicas run their
pipelines independently within the step (their gradient sync at its end), so the slowest replica's chain sets it
(the max over replicas of n).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from infraplan.catalog.stacks import Stack
from infraplan.identity_memo import IdentityMemo
from infraplan.network.collectives import Fabric, group_domain, send_recv_seconds, send_recv_time
from infraplan.network.placement import pipeline_hops_across
from infraplan.scalar_path import pick
from infraplan.training.host_time import BLOCKING_P2P_HOST_CALLS
from infraplan.training.plan import PlanArrays

__all__ = ["chain_mean", "pipeline_hop_terms"]

_TP_CP_PP_DP = 0  # (`enums.RankOrder.TP_CP_PP_DP`'s code: checked in tests/training/test_pipeline_hops.py)
_PLACED: IdentityMemo[Fabric] = IdentityMemo(64)


def _placed(fabric: Fabric, unit: int) -> Fabric:
    """`replace(fabric, placement_unit=unit)`, kept by the fabric's identity: the same copy for every plan, so the
    float path's links and latencies kept by a fabric's identity (`network.collectives`) find it (a fresh copy per
    estimate missed them, hashing the whole fabric in `group_link`'s cache; hP24)."""
    kept = _PLACED.get(fabric, unit)
    return kept if kept is not None else _PLACED.put(fabric, unit, replace(fabric, placement_unit=unit))


def pipeline_hop_terms(fabric: Fabric, boundary: Any, p: PlanArrays, one: bool) -> dict[str, Any]:
    """The traffic's p2p terms of distinct rows `p` (a `one_row` plan's Python numbers where `one`): `p2p` the
    chain's mean transfer at VP 1, `p2p_inside` / `p2p_across` one transfer inside a domain / across an edge,
    `p2p_hops_across` the most crossing hops n of a replica, `p2p_scale_out` the share of the VP 1 chain that
    crosses. Where every hop crosses, or none, the transfer is the single-stride price as before (the same bits)."""
    unit = fabric.placement_unit or fabric.scale_up_domain
    if one:
        s, pp = int(p.pp_stride), int(p.pp)
        block = int(p.tp) * int(p.cp)
        inner = int(p.order) == _TP_CP_PP_DP
        n = float(pipeline_hops_across(block, s, pp, int(p.dp), s * pp if inner else block, unit))
        old = send_recv_seconds(fabric, boundary, s)
        old_across = s * 2 > group_domain(fabric, 2.0, s)
        t_in = send_recv_seconds(_placed(fabric, 2 * s), boundary, s) if old_across else old
        t_out = old if old_across else send_recv_seconds(_placed(fabric, s), boundary, s)
        hops = float(max(pp - 1, 1))
        mean = chain_mean(float(pp), 1.0, t_in, t_out, n)
        return {"p2p": mean, "p2p_inside": t_in, "p2p_across": t_out, "p2p_hops_across": n,
                "p2p_scale_out": n / hops}
    return _row_terms(fabric, boundary, p, unit)


def _row_terms(fabric: Fabric, boundary: Any, p: PlanArrays, unit: int) -> dict[str, Any]:
    """`pipeline_hop_terms` of arrays of distinct rows."""
    stride = np.asarray(p.pp_stride, dtype=np.int64)
    pp = np.asarray(p.pp, dtype=np.int64)
    block = np.asarray(p.tp * p.cp, dtype=np.int64)
    inner = np.asarray(p.order) == _TP_CP_PP_DP
    step = np.where(inner, stride * pp, block)
    cols = np.broadcast_arrays(block, stride, pp, np.asarray(p.dp, dtype=np.int64), step)
    # (each row's ints by `tolist`, not numpy scalars through `int`: the same values)
    n = np.array([float(pipeline_hops_across(*row, unit)) for row in zip(*(c.ravel().tolist() for c in cols),
                                                                          strict=True)]).reshape(cols[0].shape)
    size = np.broadcast_to(np.asarray(boundary, dtype=np.float64), stride.shape)
    old = send_recv_time(fabric, size, stride)
    old_across = stride * 2 > group_domain(fabric, 2.0, stride)
    t_in, t_out = old.copy(), old.copy()
    for s in np.unique(stride):  # (the other side's price, one fabric per stride, on the rows that take it: the
        at = stride == s  # formula is element-wise, so each row gets the bits of the whole columns; hP24)
        for side, unit_s, rows in ((t_in, 2 * int(s), at & old_across), (t_out, int(s), at & ~old_across)):
            if rows.any():
                side[rows] = send_recv_time(_placed(fabric, unit_s), size[rows], stride[rows])
    ppf = pp.astype(np.float64)
    return {"p2p": chain_mean(ppf, 1.0, t_in, t_out, n), "p2p_inside": t_in, "p2p_across": t_out,
            "p2p_hops_across": n, "p2p_scale_out": n / np.maximum(ppf - 1.0, 1.0)}


def chain_mean(pp: Any, vpp: Any, t_in: Any, t_out: Any, n: Any) -> Any:
    """The mean transfer of one micro-batch's chain through the p v chunks (module docstring): t_in where no hop
    crosses, t_out where every transfer does (the same bits), else ((N - C) t_in + C t_out) / N."""
    chain = pp * vpp - 1.0
    crossing = vpp * n + (vpp - 1.0) * pick(n > 0.0, 1.0, 0.0)
    mixed = ((chain - crossing) * t_in + crossing * t_out) / (chain if type(chain) is float and chain > 0.0
                                                                else np.maximum(chain, 1.0))
    return pick(crossing <= 0.0, t_in, pick(crossing >= chain, t_out, mixed))


def pipeline_p2p_time(pp: Any, vpp: Any, micro_batches: Any, transfer_s: Any, profile: Stack,
                      dispatch_s: float, hops: tuple[Any, Any, Any] | None = None) -> Any:
    """Exposed pipeline send/recv seconds per step (arrays or one plan's floats), with `transfer_s` the time of one
    boundary transfer (`step_traffic.pipeline_and_dp_traffic`).

    Overlapping stacks (Megatron-Core / NeMo: non-blocking p2p, Narayanan et al. SC'21 Sec. 2.2 steady state)
    expose only the chain of one micro-batch through the p x v chunks forward and back, 2 (p v - 1) transfers.
    Blocking stacks (`Stack.p2p_synchronize`, Megatron-LM <= v3.0) expose every call: the 1F1B schedule makes
    2 (m v + p - 1) + 1 calls on its first stage (warm-up recv + send per warm-up micro-batch, two
    send-and-receive exchanges per steady-state micro-batch, recv + send per cool-down one), each waiting for its
    neighbour and synchronising the device, so a call costs its transfer plus the host calls after the sync
    (`host_time.BLOCKING_P2P_HOST_CALLS`); the critical path runs k m v + 2 (p v - 1) of them, k the stack's
    `p2p_transfers_per_micro_batch` (2; DeepSpeed's unbatched sends and receives 4, 2 at PP 2: hK, session 53).
    Stacks whose p2p overlaps only in the interleaved schedule (`Stack.p2p_overlap_needs_interleaving`) block at
    VP = 1. `hops`: (one transfer inside a domain, one across, the most crossing hops of a replica), each hop
    priced where it runs (`training.pipeline_hops`): the chain at its mean transfer, the blocking steady state's
    k m v exchanges at the slowest hop's.
    """
    steady = 0.0
    if hops is not None:
        t_in, t_out, n = hops
        transfer_s = chain_mean(pp, vpp, t_in, t_out, n)
        steady = pick(n > 0.0, t_out, t_in) - transfer_s  # (0.0 where every hop, or none, crosses)
    overlapped = 2.0 * (pp * vpp - 1.0) * transfer_s
    if not (profile.p2p_synchronize or profile.p2p_overlap_needs_interleaving):
        return overlapped
    k, calls = _blocking_calls(pp, vpp, micro_batches, profile)
    blocking = calls * (transfer_s + BLOCKING_P2P_HOST_CALLS * dispatch_s) + k * steady
    return blocking if profile.p2p_synchronize else pick(vpp == 1.0, blocking, overlapped)


def _blocking_calls(pp: Any, vpp: Any, micro_batches: Any, profile: Stack) -> tuple[Any, Any]:
    """(k m v, the steady state's transfers; k m v + 2 (p v - 1), the blocking calls on the critical path): the count
    `pipeline_p2p_time` prices and `blocking_p2p_host_s` takes the host calls of (`pipeline_p2p_time`'s docstring)."""
    k = pick(pp > 2.0, profile.p2p_transfers_per_micro_batch, 2.0) * micro_batches * vpp  # steady-state transfers
    return k, k + 2.0 * (pp * vpp - 1.0)


def blocking_p2p_host_s(pp: Any, vpp: Any, micro_batches: Any, profile: Stack, dispatch_s: float) -> Any:
    """The host calls' share of `pipeline_p2p_time` (seconds per step, arrays or one plan's floats): its blocking
    calls' `BLOCKING_P2P_HOST_CALLS` dispatches each, k m v + 2 (p v - 1) calls (as priced there); 0 where p2p
    overlaps and at p = 1 (no p2p). The step's `pp_comm` holds them; its breakdown shows them in
    `host_exposed` (`host_row.with_host_row`)."""
    synchronize = profile.p2p_synchronize
    if not (synchronize or profile.p2p_overlap_needs_interleaving):
        return 0.0
    if type(pp) is float and type(vpp) is float and (pp == 1.0 or not (synchronize or vpp == 1.0)):
        return 0.0  # (one plan that does not block)
    host = _blocking_calls(pp, vpp, micro_batches, profile)[1] * (BLOCKING_P2P_HOST_CALLS * dispatch_s)
    return pick(pp == 1.0, 0.0, host if synchronize else pick(vpp == 1.0, host, 0.0))
