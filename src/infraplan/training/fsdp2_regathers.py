"""Pipelined ZeRO-3's weight all-gathers under torch's pipelining, counted as the source runs them (torchtitan; hT,
session 70).

torchtitan 0.3.0 runs ZeRO-3 with a pipeline as FSDP2 with `fsdp_reshard_after_forward = "always"`
(distributed/fsdp.py:55-74) on every stage's model part. torch 2.9.1's pipelining runs every backward of an FSDP
stage with `set_reshard_after_backward(False)` and `set_requires_gradient_sync(False)` (pipelining/stage.py:645-649)
and resharding and reduce-scattering by hand after the stage's last backward (:650-666). In FSDP2
(fsdp/_fully_shard/_fsdp_param_group.py): a unit's pre-forward and pre-backward unshard it (:431-441, :459-476),
which all-gathers unless it is unsharded already (:299-303); its post-forward reshards it (:443-447, :419-429: the
"always" policy), its post-backward does not (:488-490, `reshard_after_backward` False). So, per FSDP unit of a
stage, in the order its stage runs its micro-batches' forwards (F) and backwards (B: a full backward, or a zero-bubble
schedule's input backward I):
* an F gathers unless the unit's previous pass was a B (a steady-state forward finds it gathered);
* a B gathers where the previous pass was an F (the forward resharded it); a B after a B finds it gathered.
The step starts sharded (the last post-backward resharded it) with an F and ends with a B, so every unit gathers
m + 1 times a step, whatever the schedule; the schedule sets how many of those run in a forward (`gathering_passes`).
Schedule1F1B (pipelining/schedules.py:817-930): stage s runs min(m, p - s) warm-up forwards, then B F pairs, then the
cool-down B's: the warm-up forwards gather, and m - w + 1 backwards. Interleaved1F1B (:2304-2418) and
InterleavedZeroBubble (:2420-2560; ZB-H1 at one stage per rank) order each rank's passes by `_get_1f1b_rank_ops`
(:2167-2301: the warm-up forwards, then F-then-B pairs, then the cool-down backwards); ZBVZeroBubble (:2616-2793)
by its own V order. Other schedules (DualPipe) keep the once-each-way price (`gathering_passes`). The weight
backward W (`stage_backward_weight`) is taken to gather nothing (a linear's weight gradient reads its input and
output gradient, not its weight: ASSUMPTION, not traced through FSDP's hooks).
The rank priced is the first (rank 0): it runs the step's first forward and its last backward, and the most warm-up
forwards, whose gathers hide behind the shorter forward window.

`training.step_assembly` prices ZeRO-3's collectives once a step on such a stack (one forward gather, one backward
gather with the reduce-scatter: `zero3_edges.zero3_edge_form`), and adds here the rest: `extra_gather_s`, the
gathering forwards beyond the one at the forward window and the gathering backwards beyond the one at the backward
window, each exposed as `dp_exposure.dp_forms` prices a micro-batch's gathers (the gather less its window). The
copy-outs of the m + 1 gathers are `fsdp2_copies.piped_copy_bytes`' already (hS, session 53). Before: m + 1 gathers
priced as 2 (`Stack.zero3_pipeline_regathers` unset or the toggle off).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from infraplan.catalog.stacks import Stack
from infraplan.scalar_path import FLOAT_OPS, MathOps
from infraplan.training.enums import Schedule
from infraplan.training.plan import PlanArrays

PIPELINE_REGATHERS = True  # the toggle: False prices a regathering stack's pipelined ZeRO-3 gathers once a step

__all__ = ["PIPELINE_REGATHERS", "extra_gather_s", "gathering_passes", "rank_passes"]

_INTERLEAVED = int(Schedule.INTERLEAVED)
_ZB_H1 = int(Schedule.ZB_H1)
_ZB_V = int(Schedule.ZB_V)
_READ = frozenset((int(Schedule.ONE_F_ONE_B), _INTERLEAVED, _ZB_H1, _ZB_V))  # the schedules whose order is read


def rank_passes(schedule: int, pp: int, vpp: int, m: int, rank: int = 0) -> list[tuple[int, str]]:
    """The forwards ("F") and backwards ("B": full or input backward) rank `rank` of `pp` runs in a step, in order,
    each with its local chunk (0 .. vpp - 1), as torch 2.9.1's schedules order them (module docstring; the weight
    backwards left out): Schedule1F1B, Interleaved1F1B, InterleavedZeroBubble (zb-h1), ZBVZeroBubble; ValueError
    for another schedule code (`gathering_passes` prices those once each way)."""
    if schedule not in _READ:
        raise ValueError(f"schedule code {schedule}: no torch.distributed.pipelining order read for it")
    if schedule == _ZB_V:
        return _zbv_passes(pp, m, rank)
    if schedule in (_INTERLEAVED, _ZB_H1):
        return _looped_passes(pp, vpp, m, rank, 2 if schedule == _INTERLEAVED else 1)
    warmup = min(m, pp - rank)
    out = [(0, "F")] * warmup
    for _ in range(m - warmup):
        out += [(0, "B"), (0, "F")]
    return out + [(0, "B")] * warmup


def _looped_passes(pp: int, vpp: int, m: int, rank: int, factor: int) -> list[tuple[int, str]]:
    """`_get_1f1b_rank_ops`' order (schedules.py:2167-2301) with the warm-up of Interleaved1F1B (`factor` 2,
    :2361-2373) or InterleavedZeroBubble (1, :2486-2498)."""
    rounds = max(1, m // pp)
    per_round = max(1, m // rounds)
    ops = vpp * m
    warmup = min((vpp - 1) * per_round + factor * (pp - 1 - rank), ops)
    out: list[tuple[int, str]] = []
    for op in range(warmup + ops):
        if op < ops:  # a forward: the warm-up's, then each steady pair's first
            out.append(((op // per_round) % vpp, "F"))
        if op >= warmup:  # a backward: each steady pair's second, then the cool-down's
            out.append((vpp - 1 - ((op - warmup) // per_round) % vpp, "B"))
    return out


def _zbv_passes(pp: int, m: int, rank: int) -> list[tuple[int, str]]:
    """ScheduleZBVZeroBubble's order (schedules.py:2676-2793): chunk 0 the rank's first stage, 1 its mirrored one;
    the micro-batches it pads to 2 pp - 1 dropped."""
    n = max(2 * pp - 1, m)
    out: list[tuple[int, str, int]] = []
    f0 = f1 = b0 = b1 = 0
    for _ in range(2 * (pp - rank) - 1):
        out.append((0, "F", f0))
        f0 += 1
    for _ in range(rank):
        out += [(1, "F", f1), (0, "F", f0)]
        f0, f1 = f0 + 1, f1 + 1
    for _ in range(pp - rank):
        out += [(1, "F", f1), (1, "B", b1)]
        f1, b1 = f1 + 1, b1 + 1
    while f1 < f0 or f0 < n:
        if f0 < n:
            out.append((0, "F", f0))
            f0 += 1
        out += [(0, "B", b0), (1, "F", f1), (1, "B", b1)]
        b0, f1, b1 = b0 + 1, f1 + 1, b1 + 1
    for _ in range(rank):
        out += [(0, "B", b0), (1, "B", b1)]
        b0, b1 = b0 + 1, b1 + 1
    for _ in range(pp - rank):
        out.append((0, "B", b0))
        b0 += 1
    return [(chunk, kind) for chunk, kind, mb in out if mb < m]


@lru_cache(maxsize=4096)
def gathering_passes(schedule: int, pp: int, vpp: int, m: int) -> tuple[float, float]:
    """The first rank's FSDP all-gathers a step, as (forward, backward) passes of its layers (each chunk's gathers
    over its chunks; module docstring): forward + backward = m + 1. A schedule whose order is not read here
    (DualPipe: no torch schedule of this name; torch's DualPipeV runs through `_PipelineScheduleRuntime`, whose own
    UNSHARD / RESHARD actions, schedules.py:1032-1100, are not read): (1, 1), the once-each-way price.
    Schedule1F1B in closed form (min(m, p) warm-up forwards); the looped schedules' order built in arrays
    (`_looped_order`); ZB-V's from `rank_passes` (a search asks a few hundred of these: hT70)."""
    if schedule not in _READ:
        return 1.0, 1.0
    if schedule not in (_INTERLEAVED, _ZB_H1, _ZB_V):  # Schedule1F1B: the warm-up forwards, the rest backwards
        warmup = min(m, pp)
        return float(warmup), float(m + 1 - warmup)
    if schedule == _ZB_V:
        passes = rank_passes(schedule, pp, 2, m)
        chunks, kinds = np.array([c for c, _ in passes]), np.array([k == "B" for _, k in passes])
        vpp = 2
    else:
        chunks, kinds = _looped_order(pp, max(vpp, 1), m, 2 if schedule == _INTERLEAVED else 1)
        vpp = max(vpp, 1)
    order = np.lexsort((np.arange(len(chunks)), chunks))  # each chunk's passes in the rank's order
    backward, chunk = kinds[order], chunks[order]
    after_backward = np.r_[False, backward[:-1] & (chunk[1:] == chunk[:-1])]
    after_forward = np.r_[False, ~backward[:-1] & (chunk[1:] == chunk[:-1])]
    return (float(np.count_nonzero(~backward & ~after_backward)) / vpp,
            float(np.count_nonzero(backward & after_forward)) / vpp)


