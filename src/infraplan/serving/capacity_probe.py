"""A capacity probe's run that stops as soon as its verdict is certainly a miss.

`capacity_candidate.Candidate` judges an online probe (Poisson arrivals on one replica) by tests that all have to
pass: its backlog does not grow over the later half of its steady window (`keeps_up`), and the p-th percentiles
of TTFT (and TPOT) over the window meet the SLOs. A probe that misses usually misses by a queue that builds (an
overloaded replica), and the rest of its run, its drain above all, cannot turn the verdict. This module runs the
replica's engines as `serving_sim.run_pool` does (round robin, engine e gets requests e, e + E, ...), each on the
FCFS engine loop (`serving.fcfs_loop`) stepped through its arrivals a chunk at a time (`loop_stepping`: the loop
yields where it would read past the arrivals given; given the rest it goes on exactly as it would given every
arrival up front), and between chunks looks at what is already certain:
* TTFT: a request with its first token has its final TTFT ((first - arrival) + front end, the probe's float
  sum); one still without it at the engine's clock C gets it after C, so its TTFT is at least (C - arrival) +
  front end (float rounding is monotone), a miss when that exceeds the SLO. When the window's misses reach
  `needed_misses`, the percentile is above the SLO whatever the rest of the run does;
* backlog: the requests finished by a time t are all known once the engine's clock has passed t, or once it is
  idle with every arrival up to t given (a later one finishes after it arrives). So every engine is first run to
  the end of the backlog test's span, paused, the test taken on the finish counts, and the engines resumed only
  when it passes.
A probe that stops returns None: a miss, the verdict of the full run (tests/serving/test_capacity_probe.py).
Otherwise the run ends with the same first-token and finish times as `run_pool`. Exact by construction, so only
the work changes (issue 18); the general loop (on-demand KV admission where the cache binds, a prefill-first
policy) is not stepped here (its preemptions rewrite first-token times mid-run) and runs whole.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Generator

import numpy as np

from infraplan.serving.backlog_growth import BacklogSpan, backlog_grows
from infraplan.serving.fcfs_loop import fcfs_steps
from infraplan.serving.llm_iteration import Deployment, IterationCost
from infraplan.serving.loop_stepping import LEAP, Need, engine_policy, fcfs_path, fcfs_request_arrays

CHECKS_PER_ENGINE = 16  # arrival chunks per engine (a check after each)
MIN_CHUNK = 64  # requests per chunk at least (a check costs a few numpy calls)


def steppable(cost: IterationCost, dep: Deployment, scheduler: str, kv_admission: str) -> bool:
    """Whether the engines run on the FCFS loop, which this module steps: reserve_full admission, or on demand as
    `serving_engine.simulate_engine` runs it there (`run_until_miss`'s `stop_if_kv_binds`)."""
    return fcfs_path(engine_policy(cost, dep.max_batch, dep.token_budget, scheduler, kv_admission), True,
                     "reserve_full", cost)


def needed_misses(window: int, q: float) -> int:
    """Misses among `window` TTFTs that put their q-th percentile (numpy's linear interpolation) above the SLO:
    with h = (window - 1) q / 100, the value at index floor(h) - 1 of the sorted TTFTs is then a miss, one below
    the interpolation's lower neighbour (one index of margin for the rounding of h), and the percentile is at
    least that value."""
    return window - math.floor((window - 1) * q / 100.0) + 1


class _Engine:
    """One engine's loop, fed its arrivals a chunk at a time, with its window's TTFT misses counted so far."""

    def __init__(self, cost: IterationCost, dep: Deployment, blocks: int, arrival: np.ndarray, prefill: np.ndarray,
                 cached: np.ndarray, steps: np.ndarray, window: np.ndarray, backlog_end_s: float,
                 front_s: np.ndarray, stop_if_kv_binds: bool) -> None:
        self.arrival, self.window, self.front_s = arrival, window, front_s
        self.n = n = len(arrival)
        self.arr = arrival.tolist()
        # each time a C double (`serving_engine._fcfs_fields`' reason); numpy reads them in place
        self.first, self.finish = array("d", (math.nan,)) * n, array("d", (math.nan,)) * n
        self.chunk = max(MIN_CHUNK, n // CHECKS_PER_ENGINE)
        self.pause_at = int(np.searchsorted(arrival, backlog_end_s, side="right"))  # the first arrival after it
        self.given = 0
        self.arr_open: list[float] = [-math.inf]
        self.feed()
        self.loop: Generator[Need, None, object] = fcfs_steps(
            cost, self.arr, self.arr_open, *fcfs_request_arrays(prefill, cached, steps, dep.block_tokens,
                                                               cost.decode_growth_tokens, cost.draft_slots),
            dep.max_batch, dep.token_budget, blocks, 0, self.first, self.finish, None, stop_if_kv_binds)
        self.ended = False
        self.decided = self.misses = 0  # requests [0, decided) counted (in arrival order), the misses among them

    def feed(self) -> None:
        """Give the next chunk of arrivals (up to the backlog span's end first), then the bound: the next one."""
        more = min(self.given + self.chunk, self.n)
        if self.given < self.pause_at < more:
            more = self.pause_at
        self.arr_open.pop()
        self.arr_open.extend(self.arr[self.given:more])
        self.arr_open.append(self.arr[more] if more < self.n else math.inf)
        self.given = more

    def run(self, ttft_slo_s: float | None, need: int, pause: bool) -> None:
        """Step on until the end, a certain TTFT miss (`misses` >= `need`) or, with `pause`, every finish up to
        the backlog span's end known."""
        while True:
            try:
                kind, at = self.loop.send(None)
            except StopIteration:
                self.ended = True
                if ttft_slo_s is not None:
                    self.count(math.inf, ttft_slo_s)
                return
            if kind != LEAP:  # `at` is the engine's clock; it is past every arrival given before the bound
                if ttft_slo_s is not None:
                    self.count(at, ttft_slo_s)
                    if self.misses >= need:
                        return
                if pause and self.given >= self.pause_at:  # the bound (the next arrival) is past the span's end:
                    return  # TOP, the clock is past it; idle, all given have ended and the rest arrive after it
            self.feed()

    def count(self, clock_s: float, slo_s: float) -> None:
        """Advance over the requests whose TTFT verdict is known at `clock_s` (in arrival order, up to the first
        one not yet known), counting the window's misses among them."""
        lo, hi = self.decided, self.given
        if lo >= hi:
            return
        f = np.array(self.first[lo:hi], dtype=np.float64)
        a = self.arrival[lo:hi]
        started = ~np.isnan(f)
        front = self.front_s[lo:hi]
        late = np.where(started, (f - a) + front > slo_s, (clock_s - a) + front > slo_s)
        open_ = np.flatnonzero(~(started | late))
        upto = int(open_[0]) if open_.size else hi - lo
        self.misses += int(np.count_nonzero(late[:upto] & self.window[lo:lo + upto]))
        self.decided = lo + upto


def run_until_miss(cost: IterationCost, dep: Deployment, blocks: int, arrival: np.ndarray, prefill: np.ndarray,
                   cached: np.ndarray, steps: np.ndarray, engines: int, window: np.ndarray,
                   front_end_s: float | np.ndarray,
                   ttft_slo_s: float | None, q: float,
                   backlog: BacklogSpan | None,
                   stop_if_kv_binds: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
    """`run_pool`'s first-token and finish times of the (arrival-sorted) requests on `engines` FCFS engines
    (`steppable`), or None once the q-th percentile of TTFT over the requests of the `window` mask certainly
    exceeds `ttft_slo_s` (None: not judged on TTFT) or the backlog grows over `backlog`'s span
    (`backlog_growth.backlog_grows`; None: no backlog test), the probe then a miss (module docstring).

    `stop_if_kv_binds` (on-demand KV admission): raises `fcfs_setup.KvBinds` where an admission finds too few free
    blocks, the caller then runs the pool whole. Up to there the loop is the on-demand engine's (`KvBinds`: same
    admissions, no preemption), so a miss found before it stands (a later preemption only delays first tokens: its
    request keeps its first one, or a prompt restarts after the clock), and a run that never binds is that run."""
    n = len(arrival)
    need = needed_misses(int(np.count_nonzero(window)), q)
    end_s = backlog.end_s if backlog is not None else math.inf
    front = np.broadcast_to(np.asarray(front_end_s, dtype=np.float64), (n,))  # per request (a prefill pool's hand-off)
    runs = [_Engine(cost, dep, blocks, arrival[idx], prefill[idx], cached[idx], steps[idx], window[idx], end_s,
                    front[idx], stop_if_kv_binds)
            for idx in (np.arange(e, n, engines) for e in range(engines)) if idx.size]
    for pause in ((True, False) if backlog is not None else (False,)):
        for run in runs:
            if not run.ended:
                run.run(ttft_slo_s, need - sum(r.misses for r in runs) + run.misses, pause)
            if sum(r.misses for r in runs) >= need:
                return None
        if pause and backlog is not None:  # every finish up to the span's end is known (NaN: not finished)
            if backlog_grows(arrival, np.concatenate([np.array(r.finish[:r.given]) for r in runs]), backlog):
                return None
            for run in runs:
                if not run.ended:
                    run.feed()  # on from the pause
    first_s, finish_s = np.full(n, np.nan), np.full(n, np.nan)
    for e, run in enumerate(runs):
        idx = np.arange(e, n, engines)
        first_s[idx], finish_s[idx] = run.first, run.finish
    return first_s, finish_s
