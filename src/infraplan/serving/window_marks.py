"""The engines' work at two instants of a run's steady window (an open loop's arrivals, a closed loop's sends), and
the steady dynamic draw read from it.

What is modelled: nothing new in the power model (`serving.serving_metrics`: while an iteration runs an accelerator
draws idle + (TDP - idle) x 0.5 x (1 + u), u the iteration's tensor-core time over its duration, so the dynamic
energy of an engine of tp GPUs is (TDP - idle) x 0.5 x tp x (busy s + tensor-core s)). Only where that energy is
read: the whole run's dynamic joules per output token carry the ramp from an empty engine and the drain after the
last arrival, both small batches (many joules per token), and scaled by the steady served rate they read a steady
draw above TDP + host (hO57, validation/notes/product_review_tried.md: Llama 3 70B fp8 chat at 2,000 requests/s on
632 H100, 124,265 requests: 1.13 J/token dynamic, 1,341 W per GPU over a 1,275 W ceiling). The dynamic power over
the later half of the arrival window (the mid and last arrival of the run, `window_cuts`) is flat in the number of
requests (hO57's measure: 507 / 510 / 510 W per GPU at 1x / 4x / 16x the requests, the whole run's figure 691 / 558 /
522 W): it is the steady state's draw, and `serving_metrics.summarize` takes it (`WINDOW_DYNAMIC_POWER`).

How: each engine loop (`serving.fcfs_loop`, `serving.engine_loop`, `serving.lockstep_loop`) is given the two cut
times (engine clock = the run's seconds) and records its work (busy s + tensor-core s) at each, at the place it adds
an iteration's or a leapt stretch's seconds (one float compare there, `cut` inf once both are passed): the step
that straddles a cut is split pro rata of its seconds (a leapt stretch's iterations grow linearly in length: the
split is the linear share, exact at its ends); a cut that falls while the engine idles takes its work then
(`pass_cuts`), and a cut after the engine's last step its final work (`close_marks`). A step so ends no later than
the time it adds, so the work over the cuts is at most twice their span per engine and the draw at most TDP.
A closed loop's arrival window is an output of its run (its clients' cycles), not known when its engines start, so
its cuts are found as the run goes (`ClosedCuts`, hO58): each engine's own window runs from the send of its middle
request (by index, past the first wave: request k of n is client k mod N's (k div N)-th, so the middle index is sent
about halfway through) to the end of the first client's last request. Through it every client cycles, and the
start-up waves of the first sends have had half the run to dissolve (`serving.client_loop`). Why not the other
readings: "from the first time N requests are in flight" starts inside the first wave, whose N prompts run together;
"to the last send" runs past the steady state, since a client's requests are its own (request k + N follows k) and
the clients drift apart, so with chat's long-tailed outputs the first clients have run out long before the last
sends (Llama 3 8B fp8 on one H100, 64 clients, 2,000 chat requests: the tokens completed from the middle send to the
last send 3,508 tokens/s, the whole run's 3,810). Each cut is known at an engine clock no later than the cut (a send
is a request's end plus the client's round trip; a client's last end is the clock), so the engine records its work
there as above (the stepped loops take new cuts after each yield, `next_cut`; the lock-step loop as its clients
send). The engines of an aggregated closed loop run their own clients (`serving_sim.run_pool`,
`serving.wide_ep_lockstep`), so the pool's dynamic draw is the sum of each engine's work per second over its own
window (`window_rate`), and its served rate the tokens completed over the pool's window by the same rule
(`closed_window`, `steady_state.window_tokens_per_s`). A disaggregated pair's engines share their clients (a client's
request runs on a prefill engine and then a decode engine, `serving.pair_loop`), so the pair has one window, the
pool's (`closed_window`'s rule, found as the run goes: hO59), and each engine records its work at its two cuts. Its
engines step in one event loop whose engines' clocks run ahead of the global time at which a send or an end is
known, so a cut can fall inside a step an engine already ran: each loop hands `next_cut` its last iteration and the
decode stretch leapt straight before it (the only steps that can run past the time its driver resumed it, which is
no later than a cut then found), and the cut takes its pro rata share there; a client's last end is reported out
of time order, so the window's end is settled once the global time reaches the earliest one (`ClosedCuts.settle`);
and while it is still to come an engine whose arrivals are all in is held short of running to its end
(`pair_loop.SteppedEngine.held`), which also mends the aggregated loop's case (fixed lengths: the last send comes
before the first client's last end, and the engine, told every arrival was in, ran past the end's cut unmarked:
1.2e-3 over the replay at 400 requests). Not cut (the whole run's figure, said, `fallback_basis`): a closed loop
with no round trip and no lag (the engine loop's own closed loop, `simulate_engine`), and a run of no more requests
than clients (no client sends twice).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

# the steady draw and the per-token energy from the dynamic power over the later half of the arrival window (module
# docstring); False: the whole run's dynamic joules per token at the steady served rate (hO57's field as landed)
WINDOW_DYNAMIC_POWER = True

WINDOW_BASIS = ("steady_power_w_per_gpu and joules_per_token: (idle + host) W and the dynamic W over the later half of "
                "the arrival window (its mid to its last arrival: past the ramp, before the drain), over the steady "
                "served rate")
CLOSED_BASIS = ("steady_power_w_per_gpu and joules_per_token: (idle + host) W and the dynamic W over the closed loop's "
                "window (each engine's, a disaggregated pair's shared by its engines, from the middle request's send "
                "to the end of the first client's last request: past the first wave, every client cycling), over the "
                "steady served rate, the output tokens completed in that window per second")


def fallback_basis(why: str) -> str:
    """The assumption a run without window marks states (`summarize`): the whole run's dynamic joules per token."""
    return (f"steady_power_w_per_gpu and joules_per_token: (idle + host) W at the steady served rate plus the whole "
            f"run's dynamic joules per token, ramp and drain in ({why}): high where they are a large share")


