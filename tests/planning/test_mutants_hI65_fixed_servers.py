"""hI65 mutation wave on planning/fixed_servers.py (hB64 / hP64), hand-computed cases of its module docstring's rule:
the room is the whole servers the MILP's answer fills, less what units of services without demand there hold; power
is compared in whole watts (the MILP's `watts`, rounded)."""

from __future__ import annotations

import numpy as np

from infraplan.planning.fixed_servers import fill_fixed_servers
from infraplan.planning.phased_mix import MixOption
from infraplan.planning.scenario_caps import trim_idle


def test_a_service_without_demand_keeps_its_devices_out_of_the_room() -> None:
    """Pool 0 holds one unit of 4 devices of a service with no demand in the phase (an idle unit the MILP left), in
    one 8-device server; a second service needs 2 units of 4 devices, on pool 1's one 8-device server or pool 0.
    Pool 0 has 4 devices free: 1 unit there (the earlier pool), 1 on pool 1; never 2 on pool 0 (12 devices in its
    one 8-device server)."""
    options = [MixOption(0, 0, 0, 1.0, 4, False), MixOption(1, 0, 0, 1.0, 4, False),
               MixOption(1, 1, 0, 1.0, 4, False)]
    need = np.array([[0.0], [2.0]])
    got = trim_idle(options, np.array([1, 0, 2]), need, np.array([[8], [8]]))
    assert got.tolist() == [1, 1, 1]


def test_power_is_compared_in_whole_watts() -> None:
    """hP64's two-pool case (a service needing 10 devices beside 3 of another on the second pool, 8-device servers)
    at 300.6 W and 300.4 W a device: 301 W and 300 W in whole watts, so the second pool takes what its server holds
    (5); at 300.4 W and 300.3 W (300 W each) the pool order decides (8 on the first)."""
    options = [MixOption(0, 0, 0, 1.0, 1, False), MixOption(0, 1, 0, 1.0, 1, False),
               MixOption(1, 1, 0, 1.0, 1, False)]
    need, server = np.array([[10.0], [3.0]]), np.array([[8], [8]])
    for x in ([8, 2, 3], [5, 5, 3]):
        assert trim_idle(options, np.array(x), need, server, watts=np.array([300.6, 300.4])).tolist() == [5, 5, 3]
        assert trim_idle(options, np.array(x), need, server, watts=np.array([300.4, 300.3])).tolist() == [8, 2, 3]


def test_the_pool_order_weighs_devices_not_units() -> None:
    """Stage 3's key is the sum of pool index x devices: 8 devices on pool 1 in eight 1-device units (8) come
    before one 8-device unit on pool 2 (16), though the latter is fewer units (index x units: 8 against 2)."""
    options = [MixOption(0, 1, 0, 1.0, 1, False), MixOption(0, 2, 0, 8.0, 8, False)]
    room = np.array([[0], [8], [8]])
    need = np.array([[8.0]])
    for x in ([8, 0], [0, 1]):
        assert fill_fixed_servers(options, np.array(x), need, room).tolist() == [8, 0]


def test_a_watt_outweighs_any_pool_order() -> None:
    """Stage 2 before stage 3: 8 devices at 300 W on pool 2 (2,400 W) before 8 at 301 W on pool 0 (2,408 W), though
    pool 2's order key (2 x 8 = 16) is the larger: power then order, not their plain sum (2,416 against 2,408)."""
    options = [MixOption(0, 0, 0, 1.0, 1, False), MixOption(0, 2, 0, 1.0, 1, False)]
    room = np.array([[8], [0], [8]])
    for x in ([8, 0], [0, 8], [4, 4]):
        got = fill_fixed_servers(options, np.array(x), np.array([[8.0]]), room, np.array([301.0, 500.0, 300.0]))
        assert got.tolist() == [0, 8]
