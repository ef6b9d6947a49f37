"""Power chain: accelerator draw, server power, rack packing under cooling limits, Clos port counts, IT load."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.facility_loader import load_cooling
from infraplan.cluster import Cluster
from infraplan.cluster.power import accelerator_power_w, it_load, rack_fit, server_power_w
from infraplan.errors import InputError
from infraplan.facility.facility import size_facility


def layout_from_system(name):
    return Cluster.resolve(name).layout


def layout_for_accelerator(name, count=8):
    return Cluster.for_accelerator(name, count).layout


def test_accelerator_draw_runs_from_idle_to_tdp_and_is_monotone():
    h100 = load_accelerator("h100-sxm")
    u = np.linspace(0, 1, 11)
    draw = accelerator_power_w(h100, u)
    assert draw[0] == pytest.approx(h100.idle_power_w)
    assert draw[-1] == pytest.approx(h100.tdp_w)
    assert np.all(np.diff(draw) > 0)
    assert accelerator_power_w(h100, 2.0) == pytest.approx(h100.tdp_w)  # clipped


def test_dgx_h100_server_is_the_10_2_kw_system_maximum():
    layout = layout_from_system("dgx-h100-superpod")
    assert float(server_power_w(layout)) == pytest.approx(10_200)
    # Epoch AI's 1.82x GPU TDP server multiplier follows from it
    assert float(server_power_w(layout)) / (8 * 700) == pytest.approx(1.82, abs=0.01)


def test_accelerator_without_a_system_uses_the_epoch_multiplier():
    # h800: a GPU with no catalog system nor host figure (MI325X carries its MI300X node's since hG2, session 37)
    layout = layout_for_accelerator("h800")
    h800 = load_accelerator("h800")
    assert float(server_power_w(layout)) == pytest.approx(1.82 * h800.tdp_w * layout.accelerators_per_server)


def test_air_cooling_packs_two_grand_teton_servers_per_rack_like_llama3():
    layout = layout_from_system("meta-genai-roce-24k")
    fit = rack_fit(layout, load_cooling("air"), "air")
    servers, rack_w = fit.servers_per_rack, fit.rack_power_w
    assert servers * layout.accelerators_per_server == 16
    assert rack_w <= load_cooling("air").max_rack_power_w
    denser = rack_fit(layout, load_cooling("liquid"), "liquid").servers_per_rack
    assert denser > servers


def test_nvl72_rack_is_indivisible_and_air_cannot_hold_it():
    layout = layout_from_system("gb200-nvl72")
    fit = rack_fit(layout, load_cooling("liquid"), "liquid")
    servers, rack_w = fit.servers_per_rack, fit.rack_power_w
    assert servers * layout.accelerators_per_server == 72
    assert 110e3 < rack_w < 135e3
    with pytest.raises(InputError, match=r"30\.0 kW per rack air cooling allows"):
        rack_fit(layout, load_cooling("air"), "air")


def test_rack_power_above_the_cooling_limit_names_the_limit():
    layout = layout_from_system("meta-rsc")
    with pytest.raises(InputError, match=r"exceeds the 30\.0 kW"):
        rack_fit(layout, load_cooling("air"), "air", rack_power_w=50e3)
    with pytest.raises(InputError, match="positive"):
        rack_fit(layout, load_cooling("air"), "air", rack_power_w=0.0)


def test_generic_fabric_is_the_topology_builders_non_blocking_clos():
    # a plain count gets the k-ary fat tree of the default radix (64): 2L - 1 switch ports per NIC link
    one = size_facility(accelerator="h100-sxm", count=64).network
    assert one.tiers == 1 and one.switch_ports == 64 and one.switches == 1  # every NIC link on one switch
    two = size_facility(accelerator="h100-sxm", count=128).network
    assert two.tiers == 2 and two.switch_ports == 3 * 128  # leaves of 32 links down, 32 up, and spines
    layout, cool = Cluster.for_accelerator("h100-sxm").layout, load_cooling("air")
    mid = it_load(layout, 20_480, cool, "air")  # the builder alone: one non-blocking Clos of any size
    assert mid.network_tiers == 3 and mid.switch_ports == 5 * 20_480 and mid.fabric_accelerators == 20_480
    # a count that is not whole pods: the fabric is built for whole domains below the top (a little more); hB66:
    # whole DGX SuperPOD scalable units of 256 H100 (dgx-h100-superpod.yaml's leaf group, the generic leaf unit),
    # 12 for 375 servers (11.7 units), where leaves of 32 (3,008) were built before
    odd = it_load(layout, 3000, cool, "air")
    assert odd.fabric_accelerators == 12 * 256
    assert odd.network_model.startswith("topology builder")


def test_facility_builds_the_campus_zones_above_one_zone():
    # above k^2/2 = 2,048 NIC links `facility` builds what `campus` builds (facility/campus_fabric.py): whole
    # zones of 2,048 H100 joined at 1:7 by an aggregation tier, cheaper than one non-blocking Clos
    zoned = size_facility(accelerator="h100-sxm", count=20_480)
    assert zoned.network.model.startswith("10 non-blocking zones") and "1:7" in zoned.network.model
    assert zoned.network.fabric_accelerators == 20_480
    layout, cool = Cluster.for_accelerator("h100-sxm").layout, load_cooling(zoned.cooling)
    one_clos = it_load(layout, 20_480, cool, zoned.cooling)
    assert zoned.network.switch_ports < one_clos.switch_ports
    assert zoned.power_breakdown_w["network"] < one_clos.network_w


def test_oversubscription_above_the_pod_saves_switch_ports():
    full = size_facility(system="meta-genai-ib-24k").network
    thin = size_facility(system="meta-genai-roce-24k").network  # 1:7 above each 3,072-GPU pod
    assert thin.switch_ports < full.switch_ports


def test_it_load_grows_with_count_and_adds_up():
    layout = layout_from_system("dgx-h100-superpod")
    cool = load_cooling("air")
    loads = [it_load(layout, n, cool, "air") for n in (8, 256, 4096, 16384)]
    its = [x.it_w for x in loads]
    assert its == sorted(its)
    for x in loads:
        assert x.it_w == pytest.approx(x.accelerators_w + x.hosts_w + x.network_w + x.misc_w)
    assert it_load(layout, 9, cool, "air").servers == 2  # rounded up to whole servers
    with pytest.raises(InputError):
        it_load(layout, 0, cool, "air")


def test_system_fabric_comes_from_the_topology_builder():
    r = size_facility(system="dgx-h100-superpod")
    assert r.network.model.startswith("topology builder")
    assert r.network.switch_ports == 5 * 16384  # 3-tier non-blocking: 5 ports per NIC link
