"""The 100th percentile (the maximum) is within the SLO when no request is over it and above it when one is (hX60,
after hR55 and hM26): `capacity_confidence.most_over` answered n (every request over and the maximum still met)
and `least_over_missing` n + 1 (no count shows a miss). No confidence bound tests a maximum: a run's maximum is the
one there is (unreachable from serve-plan today, whose percentiles are 50, 90 and 99)."""

from __future__ import annotations

import pytest

from infraplan.serving.capacity_confidence import MET, MISSED, least_over_missing, most_over, verdict


@pytest.mark.parametrize("n", [1, 20, 1000])
def test_the_maximum_is_met_with_none_over_and_missed_with_one(n: int) -> None:
    assert most_over(n, 100.0) == 0 and least_over_missing(n, 100.0) == 1
    assert verdict(0, n, 100.0) == MET and verdict(1, n, 100.0) == MISSED and verdict(n, n, 100.0) == MISSED
    assert most_over(n, 99.0) <= most_over(n, 90.0)  # a higher percentile lets no more requests over
