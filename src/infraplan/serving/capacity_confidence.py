"""Whether a whole run's percentile meets its SLO with stated confidence, or needs a longer run (hQ51).

A p-th percentile read from n requests is a sample: the count t of requests over the SLO is, for independent
requests, Binomial(n, 1 - p / 100) where the percentile sits exactly at the SLO. So a run shows its percentile
within the SLO at confidence c only when so few are over that a percentile at the SLO would give that few with
probability below 1 - c: P(Bin(n, 1 - p) <= t) < 1 - c, the rank form of the quantile's upper confidence bound
(X_(u) <= SLO; David & Nagaraja, "Order Statistics", 3rd ed., sec. 7.1). This is MLPerf LoadGen's early stopping
for a Server run's p99 (mlcommons-loadgen 5.1.2 results.cc:149-158, early_stopping.cc, confidence 0.99 at
results.cc:157; `validation.loadgen.early_stopping_max_over` is this function, applied to the MLPerf rows one layer
up). Symmetrically the run shows a miss when so many are over that a percentile at the SLO would give that many
with probability below 1 - c: P(Bin(n, 1 - p) >= t) < 1 - c. Between the two the run cannot tell: serve-plan runs
it RUN_LONGER times longer (the interval's width in shares falls as 1 / sqrt(n)), up to the horizon's cap, and an
answer still undecided there is not shown to meet (a near miss, retried grown: `replica_search.grown`).

Measured (hQ51), README's code-completion answer (Llama 3 70B, 80 requests/s, 68 H100: TP4, 15 prefill + 2 decode,
TTFT SLO 0.25 s): over its 17,408-request whole run 159 requests over the TTFT SLO (p99 0.2472 s; the point estimate
meets: at most 174 may be over), at 4x 1,083 of 69,632 (p99 0.2593 s), at 16x 3,385 of 278,528 (p99 0.2540 s): the
answer's p99 is above its SLO, and its first run could not have shown it within (at 0.99 at most 143 of 17,408 may
be over for that). The requests' exceedances are not independent: a burst of the gamma (cv 2) arrivals sends
several requests over together. Batch means of the over-counts (32 batches in arrival order) read the count's
variance 2.0x (1x), 25.8x (4x) and 4.9x (16x) the binomial's, so the binomial interval is narrower than the true
one (LoadGen's ASSUMPTION: independent requests).

So (hQ56) a whole run's percentile is shown within its SLO only where the batch-means bound shows it too: the run
cut into B consecutive batches by arrival (`serving_metrics.counts_by_batch`, B = OVER_SLO_BATCHES = 10), each
batch's share of requests over the SLO, and the run's share + Student's t(confidence, B - 1) x the batch shares'
standard deviation / sqrt(B) below 1 - q / 100 (the method of batch means: Schmeiser, "Batch size effects in the
analysis of simulation output", Operations Research 30 (1982); Law, "Simulation Modeling and Analysis", 5th ed., ch.
9; the batch count: `serving_metrics.OVER_SLO_BATCHES`). The verdict's upper bound is the higher of the two; a miss
stays the binomial's (shown above the SLO, not rerun: a planner's risk is a miss accepted, which the upper bound
guards). ASSUMPTION: the batches' shares are about independent and normal (batches long against the exceedances'
correlation; measured: on README code completion's 72-H100 run the variance ratio still rose from 20 to 10 batches,
5.0 to 8.3). With independent requests the two bounds agree within 0.5-2x (t(0.99, 9) / z(0.99) = 1.21 times the
batches' sample error); with over-SLO requests in runs of k the batch-means half-width is ~sqrt(k) the binomial's
(tests/serving/test_batch_means_confidence_hQ56.py). Measured: the fleet-mix example's Llama 3 70B chat (50
requests/s on H100) had answered 16 (TP1 PP4 x 4) on 16,384 requests, TTFT 119 over (134 allowed by the binomial),
batches 6, 3, 33, 13, 21, 4, 9, 14, 14, 2: upper bound 1.25 %, not shown; rerun to the 400,000 cap still not shown
(TPOT 3,556 over, 0.89 %), it is a near miss and the answer 18 (TP1 PP2 x 9, met over 18,432).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

import numpy as np
from scipy.stats import binom
from scipy.stats import t as student_t

from infraplan.serving.serving_metrics import batch_starts

# The confidence a whole run's percentile is judged at: MLPerf LoadGen's early-stopping confidence (results.cc:157,
# `validation.loadgen.EARLY_STOPPING_CONFIDENCE`), one-sided each way.
CONFIDENCE = 0.99
# An undecided run is rerun this many times longer (ASSUMPTION: halves the interval's width in shares each time;
# README code completion: 17,408 -> 69,632 requests decides it).
RUN_LONGER = 4

MET, MISSED, UNSURE = "met", "missed", "unsure"


@cache
def most_over(n: int, q: float, confidence: float = CONFIDENCE) -> int:
    """The most of `n` requests that may be over the SLO for the q-th percentile to be within it at `confidence`:
    the largest t with P(Bin(n, 1 - q / 100) <= t) < 1 - confidence (-1: even none over would not show it)."""
    share = 1.0 - q / 100.0
    if n <= 0 or share <= 0.0:  # q = 100, the maximum: none over (a run's maximum is the one there is)
        return -1 if n <= 0 else 0
    t = int(binom.ppf(1.0 - confidence, n, share))  # the least t with cdf(t) >= 1 - confidence
    while t >= 0 and binom.cdf(t, n, share) >= 1.0 - confidence:
        t -= 1
    return t


@cache
def least_over_missing(n: int, q: float, confidence: float = CONFIDENCE) -> int:
    """The fewest of `n` requests over the SLO that show the q-th percentile above it at `confidence`: the least t
    with P(Bin(n, 1 - q / 100) >= t) < 1 - confidence (n + 1: no count shows it)."""
    share = 1.0 - q / 100.0
    if n <= 0 or share <= 0.0:  # q = 100: one over shows the maximum above the SLO
        return n + 1 if n <= 0 else 1
    t = int(binom.isf(1.0 - confidence, n, share))  # about the least t with P(Bin > t) <= 1 - confidence
    while t > 0 and binom.sf(t - 2, n, share) < 1.0 - confidence:  # P(Bin >= t - 1) = sf(t - 2)
        t -= 1
    while binom.sf(t - 1, n, share) >= 1.0 - confidence:  # P(Bin >= t) = sf(t - 1)
        t += 1
    return min(t, n + 1)


@cache
def _t_quantile(confidence: float, df: int) -> float:
    return float(student_t.ppf(confidence, df))


def batch_means_bounds(counts: Sequence[int], n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The one-sided `confidence` bounds (low, high), each way, on the share of `n` requests over the SLO from its
    counts in consecutive batches by arrival (`serving_metrics.counts_by_batch`): the run's share -/+ Student's t
    with B - 1 degrees of freedom times the standard error of the batches' shares' mean (module docstring; fewer
    than two batches: the run's share both ways, nothing to read)."""
    c = np.asarray(counts, dtype=np.float64)
    share = float(c.sum()) / n
    if c.size < 2:
        return share, share
    shares = c / np.diff(np.append(batch_starts(n, c.size), n))
    half = _t_quantile(confidence, c.size - 1) * float(shares.std(ddof=1)) / math.sqrt(c.size)
    return share - half, share + half


