"""hI64 mutation wave on hQ63's pooled judgement (`capacity_confidence.pooled_bounds`, `pooled_verdict`,
`confirming_seeds`), each test from a hand computation of the method the module cites: batch means over
independent replications (Law, "Simulation Modeling and Analysis", 5th ed., sec. 9.4: every batch of every run
is one sample; Student's t with (all batches - 1) degrees of freedom), the binomial on the summed counts, and the
seeds `serve --seed` takes (32-bit unsigned, `limits.MAX_SEED`)."""

from __future__ import annotations

import math
import statistics

import pytest
from scipy.stats import binom, t

from infraplan.limits import MAX_SEED
from infraplan.serving import capacity_confidence as cc
from infraplan.serving.capacity_confidence import MET, UNSURE


def _by_hand(runs: list[tuple[list[int], int]]) -> tuple[float, float]:
    """Each run's n split into its batches of sizes differing by at most one (the first ones the smaller:
    `serving_metrics.batch_starts`), every batch's share one sample."""
    shares = []
    for counts, n in runs:
        b = len(counts)
        sizes = [(i + 1) * n // b - i * n // b for i in range(b)]
        shares += [c / s for c, s in zip(counts, sizes, strict=True)]
    share = sum(sum(c) for c, _ in runs) / sum(n for _, n in runs)
    half = t.ppf(0.99, len(shares) - 1) * statistics.stdev(shares) / math.sqrt(len(shares))
    return share - half, share + half


def test_pooled_bounds_by_hand_over_runs_of_unequal_batches() -> None:
    """5 batches of 100 and 7 of 200: 12 samples, 11 degrees of freedom, the pooled share 13 / 1,900 (not the mean of
    the batch shares, which weighs the smaller batches more)."""
    runs = [([1, 0, 2, 1, 0], 500), ([3, 1, 0, 2, 2, 1, 0], 1400)]
    low, high = cc.pooled_bounds(runs)
    want = _by_hand(runs)
    assert (low, high) == pytest.approx(want, rel=1e-12)
    assert (low + high) / 2 == pytest.approx(13 / 1900, rel=1e-12)


def test_pooled_bounds_of_three_seeds_divide_by_thirty_batches() -> None:
    runs = [([1] * 10, 4096), ([45] + [0] * 9, 4096), ([0] * 10, 4096)]
    assert cc.pooled_bounds(runs) == pytest.approx(_by_hand(runs), rel=1e-12)


def test_one_batch_is_the_runs_share_both_ways() -> None:
    assert cc.pooled_bounds([([3], 100)]) == (0.03, 0.03)


def test_a_spread_seed_after_a_calm_one_is_not_shown_within() -> None:
    """Three runs of 4,096 at p99: 55 over of 12,288 is within the binomial's bound (by hand: scipy's binomial), but
    the second seed's 45 in one batch spreads the 30 batches' shares so that the upper bound is above 1 %: not MET,
    though the first (calm) run alone would show it."""
    runs = [([1] * 10, 4096), ([45] + [0] * 9, 4096), ([0] * 10, 4096)]
    over, n = 55, 3 * 4096
    assert binom.cdf(over, n, 0.01) < 0.01  # the binomial alone shows it
    assert _by_hand(runs)[1] > 0.01 > _by_hand(runs[:1])[1]
    assert cc.pooled_verdict([(sum(b), 4096, b) for b, _ in runs], 99.0) == UNSURE


def test_the_binomial_is_on_the_three_runs_summed_counts() -> None:
    """24, 40 and 40 over of 4,096 each, evenly: the batches' spread is narrow (the pooled upper bound below 1 %, by
    hand) and the first run alone is within the binomial's bound (at most 26 of 4,096, scipy), but 104 of 12,288 is
    not (at most 97) nor shown above it (150 would be): undecided."""
    runs = [(_even(24), 4096), (_even(40), 4096), (_even(40), 4096)]
    assert _by_hand(runs)[1] < 0.01
    assert binom.cdf(24, 4096, 0.01) < 0.01 <= binom.cdf(104, 12288, 0.01)
    assert binom.sf(103, 12288, 0.01) >= 0.01  # P(>= 104): no miss shown
    assert cc.pooled_verdict([(sum(b), n, b) for b, n in runs], 99.0) == UNSURE


def _even(over: int) -> list[int]:
    return [over // 10 + (i < over % 10) for i in range(10)]


def test_a_run_without_its_batches_leaves_the_binomial_alone() -> None:
    """The batch-means bound applies where every run has its batches (as `verdict` with batches None: LoadGen's
    binomial alone); a spread run beside one without batches is judged by the binomial on the sum."""
    spread = [40] + [0] * 9
    assert binom.cdf(45, 8192, 0.01) < 0.01
    assert _by_hand([(spread, 4096)])[1] > 0.01
    assert cc.pooled_verdict([(5, 4096, None), (40, 4096, spread)], 99.0) == MET


def test_confirming_seeds_are_the_next_ones_that_serve_takes() -> None:
    assert cc.confirming_seeds(7) == [7, 8, 9]
    assert cc.confirming_seeds(MAX_SEED) == [MAX_SEED, 0, 1]  # serve --seed: 32-bit unsigned
