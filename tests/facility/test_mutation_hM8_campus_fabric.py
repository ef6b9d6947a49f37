"""hM8 (mutation wave 8): a campus's aggregation uplinks and tiers by hand (facility/campus_fabric.py).

Each zone of H100 (8 NICs per 8-GPU server, radix-64 switches) holds 64^2 / 2 = 2,048 NIC links: 2,048 GPUs in 256
servers. It sends ceil(2,048 / 7) = 293 links up (1:7, Llama 3 Sec. 3.3.1; 2,048 / 7 = 292.57, rounded up, not
down). The aggregation is the folded radix-64 Clos over the uplinks whose first tier is the zones' own spines: a
Clos holds 64 endpoints in one tier, 64^2 / 2 = 2,048 in two, more in three; so the tiers above the zones are the
Clos's tiers less one, and the campus's network tiers are the zone's two plus those.
"""

from __future__ import annotations

import pytest

from infraplan.cluster import Cluster
from infraplan.cluster.cost import site_inputs
from infraplan.cluster.power import it_load
from infraplan.facility.campus_fabric import campus_load, interconnect, zone_accelerators, zone_uplinks


@pytest.fixture(scope="module")
def h100():
    layout = Cluster.for_accelerator("h100-sxm").layout
    site = site_inputs(layout)
    zone = it_load(layout, 2048, site.cooling, site.cooling_name)
    return layout, site, zone


def test_a_zone_sends_its_nic_links_over_seven_rounded_up(h100) -> None:
    layout, _, zone = h100
    assert zone_accelerators(layout) == 2048 and zone.servers == 256 and layout.nics_per_server == 8
    assert zone_uplinks(zone, layout) == 293  # ceil(2,048 / 7), not 292
    assert interconnect([(zone, 10)], layout).uplinks == 2930
    assert interconnect([(zone, 2)], layout).uplinks == 586


@pytest.mark.parametrize(("zones", "uplinks", "tiers"), [(2, 586, 3), (10, 2930, 4)])
def test_the_campus_counts_the_zones_tiers_and_the_aggregation_tiers_above_them(h100, zones: int, uplinks: int,
                                                                                tiers: int) -> None:
    layout, site, zone = h100
    assert zone.network_tiers == 2  # the zone: a two-stage non-blocking Clos
    campus = campus_load(layout, zones * 2048, site.cooling, site.cooling_name)
    # 586 uplinks: a two-tier Clos, one tier above the spines; 2,930 (> 2,048): three tiers, two above
    said = "1 aggregation tier" if tiers == 3 else f"{tiers - 2} aggregation tiers"  # hU69: no "tier(s)"
    assert f"by {said} over {uplinks:,} uplinks" in campus.network_model
    assert campus.network_tiers == tiers
