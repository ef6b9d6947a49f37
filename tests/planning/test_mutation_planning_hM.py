"""Mutation spot-checks, third wave (hM, session 34): the planner's power and money sums (planning/).

Each test fails on a one-line mutant (validation/notes/test_suite_cost_tried.md, "hM (session 34)") and asserts an
identity of the sums or a hand count, not the current output."""

from __future__ import annotations

from dataclasses import replace

import pytest

from infraplan.catalog.facility_loader import load_cooling, load_network_cost
from infraplan.catalog.reliability_loader import load_failure_rate
from infraplan.cluster.cost import CostOverrides
from infraplan.planning.device_money import device_money, device_site
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_sizing import demand
from infraplan.planning.scenario_spec import ScenarioSpec, ServiceSpec
from infraplan.planning.spares import spare_nodes

MISC = 1.0 + load_network_cost().misc_it_power_fraction  # hK57: + storage / front-end / management, as every pool


@pytest.fixture(scope="module")
def grown():
    """One ranking service on H100s at one site, its demand doubling in the second year (recsys only: fast)."""
    return plan_scenario(ScenarioSpec.model_validate({
        "name": "grown",
        "phases": [{"name": "2025", "year": 2025}, {"name": "2026", "year": 2026}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "100M", "latency_slo": "10ms",
                      "growth": {"2026": 2.0}}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "a"}],
        "sites": [{"name": "a", "power": "50MW", "location": "ohio", "cooling": "air"}],
    }))


def test_a_sites_it_power_is_its_pools_it_power_not_their_facility_power(grown) -> None:
    """A site row: IT power = the sum of its pools' IT power; facility power = theirs x PUE (> 1 on air in Ohio).
    Mutant P03 summed the pools' facility power as the site's IT power."""
    for site in grown.sites:
        pools = [p for p in grown.pools if p.phase == site.phase and p.site == site.site]
        assert site.it_power_w == pytest.approx(sum(p.it_power_w for p in pools), rel=1e-12)
        assert site.facility_power_w == pytest.approx(sum(p.facility_power_w for p in pools), rel=1e-12)
        assert site.it_power_w < site.facility_power_w


def test_new_devices_are_the_phases_devices_less_the_last_phases(grown) -> None:
    """A pool's new devices in a phase are what it adds to the previous phase's (the first phase: all of them).
    Mutant P04 reported every device as new each year."""
    first, second = (next(p for p in grown.pools if p.phase == ph) for ph in ("2025", "2026"))
    assert second.devices > first.devices > 0
    assert first.new_devices == first.devices
    assert second.new_devices == second.devices - first.devices


def test_a_part_filled_node_still_fails_and_is_repaired() -> None:
    """Spares: 9 devices in 8-device nodes are 2 nodes; expected nodes down = nodes x node failures per hour x the
    repair hours (1 day: 24). Mutant P09 dropped the part-filled node."""
    got = spare_nodes(9, 8, "h100-sxm", 0.99, 86_400.0)
    # the rate's share that takes a node out of service (hF41: 321 / 419 of llama3-h100's job interruptions)
    per_node_hour = 8 * load_failure_rate(got.failure_rate).per_accelerator_hour * got.node_out_of_service_fraction
    assert got.nodes == 2
    assert got.node_failures_per_hour == pytest.approx(per_node_hour, rel=1e-12)
    assert got.expected_nodes_down == pytest.approx(2 * per_node_hour * 24.0, rel=1e-12)


def test_video_asics_pack_and_draw_with_their_host_share_and_the_sites_pue() -> None:
    """msvp.yaml: 10 W a device plus 40 W of host each: 1,000 devices draw 50 kW of IT; a rack holds
    floor(air rack limit / 50 W) of them in whole 12-module hosts, at most the 21 2U hosts of a 42U rack (hF56: space
    binds under air; the power rule on a 6 kW rack); their yearly energy is 50 kW x load factor x PUE x 8,760 h.
    Mutants P10 (rack packing without the host) and P11 (energy without PUE). 1,000 devices are bought as 84 whole
    hosts (hH47: `modules_per_host`), 1,008 modules, 50.4 kW."""
    site = device_site("msvp", CostOverrides())
    assert device_money("msvp", 1000, site).devices == 1008
    assert device_money("msvp", 1000, site).it_w == pytest.approx(1008 * 50.0 * MISC, rel=1e-12)
    money = device_money("msvp", 1008, site)
    per_rack = 12 * min(int(load_cooling("air").max_rack_power_w // (12 * 50.0)), 42 // 2)
    assert money.it_w == pytest.approx(50.4e3 * MISC, rel=1e-12)
    assert money.devices_per_rack == per_rack and money.racks == -(-1008 // per_rack)
    low = replace(site, cooling=site.cooling.model_copy(update={"max_rack_power_w": 6000.0}))
    assert device_money("msvp", 1008, low).devices_per_rack == 12 * int(6000.0 // (12 * 50.0))  # 10 hosts
    assert site.pue > 1.0
    assert money.energy_mwh_per_year == pytest.approx(50.4e3 * MISC * site.load_factor * site.pue * 8760 / 1e6,
                                                      rel=1e-12)


def test_video_demand_is_the_peak_of_the_daily_hours() -> None:
    """2,400 hours of video a day are 100 streams on average, 200 at a diurnal peak-to-average of 2, 300 with the
    phase's growth of 1.5. Mutant P14 planned for the average."""
    svc = ServiceSpec.model_validate({"name": "v", "kind": "video", "daily_hours": 2400, "peak_to_average": 2.0,
                                      "growth": {"2026": 1.5}})
    assert demand(svc, "2025", 0.0) == pytest.approx(200.0, rel=1e-12)
    assert demand(svc, "2026", 0.0) == pytest.approx(300.0, rel=1e-12)