def window_cuts(arrival_s: np.ndarray) -> list[float]:
    """The cut times of an open-loop run's arrivals: [the arrival window's mid, its last arrival]; empty where the
    window is empty (offline: every request at t = 0) or `WINDOW_DYNAMIC_POWER` is off."""
    if not WINDOW_DYNAMIC_POWER or len(arrival_s) < 2:
        return []
    first, last = float(np.min(arrival_s)), float(np.max(arrival_s))
    return [0.5 * (first + last), last] if last > first else []


def pass_cuts(marks: list[float], cuts: Sequence[float], clock: float, step_s: float, work: float,
              step_work: float) -> float:
    """A step of `step_s` seconds ending at `clock`, which added `step_work` to the engine's work (now `work`),
    reached the next cut: record the work at each cut up to `clock` (the step's pro rata share where the cut falls
    inside it, none where the engine idled past it before the step); returns the next cut (inf after the last)."""
    start, before = clock - step_s, work - step_work
    while len(marks) < len(cuts) and cuts[len(marks)] <= clock:
        cut = cuts[len(marks)]
        marks.append(before + (cut - start) / step_s * step_work if cut > start and step_s > 0.0 else before)
    return upcoming(marks, cuts)


def upcoming(marks: list[float], cuts: Sequence[float]) -> float:
    """The next cut with no mark yet (inf after the last): a loop's `cut`, compared with its clock."""
    return cuts[len(marks)] if len(marks) < len(cuts) else math.inf


def close_marks(marks: list[float], cuts: Sequence[float], work: float) -> tuple[float, ...] | None:
    """The engine's work at every cut, once it ended with `work` (the cuts it never reached: all of it); None for no
    cuts (the caller reads the whole run's figure)."""
    if not cuts:
        return None
    return (*marks, *[work] * (len(cuts) - len(marks)))


def summed(works: Sequence[tuple[float, ...] | None],
           weights: Sequence[float] | None = None) -> tuple[float, ...] | None:
    """The engines' (or pools') work at the cuts summed, each x its weight (GPUs per engine); None where any has
    none (or there is none)."""
    kept = [w for w in works if w is not None]
    if not kept or len(kept) < len(works):
        return None
    scale = weights if weights is not None else [1.0] * len(kept)
    return tuple(float(sum(s * w[i] for s, w in zip(scale, kept, strict=True))) for i in range(len(kept[0])))


