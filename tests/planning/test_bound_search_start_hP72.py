"""hP (session 72): the bound's search first tries to prove the loops' answer optimal from that answer.

planning/scenario_bound.py `bound_plan` solves the bounding programme once with the pricing loops' answer handed to
HiGHS as its first incumbent (`phased_mix.solve_phased_bound(start=...)`, planning/milp_start.py): the answer is
feasible there and, its counts priced exactly, costs what it costs, so HiGHS only has to prove that no bound answer
is cheaper (benchmarks/scenario_plan.py's plan: 1,168 -> 511 branch-and-bound nodes). Where that proves the answer
optimal the search ends there; else the search runs as before, from no start (a start steers HiGHS to the answer's
own assignment among equal bound optima: rs1-13 kept the loops' $3,256,150 where the search finds $3,249,425).
At 43c70ec4 no start was handed over (`start` None in every bound solve): the first test fails there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.planning.test_one_answer_hP71 import RS1_13, RS1_14, _planned

from infraplan.planning import milp_start, phased_mix, scenario_bound


def _spied(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, bool]]:
    """Every bound solve's (start handed to HiGHS, whether that start is feasible in its programme)."""
    seen: list[tuple[Any, bool]] = []
    real_bound, real_from = scenario_bound.solve_phased_bound, phased_mix.solve_from
    inside: list[bool] = []

    def bound(*a: Any, **k: Any) -> Any:
        inside.append(True)
        try:
            return real_bound(*a, **k)
        finally:
            inside.pop()

    def solve_from(c: Any, a: Any, lb: Any, ub: Any, vlb: Any, vub: Any, integrality: Any, start: Any = None,
                   more: Any = None) -> Any:
        if inside:
            ok = start is not None and milp_start.feasible(a, lb, ub, vlb, vub, integrality, start)
            seen.append((None if start is None else float(np.dot(c, start)), ok))
        return real_from(c, a, lb, ub, vlb, vub, integrality, start, more)

    monkeypatch.setattr(scenario_bound, "solve_phased_bound", bound)
    monkeypatch.setattr(phased_mix, "solve_from", solve_from)
    return seen


# hR70's refresh sweep, seed 7, draw 1: H100 refreshed by H200 beside A100, TCO, N+1 racks (33 server counts)
HR7_1 = ([{"name": "p0", "device": "h100-sxm", "site": "ohio", "lifetime_years": 3, "refresh_with": "h200",
           "installed": 128, "installed_year": 2024},
          {"name": "p1", "device": "a100-80gb", "site": "ohio", "lifetime_years": 10}], "300M",
         {"2027": 2, "2029": 0.5, "2031": 1}, "10MW", {"objective": "tco", "redundancy_racks": 1})


def test_an_optimal_answer_is_proven_in_one_solve_from_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loops' answer is optimal here: the one bound solve is handed it (feasible, costing its objective in the
    bounding programme) and proves it; no second solve."""
    seen = _spied(monkeypatch)
    plain = _planned(HR7_1, False)
    assert len(seen) == 1 and seen[0][1], seen  # 43c70ec4: [(None, False)]
    assert seen[0][0] == pytest.approx(plain.objective_value, rel=1e-9)
    monkeypatch.undo()
    gap = _planned(HR7_1, True)
    assert gap.objective_value == plain.objective_value and gap.optimality_solves == 1
    assert gap.optimality.startswith("optimal") and gap.optimality_gap_fraction <= 1e-6


@pytest.mark.parametrize("case", [RS1_13, RS1_14], ids=["rs1-13 tco A100 + B200", "rs1-14 power N+2"])
def test_a_cheaper_answer_is_searched_from_no_start(monkeypatch: pytest.MonkeyPatch, case: Any) -> None:
    """Where the answer is not proven optimal from itself, the search runs from no start and finds the cheaper one
    (test_one_answer_hP71's values)."""
    seen = _spied(monkeypatch)
    plan = _planned(case, False)
    assert seen[0][1] and all(c is None for c, _ in seen[1:]) and len(seen) >= 2, seen
    assert "the lower bound's search found a cheaper assignment" in plan.pricing
    assert plan.objective_value < seen[0][0] * (1 - 1e-6)  # the loops' answer (the first start) was beaten
