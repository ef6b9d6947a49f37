"""Mutation wave 10 (hM10, session 39): the phased fleet programme's whole servers, by hand.

`phased_mix` on programmes small enough to solve in the head (module docstring): n[p, k] whole servers of g[p]
devices, n[p, k] <= ceil(available / g) with the devices used <= available, g n >= the devices already installed
(whole servers), n[p, k - 1] <= n[p, k], the site's watts per device x g n <= its cap, cost per device x g n
minimised; infeasible: the elastic LP's shortfall in shares of each demand and the binding constraints.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.errors import InputError
from infraplan.planning.phased_mix import MixOption, PhasedMix, solve_phased_bound, solve_phased_mix


def _mix(demand: list[list[float]], g: list[int], available: list[int | None], cost: list[float] | None = None,
         installed: list[int] | None = None, watts: float = 100.0, cap_w: float = 1e12) -> PhasedMix:
    """One service served by every pool, one device a unit of capacity 1, every pool open at one site."""
    phases, pools = len(demand[0]), len(g)
    options = [MixOption(0, p, k, 1.0, 1, False) for p in range(pools) for k in range(phases)]
    per_device = [1.0] * pools if cost is None else cost
    return PhasedMix(demand=np.array(demand, dtype=float), options=options,
                     cost=np.array([[c] * phases for c in per_device]), available=available,
                     pool_open=np.ones((pools, phases), dtype=bool), pool_site=[0] * pools,
                     watts_per_device=np.full(pools, watts), site_cap_w=np.full((1, phases), cap_w),
                     service_names=["svc"], pool_names=[f"pool{p}" for p in range(pools)], site_names=["site"],
                     phase_names=[f"{2027 + k}" for k in range(phases)], installed=installed, server_devices=g)


def test_servers_round_the_available_devices_up_but_use_no_more_of_them() -> None:
    """10 devices available in 4-device servers: up to ceil(10 / 4) = 3 servers; 9 devices of demand buy all 3
    (12 devices installed, 9 used); 11 would need more than the 10 available: infeasible."""
    units, devices = solve_phased_mix(_mix([[9.0]], [4], [10]))
    assert units.tolist() == [9]
    assert devices.tolist() == [[12]]
    with pytest.raises(InputError, match="infeasible plan"):
        solve_phased_mix(_mix([[11.0]], [4], [10]))


def test_installed_devices_are_whole_servers_and_the_pool_may_grow_past_them() -> None:
    """9 devices installed in 4-device servers are floor(9 / 4) = 2 whole servers (hL44: the odd device is not
    usable in the layout, planning/scenario_report.py `whole_base`): a demand of 1 keeps 8 devices, 5 installed keep
    4; 16 available (4 servers), a demand of 12 grows the pool to 3 servers."""
    assert solve_phased_mix(_mix([[1.0]], [4], [16], installed=[9]))[1].tolist() == [[8]]
    assert solve_phased_mix(_mix([[1.0]], [4], [16], installed=[5]))[1].tolist() == [[4]]
    assert solve_phased_mix(_mix([[12.0]], [4], [16], installed=[5]))[1].tolist() == [[12]]


def test_bought_hardware_stays_when_the_demand_falls() -> None:
    """8 devices' demand in 2027 and 2 in 2028: the 8 bought stay installed in 2028 (n[p, 2027] <= n[p, 2028])."""
    units, devices = solve_phased_mix(_mix([[8.0, 2.0]], [1], [None]))
    assert devices.tolist() == [[8, 8]]
    assert units.tolist() == [8, 2]


def test_a_server_is_bought_whole_at_its_devices_price() -> None:
    """One device of demand: a 4-device server at $1 a device costs $4, one 1-device server at $1.5 $1.5: the
    latter is bought."""
    devices = solve_phased_mix(_mix([[1.0]], [4, 1], [None, None], cost=[1.0, 1.5]))[1]
    assert devices.tolist() == [[0], [1]]


def test_the_site_cap_counts_every_device_of_a_server_and_names_the_shortfall_in_shares() -> None:
    """4-device servers at 100 W a device under a 1,200 W cap: 3 servers (1,200 W) serve 9 devices' demand; under
    1,199 W only 2 whole servers fit, 9 is infeasible. 20 devices' demand under 1,199 W: the LP relaxation
    installs 1,199 / 400 = 2.9975 servers, 11.99 devices, 40 % of the demand short, the site at its cap."""
    assert solve_phased_mix(_mix([[9.0]], [4], [None], cap_w=1200.0))[1].tolist() == [[12]]
    with pytest.raises(InputError, match="infeasible plan"):
        solve_phased_mix(_mix([[9.0]], [4], [None], cap_w=1199.0))
    with pytest.raises(InputError) as caught:
        solve_phased_mix(_mix([[20.0]], [4], [None], cap_w=1199.0))
    assert "svc in 2027 short by 40 %" in str(caught.value)
    assert "binding: site site at its power cap of" in str(caught.value)


def test_the_bound_skips_a_phase_without_demand() -> None:
    """No demand in 2027, 4 devices in 2028 at $2 a device: 4 devices installed in 2028 and a bound of $8 (the
    demand rows in shares of their demand: a phase without demand has no row)."""
    units, servers, bound = solve_phased_bound(_mix([[0.0, 4.0]], [1], [None], cost=[2.0]))
    assert servers.tolist() == [[0, 4]]
    assert units.tolist() == [0, 4]
    assert bound == pytest.approx(8.0, rel=1e-9)
