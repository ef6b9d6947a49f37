"""Mutation wave 6 (hM6): fleet-mix's programme in whole servers (`planning.fleet_milp`, its module docstring):
a server of pool p costs c[p] x G[p] (its devices at the per-device cost), and `trim_idle` drops, pairs in order,
every unit a service does not need."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from infraplan.planning import fleet_mix
from infraplan.planning.fleet_milp import solve_units, trim_idle
from infraplan.planning.fleet_spec import load_fleet_spec


def _pair(s: int, p: int, capacity: float, watts: float) -> tuple[int, int, dict]:
    return s, p, {"capacity": capacity, "cost": {"power_w": watts}}


def test_a_server_costs_its_devices() -> None:
    """One service of 1 unit; pool 0 sells 8-device servers at 1 W per device, pool 1 single devices at 1.5 W,
    1 unit per device on both. A server of pool 0 is 8 W, pool 1's device 1.5 W: one device of pool 1 (objective
    1.5 W). (Were a server priced as one device, 1 W < 1.5 W would take pool 0.) At 8 units: pool 0's server, 8 W
    against 12 W."""
    spec = SimpleNamespace(services=[None], pools=[None, None])
    pairs = [_pair(0, 0, 1.0, 1.0), _pair(0, 1, 1.0, 1.5)]
    x, res = solve_units(spec, pairs, np.array([1.0]), [None, None], "power", [8, 1])  # type: ignore[arg-type]
    assert x is not None and x.tolist() == [0, 1] and res.fun == 1.5
    assert np.round(res.x[2:]).tolist() == [0, 1]  # servers bought per pool
    x, res = solve_units(spec, pairs, np.array([8.0]), [None, None], "power", [8, 1])  # type: ignore[arg-type]
    assert x is not None and x.tolist() == [8, 0] and res.fun == 8.0


def test_trim_idle_drops_every_unit_not_needed_pairs_in_order() -> None:
    """Demand 5; 3 units of capacity 2 and 2 of capacity 3 (12). Pair 0: (12 - 5) // 2 = 3 units dropped (6 left
    >= 5); pair 1: (6 - 5) // 3 = 0. So [0, 2], 6 >= 5. Demand 7 on the same: pair 0 drops (12 - 7) // 2 = 2
    (8 left), pair 1 none: [1, 2]. Demand 6: pair 0 drops 3, leaving exactly 6 (enough: kept at [0, 2])."""
    pairs = [_pair(0, 0, 2.0, 0.0), _pair(0, 1, 3.0, 0.0)]
    assert trim_idle(pairs, np.array([3, 2]), np.array([5.0])).tolist() == [0, 2]
    assert trim_idle(pairs, np.array([3, 2]), np.array([7.0])).tolist() == [1, 2]
    assert trim_idle(pairs, np.array([3, 2]), np.array([6.0])).tolist() == [0, 2]
    assert trim_idle(pairs, np.array([3, 2]), np.array([12.0])).tolist() == [3, 2]


def test_a_pools_tier_brackets_reach_the_devices_of_the_units_it_may_need(monkeypatch: pytest.MonkeyPatch) -> None:
    """`fleet_mix._sized_solve`'s brackets run from one server to the most the pool can usefully hold: every
    service it serves on it alone, ceil(demand / capacity) units of `unit_devices` devices each. An LLM-like pair
    of 4-device units at 1 request/s per unit and 3 requests/s: 3 units, 12 devices, 2 H100 servers (8 each).
    Every size the fixed point priced the pool at splits its bracket (`sized_pricing.bracket_costs`' points)."""
    spec = load_fleet_spec("examples/fleet-mix.yaml")
    h100 = next(p for p, pool in enumerate(spec.pools) if pool.device == "h100-sxm")
    assert fleet_mix.server_devices(spec.pools[h100]) == 8
    ranges: list[int] = []
    real = fleet_mix.tier_brackets

    def spy(tiers: Any, servers_max: int) -> Any:
        ranges.append(servers_max)
        return real(tiers, servers_max)

    def points_spy(edges: Any, total_at: Any, points: Any = ()) -> Any:
        splits.append(sorted(points))
        return real_costs(edges, total_at, points)

    splits: list[list[int]] = []
    real_costs = fleet_mix.bracket_costs
    monkeypatch.setattr(fleet_mix, "tier_brackets", spy)
    monkeypatch.setattr(fleet_mix, "bracket_costs", points_spy)
    demand = np.zeros(len(spec.services))
    demand[0] = 3.0
    pairs = [(0, h100, {"capacity": 1.0, "unit_devices": 4, "detail": {}, "unit": "QPS"})]
    costs = {"power_w": 700.0, "tco_usd_per_year": 1.0, "usd_per_device_hour": None}
    fleet_mix._sized_solve(spec, pairs, demand, [None] * len(spec.pools), "power", lambda p, n: costs)
    assert ranges == [2]
    # and the size the first loop priced the pool at (16 devices bought: 2 servers) splits its bracket
    assert splits and all(s == [2] for s in splits)
