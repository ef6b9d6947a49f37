"""Mutation wave 4 (hM4, session 35): the planner's devices per option and its N+k spare racks.

Each test fails on a one-line mutant the earlier tests let through (validation/notes/test_suite_cost_tried.md,
hM4), and asserts a hand count of the rule planning/scenario.py and phased_mix.py state.
"""

from __future__ import annotations

import numpy as np

from infraplan.planning.phased_mix import MixOption
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_caps import used_devices as _used_devices
from infraplan.planning.scenario_spec import ScenarioSpec


def test_used_devices_count_each_units_devices() -> None:
    # phased_mix: "an LLM deployment or a training job is one whole unit ... of `unit_devices` devices"
    options = [MixOption(service=0, pool=0, phase=0, capacity=1.0, unit_devices=8, whole=True),
               MixOption(service=1, pool=0, phase=1, capacity=5.0, unit_devices=1, whole=False)]
    used = _used_devices(options, np.array([3.0, 7.0]), 1, 2)
    assert used.tolist() == [[24, 7]]


def _plan(k: int, year: int = 2025, pool: dict | None = None):
    return plan_scenario(ScenarioSpec.model_validate({
        "name": "nk", "phases": [{"name": str(year), "year": year}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "a", **(pool or {})}],
        "sites": [{"name": "a", "power": "50MW", "location": "ohio", "cooling": "air"}],
        "policy": {"redundancy_racks": k}}))


def test_n_plus_k_adds_k_whole_racks_of_devices() -> None:
    # N+k spare racks per pool: an H100 server draws 8 x 700 W + 4.6 kW = 10.2 kW, two fit a 30 kW air rack,
    # so one spare rack is 16 devices (and one rack more)
    base, spare = _plan(0).pools[0], _plan(1).pools[0]
    assert spare.devices - base.devices == 16
    assert spare.racks == base.racks + 1


def test_a_pool_serves_from_its_delivery_year_on() -> None:
    # phased_mix: available "0 before its delivery year", i.e. open in the year it is delivered
    plan = _plan(0, 2026, {"from_year": 2026})
    assert plan.pools[0].devices > 0 and plan.pools[0].phase == "2026"
