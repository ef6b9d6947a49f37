"""hK (session 69): `plan` keeps the cheapest assignment it priced, not its loops' last answers.

hB69 found three capex-under-retirement plans that kept a dearer answer than one they priced or could price
(planning/scenario.py compared the two fixed points' final answers only; the one-pool plan no price led to): a
3-phase no-base N+k scenario kept $13,378,774.5 with $13,273,756 priced, hV55's fleet with spares 0.99 + N+k 1 kept
$10,742,388.5 with $10,520,570 priced, and the 4-phase no-base N+k scenario answered $14,129,548.6 where the H100 pool
alone plans at $13,273,756. `sized_pricing.sized_fixed_point` also kept a fixed point dearer than a solution it had
visited on the way.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.planning import test_purchase_bound_repassed_hB69 as hb69

from infraplan.planning.scenario import plan_scenario
from infraplan.planning.sized_pricing import sized_fixed_point

H100, B200, BASE, NO_BASE_NK = hb69.H100, hb69.B200, hb69.BASE, hb69.NO_BASE_NK
CASES = [
    # 3 phases, no base, N+k 1, spares 0.99: base kept the purchases' loop answer, $13,378,774.5
    pytest.param(lambda: hb69._spec([H100, B200], years=(2025, 2027, 2029), growth={"2027": 2, "2029": 3},
                                    spare_probability=0.99, redundancy_racks=1), 13273756.0, "an earlier solve",
                 id="3-phase-no-base-n+k"),
    # hV55's growing fleet with spares 0.99 + N+k 1: base $10,742,388.5 (hB72: $10,520,570.0 until the purchase
    # bound's assignment, cheaper, became the answer)
    pytest.param(lambda: hb69._spec([BASE, B200], spare_probability=0.99, redundancy_racks=1), 10009588.5,
                 "an earlier solve", id="grows-spares-n+k"),
    # 4 phases, no base, N+k 1, spares 0.99: base $14,129,548.6; the H100 pool alone is the plan
    pytest.param(lambda: hb69._spec([H100, B200], **NO_BASE_NK), 13273756.0, "one pool alone", id="no-base-n+k"),
]


@pytest.mark.parametrize(("spec", "answer", "said"), CASES)
def test_the_plan_keeps_the_cheapest_priced_answer(spec: Any, answer: float, said: str) -> None:
    """The answer is the cheapest priced, its report is the kept assignment's (capex_usd = the objective), and the
    sentence says which answer was kept and that no fixed point was reached."""
    plan = plan_scenario(spec())
    assert plan.objective_value == pytest.approx(answer, abs=1.0)
    assert plan.capex_usd == pytest.approx(plan.objective_value, rel=1e-12)
    assert said in plan.pricing and plan.pricing_converged is False and "no fixed point" in plan.pricing


@pytest.mark.parametrize(("spec", "answer", "said"), CASES[::2])
def test_no_assignment_priced_costs_less_than_the_answer(monkeypatch: pytest.MonkeyPatch, spec: Any, answer: float,
                                                         said: str) -> None:
    """Every assignment the plan priced (both loops', the bound's candidates), spending what its report spends,
    costs at least the answer; the lower bound stays below the kept answer."""
    s = spec()
    _, priced = hb69._answers(monkeypatch, s)
    monkeypatch.undo()
    plan = plan_scenario(s, optimality_gap=True)
    spends = [hb69._spend(s, u, True) for u in priced]
    assert min(spends) == pytest.approx(plan.objective_value, abs=1.0)
    assert plan.objective_lower_bound is not None and plan.objective_value is not None
    assert plan.objective_lower_bound <= plan.objective_value
    assert plan.optimality_gap_fraction == pytest.approx(1 - plan.objective_lower_bound / plan.objective_value,
                                                         abs=1e-9)


def test_a_fixed_point_dearer_than_a_visited_solution_is_not_kept() -> None:
    """Solve 1 (sizes 1, cost 5) leads to solve 2 (sizes 2, cost 9), whose sizes repeat: a fixed point, dearer
    than solve 1's answer at its own prices. The cheaper one is kept and the sentence says the loop settled dearer."""
    own = {"a": 1, "b": 2}
    fixed = sized_fixed_point(0, lambda at: "a" if at == 0 else "b", own.__getitem__,
                              lambda s, at: {"a": 5.0, "b": 9.0}[s], "ref")
    assert fixed is not None and fixed.solution == "a" and fixed.at == 1 and fixed.rounds == 3
    assert not fixed.converged and "settled at solve 3, dearer than solve 1's" in fixed.pricing
    tie = sized_fixed_point(0, lambda at: "a" if at == 0 else "b", own.__getitem__, lambda s, at: 5.0, "ref")
    assert tie is not None and tie.solution == "b" and tie.converged  # on a tie the fixed point itself
