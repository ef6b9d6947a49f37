"""hK57: a video fleet's MSVP hosts and CPU transcoders are priced on one network rule, so `compare` of the two
plans and `video` give one ratio (hG57: 22.3x against 19.7x).

Before: a CPU pool got the generic AI back-end Clos at the catalog's 200 Gb/s a socket (62,500 streams on
xeon-8480: 3,346 switches in 4 tiers, 3.83 MW of fabric and misc of 33.81 MW IT) and an MSVP pool nothing. Now both
are host-only pools (`device_money`'s "Network" rule, `device_layout`): no back-end fabric, the host NIC in the host
share, and the catalog's storage / front-end / management share of server power on both."""

from __future__ import annotations

import pytest

from infraplan.catalog.facility_loader import load_network_cost
from infraplan.planning.compare import compare_scenarios
from infraplan.planning.device_money import cost_overrides, device_money, device_site, pool_generic_note
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.video.transcode import estimate_video


def _spec(name: str, device: str, price: float) -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": name, "phases": [{"name": "2025", "year": 2025}],
        "services": [{"name": "video", "kind": "video", "daily_hours": "1M", "input": "1080p30", "ladder": 5,
                      "peak_to_average": 1.5}],
        "pools": [{"name": "p", "device": device, "site": "ohio", "price_usd_per_device": price}],
        "sites": [{"name": "ohio", "power": "1GW", "location": "ohio"}], "policy": {"objective": "tco"}})


def test_compare_and_video_give_one_ratio() -> None:
    """The CPU fleet's facility power over the MSVP fleet's (the same site, PUE and demand) is `video`'s streams per
    platform watt ratio within 0.1 %: the residual is whole servers (30,366.7 MSVP -> 30,372 in hosts of 12,
    59,953.4 sockets -> 59,954 in servers of 2: -0.016 %). Was 22.3x against 19.74x."""
    cmp = compare_scenarios([_spec("msvp", "msvp", 1500), _spec("cpu", "xeon-8480", 10000)])
    msvp, cpu = (p.phases[-1].facility_power_w for p in cmp.scenarios)
    video = estimate_video("msvp", "1080p30", 5, baseline="xeon-8480").baseline
    assert video is not None
    assert cpu / msvp == pytest.approx(video.perf_per_w_ratio, rel=1e-3)


def test_cpu_pool_has_no_back_end_fabric_and_both_carry_misc() -> None:
    """A CPU pool: no switches, tiers or network capex; IT = sockets x (TDP + host share) x (1 + misc), the rule an
    MSVP pool's IT follows (modules x (module + host share) x (1 + misc))."""
    misc = 1.0 + load_network_cost().misc_it_power_fraction
    over = cost_overrides(None, None, 10000.0, None)
    cpu = device_money("xeon-8480", 59954, device_site("xeon-8480", over))
    assert (cpu.switches, cpu.tiers, cpu.capex_usd["network"]) == (0, 0, 0.0)
    assert cpu.it_w == pytest.approx(59954 * (350 + 150) * misc)
    msvp = device_money("msvp", 30372, device_site("msvp", cost_overrides(None, None, 1500.0, None)))
    assert (msvp.switches, msvp.tiers) == (0, 0)
    assert msvp.it_w == pytest.approx(30372 * (10 + 40) * misc)


def test_the_pool_note_says_the_rule() -> None:
    """fleet-mix / plan name the rule on both kinds of pool (a CPU pool's generic node still says "one Ethernet NIC
    per CPU": the note says it is not priced as a fabric)."""
    for device in ("xeon-8480", "msvp"):
        note = pool_generic_note("p", device, None) or ""
        assert "no AI back-end fabric" in note and "misc_it_power_fraction" in note
    assert "back-end" not in (pool_generic_note("p", "mtia-400", None) or "")