def verdict(over: int | None, n: int, q: float, confidence: float = CONFIDENCE,
            batches: Sequence[int] | None = None) -> str:
    """MET, MISSED or UNSURE: whether `over` of `n` requests over the SLO show the q-th percentile within it, above
    it, or neither, at `confidence` (module docstring; None: no SLO counted, MET; n = 0: no request has the metric,
    MET: a TPOT where every output is one token, hR53: it was UNSURE at any length, the run grown to the cap and
    answered a miss). `batches`: the same count in consecutive batches by arrival: MET must then hold on the
    batch-means upper bound too (`batch_means_bounds`: the higher of the two upper bounds; None: the binomial alone,
    as LoadGen); MISSED is the binomial's (a miss it shows is not rerun: module docstring)."""
    if over is None or n <= 0:
        return MET
    if over <= most_over(n, q, confidence) and not (batches and q < 100.0 and
                                                     batch_means_bounds(batches, n, confidence)[1] > 1.0 - q / 100.0):
        return MET
    if over >= least_over_missing(n, q, confidence):
        return MISSED
    return UNSURE


def longer_run(n: int, cap: int) -> int | None:
    """The requests an undecided run of `n` is rerun with: RUN_LONGER x n, at most `cap` (None: already at it)."""
    return min(RUN_LONGER * n, cap) if n < cap else None
