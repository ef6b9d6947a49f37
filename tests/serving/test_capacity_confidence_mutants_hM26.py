"""Mutation wave hM26 on `serving.capacity_confidence` (session 47, hQ51).

Twelve of seventeen hand mutants were killed by the hQ51 tests. Three survivors are equivalent (no input tells them
apart): `>=` -> `>` against 1 - confidence in `most_over`'s walk (a binomial cdf equal to 0.01 to the last bit), the
walk down in `least_over_missing` (scipy's `binom.isf(a)` is the least k with P(Bin > k) <= a, so P(Bin >= k - 1)
is never below a: the loop never runs) and its cap at n + 1 (the walk up stops at n + 1 at the latest, where
P(Bin >= n + 1) = 0). The other two change the q = 100 branch, whose answers contradict the functions' own
definitions (fixed by hX60: the test below states the rule; serve-plan's percentiles are 50, 90 and 99 only,
`capacity.SLO_PERCENTILES`, so no run reaches it today).
"""

from __future__ import annotations

from infraplan.serving.capacity_confidence import MISSED, least_over_missing, most_over, verdict


def test_the_maximum_follows_the_stated_definitions() -> None:
    """q = 100: Bin(n, 0) is 0 for sure, so P(Bin >= 1) = 0 < 0.01 (one request over shows the maximum above the
    SLO); P(Bin <= t) = 1 for every t >= 0, so no binomial bound shows a maximum met: a run with none over meets it
    (0, hX60: the definition's -1 left q = 100 unsure at any length; it was n, every request over and still met)."""
    assert most_over(1000, 100.0) == 0
    assert least_over_missing(1000, 100.0) == 1
    assert verdict(5, 1000, 100.0) == MISSED  # five over the SLO: the maximum is over it
