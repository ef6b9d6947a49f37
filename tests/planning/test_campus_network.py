"""A campus is non-blocking zones joined at 1:7 (facility/campus_fabric.py): the network share stays inside the
published bounds at every size, and the accelerator count scales with power."""

from __future__ import annotations

import pytest

from infraplan.cluster import Cluster
from infraplan.cluster.cost import site_inputs
from infraplan.cluster.power import it_load
from infraplan.facility.campus_fabric import CAMPUS_OVERSUBSCRIPTION, campus_load, zone_accelerators
from infraplan.planning.campus import plan_campus

SIZES_W = (0.1e9, 1e9, 2e9, 5e9)


def network_share_of_hardware_and_energy(plan) -> float:
    """Annualised network / (annualised servers + network + electricity): Cottier et al. 2024's 9-13 %."""
    a = plan.facility.annualized_capex_usd_per_year
    energy = plan.facility.opex_breakdown_usd_per_year["electricity"]
    return a["network"] / (a["servers"] + a["network"] + energy)


@pytest.fixture(scope="module")
def h100_campuses():
    return {w: plan_campus(w, "h100-sxm") for w in SIZES_W}


def test_h100_network_share_is_inside_the_published_band_at_every_size(h100_campuses):
    # Cottier et al. 2024 (arXiv 2405.21015): cluster-level interconnect 9-13 % of hardware + energy cost
    # (shared/reference/datacenter.md 2.5); the 0.1 GW campus needs one aggregation tier less (8 %)
    shares = {w: network_share_of_hardware_and_energy(p) for w, p in h100_campuses.items()}
    assert all(0.075 <= s <= 0.13 for s in shares.values()), shares
    assert max(shares.values()) / min(shares.values()) < 1.15  # no growth with size (was 14 % -> 28 % of servers)


def test_network_power_share_stays_inside_epochs_it_over_servers(h100_campuses):
    # Epoch AI: all IT = 1.14 x servers (network, storage, misc) -> the network is at most 1 - 1/1.14 = 12 % of IT
    for plan in h100_campuses.values():
        p = plan.facility.power_breakdown_w
        assert 0.03 <= p["network"] / plan.facility.it_power_w <= 0.123
        assert plan.facility.it_power_w / (p["accelerators"] + p["hosts"]) == pytest.approx(1.14, rel=0.05)


@pytest.mark.parametrize("accelerator", ["h100-sxm", "gb200"])
def test_five_gigawatts_hold_five_times_the_accelerators_of_one(accelerator):
    one, five = plan_campus(1e9, accelerator), plan_campus(5e9, accelerator)
    assert five.accelerators / one.accelerators == pytest.approx(5.0, rel=0.02)
    share_one = one.capex_usd["network"] / one.capex_usd["servers"]
    share_five = five.capex_usd["network"] / five.capex_usd["servers"]
    assert share_five == pytest.approx(share_one, rel=0.05)  # no extra fabric tier per accelerator at 5 GW


def test_a_zone_is_the_two_stage_clos_and_zones_join_at_one_to_seven():
    layout = Cluster.for_accelerator("h100-sxm").layout
    site = site_inputs(layout)
    assert zone_accelerators(layout) == 2048  # radix 64: 64^2 / 2 NIC links, one per H100
    one_zone = campus_load(layout, 2048, site.cooling, site.cooling_name)
    alone = it_load(layout, 2048, site.cooling, site.cooling_name)
    assert one_zone.network_capex_usd == alone.network_capex_usd  # one zone: no aggregation tier
    ten = campus_load(layout, 10 * 2048, site.cooling, site.cooling_name)
    aggregation_usd = ten.network_capex_usd - 10 * alone.network_capex_usd
    assert aggregation_usd > 0 and "1:7" in ten.network_model
    # each zone sends 2,048 / 7 links up: the aggregation costs well under the zones' own fabrics
    assert aggregation_usd < 10 * alone.network_capex_usd / CAMPUS_OVERSUBSCRIPTION * 4
    assert ten.accelerators == 10 * 2048 and ten.switches > 10 * alone.switches
