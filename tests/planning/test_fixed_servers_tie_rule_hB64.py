"""`plan`'s assignment at the servers its MILP fills, by a stated rule (hB64, planning/fixed_servers.py): tied
assignments HiGHS may hand back (the same whole servers) give one answer; the rule is exact (an exhaustive search
on small cases gives the same units) and bounded (many options on a pool finish at once, where hR63's exhaustive
`_cover` ran for minutes at 6 options).
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.planning.conftest import exhaustive, random_phase

from infraplan.planning.fixed_servers import fill_fixed_servers, room_devices
from infraplan.planning.phased_mix import MixOption
from infraplan.planning.scenario_caps import trim_idle


def test_tied_splits_over_two_pools_give_one_answer() -> None:
    """The benchmark's kind of tie (hZ55 / hA62: dlrm-high on 179 B200 + 6 MTIA v2 or 180 + 0): a ranking service
    at 1,796 QPS on B200 (10 QPS a device, servers of 8) or MTIA (1 a device, servers of 24), beside a service
    on MTIA alone at 10. Both splits fill 23 B200 servers and one MTIA server: the fewest devices (180 + 10, not
    179 + 6 + 10) whichever HiGHS handed back."""
    options = [MixOption(0, 0, 0, 10.0, 1, False), MixOption(0, 1, 0, 1.0, 1, False),
               MixOption(1, 1, 0, 1.0, 1, False)]
    need = np.array([[1796.0], [10.0]])
    server = np.array([[8], [24]])
    for x in ([180, 0, 10], [179, 6, 10]):
        assert trim_idle(options, np.array(x), need, server, [None, None]).tolist() == [180, 0, 10]


def test_equal_devices_go_to_the_earlier_pool() -> None:
    """Two pools of the same 8-device servers; a service needing 10 devices that either serves, beside 3 devices
    of another service on the second pool: 8 + 2 or 5 + 5 fill one server each. The earlier pool takes what it
    holds (8 + 2), from either split."""
    options = [MixOption(0, 0, 0, 1.0, 1, False), MixOption(0, 1, 0, 1.0, 1, False),
               MixOption(1, 1, 0, 1.0, 1, False)]
    need = np.array([[10.0], [3.0]])
    for x in ([8, 2, 3], [5, 5, 3], [7, 3, 3]):
        assert trim_idle(options, np.array(x), need, np.array([[8], [8]])).tolist() == [8, 2, 3]


def test_the_servers_filled_bound_the_room_and_available_caps_it() -> None:
    """Room is the whole servers the answer fills (13 devices in 8-device servers: 16), at most `available` (14)."""
    options = [MixOption(0, 0, 0, 1.0, 13, False)]
    assert room_devices(options, np.array([1]), np.array([[8]]), [None], 1, 1).tolist() == [[16]]
    assert room_devices(options, np.array([1]), np.array([[8]]), [14], 1, 1).tolist() == [[14]]


def test_the_rule_equals_an_exhaustive_search_on_small_cases() -> None:
    """120 seeded random phases (2-3 pools, 1-2 services, 2-4 options, whole and divisible): the units equal the
    enumeration's unique least; a case with none feasible or a tie in all three keys is skipped (counted)."""
    rng = np.random.default_rng(64)
    checked = 0
    for _ in range(120):
        phase = random_phase(rng)  # every pool at 0 W: hP64's enumeration's power term ties, leaving this rule's keys
        if phase is None or (want := exhaustive(*phase)) is None:
            continue
        options, need, room, _ = phase
        got = fill_fixed_servers(options, np.zeros(len(options), dtype=int), need, room)
        assert got.tolist() == want, (options, need.tolist(), room.tolist())
        checked += 1
    assert checked >= 40


@pytest.mark.timeout(60)
def test_many_options_on_one_pool_finish_at_once() -> None:
    """40 divisible options of 2-41 devices at ~3 QPS a device for a share of 997.3: hR63's `_cover` (an exhaustive
    search pruned by devices per capacity) took more than 120 s of CPU at 6 of them (at 42f13f43, load ~10); the
    rule's three small MILPs take milliseconds at 40. The fewest devices: 332 (the 4-option case's, 332 devices,
    which the exhaustive search confirmed at 42f13f43)."""
    options = [MixOption(0, 0, 0, 3.0 * (j + 2) + 0.01 * j, j + 2, False) for j in range(40)]
    start = [0] * 40
    start[0] = 333  # 333 units of 2 devices: 666 devices, 1,998 QPS, one server of 1,000
    got = trim_idle(options, np.array(start), np.array([[997.3]]), np.array([[1000]]), [None])
    assert sum(n * o.unit_devices for n, o in zip(got, options, strict=True)) == 332
    assert sum(n * o.capacity for n, o in zip(got, options, strict=True)) >= 997.3
