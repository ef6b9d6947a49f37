"""Mutation wave 4 (hM4, session 35): the fleet-mix MILP's pool limit and the video demand.

planning/fleet_mix.py: "sum_s g[s, p] x[s, p] <= available[p]" with g the devices of one unit (an LLM replica is
TP x PP devices), and a video service's demand is daily hours / 24 h x peak-to-average streams. Each test fails
on a one-line mutant the earlier tests let through (validation/notes/test_suite_cost_tried.md, hM4).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from infraplan.planning.fleet_milp import solve_units
from infraplan.planning.fleet_mix import _demand
from infraplan.planning.fleet_spec import FleetSpec


def _one_pair(unit_devices: int) -> list:
    return [(0, 0, {"cost": {"power_w": 100.0, "tco_usd_per_year": 1.0}, "capacity": 1.0,
                    "unit_devices": unit_devices})]


def test_a_pool_limit_counts_the_devices_of_each_unit_not_the_units() -> None:
    # 3 units of 8 devices = 24 devices: they fit 24 available, not 16
    two = SimpleNamespace(services=[0], pools=[0])
    x, _ = solve_units(two, _one_pair(8), np.array([3.0]), [24], "power")  # type: ignore[arg-type]
    assert x is not None and x.tolist() == [3]
    x, _ = solve_units(two, _one_pair(8), np.array([3.0]), [16], "power")  # type: ignore[arg-type]
    assert x is None


def test_video_demand_is_daily_hours_over_24_hours_at_the_peak() -> None:
    spec = FleetSpec.model_validate({
        "services": [{"name": "v", "kind": "video", "daily_hours": 2400, "peak_to_average": 1.5}],
        "pools": [{"name": "h100", "device": "h100-sxm"}]})
    assert _demand(spec.services[0]) == pytest.approx(2400 / 24 * 1.5)  # 150 concurrent streams