def _looped_order(pp: int, vpp: int, m: int, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """`_looped_passes`' order of rank 0 as arrays: each pass's chunk, and whether it is a backward."""
    rounds = max(1, m // pp)
    per_round = max(1, m // rounds)
    ops = vpp * m
    warmup = min((vpp - 1) * per_round + factor * (pp - 1), ops)
    forward = np.arange(ops)
    backward = np.arange(warmup, warmup + ops)
    at = np.concatenate((2 * forward, 2 * backward + 1))  # (a steady op's forward before its backward)
    chunks = np.concatenate(((forward // per_round) % vpp, vpp - 1 - ((backward - warmup) // per_round) % vpp))
    kinds = np.concatenate((np.zeros(ops, dtype=bool), np.ones(ops, dtype=bool)))
    order = np.argsort(at, kind="stable")
    return chunks[order], kinds[order]


def extra_gather_s(plan: PlanArrays, traffic: dict[str, Any], windows: tuple[Any, Any], stack: Stack,
                   ops: MathOps) -> Any:
    """Exposed seconds of a pipelined ZeRO-3 step's all-gathers beyond the one forward and one backward gather
    `step_assembly` prices (module docstring), where the stack re-gathers under its pipeline
    (`Stack.zero3_pipeline_regathers`): (forward passes - 1) x the traffic's per-micro-batch layer gathers less the
    forward window, + (backward passes - 1) x the same less the backward window (`windows`, `dp_exposure.dp_windows`);
    0 at PP = 1, below ZeRO-3 and elsewhere."""
    if not (PIPELINE_REGATHERS and stack.zero3_pipeline_regathers):
        return 0.0
    piped = (plan.pp > 1) & (plan.zero >= 3)
    if ops is FLOAT_OPS and not piped:
        return 0.0
    gather = traffic["gather_layers"]
    forward, backward = _passes(plan, piped, ops)
    extra = ((forward - 1.0) * ops.maximum(gather - windows[0], 0.0)
             + (backward - 1.0) * ops.maximum(gather - windows[1], 0.0))
    return ops.where(piped, extra, 0.0)


def _passes(plan: PlanArrays, piped: Any, ops: MathOps) -> tuple[Any, Any]:
    """`gathering_passes` of each plan (one plan's floats, or arrays in the plans' broadcast shape), (1, 1) where not
    `piped` (each distinct schedule, PP, VPP and m looked up once, as one int64 key)."""
    if ops is FLOAT_OPS:
        return gathering_passes(int(plan.schedule), int(plan.pp), int(plan.vpp), int(plan.micro_batches))
    cols = np.broadcast_arrays(*(np.asarray(c, dtype=np.int64) for c in (plan.schedule, plan.pp, plan.vpp,
                                                                          plan.micro_batches, piped)))
    forward, backward = np.ones(cols[0].shape), np.ones(cols[0].shape)
    at = np.flatnonzero(cols[4].ravel())
    if at.size == 0:
        return forward, backward
    schedule, pp, vpp, m = (c.ravel()[at] for c in cols[:4])
    keys, inverse = np.unique(((schedule * 4096 + pp) * 4096 + vpp) * 2**24 + m, return_inverse=True)
    found = np.array([gathering_passes(int(k >> 48), int((k >> 36) & 4095), int((k >> 24) & 4095),
                                       int(k & (2**24 - 1))) for k in keys.tolist()], dtype=float).reshape(-1, 2)
    forward.ravel()[at], backward.ravel()[at] = found[inverse, 0], found[inverse, 1]
    return forward, backward
