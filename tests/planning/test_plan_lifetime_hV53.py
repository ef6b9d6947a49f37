"""hV53 (session 53): a plan keeps hardware past its `lifetime_years` and says so.

Since hV54 (session 54) a plan retires hardware at its lifetime_years by default (planning/retirement.py,
tests/planning/test_plan_retirement_hV54.py); these tests keep it past its life, `policy.retire_at_lifetime: false`,
the plan before hV54, whose warning now names that policy.

`plan` neither retires nor refreshes what it buys (bought hardware stays, planning/scenario_report.py), and the cost
model's TCO charges the servers' depreciation (price / life) in every phase. Before hV53 a pool of H100 on a 2-year
life bought in 2025 was in the 2032 phase with the same $192,742/year TCO (its $168,000/year of server depreciation
charged 5 years after the servers were paid off) and no word; now one warning per pool names it
(`scenario_report.past_lifetime`). Checked failing on HEAD 78a4202: `warnings` was [] for the 2032 scenario.
"""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec


def _spec(last_year: int, **pool: Any) -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "life",
        "phases": [{"name": "2025", "year": 2025}, {"name": "late", "year": last_year}],
        "services": [{"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "10M",
                      "latency_slo": "10ms"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio", **pool}],
        "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}],
        "policy": {"retire_at_lifetime": False}})


def test_hardware_past_its_life_is_named() -> None:
    plan = plan_scenario(_spec(2032, lifetime_years=2))
    late = [p for p in plan.pools if p.phase == "late"]
    assert late[0].devices == 8 and late[0].new_devices == 0  # the 2025 server is still the fleet in 2032
    first = [p for p in plan.pools if p.phase == "2025"][0]
    assert late[0].tco_usd_per_year == pytest.approx(first.tco_usd_per_year)  # depreciation still charged
    said = [w for w in plan.warnings if "lifetime_years" in w]
    assert said == ["pool h100: 8 devices bought in 2025 are still in service in late (2032), 7 years on, past their "
                    "2-year lifetime_years: policy.retire_at_lifetime is false, so the plan neither retires nor "
                    "refreshes them, and the TCO keeps charging their servers' depreciation after they are paid off"]


@pytest.mark.parametrize(("last_year", "warned"), [(2030, False), (2031, True)])
def test_default_life_is_five_and_a_half_years(last_year: int, warned: bool) -> None:
    plan = plan_scenario(_spec(last_year))  # lifetime_years 5.5: 5 years on is within it, 6 beyond
    assert any("lifetime_years" in w for w in plan.warnings) is warned
