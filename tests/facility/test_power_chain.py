"""Power chain: accelerator draw, server power, rack packing under cooling limits, Clos port counts, IT load."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.catalog.facility_loader import load_cooling
from infraplan.errors import InputError
from infraplan.facility.power_chain import (
    accelerator_power_w,
    clos_switch_ports,
    it_load,
    layout_for_accelerator,
    layout_from_system,
    rack_layout,
    server_power_w,
)


def test_accelerator_draw_runs_from_idle_to_tdp_and_is_monotone():
    h100 = load_accelerator("h100-sxm")
    u = np.linspace(0, 1, 11)
    draw = accelerator_power_w(h100, u)
    assert draw[0] == pytest.approx(h100.idle_power_w)
    assert draw[-1] == pytest.approx(h100.tdp_w)
    assert np.all(np.diff(draw) > 0)
    assert accelerator_power_w(h100, 2.0) == pytest.approx(h100.tdp_w)  # clipped


def test_dgx_h100_server_is_the_10_2_kw_system_maximum():
    layout = layout_from_system(load_system("dgx-h100-superpod"))
    assert float(server_power_w(layout)) == pytest.approx(10_200)
    # Epoch AI's 1.82x GPU TDP server multiplier follows from it
    assert float(server_power_w(layout)) / (8 * 700) == pytest.approx(1.82, abs=0.01)


def test_accelerator_without_a_system_uses_the_epoch_multiplier():
    layout = layout_for_accelerator("mi300x")
    mi300x = load_accelerator("mi300x")
    assert float(server_power_w(layout)) == pytest.approx(1.82 * mi300x.tdp_w * layout.accelerators_per_server)


def test_air_cooling_packs_two_grand_teton_servers_per_rack_like_llama3():
    layout = layout_from_system(load_system("meta-genai-roce-24k"))
    servers, rack_w = rack_layout(layout, load_cooling("air"), "air")
    assert servers * layout.accelerators_per_server == 16
    assert rack_w <= load_cooling("air").max_rack_power_w
    denser, _ = rack_layout(layout, load_cooling("liquid"), "liquid")
    assert denser > servers


def test_nvl72_rack_is_indivisible_and_air_cannot_hold_it():
    layout = layout_from_system(load_system("gb200-nvl72"))
    servers, rack_w = rack_layout(layout, load_cooling("liquid"), "liquid")
    assert servers * layout.accelerators_per_server == 72
    assert 110e3 < rack_w < 135e3
    with pytest.raises(InputError, match=r"30\.0 kW per rack air cooling allows"):
        rack_layout(layout, load_cooling("air"), "air")


def test_rack_power_above_the_cooling_limit_names_the_limit():
    layout = layout_from_system(load_system("meta-rsc"))
    with pytest.raises(InputError, match=r"exceeds the 30\.0 kW"):
        rack_layout(layout, load_cooling("air"), "air", rack_power_w=50e3)
    with pytest.raises(InputError, match="positive"):
        rack_layout(layout, load_cooling("air"), "air", rack_power_w=0.0)


def test_clos_ports_non_blocking_and_oversubscribed():
    # generic non-blocking 3-tier Clos: 5 switch ports per endpoint
    ports, tiers = clos_switch_ports(20_000, (), 1.0, 64)
    assert tiers == 3 and ports == 5 * 20_000
    small, one = clos_switch_ports(40, (), 1.0, 64)
    assert one == 1 and small == 40
    flat = ((16, 1.0), (3072, 1.0), (24576, 1.0))
    over = ((16, 1.0), (3072, 7.0), (24576, 1.0))
    full, _ = clos_switch_ports(24576, flat, 1.0, 64)
    thin, _ = clos_switch_ports(24576, over, 1.0, 64)
    assert thin < full
    # a cluster inside the first tier builds one tier only
    assert clos_switch_ports(8, flat, 1.0, 64) == (8, 1)


def test_it_load_grows_with_count_and_adds_up():
    layout = layout_from_system(load_system("dgx-h100-superpod"))
    cool = load_cooling("air")
    loads = [it_load(layout, n, cool, "air") for n in (8, 256, 4096, 16384)]
    its = [x.it_w for x in loads]
    assert its == sorted(its)
    for x in loads:
        assert x.it_w == pytest.approx(x.accelerators_w + x.hosts_w + x.network_w + x.misc_w)
    assert it_load(layout, 9, cool, "air").servers == 2  # rounded up to whole servers
    with pytest.raises(InputError):
        it_load(layout, 0, cool, "air")


def test_system_fabric_comes_from_the_topology_builder_when_present():
    pytest.importorskip("infraplan.network.topology")
    from infraplan.facility.facility import size_facility

    r = size_facility(system="dgx-h100-superpod")
    assert r["network"]["model"].startswith("topology builder")
    assert r["network"]["switch_ports"] == 5 * 16384  # 3-tier non-blocking: 5 ports per NIC link
