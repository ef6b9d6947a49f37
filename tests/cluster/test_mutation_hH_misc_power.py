"""Storage, front-end network and management draw a share of the server power (hH mutation spot-check, session 33).

catalog/facility/network.yaml: `misc_it_power_fraction` (0.05, an assumption marked U) covers storage, the
front-end network and management, beside the servers; its cross-check is Epoch AI's all IT = 1.14 x servers, a
ratio on the servers' power: accelerators plus the hosts (CPUs, NICs, fans, PSU loss). Charging it on the
accelerators alone was caught only by the Epoch 1-GW capex case's 15 % tolerance (tests/planning/test_scenario.py).
"""

from __future__ import annotations

import pytest

from infraplan.catalog.facility_loader import load_cooling, load_network_cost
from infraplan.cluster import Cluster
from infraplan.cluster.power import it_load


def test_misc_it_power_is_its_fraction_of_the_servers_power() -> None:
    load = it_load(Cluster.resolve("dgx-h100-superpod").layout, 4096, load_cooling("air"), "air")
    servers_w = load.accelerators_w + load.hosts_w
    assert load.hosts_w > 0.1 * servers_w  # DGX H100: 4.6 kW of host beside 8 x 700 W: the base matters
    assert load.misc_w == pytest.approx(load_network_cost().misc_it_power_fraction * servers_w, rel=1e-12)
