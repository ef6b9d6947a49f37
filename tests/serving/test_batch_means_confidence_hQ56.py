"""serve-plan's percentile confidence under bursty over-SLO requests: the batch-means bound (hQ56,
`serving.capacity_confidence.batch_means_bounds`, `serving.serving_metrics.counts_by_batch`).

The binomial bound (LoadGen's early stopping) assumes independent requests; over-SLO requests come in bursts (a queue
builds and many consecutive requests miss), so a run's over count varies more than a binomial's. A run cut into B
consecutive batches reads that variance from its batches; a t-interval with B - 1 degrees of freedom bounds the share.
"""

from __future__ import annotations

import contextlib
import io
import json
import math

import numpy as np
import pytest
from scipy.stats import beta

from infraplan.serving.capacity_confidence import MET, MISSED, UNSURE, batch_means_bounds, most_over, verdict
from infraplan.serving.capacity_horizon import judged_run
from infraplan.serving.serving_metrics import OVER_SLO_BATCHES, batch_starts, counts_by_batch
from infraplan.serving.workloads import Requests

N = 40_000
SEEDS = range(10)


def _binomial_half_width(over: int, n: int, confidence: float = 0.99) -> float:
    """The binomial's one-sided upper bound on the share over the SLO less the run's share: Clopper-Pearson's
    (the beta quantile), the interval whose test at the SLO's share is LoadGen's rule."""
    return float(beta.ppf(confidence, over + 1, n - over)) - over / n


