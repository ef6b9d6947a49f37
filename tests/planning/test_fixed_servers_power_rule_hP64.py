"""`plan`'s rule at the servers its MILP fills (planning/fixed_servers.py): after the fewest devices, the least power
(hP64), then the pool order, then the option order. hB64's rule put a tied service on the pool typed first:
benchmarks/scenario_plan.py's p3 moved a 1080p30 stream from MSVP (~60 W a device) to one Xeon socket (~600 W)
because xeon-8480 comes before msvp in its pool list."""

from __future__ import annotations

import numpy as np
import pytest
from tests.planning.conftest import exhaustive, random_phase

from infraplan.planning import fixed_servers, scenario_caps
from infraplan.planning.fixed_servers import fill_fixed_servers
from infraplan.planning.phased_mix import MixOption
from infraplan.planning.pool_money import pool_money
from infraplan.planning.scenario import REFERENCE_DEVICES, plan_scenario
from infraplan.planning.scenario_caps import trim_idle
from infraplan.planning.scenario_spec import load_scenario

# benchmarks/scenario_plan.py at b3a623e9, p3: facility watts per device at 1,024 devices (planning/scenario.py
# `watts`), streams per device of video-1080p30 (its plan --json rows: 415.751 streams on 202 MSVP, 1.0425 on 1 Xeon)
XEON_W, MSVP_W = 598.5, 59.8
MSVP_STREAMS, XEON_STREAMS = 415.75112366765126 / 202, 1.0424712576845556


@pytest.mark.parametrize("x", [[203, 1, 3], [205, 0, 3]])
def test_the_benchmarks_video_stream_stays_on_msvp(x: list[int]) -> None:
    """416.67 streams on MSVP (pool 1) or a Xeon socket (pool 0, listed first), beside ranking holding 3 of a Xeon
    pool's 4 sockets (2-socket servers): 203 MSVP or 202 MSVP + 1 Xeon are both 203 devices in the servers two
    answers with idle units fill; the stream stays on MSVP (hB64's pool order chose the Xeon) from either."""
    options = [MixOption(0, 1, 0, MSVP_STREAMS, 1, False), MixOption(0, 0, 0, XEON_STREAMS, 1, False),
               MixOption(1, 0, 0, 1.0, 1, False)]
    need = np.array([[1250.0 / 3], [3.0]])
    room = dict(server=np.array([[2], [1]]), available=[4, 205])
    got = trim_idle(options, np.array(x), need, watts=np.array([XEON_W, MSVP_W]), **room)
    assert got.tolist() == [203, 0, 3]
    assert trim_idle(options, np.array(x), need, **room).tolist() == [202, 1, 3]  # equal watts: the pool order


def test_the_lower_power_pool_wins_though_listed_second() -> None:
    """Two pools of 8-device servers, a service needing 10 devices that either serves, beside 3 devices of another
    on the second: the first pool at 700 W a device, the second at 300 W. The second takes what its server holds
    (5), the first the rest, from any split; at equal watts the first pool takes 8 (hB64's test)."""
    options = [MixOption(0, 0, 0, 1.0, 1, False), MixOption(0, 1, 0, 1.0, 1, False),
               MixOption(1, 1, 0, 1.0, 1, False)]
    need = np.array([[10.0], [3.0]])
    for x in ([8, 2, 3], [5, 5, 3], [7, 3, 3]):
        server = np.array([[8], [8]])
        assert trim_idle(options, np.array(x), need, server, watts=np.array([700.0, 300.0])).tolist() == [5, 5, 3]
        assert trim_idle(options, np.array(x), need, server, watts=np.array([300.0, 300.0])).tolist() == [8, 2, 3]


@pytest.mark.parametrize("merge_below", [fixed_servers.MERGE_BELOW, 0])
def test_the_rule_equals_an_exhaustive_search(monkeypatch: pytest.MonkeyPatch, merge_below: int) -> None:
    """150 seeded random phases (2-3 pools at 100, 200 or 700 W a device, so some tie in watts; 1-2 services, 2-4
    options): the units equal the enumeration's unique least, with stages 2 and 3 as one weighted solve and as two
    (`MERGE_BELOW` 0)."""
    monkeypatch.setattr(fixed_servers, "MERGE_BELOW", merge_below)
    rng = np.random.default_rng(6464)
    checked = 0
    for _ in range(150):
        phase = random_phase(rng, watts=[100, 200, 700])
        if phase is None or (want := exhaustive(*phase)) is None:
            continue
        options, need, room, watts = phase
        got = fill_fixed_servers(options, np.zeros(len(options), dtype=int), need, room, np.array(watts, float))
        assert got.tolist() == want, (options, need.tolist(), room.tolist(), watts)
        checked += 1
    assert checked >= 50


def test_plan_hands_the_rule_each_pools_watts_as_its_milp_prices_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `plan` solve passes the rule each pool's facility watts per device at the 1,024-device reference
    (planning/scenario.py `watts`, the MILP's power rows), not None (equal watts: hB64's pool order)."""
    seen: list[np.ndarray | None] = []
    real = scenario_caps.fill_fixed_servers

    def spy(options: list[MixOption], x: np.ndarray, need: np.ndarray, room: np.ndarray,
            watts: np.ndarray | None = None) -> np.ndarray:
        seen.append(watts)
        return real(options, x, need, room, watts)

    monkeypatch.setattr(scenario_caps, "fill_fixed_servers", spy)
    spec = load_scenario("examples/plan-minimal.yaml")
    plan_scenario(spec)
    sites = {s.name: s for s in spec.sites}
    want = [pool_money(spec, p, sites[p.site], REFERENCE_DEVICES) for p in spec.pools]
    assert seen and all(w is not None for w in seen)
    for w in seen:
        assert w == pytest.approx([m.facility_w / m.devices for m in want], rel=1e-12)
