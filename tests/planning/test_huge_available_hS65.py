"""A pool's `available` past int64 (hS, session 65's review): `room_devices` (planning/fixed_servers.py) capped each
(pool, phase) room with `np.minimum(room, int(limit))`, which raised OverflowError ("Python int too large to convert
to C long") for `available: 1e30`, a traceback from `plan` (3ca50a84 too) and from `fleet-mix` (since hB65's
`fleet_milp.at_fixed_servers`). A limit at or above a pool's room caps nothing: the room is what it is without one."""

from __future__ import annotations

import numpy as np

from infraplan.planning.fixed_servers import room_devices
from infraplan.planning.fleet_milp import at_fixed_servers
from infraplan.planning.phased_mix import MixOption


def test_a_limit_past_int64_caps_nothing() -> None:
    """Pool 0 fills 3 of 8-device servers' devices (room 8), pool 1 fills 9 (room 16): a limit of 10**30 or 16
    leaves the room as no limit does; a limit of 4 still caps pool 0 at what it holds (3), 10 pool 1 at 10."""
    options = [MixOption(0, 0, 0, 1.0, 1, False), MixOption(0, 1, 0, 1.0, 1, False)]
    x, server = np.array([3, 9]), np.array([8, 8])
    free = room_devices(options, x, server, [None, None], 2, 1)
    assert free.tolist() == [[8], [16]]
    assert room_devices(options, x, server, [10**30, 10**30], 2, 1).tolist() == [[8], [16]]
    assert room_devices(options, x, server, [8, 16], 2, 1).tolist() == [[8], [16]]
    assert room_devices(options, x, server, [4, 10], 2, 1).tolist() == [[4], [10]]
    assert room_devices(options, x, server, [0, 10**30], 2, 1).tolist() == [[3], [16]]


def test_fleet_mix_assigns_at_a_huge_limit_as_without_one() -> None:
    """fleet-mix's rule at the servers filled (`at_fixed_servers`): two pools of 8-device servers at 300 W and
    400 W, a service needing 10 devices' capacity placed 2 + 8: the same assignment (8 on the cheaper watts' pool)
    with no limit and with 10**30 devices available."""
    pairs = [(0, p, {"capacity": 1.0, "unit_devices": 1, "cost": {"power_w": w}}) for p, w in ((0, 300.0), (1, 400.0))]
    x, demand = np.array([2, 8]), np.array([10.0])
    free = at_fixed_servers(pairs, x, demand, [8, 8], [None, None])
    assert at_fixed_servers(pairs, x, demand, [8, 8], [10**30, 10**30]).tolist() == free.tolist() == [8, 2]
