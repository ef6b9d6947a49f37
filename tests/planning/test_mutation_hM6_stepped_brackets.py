"""Mutation wave 6 (hM6): the stepped prices (`planning.sized_pricing`, hW4): `tier_brackets` gives the MAXIMAL
server ranges of one tier count (its docstring: "within which `tiers_at` is constant", covering 1..servers_max),
and `with_brackets` lets a column take at most one bracket (sum z <= 1)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from infraplan.planning.sized_pricing import Bracket, tier_brackets, with_brackets


def _runs(tiers: list[int]) -> list[tuple[int, int]]:
    """The maximal runs of equal values in tiers[0..] (server 1 first), by hand: a new run where the value changes."""
    out: list[tuple[int, int]] = []
    for n, t in enumerate(tiers, start=1):
        if out and tiers[out[-1][0] - 1] == t:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


@pytest.mark.parametrize("servers_max", range(1, 20))
def test_tier_brackets_are_the_maximal_runs_of_one_tier_count(servers_max: int) -> None:
    for edges in itertools.combinations(range(2, 21), 2):  # a tier added at each edge (non-decreasing)
        def tiers_at(n: int, edges: tuple[int, ...] = edges) -> int:
            return 1 + sum(n >= e for e in edges)

        want = _runs([tiers_at(n) for n in range(1, servers_max + 1)])
        assert tier_brackets(tiers_at, servers_max) == want
    assert tier_brackets(lambda n: 1, servers_max) == [(1, servers_max)]


def test_a_column_takes_one_bracket_at_most() -> None:
    """min cost(n), n >= 5: brackets 1-3 servers at -50 + 10 n and 4-6 at n (a secant's fixed term may be below 0
    where the cost grows faster than linearly). In one bracket: 5 servers in the second, cost 5; two brackets at
    once (1 + 4 = 5 servers) would cost -50 + 10 + 4 = -36, not a price any size has."""
    brackets = [Bracket(1, 3, -50.0, 10.0), Bracket(4, 6, 0.0, 1.0)]
    c, a, lb, ub, vlb, vub, integrality = with_brackets(np.array([99.0]), np.array([[1.0]]), np.array([5.0]),
                                                        np.array([np.inf]), np.zeros(1), np.array([6.0]),
                                                        {0: brackets})
    res = milp(c, constraints=LinearConstraint(a, lb, ub), integrality=integrality, bounds=Bounds(vlb, vub))
    assert res.status == 0 and round(res.x[0]) == 5 and res.fun == pytest.approx(5.0)
