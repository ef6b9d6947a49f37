"""`capacity_confidence.batch_means_bounds` on batches of unequal size (hM70 mutation wave: dividing every batch's
count by n / B instead of its own size survived every test, since the tests' runs split evenly).

`serving_metrics.batch_starts` cuts n items into B consecutive batches whose sizes differ by at most one: 11 requests
in 10 batches start at floor(11 i / 10) = 0, 1, ..., 9, so nine batches of 1 and a last one of 2. A batch's share
over the SLO is its count over its own size (the method of batch means, Law, "Simulation Modeling and Analysis",
5th ed., ch. 9: the mean of each batch), by hand for counts 0 x 9 and 2: shares 0 x 9 and 1.0, mean 0.1, sample
variance (9 x 0.1^2 + 0.9^2) / 9 = 0.1; the bounds are the run's share 2 / 11 -/+ t(0.99, 9) sqrt(0.1 / 10).
"""

from __future__ import annotations

import math

import pytest
from scipy.stats import t as student_t

from infraplan.serving.capacity_confidence import batch_means_bounds
from infraplan.serving.serving_metrics import batch_starts


def test_eleven_requests_in_ten_batches_by_hand():
    assert batch_starts(11, 10).tolist() == list(range(10))  # nine batches of 1, the last of 2
    low, high = batch_means_bounds([0] * 9 + [2], 11)
    half = float(student_t.ppf(0.99, 9)) * math.sqrt(0.1 / 10)
    assert half == pytest.approx(0.2821, abs=1e-4)  # t(0.99, 9) = 2.821 (a printed t table)
    assert (low, high) == pytest.approx((2 / 11 - half, 2 / 11 + half), rel=1e-12)


def test_a_count_in_the_last_batch_is_over_two_requests():
    """One over in the ninth batch (size 1) and one in the last (size 2): shares 0 x 8, 1.0, 0.5; mean 0.15, sample
    variance (8 x 0.15^2 + 0.85^2 + 0.35^2) / 9 by hand."""
    _, high = batch_means_bounds([0] * 8 + [1, 1], 11)
    variance = (8 * 0.15**2 + 0.85**2 + 0.35**2) / 9
    assert high == pytest.approx(2 / 11 + float(student_t.ppf(0.99, 9)) * math.sqrt(variance / 10), rel=1e-12)
