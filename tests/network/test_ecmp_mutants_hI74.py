"""Mutation wave hI74 on `network.ecmp_collisions`: the largest-bin law's edge cases and its Poisson branch.

Each test kills a hand-made mutant that the session-73 tests let live (NOTE of hI74): the largest bin of no balls, or
of balls in one bin, is known exactly; past `EXACT_BALLS_MAX` balls the law is the product of the n bins' Poisson
counts, whose expected maximum a seeded Monte Carlo of the multinomial checks (the module docstring claims 0.02 %).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.network.ecmp_collisions import EXACT_BALLS_MAX, expected_slowest, max_load_cdf


@pytest.mark.parametrize(("balls", "bins", "largest"), [(0, 4, 0), (0, 1, 0), (5, 1, 5), (1, 7, 1)])
def test_the_largest_bin_is_certain_with_no_balls_one_bin_or_one_ball(balls: int, bins: int, largest: int) -> None:
    """No balls: every bin holds 0; one bin: it holds them all; one ball: the largest holds 1 (mutant: `bins == 1
    and balls == 0` took log(0) on 0 balls in 4 bins)."""
    m0, cdf = max_load_cdf(balls, bins)
    assert m0 == largest
    assert cdf.tolist() == pytest.approx([1.0])
    assert expected_slowest([(balls, bins, 2.0, 3)], 0.0) == pytest.approx(2.0 * largest)


@pytest.mark.parametrize(("balls", "bins"), [(2048, 16), (1500, 8)])
def test_past_the_exact_limit_the_expected_largest_bin_matches_a_seeded_multinomial(balls: int, bins: int) -> None:
    """2,048 flows on 16 links: E[max] ~ 148.4 (mean 128); the Poisson product raised to n - 1 instead of n says
    148.0 (-0.24 %), to 1,500 on 8 links 206.2 against 207.2 (-0.48 %). Monte Carlo: 40,000 seeded throws, its
    standard error ~0.02 %."""
    assert balls > EXACT_BALLS_MAX  # the branch under test
    m0, cdf = max_load_cdf(balls, bins)
    law_mean = m0 + float(np.sum(1.0 - cdf[:-1]))  # E[X] = m0 + sum over m >= m0 of P(X > m)
    assert 1.0 - cdf[-1] < 1e-9 and np.all(np.diff(cdf) >= 0.0)
    rng = np.random.default_rng(74)
    tops = rng.multinomial(balls, [1.0 / bins] * bins, size=40_000).max(axis=1)
    assert law_mean == pytest.approx(float(tops.mean()), rel=1e-3)
    assert law_mean > balls / bins * 1.1  # collisions: well above the even spread
