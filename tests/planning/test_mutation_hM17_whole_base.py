"""Mutation wave 17 (hM17, session 43): an installed base kept in whole servers (hL44; planning/phased_mix.py,
planning/scenario_report.py `whole_base`), on cases the landed tests left open.

* The elastic LP's refusal names the installed devices' draw on the whole servers: 9 devices installed in 4-device
  servers at 100 W each are 2 servers, 800 W, over a 750 W cap (the odd device is not in the layout: 900 W would be
  a device that is not there).
* An odd base's plan with the optimality bound is the plan of its whole servers' base, every figure (the spec differs
  only by the device `whole_base` leaves out, so the bound's search is the same search).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.errors import InputError
from infraplan.planning.phased_mix import MixOption, PhasedMix, solve_phased_mix
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec


def _mix(installed: int, cap_w: float) -> PhasedMix:
    return PhasedMix(demand=np.array([[1.0]]), options=[MixOption(0, 0, 0, 1.0, 1, False)], cost=np.array([[1.0]]),
                     available=[16], pool_open=np.ones((1, 1), dtype=bool), pool_site=[0],
                     watts_per_device=np.full(1, 100.0), site_cap_w=np.full((1, 1), cap_w), service_names=["svc"],
                     pool_names=["pool0"], site_names=["site"], phase_names=["2027"], installed=[installed],
                     server_devices=[4])


def test_the_refusal_names_the_draw_of_the_whole_servers_installed() -> None:
    assert solve_phased_mix(_mix(9, 850.0))[1].tolist() == [[8]]  # 2 servers, 800 W, fit under 850 W
    with pytest.raises(InputError, match="infeasible plan") as caught:
        solve_phased_mix(_mix(9, 750.0))
    assert "the installed devices draw 800 W against its cap of 750 W" in str(caught.value)


def _spec(installed: int) -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "base", "phases": [{"name": "2025", "year": 2025}, {"name": "2027", "year": 2027}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-high", "latency_slo": "20ms", "qps": "5M",
                      "growth": {"2027": 6.0}}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "s", "price_usd_per_device": 42_000,
                   "installed": installed}],
        "sites": [{"name": "s", "power": "50MW", "location": "us-average"}],
        "policy": {"objective": "tco"}})


def _figures(plan: Any) -> dict[str, Any]:
    return plan.model_dump(exclude={"wall_time_s", "warnings"})


def test_an_odd_base_with_the_bound_is_the_whole_base_plan() -> None:
    odd, whole = plan_scenario(_spec(1001), optimality_gap=True), plan_scenario(_spec(1000), optimality_gap=True)
    assert odd.objective_lower_bound is not None
    assert _figures(odd) == _figures(whole)  # the bound too, to the last digit
    assert len(odd.warnings) == len(whole.warnings) + 1
