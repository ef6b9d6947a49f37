"""An installed base that is not whole servers (hL44, session 43; planning/scenario_report.py `whole_base`).

Before, `installed: 1001` H100 (8-GPU servers) was rounded up to 126 servers and the 7 devices that completed the
last one were reported as delivered in the first phase (`new_devices` 7), priced and counted as bought. A server's
GPUs are one SXM/OAM baseboard or an NVL tray, built and sold whole, so a partial server cannot be topped up: the
plan keeps the base's whole servers (125, 1,000 devices), leaves the odd device out of its devices, power, money and
carbon, and says so in one warning. Every figure of such a plan is the plan of its whole servers' base.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_report import odd_base, whole_base
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _spec(installed: int, qps: str = "5M", growth: float = 6.0, **policy: object) -> ScenarioSpec:
    """dlrm-high at 5 M QPS (17 H100) growing 6x (100 H100) by 2027, on one H100 pool with `installed` devices."""
    return ScenarioSpec.model_validate({
        "name": "base", "phases": [{"name": "2025", "year": 2025}, {"name": "2027", "year": 2027}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-high", "latency_slo": "20ms", "qps": qps,
                      "growth": {"2027": growth}}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "s", "price_usd_per_device": 42_000,
                   "installed": installed}],
        "sites": [{"name": "s", "power": "50MW", "location": "us-average"}],
        "policy": {"objective": "tco", **policy}})


def _figures(plan: Any) -> dict[str, Any]:
    return plan.model_dump(exclude={"wall_time_s", "warnings"})


def test_an_odd_base_is_its_whole_servers_and_nothing_is_bought() -> None:
    odd, whole = plan_scenario(_spec(1001)), plan_scenario(_spec(1000))
    assert [(r.phase, r.devices, r.new_devices) for r in odd.pools] == [("2025", 1000, 0), ("2027", 1000, 0)]
    assert _figures(odd) == _figures(whole)  # devices, power, capex, TCO, carbon, objective: the 1,000's
    assert whole.warnings == []
    (said,) = odd.warnings
    assert said.startswith("pool h100: installed 1,001 h100-sxm is not whole 8-device servers: the plan keeps 125 "
                           "servers (1,000 devices); the other 1 device is not usable in the server layout")


def test_the_servers_bought_beyond_an_odd_base_are_whole() -> None:
    """13 installed is one whole server (8) and 5 left out; 17 H100 used in 2025 are 3 servers: 2 delivered (16
    devices, where the rounded-up base of 2 servers reported 24 - 13 = 11), and 100 in 2027 are 13 servers (76 more)."""
    plan = plan_scenario(_spec(13))
    assert [s.devices for s in plan.services] == [17, 100]
    assert [(r.devices, r.new_devices) for r in plan.pools] == [(24, 16), (104, 80)]
    assert all(r.new_devices % 8 == 0 for r in plan.pools)
    assert "the other 5 devices are not usable" in plan.warnings[0]


@pytest.mark.parametrize("policy", [{}, {"spare_probability": 0.999, "redundancy_racks": 1}])
def test_the_bound_holds_on_an_odd_base(policy: dict[str, object]) -> None:
    plan = plan_scenario(_spec(1001, **policy), optimality_gap=True)
    assert plan.objective_lower_bound is not None and plan.objective_value is not None
    assert plan.objective_lower_bound <= plan.objective_value * (1 + 1e-6)
    first = plan.pools[0]  # the base's 1,000, then whole servers (the N+k rack: 2 servers of 8, delivered)
    assert first.devices >= 1000 and first.new_devices == first.devices - 1000 and first.new_devices % 8 == 0


def test_whole_base_per_pool_and_meta_2024_says_its_odd_pool() -> None:
    spec = load_scenario(str(EXAMPLES / "meta-2024.yaml"))
    base = {p.name: int(n) for p, (n,) in zip(spec.pools, whole_base(spec), strict=True)}
    assert base["other-h100"] == 300_848 and base["other-gpus"] == 183_384  # 183,388 MI300X: 22,923 servers of 8
    (said,) = odd_base(spec)
    assert said.startswith("pool other-gpus: installed 183,388 mi300x is not whole 8-device servers: the plan "
                           "keeps 22,923 servers (183,384 devices); the other 4 devices are not usable")
