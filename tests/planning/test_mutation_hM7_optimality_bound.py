"""Mutation wave 7 (hM7, session 37): the optimality bound's pieces and loop (planning/sized_pricing.py
`lower_pieces`, `bound_brackets`, `close_gap`, `too_many_counts`) and scenario_bound.py's exact costs per server
count, each asserted by hand from the docstrings; every test fails on a one-line mutant the earlier tests let
through (validation/notes/test_suite_cost_tried.md, "hM7 (session 37)")."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import infraplan.planning.scenario_bound as scenario_bound
from infraplan.planning import sized_pricing
from infraplan.planning.sized_pricing import Bracket, bound_brackets, close_gap, lower_pieces, too_many_counts

VALUES = np.array([10.0, 30.0, 20.0, 40.0])  # exact costs at 1..4 servers (hW5's hand case: not monotone)


def test_pieces_max_is_the_number_of_lines_allowed() -> None:
    """Two lines allowed: the secant 10 n - 10 is 10 above the cost at 3 (1 % tolerance), so it splits once."""
    assert lower_pieces(1, 4, VALUES, pieces_max=2) == [Bracket(1, 3, 5.0, 5.0), Bracket(3, 4, -40.0, 20.0)]


def test_an_exact_count_at_a_brackets_first_server_is_its_own_bracket() -> None:
    """exact = [1] (the range's lo): 1 at its cost 10 / 1; 2..4 below lines: the secant (2, 30)-(4, 40) is 15
    above the cost 20 at 3, so it splits there: (2, 30)-(3, 20) is 50 - 10 n, (3, 20)-(4, 40) is 20 n - 40."""
    got = bound_brackets([(1, 4)], VALUES, exact=[1])
    assert got == [Bracket(1, 1, 0.0, 10.0), Bracket(2, 3, 50.0, -10.0), Bracket(3, 4, -40.0, 20.0)]
    for b in got:
        for n in range(b.lo, b.hi + 1):
            assert b.fixed + b.per_server * n <= VALUES[n - 1]


def _run(bounds: list[tuple[float, list[tuple[int, int]]]], answer_cost: float = 40.0,
         **kwargs: Any) -> sized_pricing.Optimality:
    """close_gap on a scripted bound: solve i returns answer i, bound i and the counts it chose (the last repeats);
    no bound answer is admissible (cost_of None), so the answer stays."""
    calls = [0]

    def solve(exact: dict[int, set[int]]) -> tuple[int, float, list[tuple[int, int]]]:
        i = min(calls[0], len(bounds) - 1)
        calls[0] += 1
        return i, *bounds[i]

    best, cost, opt = close_gap(-1, answer_cost, solve, lambda x: None, {0: {4}}, **kwargs)
    assert (best, cost) == (-1, answer_cost)
    return opt


def test_the_lower_bound_is_the_largest_any_solve_proved() -> None:
    """30 then 25 (a later solve's dual bound below an earlier one): LB stays 30, the gap (40 - 30) / 40."""
    opt = _run([(30.0, [(0, 2)]), (25.0, [(0, 2)])])
    assert (opt.lower_bound, opt.gap_fraction, opt.solves) == (30.0, 0.25, 2)
    assert opt.text.startswith("within 25 % of the optimum: the lower bound from 2 MILP solves")


def test_a_count_of_zero_servers_is_not_refined_and_one_solve_is_singular() -> None:
    opt = _run([(30.0, [(0, 0)])])
    assert opt.solves == 1
    assert opt.text == ("within 25 % of the optimum: the lower bound from 1 MILP solve of every pool's cost bounded "
                        "below by lines (every count the bound chose is priced exactly)")


def test_the_budget_is_eight_solves() -> None:
    opt = _run([(30.0, [(0, n)]) for n in range(5, 30)])
    assert opt.solves == 8 == sized_pricing.BOUND_SOLVES and "the bound's budget of 8 solves ended" in opt.text


def test_optimal_only_within_highs_relative_gap() -> None:
    """A gap of 1e-4 (LB 39.996 on 40) is reported as one, not as optimal (the text says within 1e-6)."""
    opt = _run([(39.996, [(0, 2)])], tolerance=1e-9)
    assert opt.text.startswith("within 0.01 % of the optimum")
    assert _run([(40.0, [(0, 2)])]).text.startswith("optimal")


def test_the_count_limit_is_inclusive() -> None:
    limit = sized_pricing.BOUND_COUNTS_MAX
    assert too_many_counts(limit, 1.0) is None
    refused = too_many_counts(limit + 1, 1.0)
    assert refused is not None and refused.lower_bound is None and f"{limit + 1:,} here" in refused.text


@pytest.mark.parametrize(("costs", "want"), [
    # servers: 1    2    3    4    5    6
    ((None, 7.0, 6.0, 9.0, 8.0, 5.0, 4.0), [6.0, 6.0, 5.0, 4.0]),  # f(2) < f(3): the base at its own servers
    ((None, 7.0, 9.0, 3.0, 8.0, 5.0, 4.0), [9.0, 3.0, 5.0, 4.0]),  # f(3) < f(2): all base nodes used, a spare over
])
def test_exact_costs_per_server_count_by_hand(monkeypatch: pytest.MonkeyPatch, costs: tuple[Any, ...],
                                              want: list[float]) -> None:
    """One pool of 8-device servers, 16 installed (a base of 2 whole servers), most 30 devices (4
    servers); spare nodes 0, 1, 1, 2, 2 for 0..4 nodes; f(s) the figure packed at s servers. E(n) = f(n + spares(n))
    (1: f(2), 3: f(5), 4: f(6)); at the base, min over nodes k = 0..2 of f(max(k + spares(k), 2)) = min(f(2), f(3))."""
    monkeypatch.setattr(scenario_bound, "node_devices", lambda pool: 8)
    monkeypatch.setattr(scenario_bound, "spare_nodes_by_count",
                        lambda spec, pool, top: np.array([0, 1, 1, 2, 2])[:top + 1])

    def packed(spec: Any, pool: Any, devices: int) -> Any:
        assert devices % 8 == 0
        return SimpleNamespace(tco=costs[devices // 8])

    monkeypatch.setattr(scenario_bound, "packed", packed)
    spec = SimpleNamespace(pools=[SimpleNamespace(installed=16)])  # 17 .. 23 too: the odd ones are not servers
    got = scenario_bound.exact_costs(spec, "tco", [30])  # type: ignore[arg-type]
    assert [v.tolist() for v in got] == [want]
