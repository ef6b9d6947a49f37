"""Mutation wave on `planning.pools_alone` (hI, session 71): the contract its docstrings state, on stand-in
programmes (no MILP), so each test runs in milliseconds. The mutant ids are hI71's NOTE's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from infraplan.errors import InputError
from infraplan.planning.phased_mix import MixOption
from infraplan.planning.pools_alone import alone_text, cheapest_priced, pools_alone


def test_cheapest_priced_keeps_the_first_of_equals_and_prices_each_assignment_once() -> None:
    """hI71 PA2 / PA13: a tie keeps the first candidate (the loops' answer, which `plan` lists first), and each
    distinct assignment is priced once, at its own cost."""
    a, b, c = np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([1.0, 1.0])
    priced: list[bytes] = []

    def cost(y: np.ndarray) -> float:
        priced.append(y.tobytes())
        return float({a.tobytes(): 5.0, b.tobytes(): 5.0, c.tobytes(): 3.0}[y.tobytes()])

    assert cheapest_priced([a, b, a.copy()], cost)[0] == 0
    assert priced == [a.tobytes(), b.tobytes()]
    best, chosen = cheapest_priced([a, c, b], cost)
    assert best == 1 and chosen is not None and chosen.tolist() == [1.0, 1.0]


def _options() -> list[MixOption]:
    # two services in one phase: pool 0 serves both, pool 1 serves service 0 only, pool 2 serves both
    rows = [(0, 0), (1, 0), (0, 1), (0, 2), (1, 2)]
    return [MixOption(service=s, pool=p, phase=0, capacity=1.0, unit_devices=8, whole=True) for s, p in rows]


def test_only_pools_with_an_option_for_every_demand_are_solved_alone() -> None:
    """hI71 PA4 / PA5 / PA6 / PA9: each pool alone is solved where it has an option for every (service, phase)
    with demand, on its own options (as columns of all of them); a pool that serves only some demand is not solved
    (the MILP could not serve the rest), and a service without demand asks nothing of a pool."""
    options = _options()
    spec: Any = SimpleNamespace(pools=[object(), object(), object()])
    asked: list[list[int]] = []

    def solve(sub: list[MixOption], at: Any) -> np.ndarray:
        asked.append(sorted({o.pool for o in sub}))
        return np.ones(len(sub))

    got = pools_alone(spec, options, np.array([[1.0], [2.0]]), solve, lambda x: (1,), lambda x, s: 1.0, (1,))
    assert asked == [[0], [2]]
    assert [g.tolist() for g in got] == [[1.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 1.0]]
    asked.clear()  # service 1 without demand: pool 1 serves every demand there is
    pools_alone(spec, options, np.array([[1.0], [0.0]]), solve, lambda x: (1,), lambda x, s: 1.0, (1,))
    assert asked == [[0], [1], [2]]


def test_a_pool_that_cannot_serve_alone_is_left_out() -> None:
    """hI71 PA7: a pool alone that its programme refuses (InputError: a cap, a date) gives no candidate, and the
    others' still count: the plan does not fail for it."""
    options = _options()
    spec: Any = SimpleNamespace(pools=[object(), object(), object()])

    def solve(sub: list[MixOption], at: Any) -> np.ndarray:
        if sub[0].pool == 0:
            raise InputError("pool 0 alone exceeds its available devices")
        return np.ones(len(sub))

    got = pools_alone(spec, options, np.array([[1.0], [2.0]]), solve, lambda x: (1,), lambda x, s: 1.0, (1,))
    assert [g.tolist() for g in got] == [[0.0, 0.0, 0.0, 1.0, 1.0]]


def test_the_pricing_clause_counts_solves_and_says_which_plan_is_kept() -> None:
    """hI71 PA10 / PA11: the clause names the solves in words ("1 MILP solve", "2 MILP solves"), says nothing
    without any, and says a pool alone's plan is kept only where one is."""
    assert alone_text(0, False) == ""
    assert alone_text(1, False) == "; then each pool alone, priced the same way: 1 MILP solve"
    assert alone_text(2, False).endswith(": 2 MILP solves")
    assert "costs less" in alone_text(2, True) and "costs less" not in alone_text(2, False)