class ClosedCuts:
    """A closed loop's two window cuts (module docstring), appended to `cuts` (a stepped engine's own list, or one
    that all the engines of a disaggregated pair share) as the run goes: the send of request
    max(clients, (n - clients) // 2) of the `n` over `clients`, then the earliest end of a client's last request
    (from then fewer than all the clients cycle). One engine's ends come in time order (`ended`); a pair's engines
    report theirs out of order (`noted`), so its driver settles the end once its global time reaches the earliest
    one noted (`settle`): no engine can report an earlier one then. None of it where the run has no later sends, no
    end comes after the middle request's send (`closed_window`'s rule), or `WINDOW_DYNAMIC_POWER` is off (`cuts`
    then holds fewer than two). While `open` (the end is still to come) a driver holds its engines' arrival bound
    short of inf (`serving.pair_loop.SteppedEngine.held`): an engine told that every arrival is in runs to its end
    without yielding, past a cut it has not been given."""

    __slots__ = ("cuts", "end", "mid", "open")

    def __init__(self, n: int, clients: int, cuts: list[float] | None = None) -> None:
        self.cuts: list[float] = [] if cuts is None else cuts
        self.open = WINDOW_DYNAMIC_POWER and n > clients > 0
        self.mid = max(clients, (n - clients) // 2) if self.open else -1
        self.end = math.inf  # the earliest end of a client's last request so far

    def sent(self, k: int, t: float) -> None:
        """Request k (>= clients) is sent at `t` (at or after the engine's clock): the first cut if it is the middle
        request."""
        if k == self.mid and self.open:
            self.cuts.append(t)

    def noted(self, t: float) -> bool:
        """A client's last request ended at `t` (at or after the driver's time); True where it is the earliest so
        far (the driver settles at `t` if none earlier comes)."""
        if self.open and t < self.end:
            self.end = t
            return True
        return False

    def settle(self) -> None:
        """No end earlier than `end` can come: the second cut, where the first is in and before it; closed."""
        if self.open:
            self.open = False
            if self.cuts and self.end > self.cuts[0]:
                self.cuts.append(self.end)

    def ended(self, t: float) -> None:
        """A client's last request ended at `t` (the engine's clock), the ends in time order: the second cut, if it
        is the first and the first cut is in."""
        self.noted(t)
        self.settle()

    def rate(self, marks: list[float], work: float) -> float | None:
        """Busy + tensor-core seconds per second over the window, once the engine ended with `work` (None: no window,
        or an empty one)."""
        cuts = self.cuts
        if len(cuts) != 2 or not cuts[1] > cuts[0]:
            return None
        w = close_marks(marks, cuts, work)
        assert w is not None
        return (w[1] - w[0]) / (cuts[1] - cuts[0])


def closed_window(sent_s: np.ndarray, finish_s: np.ndarray, clients: int) -> tuple[float, float] | None:
    """A closed loop's window over all its engines (`ClosedCuts`' rule on the pool's requests, in request order, client
    k mod `clients`): the middle request's send to the earliest end of a client's last request; None where empty."""
    n = len(sent_s)
    if not WINDOW_DYNAMIC_POWER or n <= clients or clients < 1:
        return None
    start = float(sent_s[max(clients, (n - clients) // 2)])
    end = float(np.min(finish_s[n - min(clients, n):]))  # each client's last request: the last `clients` indices
    return (start, end) if end > start else None


def next_cut(marks: list[float], cuts: Sequence[float], clock: float, work: float, step_s: float = 0.0,
             step_flop_s: float = 0.0, leap_s: float = 0.0, leap_flop_s: float = 0.0) -> float:
    """A stepped loop's next cut after a yield (its driver may have appended cuts, `ClosedCuts`); inf after the last.
    A cut at or before its clock was appended once the engine had run past it (a send or an end another engine, or
    its own last step, made known). Its driver resumed it last no later than the cut, and from there the engine ran
    its last iteration (`step_s` seconds, `step_flop_s` tensor-core, ending at `clock`), straight after a decode
    stretch that did not wait for arrivals (`leap_s`, `leap_flop_s`: its queue blocked, nothing could start; the
    loops' last stretch), or neither (idle): the cut takes the pro rata share of the one it falls in (`pass_cuts`'
    rule; none given: the work now)."""
    while len(marks) < len(cuts) and cuts[len(marks)] <= clock:
        cut, start = cuts[len(marks)], clock - step_s
        step_work = step_s + (step_flop_s if step_flop_s < step_s else step_s)
        before = work - step_work
        if cut >= start or not leap_s > 0.0:  # in the last iteration (or at its start, or idle)
            marks.append(before + (cut - start) / step_s * step_work if cut > start and step_s > 0.0 else before)
        else:  # in the stretch leapt straight before it
            leap_work, begin = leap_s + leap_flop_s, start - leap_s
            marks.append(before - leap_work + (cut - begin) / leap_s * leap_work if cut > begin else before - leap_work)
    return upcoming(marks, cuts)


def summed_rate(rates: Sequence[float | None]) -> float | None:
    """The engines' window rates summed (`ClosedCuts.rate`); None where any has none (or there is none)."""
    if not rates or any(r is None for r in rates):
        return None
    return float(sum(r for r in rates if r is not None))


def closed_basis(pools: Sequence[Any]) -> bool:
    """Whether the pools' dynamic draw is a closed loop's, each engine over its own window (`window_rate`)."""
    return bool(pools) and all(getattr(p, "window_rate", None) is not None for p in pools)


def window_dynamic_w(pools: Sequence[Any], pool_tp: Sequence[int], cuts: Sequence[float],
                     dynamic_w: float) -> float | None:
    """The pools' dynamic watts (all GPUs) over the later half of the arrival window: (TDP - idle) x 0.5 x the GPU
    work (busy + tensor-core seconds x GPUs per engine) between the cuts, over their span (a closed loop: the sum of
    its engines' work per second over their own windows, `window_rate`); None where a pool has no marks or the
    window is empty."""
    if closed_basis(pools):  # a closed loop: each engine over its own window (`ClosedCuts`)
        rate = sum(float(t) * p.window_rate for t, p in zip(pool_tp, pools, strict=True))
        return dynamic_w * 0.5 * float(rate)
    if len(cuts) != 2 or not cuts[1] > cuts[0]:
        return None
    work = summed([getattr(p, "window_work", None) for p in pools], [float(t) for t in pool_tp])
    if work is None:
        return None
    return dynamic_w * 0.5 * (work[1] - work[0]) / (cuts[1] - cuts[0])
