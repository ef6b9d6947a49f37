"""hW6: the campus load's zones priced once (facility/campus_fabric.py `_zone_load`): campuses a whole number of
zones apart hold the same whole zones and the same partial zone, so `it_load` runs once per zone size, and the
answers are the figures `it_load` gives bit for bit; a network catalog read again is priced again. And
`device_layout` gives one layout object per variant (planning/device_money.py), which the memo keys on."""

from __future__ import annotations

import dataclasses

import pytest

from infraplan.catalog.facility_loader import load_cooling
from infraplan.cluster import Cluster
from infraplan.cluster.power import ServerLayout
from infraplan.facility import campus_fabric
from infraplan.planning.device_money import device_layout


def _fresh_layout() -> ServerLayout:
    """H100's generic layout as a new object: no zone of it is kept yet."""
    base = Cluster.resolve("h100-sxm").layout
    return ServerLayout(base.accelerator, base.system, generic=True)


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = campus_fabric.it_load

    def it_load(layout: ServerLayout, accelerators: int, *args: object) -> object:
        calls.append(accelerators)
        return real(layout, accelerators, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(campus_fabric, "it_load", it_load)
    return calls


def test_zones_are_priced_once_per_size_and_equal_it_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """2,048 H100 a zone (k = 64: 2,048 NIC links): 2,504, 4,552 and 6,600 are 1, 2 and 3 whole zones and a
    456-device partial zone. Unkept (before hW6) that is 2 + 2 + 2 = 6 `it_load` runs; kept, 2 (2,048 and 456).
    Each campus equals the one built with every zone computed afresh (the memo emptied before each)."""
    layout, cooling = _fresh_layout(), load_cooling("air")
    assert campus_fabric.zone_accelerators(layout) == 2048
    calls = _counted(monkeypatch)
    kept = [campus_fabric.campus_load(layout, n, cooling, "air") for n in (2504, 4552, 6600)]
    assert calls == [2048, 456]  # the first campus's two zones; the others hold the same
    assert [load.accelerators for load in kept] == [2504, 4552, 6600]
    for n, load in zip((2504, 4552, 6600), kept, strict=True):
        campus_fabric._ZONE_LOADS.clear()
        afresh = campus_fabric.campus_load(layout, n, cooling, "air")
        assert dataclasses.asdict(afresh) == dataclasses.asdict(load)  # bit for bit, every field


def test_another_cooling_or_a_catalog_read_again_is_priced_again(monkeypatch: pytest.MonkeyPatch) -> None:
    layout, air = _fresh_layout(), load_cooling("air")
    calls = _counted(monkeypatch)
    campus_fabric.campus_load(layout, 100, air, "air")
    campus_fabric.campus_load(layout, 100, air, "air")
    assert calls == [100]
    campus_fabric.campus_load(layout, 100, load_cooling("liquid"), "liquid")
    assert calls == [100, 100]
    net = campus_fabric.load_network_cost()
    monkeypatch.setattr(campus_fabric, "load_network_cost", lambda: net.model_copy())  # a new catalog object
    campus_fabric.campus_load(layout, 100, air, "air")
    assert calls == [100, 100, 100]


def test_device_layout_is_one_object_per_variant() -> None:
    """A system preset priced within its size is on its own fabric (hP73), past it on the generic fabric; a pool's
    host share replaces the node's: each variant is built once, with the fields it had when built on every call."""
    system = Cluster.resolve("gb300-nvl72-superpod").layout
    size = system.system.total_accelerators
    assert device_layout("gb300-nvl72-superpod", 5) is system and device_layout("gb300-nvl72-superpod", size) is system
    past_5, past_7 = device_layout("gb300-nvl72-superpod", size + 5), device_layout("gb300-nvl72-superpod", size + 7)
    assert past_5 is past_7 and past_5 is not system and past_5.generic and not system.generic
    assert past_5.system is system.system and past_5.accelerator is system.accelerator
    host = device_layout("gb300-nvl72-superpod", size + 5, host_power_w=500.0)
    assert host is device_layout("gb300-nvl72-superpod", size + 9, host_power_w=500.0) and host is not past_5
    assert host.generic and host.host_power_w == 500.0 * system.accelerators_per_server
    within = device_layout("gb300-nvl72-superpod", 9, host_power_w=400.0)
    assert within.host_power_w == 400.0 * 4 and not within.generic and within is not system
    h100 = Cluster.resolve("h100-sxm").layout  # an accelerator preset is generic already: its own layout
    assert device_layout("h100-sxm", 3) is h100


def _interconnect_afresh(uplinks: int, port_bytes_per_s: float, kind: str) -> campus_fabric.CampusInterconnect:
    """The aggregation tier as built before hW6, every uplink count on its own (the oracle)."""
    from infraplan.catalog.network_price_loader import load_link_catalog, load_switch_catalog
    from infraplan.catalog.schemas import Network, Node, System
    from infraplan.cluster.generic import clos_tiers
    from infraplan.network.costs import bill_of_materials
    from infraplan.network.topology import build_topology

    node = Node(accelerators_per_node=1, scale_up_domain=1, nics_per_node=1, nic_bandwidth_bytes_per_s=port_bytes_per_s)
    tiers, built = clos_tiers(uplinks, node, campus_fabric.load_network_cost().default_switch_radix)
    system = System(name="campus-aggregation", display_name="campus aggregation", source="campus_fabric.py",
                    accelerator="campus-uplink", total_accelerators=built, node=node,
                    network=Network(kind=kind, tiers=tiers, rail_optimized=True,  # type: ignore[arg-type]
                                    collective_efficiency=1.0))
    topo = build_topology(system, gpus=built)
    rows = bill_of_materials(topo)["tiers"]
    core, layers = (rows[1:], topo.tiers[1:]) if len(rows) > 1 else (rows, topo.tiers)
    per_port = load_switch_catalog().per_port
    scale = port_bytes_per_s / per_port.reference_port_bandwidth_bytes_per_s
    optics = load_link_catalog().at(port_bytes_per_s)
    dac = 0 if len(rows) > 1 or topo.rail_optimized else 2 * uplinks
    return campus_fabric.CampusInterconnect(
        uplinks=uplinks, tiers=len(layers), switches=sum(t.switches for t in layers),
        switch_ports=sum(t.switches * (t.down_ports + t.up_ports) for t in layers) + uplinks,
        power_w=sum(r["power_w"] for r in core) + uplinks * per_port.power_w * scale + dac * optics.transceiver_power_w,
        capex_usd=sum(r["capex_usd"] for r in core) + uplinks * per_port.usd * scale + dac * optics.transceiver_usd)


def test_uplink_counts_share_their_aggregation_clos_bit_for_bit() -> None:
    """The aggregation Clos depends on the uplinks only through (tiers, built): 5,000 and 5,001 uplinks (radix 64:
    three tiers, built rounded up to whole domains) build it once; every count's tier equals the one built afresh.
    (hB66: `_interconnect` takes the zones' radix, H100's 64, the default radix the oracle builds at.)"""
    layout = Cluster.resolve("h100-sxm").layout
    port, kind = layout.nic_bandwidth_bytes_per_s, layout.system.network.kind
    campus_fabric._aggregation.cache_clear()
    campus_fabric._interconnect.cache_clear()
    for uplinks in (5000, 5001):
        assert campus_fabric._interconnect(uplinks, port, kind, 64) == _interconnect_afresh(uplinks, port, kind)
    info = campus_fabric._aggregation.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    for uplinks in (2, 64, 65, 100, 1000, 33000, 60001):
        assert campus_fabric._interconnect(uplinks, port, kind, 64) == _interconnect_afresh(uplinks, port, kind)