def _bursts(rng: np.random.Generator, n: int, over: int, k: int) -> np.ndarray:
    """`over` requests over the SLO in runs of `k` consecutive ones, the runs at random (seeded) places."""
    flags = np.zeros(n, dtype=bool)
    for start in rng.choice(n // k, over // k, replace=False) * k:
        flags[start:start + k] = True
    return flags


def test_counts_by_batch_by_hand() -> None:
    """10 flags in 4 batches: sizes 2, 3, 2, 3 ((b x 10) // 4 = 0, 2, 5, 7); counts of each consecutive slice."""
    flags = np.array([1, 1, 0, 0, 1, 0, 0, 0, 1, 1], dtype=bool)
    assert batch_starts(10, 4).tolist() == [0, 2, 5, 7]
    assert counts_by_batch(flags, 4) == [2, 1, 0, 2]
    assert counts_by_batch(flags[:3], 4) == [1, 1, 0]  # fewer flags than batches: one a batch
    assert counts_by_batch(np.zeros(0, dtype=bool)) == []
    assert len(counts_by_batch(np.ones(12_345, dtype=bool))) == OVER_SLO_BATCHES


def test_batch_means_bounds_by_hand() -> None:
    """Two batches of 50, 1 and 3 over: shares 0.02 and 0.06, mean 0.04, sample sd 0.02 sqrt(2), standard error
    0.02; t at 0.99 with 1 degree of freedom is tan(pi (0.99 - 1/2)) = 31.82 (Cauchy's quantile)."""
    low, high = batch_means_bounds([1, 3], 100)
    t1 = math.tan(math.pi * 0.49)
    assert high == pytest.approx(0.04 + t1 * 0.02) and low == pytest.approx(0.04 - t1 * 0.02)
    assert batch_means_bounds([0, 0, 0], 300) == (0.0, 0.0)  # none over: no spread (the binomial decides)
    assert batch_means_bounds([5], 100) == (0.05, 0.05)  # one batch: nothing to read


def test_iid_misses_batch_means_agrees_with_the_binomial() -> None:
    """Independent requests 0.8 % over: the batch-means half-width over the binomial's is t(0.99, 9) / z(0.99) =
    1.21 times the batches' sample sd over the true one, whose chi-square (9 d.o.f.) 99 % range is 0.48-1.55: so
    within 0.5-2x on every seed, and the verdicts equal the binomial's alone."""
    for seed in SEEDS:
        flags = np.random.default_rng(seed).random(N) < 0.008
        over = int(flags.sum())
        ratio = (batch_means_bounds(counts_by_batch(flags), N)[1] - over / N) / _binomial_half_width(over, N)
        assert 0.5 < ratio < 2.0, (seed, ratio)
        assert verdict(over, N, 99.0, batches=counts_by_batch(flags)) == verdict(over, N, 99.0), seed


@pytest.mark.parametrize("k", [5, 20])
def test_bursts_of_k_widen_the_interval_by_about_sqrt_k(k: int) -> None:
    """240 of 40,000 over in runs of k: the count's variance is k times a binomial's (each burst moves k together),
    so the batch-means half-width is ~sqrt(k) the binomial's: 0.5-2 sqrt(k) on every seed."""
    for seed in SEEDS:
        flags = _bursts(np.random.default_rng(seed), N, 240, k)
        ratio = (batch_means_bounds(counts_by_batch(flags), N)[1] - 240 / N) / _binomial_half_width(240, N)
        assert 0.5 * math.sqrt(k) < ratio < 2.0 * math.sqrt(k), (seed, ratio)


def test_bursts_flip_met_to_unsure_where_the_same_count_spread_out_meets() -> None:
    """240 of 40,000 over (0.6 %; the binomial shows the p99 within for up to 353): in bursts of 20 the batch means
    cannot show it on most seeds; the same flags shuffled into independent places can, on every seed."""
    assert most_over(N, 99.0) == 353 and verdict(240, N, 99.0) == MET
    flipped = 0
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        flags = _bursts(rng, N, 240, 20)
        assert int(flags.sum()) == 240
        flipped += verdict(240, N, 99.0, batches=counts_by_batch(flags)) == UNSURE
        assert verdict(240, N, 99.0, batches=counts_by_batch(rng.permutation(flags))) == MET
    assert flipped >= 7, flipped  # 8 of these 10 seeds


def test_a_miss_stays_the_binomial_s() -> None:
    """A count the binomial shows above the SLO is MISSED whatever its batches (not rerun: the planner's risk is an
    accepted miss, which only the MET side guards)."""
    assert verdict(600, N, 99.0, batches=[600, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == MISSED


def _requests(n: int) -> Requests:
    return Requests(np.arange(n, dtype=float), np.full(n, 10), np.full(n, 10))


def test_judged_run_reruns_a_bursty_run_the_binomial_would_accept() -> None:
    """judged_run passes the run's batches: 24 of 4,000 over (the binomial shows the p99 within up to 25) all in one
    batch is not shown within, so the run is rerun 4x (spread there); the same count spread evenly is accepted at
    once."""
    def fake(spread: bool, calls: list[int]):  # type: ignore[no-untyped-def]
        def simulate(r: Requests) -> dict[str, object]:
            calls.append(len(r))
            over = round(0.006 * len(r))
            by = [over // 10 + (i < over % 10) for i in range(10)] if spread or len(r) > 4000 else [over] + [0] * 9
            return {"ttft_s": {"p99": 1.0}, "tpot_s": {"p99": 0.1}, "ttft_over_slo_count": over,
                    "tpot_over_slo_count": 0, "ttft_over_slo_by_batch_count": by, "tpot_over_slo_by_batch_count": None}
        return simulate

    calls: list[int] = []
    judged_run(fake(False, calls), _requests(4000), "p99", (2.0, 0.2), 99.0, (False, False), 0.0, _requests)
    assert calls == [4000, 16_000]
    calls.clear()
    judged_run(fake(True, calls), _requests(4000), "p99", (2.0, 0.2), 99.0, (False, False), 0.0, _requests)
    assert calls == [4000]


def test_a_real_run_s_batches_sum_to_its_count_and_flip_its_verdict() -> None:
    """The layout the fleet-mix example's Llama 3 70B chat (50 requests/s on H100) answered before hQ56 (16: TP1 PP4
    x 4), its own serve line: TTFT 119 of 16,384 over the 2 s SLO, which the binomial shows within (most_over 134),
    but in bursts (33 in one tenth of the run, 2 in another): the batch means do not (upper bound 1.25 %)."""
    from infraplan.cli import main

    args = ["serve", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "16", "--tp", "1", "--pp", "4", "--dtype",
            "fp8", "--kv-dtype", "fp8", "--max-batch", "256", "--token-budget", "8192", "--workload", "chat", "--rate",
            "50", "--requests", "16384", "--seed", "0", "--ttft-slo", "2", "--tpot-slo", "0.2", "--stack", "trtllm-0.x",
            "--json"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(args) == 0
    d = json.loads(out.getvalue())
    n, over, by = d["requests"], d["ttft_over_slo_count"], d["ttft_over_slo_by_batch_count"]
    assert len(by) == OVER_SLO_BATCHES and sum(by) == over and sum(d["tpot_over_slo_by_batch_count"]) == d[
        "tpot_over_slo_count"]
    assert over <= most_over(n, 99.0) and verdict(over, n, 99.0) == MET
    assert batch_means_bounds(by, n)[1] > 0.01 and verdict(over, n, 99.0, batches=by) == UNSURE


@pytest.mark.parametrize(("output_len", "batches"), [(1, 0), (16, OVER_SLO_BATCHES)])
def test_tpot_batches_count_only_requests_with_a_tpot(output_len: int, batches: int) -> None:
    """TPOT's batches cut the requests of more than one output token (as its count and the verdict's n): none where
    every output is one token (the count 0, as before), else 10; TTFT's cut every request."""
    from infraplan.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--offline", "--input-len",
                     "64", "--output-len", str(output_len), "--requests", "50", "--ttft-slo", "0.001", "--tpot-slo",
                     "0.0001", "--json"]) == 0
    d = json.loads(out.getvalue())
    assert d["ttft_over_slo_by_batch_count"] == [5] * OVER_SLO_BATCHES and d["ttft_over_slo_count"] == 50
    assert len(d["tpot_over_slo_by_batch_count"]) == batches and d["tpot_over_slo_count"] == 5 * batches
