"""hB72: the capex purchase bound (planning/purchase_bound.py) with each pool's IT under its lower hull
(planning/purchase_windows.py `IT_HULL`) behind the bound's safety net (planning/milp_start.py `sound`), and the
bound's own assignment as the answer where it costs less (`purchase_bound.ADOPT`).

- hR70's sweep, seed 7 draw 54 (A100 pools, N+k 1): 1.27 % -> 0 (the bound is the answer's spend).
- hB69's no-base N+k case: with the hull HiGHS's default seed returns 13,378,774.5 "optimal", above the answer's
  13,273,756 (no gap claimed); the net's re-solve (seed 1) proves the answer optimal.
- hB71's capex sweep, seed 71 draw 43 (A100 on a 10-year life, GB200 on 4): the loops' answer 48,054,325.5 USD
  (11.4 %); the bound's assignment spends 45,774,370, within the caps: it is the answer, with and without
  `--optimality-gap` (4.76 %). hR70's seed 8 draw 43 (A100 refreshed by A100): 6,949,429.5 -> 6,609,895.5, the
  bound: proven optimal (5.84 % before).
Checked failing on the lead's HEAD (43c70ec4): all 6 (the ADOPT-off one by the missing toggle).
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.planning.test_purchase_bound_dips_hB71 import DRAW_54, _draw, _gap
from tests.planning.test_purchase_bound_repassed_hB69 import B200, H100, NO_BASE_NK, _spec

from infraplan.errors import InputError
from infraplan.planning import milp_start, purchase_bound, purchase_windows
from infraplan.planning.scenario import plan_scenario

DRAW_43_C71 = ([{"name": "p0", "device": "a100-80gb", "site": "ohio", "lifetime_years": 10, "installed": 64,
                 "installed_year": 2024},
                {"name": "p1", "device": "gb200", "site": "ohio", "lifetime_years": 4, "from_year": 2025}],
               "5G", {"2027": 0.5, "2029": 0.5, "2031": 3}, "50MW", {"redundancy_racks": 1})
DRAW_43_S8 = ([{"name": "p0", "device": "a100-80gb", "site": "ohio", "lifetime_years": 4,
                "refresh_with": "a100-80gb", "installed": 16, "installed_year": 2024}],
              "300M", {"2027": 1, "2029": 3, "2031": 1}, "50MW", {"redundancy_racks": 1})


def test_draw_54_is_proven_optimal_with_the_hull(monkeypatch: pytest.MonkeyPatch) -> None:
    answer, bound, gap = _gap(_draw(DRAW_54))
    assert answer == pytest.approx(5191695.5, abs=0.01)
    assert gap < 1e-6 and bound == pytest.approx(answer, rel=1e-9)  # base: 1.27 %
    monkeypatch.setattr(purchase_windows, "IT_HULL", False)
    assert _gap(_draw(DRAW_54))[2] > 0.012


def test_the_hull_needs_the_net_or_the_tolerance_on_the_no_base_case(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec([H100, B200], **NO_BASE_NK)
    answer, bound, gap = _gap(spec)
    assert answer == pytest.approx(13273756.0, abs=0.01)
    assert gap < 1e-6  # base: 1.55 %
    monkeypatch.setattr(milp_start, "sound", lambda res, prog, ceiling=0.0: res)  # the net off
    plan = plan_scenario(spec, optimality_gap=True)  # hK72: milp_start.BOUND_OPTIONS alone proves it
    assert plan.optimality_gap_fraction is not None and plan.optimality_gap_fraction < 1e-6
    monkeypatch.setattr(milp_start, "BOUND_OPTIONS", {})  # and HiGHS's default tolerance
    plan = plan_scenario(spec, optimality_gap=True)
    if plan.optimality_gap_fraction is not None:
        pytest.skip("this HiGHS solves the hull's programme right: nothing for the net to catch")
    assert plan.objective_lower_bound == pytest.approx(13378774.5, rel=1e-9)  # above the answer
    assert plan.optimality is not None and plan.optimality.startswith("no proven optimality gap")


def _c71_43() -> Any:
    return _draw(DRAW_43_C71)


def test_the_bound_s_cheaper_assignment_is_the_answer() -> None:
    plan = plan_scenario(_c71_43(), optimality_gap=True)
    assert plan.objective_value == pytest.approx(45774370.0, abs=0.01)  # base: 48,054,325.5
    assert plan.optimality_gap_fraction is not None and plan.optimality_gap_fraction < 0.048  # base: 0.114
    assert plan.objective_lower_bound is not None and plan.objective_lower_bound <= plan.objective_value
    assert "the lower bound's assignment costs less" in (plan.pricing or "")
    plain = plan_scenario(_c71_43())  # one answer, with and without the gap
    assert plain.objective_value == plan.objective_value
    assert plain.capex_usd == plan.capex_usd
    gb200 = [r for r in plain.pools if r.pool == "p1" and r.phase == "2025"]
    assert gb200 and gb200[0].devices > 0  # the GB200 bought in 2025 (the loops' answer: none before 2031)


def test_without_adopting_the_loops_answer_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(purchase_bound, "ADOPT", False)
    plan = plan_scenario(_c71_43(), optimality_gap=True)
    assert plan.objective_value == pytest.approx(48054325.5, abs=0.01)
    assert plan.optimality_gap_fraction is not None and plan.optimality_gap_fraction > 0.09


def test_seed_8_draw_43_is_proven_optimal() -> None:
    answer, bound, gap = _gap(_draw(DRAW_43_S8))
    assert answer == pytest.approx(6609895.5, abs=0.01)  # base: 6,949,429.5
    assert gap < 1e-6 and bound == pytest.approx(answer, rel=1e-9)  # base: 5.84 %


def test_an_infeasible_bound_leaves_the_plan_standing(monkeypatch: pytest.MonkeyPatch) -> None:
    """`plan` runs the purchase bound without the flag too (for its assignment): a bound's programme that HiGHS
    finds infeasible (not expected: the answer is a point of it) gives no bound, not an error."""
    def infeasible(*args: Any, **kw: Any) -> Any:
        raise InputError("infeasible plan: stand-in")
    monkeypatch.setattr(purchase_bound, "solve_phased_bound", infeasible)
    plain = plan_scenario(_c71_43())
    assert plain.objective_value == pytest.approx(48054325.5, abs=0.01)  # the loops' answer
    plan = plan_scenario(_c71_43(), optimality_gap=True)
    assert plan.optimality_gap_fraction is None and plan.objective_lower_bound is None
    assert plan.optimality == "no lower bound (the bound's programme was infeasible)"
