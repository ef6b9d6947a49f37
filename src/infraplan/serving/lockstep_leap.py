"""The ranks of a lock-step replica (`serving.lockstep_loop`): each rank's loop state, and a pure-decode stretch leapt.

What is modelled (SGLang's DP attention, sglang 0.5.6.post2 `managers/scheduler_dp_attn_mixin.py`
`prepare_mlp_sync_batch_raw`: the ranks all-gather their batches before each forward, so every iteration of every rank
starts together and ends when the slowest rank's ends): `Rank` is one rank's engine-loop state, the locals of
`serving.engine_loop.engine_steps` of the same names (its queue, prompts being prefilled, decode batch as a count, a
cached-token sum and a finish heap, its KV pool, its scheduler). `leap_ranks` is the engine loop's closed-form
pure-decode leap lock-stepped: while no rank prefills and no arrival could start, each rank's decode iteration k
lasts a + kv (C + n g k) (`IterationCost`: its batch's first iteration and its growth per iteration,
`loop_stepping.cost_tables`), the replica's iteration the largest of them, so the stretch's seconds are the cumulative
sum of the ranks' maximum (numpy, over only the ranks that can be the slowest: none with both a shorter first iteration
and a slower growth). The caller bounds it by the first completion on any rank and, under SGLang's output reserve, the
iteration after which a rank's head is let in (`OutputReserve.leap_cap`); it stops before the iteration in which an
arrival that could start lands and before an on-demand rank runs out of blocks (`loop_stepping.on_demand_stretch`). With
shared routed experts (`lockstep_loop.SHARED_EXPERTS`) a rank's iteration has its routed-expert GEMMs at the ranks' mean
decode count, under its host floor (`loop_stepping.decode_floor`; `serving.lockstep_loop` module docstring).
`ranks_work`: their busy + tensor-core seconds (`serving.window_marks`).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from infraplan.serving.loop_stepping import NEVER, on_demand_stretch


class Rank:
    """One rank's engine-loop state (`engine_loop.engine_steps`' locals of the same names)."""

    __slots__ = ("arrivals", "waiting", "prefill", "heap", "n_dec", "running", "sum_ctx", "steps_done", "free",
                 "grow", "order", "policy", "busy", "compute", "iterations")

    def __init__(self, policy: Any, blocks: int, block_tokens: int) -> None:
        self.arrivals: list[tuple[float, int]] = []  # heap of (arrival s, request) not yet given to the rank
        self.waiting: deque[int] = deque()
        self.prefill: deque[list[int]] = deque()  # [request, tokens left, tokens done]
        self.heap: list[int] = [NEVER]  # finish keys: decode-iteration count x requests + request
        self.n_dec = self.running = self.steps_done = self.iterations = 0
        self.sum_ctx: float = 0
        self.free = blocks
        self.grow = [0] * block_tokens  # on demand: decoding sequences per block residue
        self.order: list[int] = []  # on demand: admissions, oldest first (lazily cleaned)
        self.policy = policy
        self.busy = self.compute = 0.0


def ranks_work(rs: list[Rank]) -> float:
    """The ranks' work so far, busy + tensor-core seconds (`serving.window_marks`)."""
    return sum(r.busy + r.compute for r in rs)


def leap_ranks(busy: list[Rank], rs: list[Rank], clock: float, n: int, kv_c: float, decode_s: list[float],
               decode_flop_s: list[float], growth_s: list[float], adv: float, head_of_line: bool,
               on_demand: bool, routed: list[float], ranks: int,
               floors: list[tuple[float, float]], k_max: int) -> tuple[float, int]:
    """Advance every busy rank (all decoding, none prefilling) over the pure-decode iterations before the next event
    (`engine_steps`' leap, lock-stepped: module docstring), at most `k_max` (before the first completion, and the
    iteration after which a rank's output reserve lets its head in); returns the stretch's seconds and iterations."""
    if k_max <= 0:
        return 0.0, 0
    first_s = np.array([decode_s[r.n_dec] + kv_c * r.sum_ctx for r in busy])  # each rank's first iteration
    if routed:  # its routed experts run on the mean of the ranks' tokens
        shift = routed[round(sum(r.n_dec for r in busy) / ranks)] - np.array([routed[r.n_dec] for r in busy])
        gap, floor = (np.array(x) for x in zip(*(floors[r.n_dec] for r in busy), strict=True))
        floor = np.where(floor > 0.0, floor + kv_c * np.array([r.sum_ctx for r in busy]), 0.0)
        if np.any(floor > 0.0):  # a step's host floor stays: the experts change the GPU's time under it
            first_s = np.maximum(first_s - gap + shift, floor)
        else:
            first_s += shift
    slope_s = np.array([growth_s[r.n_dec] for r in busy])  # and its growth per iteration
    cut = min((r.arrivals[0][0] for r in rs if r.arrivals and (not r.waiting or not head_of_line)), default=None)
    if cut is not None:  # no iteration is shorter than the longest first one: a bound on those before the arrival
        k_max = min(k_max, int((cut - clock) / float(first_s.max())) + 1)
    # the ranks that can be the slowest: none with both a shorter first iteration and a slower growth
    order = np.lexsort((-slope_s, -first_s))
    keep = order[np.concatenate(([True], slope_s[order][1:] > np.maximum.accumulate(slope_s[order])[:-1]))]
    ends = np.cumsum(np.max(first_s[keep, None] + slope_s[keep, None] * np.arange(k_max)[None, :], axis=0))
    if cut is not None:  # stop before the iteration in which an arrival that could start lands
        k_max = min(k_max, int(np.searchsorted(ends, cut - clock, side="left")))
    if on_demand and k_max > 0:  # stop before the first iteration whose new blocks do not fit a rank
        k_max = min(k_max, *(on_demand_stretch(r.grow, r.steps_done, r.free, r.n_dec, k_max)[0] for r in busy))
    if k_max <= 0:
        return 0.0, 0
    span = float(ends[k_max - 1])
    for r in busy:
        if on_demand:
            r.free -= on_demand_stretch(r.grow, r.steps_done, r.free, r.n_dec, k_max)[1]
        r.busy += span
        r.compute += k_max * decode_flop_s[r.n_dec]
        r.sum_ctx += r.n_dec * k_max * adv
        r.steps_done += k_max
        if r.policy.reserve is not None:
            r.policy.reserve.decays += k_max
    return span, k_max * len(busy)
