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

A variance read from one run is that run's: a run whose arrivals happen to hold no large burst shows a narrow
spread, and the bound passes it (hL63: `serve-plan llama3-70b --system h100-sxm --rate 20 --workload chat --ttft-slo
2s --tpot-slo 0.1s` answered 8 H100, TP2 3 prefill + 1 decode, on 4,096 requests at seed 0: 4 over the TTFT SLO,
batches 0, 0, 1, 2, 0, 0, 0, 0, 0, 1; the same deployment at seeds 1 / 2 / 4: 78 / 19 / 60 over, TTFT p99 2.46 /
1.83 / 2.15 s, and at seed 0 over 32,768 requests p99 2.03 s). No statistic of the calm run can show the bursts it
lacks; independent replications can (the method of independent replications: Law, "Simulation Modeling and
Analysis", 5th ed., sec. 9.4). So (hQ63) a whole run shown within both SLOs is confirmed: the same deployment is run
on CONFIRM_SEEDS - 1 more seeds (`confirming_seeds`: seed + 1, seed + 2, each drawing its own lengths and arrivals),
as many requests each, and the runs are judged together (`pooled_verdict`): the binomial on their summed counts and
the batch-means bound over all their batches (B = 10 a run, 3 x 10 - 1 degrees of freedom), the spread between
the seeds' runs in the batches' variance; each one-sided at CONFIDENCE (0.99). Undecided, the runs are rerun
RUN_LONGER x longer as before (one seed, then confirmed again). Seeds 0-2 of that 8-H100 answer: 101 of 12,288 over
(0.82 %, at most 97 may be for the binomial); rerun longer up to 400,000 requests a seed it stays undecided (TTFT
p99 1.99 s at seed 0) and serve-plan, given --max-gpus 16, answers 10 (5 colocated TP2 replicas, batch 256), TTFT p99
0.81-0.89 s at seeds 0-4 (tests/serving/test_confirm_seeds_hQ63.py); at the preset's 8 no layout is shown within.
ASSUMPTION: 3 seeds (a CPU bound: a met answer's whole run costs 3x; of seeds 0, 1, 2, 4, 5 of that answer only seed
0's run was shown within alone, seed 2's undecided, the rest missed). Since hA64 the warm-up check
(`capacity_horizon.later_misses`) holds in every run judged (`capacity_horizon.judged_run`); each percentile's ratio
to its SLO stays the first run's (a confirming seed's own percentile is judged through the pooled counts: hA64's
worst-run ratios were reverted, session 64); the serve metrics shown stay the first seed's, the one `serve_command`
reruns, each seed's percentiles beside them (`full_run_percentile_s`).
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

# A whole run shown within its SLOs is confirmed on this many independent runs in all, seeds `confirming_seeds`, judged
# together (`pooled_verdict`, hQ63; ASSUMPTION: 3, measured on serve-plan's chat at 20 requests/s on H100, module
# docstring).
CONFIRM_SEEDS = 3

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
    return pooled_bounds([(counts, n)], confidence)


def pooled_bounds(runs: Sequence[tuple[Sequence[int], int]], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """`batch_means_bounds` over independent runs judged together (hQ63: each (its counts by batch, its n), the
    runs of independent seeds): every run's batches are batches of one sample, so the spread between the seeds'
    runs is in their shares' variance; the pooled share -/+ Student's t with (all batches - 1) degrees of freedom
    times the standard error of the batch shares' mean."""
    shares = np.concatenate([np.asarray(c, dtype=np.float64) / np.diff(np.append(batch_starts(n, len(c)), n))
                             for c, n in runs if len(c)] or [np.zeros(0)])
    share = sum(float(np.sum(c)) for c, _ in runs) / sum(n for _, n in runs)
    if shares.size < 2:
        return share, share
    half = _t_quantile(confidence, shares.size - 1) * float(shares.std(ddof=1)) / math.sqrt(shares.size)
    return share - half, share + half


def verdict(over: int | None, n: int, q: float, confidence: float = CONFIDENCE,
            batches: Sequence[int] | None = None) -> str:
    """MET, MISSED or UNSURE: whether `over` of `n` requests over the SLO show the q-th percentile within it, above
    it, or neither, at `confidence` (module docstring; None: no SLO counted, MET; n = 0: no request has the metric,
    MET: a TPOT where every output is one token, hR53: it was UNSURE at any length, the run grown to the cap and
    answered a miss). `batches`: the same count in consecutive batches by arrival: MET must then hold on the
    batch-means upper bound too (`batch_means_bounds`: the higher of the two upper bounds; None: the binomial alone,
    as LoadGen); MISSED is the binomial's (a miss it shows is not rerun: module docstring)."""
    return pooled_verdict([(over, n, batches)], q, confidence)


def pooled_verdict(runs: Sequence[tuple[int | None, int, Sequence[int] | None]], q: float,
                   confidence: float = CONFIDENCE) -> str:
    """`verdict` of independent runs judged together (hQ63; each (over, n, batches) as `verdict` takes them, the
    runs of independent seeds): the binomial on their summed counts and, where every run has its batches, the
    batch-means bound over all their batches (`pooled_bounds`). One run: `verdict`'s."""
    if any(over is None for over, _, _ in runs):
        return MET
    over, n = sum(int(o or 0) for o, _, _ in runs), sum(m for _, m, _ in runs)
    if n <= 0:
        return MET
    batched = [(b, m) for _, m, b in runs if b and m > 0]
    if over <= most_over(n, q, confidence) and not (len(batched) == len(runs) and q < 100.0 and
                                                     pooled_bounds(batched, confidence)[1] > 1.0 - q / 100.0):
        return MET
    if over >= least_over_missing(n, q, confidence):
        return MISSED
    return UNSURE


def confirming_seeds(seed: int) -> list[int]:
    """The seeds of a whole run's independent replications (`CONFIRM_SEEDS` in all, the first `seed`, the rest the
    next ones, modulo 2^32: `serve --seed` takes each), so that serve-plan's verdict is the workload's and not one
    draw's (module docstring, hQ63)."""
    return [(seed + i) % 2**32 for i in range(CONFIRM_SEEDS)]


def longer_run(n: int, cap: int) -> int | None:
    """The requests an undecided run of `n` is rerun with: RUN_LONGER x n, at most `cap` (None: already at it)."""
    return min(RUN_LONGER * n, cap) if n < cap else None
