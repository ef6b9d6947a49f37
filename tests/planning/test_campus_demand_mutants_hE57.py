"""Hand mutants over the older core (hE, session 57): a campus's phases, a service's planned demand, a video
pool's facility.

Each test fails on a one-line mutant that the mirrored tests let through (validation/notes/product_review_tried.md,
"hE (session 57)") and asserts a definition, not the current output."""

from __future__ import annotations

import pytest

from infraplan.catalog.facility_loader import load_network_cost
from infraplan.cluster.cost import CostOverrides
from infraplan.planning.campus import plan_campus
from infraplan.planning.device_money import device_money, device_site
from infraplan.planning.scenario_sizing import demand
from infraplan.planning.scenario_spec import ServiceSpec

MISC = 1.0 + load_network_cost().misc_it_power_fraction  # hK57: + storage / front-end / management, as every pool


def test_a_phase_brings_online_the_whole_servers_nearest_its_share() -> None:
    """planning/campus.py: phases bring whole packing units online (an 8-GPU HGX H100 server here), each phase the
    units nearest its cumulative share less those already built, so the phases add up to the campus. 0.72 MW holds
    56 servers; 30 % of them is 16.8, so the first phase brings 17 servers (136 GPUs), the second the other 39.
    Mutant P4 (hE57): the cumulative share truncated (16 servers, 128 GPUs) instead of rounded. (0.7 MW until hB66,
    whose optical NIC links of the generic H100 rail units leave 55 servers there: 16.5, no rounding case.)"""
    plan = plan_campus(0.72e6, "h100-sxm", phases="2026:0.3,2027:0.7")
    servers = plan.accelerators // 8
    assert plan.facility.servers == servers == 56
    assert 0.3 * servers % 1 > 0.5  # the case that tells rounding from truncation
    first = round(0.3 * servers)  # 17
    assert [p.accelerators for p in plan.phases] == [first * 8, (servers - first) * 8]
    assert sum(p.accelerators for p in plan.phases) == plan.accelerators


def test_the_headroom_is_a_margin_on_the_grown_demand() -> None:
    """planning/scenario_spec.py: a service's `growth` multiplies its serving demand per phase, the policy's
    `headroom` is a margin on the demand (0.2 = +20 %), so the planned demand is base x growth x (1 + headroom).
    2,400 video hours a day at a peak-to-average of 2 are 200 streams at peak; x 1.5 growth in 2026 is 300, +20 %
    is 360. Mutant Q1 (hE57): growth + headroom (200 x 1.7 = 340), the same wherever growth is 1."""
    svc = ServiceSpec.model_validate({"name": "v", "kind": "video", "daily_hours": 2400, "peak_to_average": 2.0,
                                      "growth": {"2026": 1.5}})
    assert demand(svc, "2025", 0.2) == pytest.approx(200.0 * 1.2, rel=1e-12)
    assert demand(svc, "2026", 0.2) == pytest.approx(300.0 * 1.2, rel=1e-12)


def test_a_video_pools_facility_is_priced_on_its_modules_and_hosts() -> None:
    """cluster/cost.py: the facility's capex is peak IT watts x the build type's $/W of critical load; a video
    pool's IT load is its modules and their hosts (planning/device_money.py: MSVP 10 W a module + a 40 W host share,
    12 modules a host: 1,000 asked are 84 hosts, 1,008 modules, 50.4 kW). Mutant V8 (hE57): the facility sized on
    the modules' 10 W alone (a fifth of the plant the hosts need)."""
    site = device_site("msvp", CostOverrides())
    money = device_money("msvp", 1000, site)
    assert money.devices == 1008 and money.it_w == pytest.approx(1008 * 50.0 * MISC, rel=1e-12)
    assert money.capex_usd["facility"] == pytest.approx(1008 * 50.0 * MISC * site.facility_usd_per_w, rel=1e-12)
    assert site.facility_usd_per_w > 0
