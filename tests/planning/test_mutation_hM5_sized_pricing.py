"""Mutation wave 5 (hM5): `planning.sized_pricing.sized_fixed_point` on toy programmes, by its docstring: solve at
the reference sizes, re-price at each solution's own sizes, stop when they repeat (converged), come back (a cycle:
the visited solution that costs least at its own sizes) or after `rounds_max` solves; None if the first solve is
infeasible."""

from __future__ import annotations

from infraplan.planning.sized_pricing import PRICING_ROUNDS, sized_fixed_point


def test_a_first_solution_priced_at_its_own_sizes_has_converged_in_one_solve() -> None:
    fixed = sized_fixed_point(0, lambda at: "s", lambda s: 0, lambda s, at: 1.0, "the reference")
    assert fixed is not None and fixed.converged and fixed.rounds == 1 and fixed.solution == "s"
    assert fixed.pricing == ("each pool priced at its own size (the cost model for its device count, the reference "
                             "first): 1 MILP solve, converged: every pool is priced at the whole servers it bought")


def test_a_cycle_back_to_the_reference_keeps_the_cheaper_visited_solution() -> None:
    # reference 0 -> solution "a" (own size 5, costs 3 there) -> solution "b" (own size 0, the reference: costs 7)
    solutions = {0: "a", 5: "b"}
    own = {"a": 5, "b": 0}
    cost = {"a": 3.0, "b": 7.0}
    calls: list[int] = []

    def solve(at: int) -> str:
        calls.append(at)
        return solutions[at]

    fixed = sized_fixed_point(0, solve, own.__getitem__, lambda s, at: cost[s], "ref")
    assert fixed is not None and not fixed.converged
    assert calls == [0, 5] and fixed.rounds == 2  # the reference came back: a cycle after two solves
    assert (fixed.solution, fixed.at) == ("a", 5)  # the cheaper at its own sizes, priced at them
    assert "no fixed point in 2 solves (a cycle)" in fixed.pricing


def test_sizes_that_never_repeat_stop_at_the_bound() -> None:
    calls: list[int] = []

    def solve(at: int) -> int:
        calls.append(at)
        return at + 1

    fixed = sized_fixed_point(0, solve, lambda s: s, lambda s, at: float(-s), "ref")
    assert fixed is not None and fixed.rounds == PRICING_ROUNDS == len(calls) == 8
    assert fixed.solution == 8  # the cheapest visited (costs -1 .. -8)
    assert "no fixed point in 8 solves (the bound)" in fixed.pricing
    three = sized_fixed_point(0, solve, lambda s: s, lambda s, at: 0.0, "ref", rounds_max=3)
    assert three is not None and three.rounds == 3


def test_an_infeasible_first_solve_is_none() -> None:
    assert sized_fixed_point(0, lambda at: None, lambda s: 0, lambda s, at: 0.0, "ref") is None
