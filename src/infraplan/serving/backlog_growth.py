"""Does a capacity probe's backlog grow? The overload test of serve-plan's replica probes (`keeps_up`).

An online probe (`capacity_candidate.Candidate`, Poisson arrivals on one replica) counts the requests in the system
(arrived, not finished) at the first and the last arrival of its steady window's later half: an overloaded replica's
count grows linearly, by (offered - served rate) x the seconds. A stable one's count swings as well. While the
replica runs every request at once (fewer than `held` in the system: `Candidate.runs_at_once`, engines x the batch
cap or, fewer, the sequences an engine's KV blocks hold at the probe's lengths, `capacity_decode.kv_batch`; beyond
the KV's count requests wait for blocks, a queue) it serves them all together, an infinite-server queue: its count
is Poisson (Ross, "Introduction to Probability Models", 10th ed., sec. 5.3.5, the M/G/infinity queue), and the
growth between two times is the arrivals in between still there at the end less those there at the start that left,
two independent Poisson counts (the same section's splitting of a Poisson process): a difference with variance at
most the two counts' means (Skellam). So the growth has to pass two bounds to read as an overload:
* BACKLOG_SHARE of the half's arrivals (ASSUMPTION, 10 %: above the growth seen in stable probes still settling,
  DeepSeek-V3 wide EP8 on H200 with 2,000-token outputs: +6.5 % decode-only near capacity, +8.9 % colocated with
  lock-step prefill waves; below a plain overload, +34 % at twice the sustainable rate);
* below `held` at both counts, also BACKLOG_Z standard deviations of that difference, sqrt(first + last count): a
  normal tail of 0.13 % for a Poisson count. A batched engine's iterations slow as its batch grows, so its count
  swings more than Poisson (measured below: its variance 1.7x its mean at 6 requests/s, 2.6x at 12) and the rate
  measured is higher. At or above `held` a queue forms (an overload's always does) and the share decides alone. A
  prefill pool queues its prompts through one token budget below `held` too: the bound is looser there, and its
  TTFT percentile, which that queue raises directly, judges it as well.

Measured (hK71; Mixtral 8x7B fp8 TP1 batch 256 on one H100, 1,000 / 500 tokens, 1,024-request probes, 200 seeds a
rate; 8,000-request runs put its capacity between 13 and 14 requests/s): stable at 6 / 9 / 12 / 13 / 13.5
requests/s the share alone flagged 3.5 / 12.5 / 17.5 / 22 / 21.5 % of the probes, the rule 0.5 / 1 / 3.5 / 12 / 19 %
(near capacity one count reaches `held` and the share decides); overloaded at 14 / 16 / 18 requests/s (utilisation
bound 0.76 / 0.87 / 0.97) the share flagged 23 / 89 / 100 %, the rule 22.5 / 89 / 100 %. Llama 3 8B fp8 batch 64
on one H200 (1,000 / 200, 400-request probes, 100 seeds): stable at 20 / 30 requests/s 13 / 31 % -> 3 / 25 %;
overloaded at 40 / 50 / 60 requests/s 92 / 98 / 100 % both. An M/M/infinity queue at 6 requests/s (12.5 s or 30 s
lives, 200 seeds, tests/serving/test_backlog_growth_hK71.py): 2 / 21 flagged -> none. An overload that passes here
is left to the percentiles, the decode utilisation bound (`capacity_decode.decode_utilisation`: above 1, a miss
before any run) and the winner's whole run (`capacity_horizon`). Before hK71 the share alone decided, and a stable
probe's swing (Mixtral at 6 requests/s on 1 H100, ~75 requests in the system: 61 -> 88, +27 against 25.6 allowed)
made `serve-plan` answer 2 H100 at 6 requests/s and 1 at 12 (hS71). Measured where the KV cache binds (hR80,
hK81; Llama 3 70B fp8 TP1 batch 256 on one H100, 1,000 / 500 tokens: 2,620 blocks hold 27 requests, 6,000-request
runs serve at most ~1.40 requests/s; 1,024-request probes, 100 seeds a rate): with `held` the batch cap, stable at
1.0 / 1.2 / 1.3 requests/s 0 / 0 / 1 % flagged, overloaded at 1.5 / 1.7 only 9 / 33 % (a queue of ~100 waiting for
blocks, read as Poisson swing below 256); with the KV's 27, 0 / 0 / 1 % and 25 / 92 % (1.4, at capacity: 3 -> 8 %).

`capacity_probe.run_until_miss` takes the same test at its pause: every finish up to the span's end is known
there, and the counts read no later time, so its verdict is this one's on the whole run.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

BACKLOG_SHARE = 0.10  # module docstring (ASSUMPTION)
BACKLOG_Z = 3.0  # standard deviations of a Poisson difference the growth must pass below `held` (module docstring)


class BacklogSpan(NamedTuple):
    """What `keeps_up` judges: the later half's first and last arrival (the growth's span), the arrivals in that
    half and the requests the replica holds at once (0: not known, the share decides alone)."""

    start_s: float
    end_s: float
    arrivals: int
    held: int

    @property
    def share_allowed(self) -> float:
        """The growth the share bound allows: BACKLOG_SHARE of the later half's arrivals."""
        return BACKLOG_SHARE * self.arrivals


def backlog_span(arrival_s: np.ndarray, steady: np.ndarray, held: int = 0) -> BacklogSpan | None:
    """`keeps_up`'s span over the steady window's later half on a replica holding `held` requests at once; None when
    there is none (fewer than two requests in it, or no time between them: an offline burst)."""
    later = steady[len(steady) // 2:]
    if len(later) < 2:
        return None
    start, end = float(arrival_s[later[0]]), float(arrival_s[later[-1]])
    if end <= start:
        return None
    return BacklogSpan(start, end, len(later), held)


def in_system(arrival_sorted: np.ndarray, finish_sorted: np.ndarray, t_s: np.ndarray) -> np.ndarray:
    """Requests arrived and not finished at each time (both arrays ascending; a NaN finish, not yet known, sorts
    last and counts as not finished)."""
    return (np.searchsorted(arrival_sorted, t_s, side="right")
            - np.searchsorted(finish_sorted, t_s, side="right")).astype(np.float64)


def backlog_grows(arrival_s: np.ndarray, finish_s: np.ndarray, span: BacklogSpan) -> bool:
    """Whether the requests in the system grow over `span` beyond both bounds (module docstring). `finish_s` may
    hold NaN for requests whose finish is not known yet; every finish up to `span.end_s` must be there."""
    first, last = in_system(np.sort(arrival_s), np.sort(finish_s), np.array([span.start_s, span.end_s]))
    growth = float(last - first)
    if growth <= span.share_allowed:
        return False
    if max(first, last) >= span.held:  # a queue (or `held` not known): the share decides
        return True
    return growth > BACKLOG_Z * math.sqrt(first + last)


def keeps_up(arrival_s: np.ndarray, finish_s: np.ndarray, steady: np.ndarray, held: int = 0) -> bool:
    """Whether a replica holding `held` requests at once (0: not known) completes requests about as fast as they
    arrive: the requests in the system over the later half of the steady window do not grow beyond the bounds
    (module docstring). A probe too short for an overload's queue to push the percentiles past the SLO (long
    outputs amortise a wait over many tokens) still shows it here; a window with no span passes (the percentiles
    and the whole run judge it)."""
    span = backlog_span(arrival_s, steady, held)
    return span is None or not backlog_grows(arrival_s, finish_s, span)
