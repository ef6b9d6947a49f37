"""hP (session 71): `plan` and `plan --optimality-gap` give one answer, the cheapest either finds.

The bound's search (planning/scenario_bound.py `bound_plan`, sized_pricing.close_gap) keeps a bound answer that
costs less at its own prices than the pricing loops' answer; it ran only under `--optimality-gap`, so the same
scenario asked two ways got two answers: 30 of 217 seeded plans (hR70's refresh sweep, seeds 7 and 8; hP70's
random 2-3 pool sweep, seed 1). The loops price each (pool, phase) linearly between exact counts and, where devices
retire with spares, without the spares' chain, so a count one server under a spare or rack step is not seen. Now
every plan whose bound prices at most `SEARCH_COUNTS_MAX` server counts runs the search (the shipped examples'
small plans: +0.12 s of 13 s for mtia-vs-gpu; gigawatt-2027 and meta-2024, 98,993 counts, do not), and
`--optimality-gap` reports that run. Above it `--optimality-gap` keeps the loops' answer and says what it found.
Checked failing on the base tree (79bdd8f3): every case of `test_plain_and_gap_answer_alike` (plain != gap) and
`test_above_the_search_counts_gap_keeps_the_loops_answer`.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.planning.test_purchase_bound_repassed_hB69 import _spec

from infraplan.planning import scenario, scenario_bound
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.sized_pricing import BOUND_TOLERANCE

# (pools, qps, growth, power, policy), the base's plain answer (the loops') and the one both give now
HR8_22 = ([{"name": "p0", "device": "h100-sxm", "site": "ohio", "lifetime_years": 5.5, "refresh_with": "a100-80gb",
            "installed": 16, "installed_year": 2024}], "300M", {"2027": 2, "2029": 2, "2031": 2}, "20MW",
          {"objective": "tco", "redundancy_racks": 0, "spare_probability": 0.99})
HR8_44 = ([{"name": "p0", "device": "h100-sxm", "site": "ohio", "lifetime_years": 3, "refresh_with": "gb200",
            "installed": 16, "installed_year": 2024}], "300M", {"2027": 1.5, "2029": 2, "2031": 1}, "50MW",
          {"objective": "tco", "redundancy_racks": 0, "spare_probability": 0.99})
RS1_13 = ([{"name": "p0", "device": "a100-80gb", "site": "ohio", "lifetime_years": 4},
           {"name": "p1", "device": "b200", "site": "ohio", "lifetime_years": 3, "from_year": 2025}], "300M",
          {"2027": 3, "2029": 1, "2031": 3}, "20MW", {"objective": "tco", "redundancy_racks": 0})
RS1_14 = ([{"name": "p0", "device": "gb200", "site": "ohio", "lifetime_years": 4, "from_year": 2025,
            "installed": 16, "installed_year": 2024},
           {"name": "p1", "device": "h200", "site": "ohio", "lifetime_years": 3},
           {"name": "p2", "device": "h100-sxm", "site": "ohio", "lifetime_years": 10}], "5G",
          {"2027": 0.5, "2029": 3, "2031": 2}, "50MW", {"objective": "power", "redundancy_racks": 2})
RS1_114 = ([{"name": "p0", "device": "b200", "site": "ohio", "lifetime_years": 10, "from_year": 2025},
            {"name": "p1", "device": "h200", "site": "ohio", "lifetime_years": 10}], "5G",
           {"2027": 1, "2029": 0.5, "2031": 2}, "20MW", {"objective": "capex", "redundancy_racks": 0})
CASES = {  # name: (case, the base's plain answer, both answers now)
    "hr8-22 tco, H100 refreshed by A100, spares 0.99": (HR8_22, 2759307.6213351274, 2647202.82811493),
    "hr8-44 tco, H100 refreshed by GB200, spares 0.99": (HR8_44, 2794295.621006299, 2652386.461552468),
    "rs1-13 tco, A100 + B200, no spares": (RS1_13, 3256149.5881519997, 3249425.1726494543),
    "rs1-14 power, GB200 + H200 + H100, N+2": (RS1_14, 5937134.08, 5539200.760000001),
    "rs1-114 capex, B200 + H200": (RS1_114, 25324718.202632297, 24767847.307267897),
}


def _planned(case: tuple[Any, ...], gap: bool) -> Any:
    pools, qps, growth, power, policy = case
    return plan_scenario(_spec(pools, qps=qps, growth=growth, power=power, **policy), optimality_gap=gap)


def _rows(plan: Any) -> list[tuple[Any, ...]]:
    return [(r.phase, r.pool, r.devices, r.new_devices, r.spare_devices, r.retired_devices) for r in plan.pools]


def _report_sum(plan: Any, objective: str) -> float:
    """The objective summed from the report's phases (TCO / power / carbon x the years to the next phase)."""
    figure = {"tco": "tco_usd_per_year", "power": "facility_power_w", "carbon": "co2_t_per_year"}[objective]
    years = [int(ph.phase) for ph in plan.phases]
    span = [b - a for a, b in zip(years, years[1:], strict=False)] + [1]
    return float(sum(getattr(ph, figure) * w for ph, w in zip(plan.phases, span, strict=True)))


@pytest.mark.parametrize("name", list(CASES))
def test_plain_and_gap_answer_alike(name: str) -> None:
    """The same objective and pool rows with and without `--optimality-gap`, the bound at or under it, and the
    answer the search's (below the loops'); the objective is the report's own sum (one pricing, hP71's nit)."""
    case, loops, both = CASES[name]
    plain, gap = _planned(case, False), _planned(case, True)
    assert plain.objective_value == gap.objective_value  # base: the loops' answer without the flag
    assert _rows(plain) == _rows(gap)
    assert plain.objective_value == pytest.approx(both, rel=1e-9) and both < loops
    assert "the lower bound's search found a cheaper assignment" in plain.pricing
    assert not plain.pricing_converged and plain.optimality_gap_fraction is None  # the bound is not reported
    assert gap.objective_lower_bound is not None
    assert gap.objective_lower_bound <= gap.objective_value * (1 + BOUND_TOLERANCE)
    objective = case[4]["objective"]
    if objective != "capex":
        assert _report_sum(plain, objective) == pytest.approx(plain.objective_value, rel=1e-9)


def test_above_the_search_counts_gap_keeps_the_loops_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan above `SEARCH_COUNTS_MAX` (here 0) runs no search; `--optimality-gap` runs it, keeps the loops'
    answer (one answer still), reports its gap to the bound and says what the search found (base: the flag's
    answer was the search's, $2,647,203, the plain one $2,759,308)."""
    monkeypatch.setattr(scenario, "SEARCH_COUNTS_MAX", 0)
    monkeypatch.setattr(scenario_bound, "SEARCH_COUNTS_MAX", 0)
    plain, gap = _planned(HR8_22, False), _planned(HR8_22, True)
    assert plain.objective_value == gap.objective_value == pytest.approx(2759307.6213351274, rel=1e-9)
    assert _rows(plain) == _rows(gap)
    assert "cheaper assignment" not in plain.pricing and "cheaper assignment" not in gap.pricing
    assert gap.objective_lower_bound == pytest.approx(2647202.82811493, rel=1e-6)  # the search's answer: optimal
    assert gap.optimality_gap_fraction == pytest.approx((2759307.6213351274 - 2647202.82811493) / 2759307.6213351274,
                                                        rel=1e-6)
    assert "costing 2,647,202.83, less than the answer's 2,759,307.62, not taken" in gap.optimality
