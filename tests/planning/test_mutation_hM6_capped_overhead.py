"""Mutation wave 6 (hM6): hM5's P11, the cap loop of `plan` (`planning.scenario_caps.capped_solve`, the module
docstring's step 2): while the packed facility power exceeds a site cap, the MILP is re-solved with each pool's
watts per device scaled by its packed power over its reference watts x the devices of the WHOLE SERVERS its
rows use (what the MILP's cap row counts, `phased_mix`: watts x g x n), not x the devices used."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.planning import scenario_caps, scenario_prices
from infraplan.planning.phased_mix import MixOption
from infraplan.planning.scenario_spec import ScenarioSpec


def test_the_cap_overhead_is_per_device_of_the_servers_bought(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two pools of 8-device servers at one 1.9 kW site, one service of 9 units (1 unit per device), pool a at
    1 per device and b at 2, both 100 W per device at the reference. Pool a packs at 1.25 x 100 W per device of
    its whole servers, b at 100 W (the packing stubbed, so the numbers are the docstring's arithmetic).
    Pass 1: 9 devices on a (2 servers, 16 devices: cost 16, 1,600 W <= 1,900 W); packed 1.25 x 1,600 = 2,000 W
    > 1,900 W. Scale a by 2,000 / (100 x 16) = 1.25: 16 on a is 2,000 W (over); one server on each, 1,000 + 800 W
    = 1,800 W at cost 8 + 16 = 24, is the least (8 + 1 or 1 + 8 devices used: a tie); packed, 1,800 W fits.
    (Scaled per device used, 2,000 / (100 x 9) = 2.22: a server of a is 1,778 W, + 800 W over the cap, so all 9
    go on b, 16 bought, cost 32.)"""
    spec = ScenarioSpec.model_validate({
        "name": "capped", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "r", "kind": "recsys", "model": "dlrm-low", "qps": "9", "latency_slo": "10ms"}],
        "pools": [{"name": "a", "device": "h100-sxm", "site": "s"}, {"name": "b", "device": "a100-80gb", "site": "s"}],
        "sites": [{"name": "s", "power": "1.9kW", "location": "ohio"}]})
    assert scenario_caps.server_devices(spec).ravel().tolist() == [8, 8]

    def packed_w(spec: ScenarioSpec, devices: np.ndarray) -> np.ndarray:
        servers = -(-devices // 8) * 8
        return np.array([1.25 * 100.0 * servers[0], 100.0 * servers[1]], dtype=float)

    monkeypatch.setattr(scenario_caps, "packed_facility_w", packed_w)
    monkeypatch.setattr(scenario_caps, "spare_devices", lambda spec, used: np.zeros_like(used))
    options = [MixOption(0, 0, 0, 1.0, 1, False), MixOption(0, 1, 0, 1.0, 1, False)]
    x = scenario_caps.capped_solve(spec, options, np.array([[9.0]]), np.array([[1.0], [2.0]]),
                                   np.array([100.0, 100.0]), ["2026"], [2026], {"s": 0})
    used = scenario_caps.used_devices(options, x, 2, 1)
    assert used.sum() == 9 and scenario_prices.bought_devices(spec, used).ravel().tolist() == [8, 8]  # cost 24, 1,800 W
