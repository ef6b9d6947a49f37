"""An open-loop run stopped once its requests over an SLO show its percentile missed (hS71).

serve-plan's whole runs read for their verdict alone (`replica_search.whole_runs`'s `verdict_only`, asked by `plan`
and `fleet-mix` through `capacity.search_capacity(answer_only=True)`) miss as soon as the run's count over the TTFT
or the TPOT SLO reaches `capacity_confidence.least_over_missing` of its requests: `capacity_horizon.judged_run`
breaks on a MISSED verdict without a rerun, and a shown miss or a near miss both miss; a run at the request cap,
which no longer run follows, misses once its count rules MET out (`least_over`). The engines of a pool are
independent (`serving_sim.run_pool`), so once an engine of the last pool run has run, its requests' times are final:
`MissWatch` forms their TTFT and TPOT with `serving_metrics.summarize`'s functions (`request_metrics`: the same
float operations on each request's own values), adds them to the counts so far and raises `ShownMissed` once
either count reaches its threshold. A colocated run (`colocated_times`): the schedule-ahead and receive-poll shifts
of `request_intake`, then the front end. A disaggregated one, watched over its decode pool (`disaggregated_times`):
`disaggregated.decode_first_token_s` of the prefill pool's first tokens and the decode engine's admissions, then the
front end. Then TTFT = first - arrival and TPOT = (finish - first) / max(out - 1, 1) over the requests of more than
one output token, each strictly over its SLO. The counts can only grow with the engines still to run, so the
verdict is the whole run's; nothing else of a stopped run is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from infraplan.serving import request_intake
from infraplan.serving.capacity_confidence import CONFIDENCE, least_over_missing, most_over
from infraplan.serving.disaggregated import decode_first_token_s
from infraplan.serving.request_metrics import tpot_s, ttft_s
from infraplan.serving.workloads import Requests

Index = slice | np.ndarray
# (an engine's requests, the pool's first-token and finish arrays) -> the client's first token and finish s, their
# arrival s and output tokens
Four = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Times = Callable[[Index, np.ndarray, np.ndarray], Four]


SHOWN_MISSED = (f"stopped part-way once its count over an SLO showed the percentile above it at {CONFIDENCE:.0%} "
                "confidence")  # a `rejected` line's reason (`capacity_answer.missed_lines`)


class ShownMissed(Exception):  # noqa: N818 (a verdict, not an error)
    """The run's count over an SLO already shows its percentile above the SLO (`MissWatch`)."""


@dataclass
class MissWatch:
    """Counts a run's requests over the SLOs engine by engine (`__call__`, after each engine of the pool watched)
    and raises `ShownMissed` once the TTFT count reaches `least[0]` or the TPOT count `least[1]`. `slo`: (TTFT s,
    TPOT s); `times`: `colocated_times` or `disaggregated_times`."""

    times: Times
    slo: tuple[float, float]
    least: tuple[int, int]
    over: list[int] = field(default_factory=lambda: [0, 0])  # (TTFT, TPOT) over the SLO so far

    def __call__(self, idx: Index, first: np.ndarray, finish: np.ndarray) -> None:
        """One engine's requests `idx` have their engine first-token and finish seconds in `first` / `finish`."""
        f, g, arrival, out = self.times(idx, first, finish)  # TTFT and TPOT as `summarize` (`request_metrics`)
        self.over[0] += int(np.count_nonzero(ttft_s(f, arrival) > self.slo[0]))
        self.over[1] += int(np.count_nonzero((tpot_s(f, g, out) > self.slo[1]) & (out > 1)))
        if self.over[0] >= self.least[0] or self.over[1] >= self.least[1]:
            raise ShownMissed


def colocated_times(stack: str, speculative_tokens: int, front_end_s: float, arrival_s: np.ndarray,
                    output_tokens: np.ndarray, decode_steps: np.ndarray) -> Times:
    """`MissWatch.times` of a colocated pool (`serving_sim.simulate_deployment`'s arrays, in request order)."""

    def times(idx: Index, first: np.ndarray, finish: np.ndarray) -> Four:
        steps = decode_steps[idx]
        f, g = request_intake.lagged(stack, first[idx], finish[idx], steps, speculative_tokens)
        f, g = request_intake.polled(stack, f, g, steps)
        return f + front_end_s, g + front_end_s, arrival_s[idx], output_tokens[idx]

    return times


def disaggregated_times(by_ready: np.ndarray, prefill_first_s: np.ndarray, ready_s: np.ndarray, arrival_s: np.ndarray,
                        output_tokens: np.ndarray, decode_steps: np.ndarray, pickup_iterations: float,
                        front_end_s: float) -> Times:
    """`MissWatch.times` of a disaggregated run's decode pool, whose requests are `by_ready` of the run's
    (`serving_sim.simulate_disaggregated`'s arrays, in request order; the pool's first token is its admission)."""

    def times(idx: Index, admitted: np.ndarray, done: np.ndarray) -> Four:
        own, out = by_ready[idx], output_tokens[by_ready[idx]]
        finish = np.where(out > 1, done[idx], ready_s[own])
        first = decode_first_token_s(prefill_first_s[own], ready_s[own], finish, decode_steps[own], out,
                                     pickup_iterations, admitted[idx])
        return first + front_end_s, finish + front_end_s, arrival_s[own], out

    return times


def least_over(requests: Requests, q: float, last: bool) -> tuple[int, int]:
    """`MissWatch.least` of a run of `requests` judged at percentile q, over all its requests (TTFT) and over those of
    more than one output token (TPOT), as `capacity_horizon.judged_run` counts them. A run a longer one may follow
    (`capacity_confidence.longer_run`) misses only where its count shows MISSED (`least_over_missing`: an UNSURE one
    is rerun longer); the `last` one, at the cap, misses as soon as its count rules MET out (`most_over` + 1: an
    UNSURE verdict there is a near miss). No request of the kind (n = 0): MET, never stopped (n + 1 unreachable)."""

    def least(n: int) -> int:
        return most_over(n, q) + 1 if last and n > 0 else least_over_missing(n, q)

    return least(len(requests)), least(int(np.count_nonzero(requests.output_tokens > 1)))
