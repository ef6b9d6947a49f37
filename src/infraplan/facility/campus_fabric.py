"""The IT load of a campus, and of any generic cluster larger than one zone: non-blocking zones, each with its own
fabric, joined by an oversubscribed aggregation tier.

A gigawatt campus is not one non-blocking fabric. Meta's "AI zone" is a non-blocking two-stage Clos (rack switch
-> cluster switch) of 2-4K GPUs, and the aggregation tier (ATSW) that joins zones is oversubscribed (Gangidi et
al., "RDMA over Ethernet for Distributed AI Training at Meta Scale", SIGCOMM 2024; a building holds 4 data halls
of up to 2 zones); the Llama 3 cluster joins its 3,072-GPU full-bisection pods with 1:7 oversubscription at the
aggregation layer and keeps TP/CP/PP inside the pods (Llama 3 paper, arXiv:2407.21783, Sec. 3.3.1). So a campus
of any size is built as:

- zones: the largest two-stage non-blocking Clos of switch radix k holds k^2/2 NIC links (2,048 at k = 64, inside
  Meta's 2-4K; 10,368 at the Quantum-X800 Q3400's k = 144, the two-tier limit gb200-nvl72.yaml and dgx-b300.yaml
  give their spine), k the radix the zone's own fabric is built of (`generic.fabric_radix`: the part's reference
  system's leaf; the default radix without one; hB66, the default 64 before, while the zone's fabric took 144),
  i.e. the most whole packing units whose NIC links fit; each zone gets the fabric
  `facility` builds for that count (the generic non-blocking Clos of cluster/generic.py), and a partial zone
  takes the rest. Per-accelerator network cost and power therefore do not grow with the campus;
- aggregation: each zone sends its NIC links / CAMPUS_OVERSUBSCRIPTION (1:7, the Llama 3 figure) up; the zones'
  spine switches are the leaves of one non-blocking folded Clos of radix k over those uplinks (the tier
  arithmetic of cluster/generic.py, network/topology.py's builder), so the aggregation is the tiers above them.
  Every aggregation link is optical (a transceiver at each end plus fibre); the uplink ports on the zone spines
  are priced at the switch catalog's per-port share; switches, optics and power are the network layer's bill of
  materials (network/costs.py), the one `network` and `facility` print.

One zone has no aggregation tier. `campus_load` returns the whole campus as one `ITLoad`, so the facility report
(capex, power, carbon) reads it as it reads a single cluster. It is the one fabric every command builds for a plain
accelerator count (a generic layout): `campus` (planning/campus.py), `facility --accelerator --count`
(facility/facility.py) and `plan`'s pools (planning/pool_money.py), so the same accelerators give one IT power and
one network bill in all three. A catalog system keeps its own fabric (`it_load`). Buildings (economics.yaml: ~50 MW
of IT each) are a count of floor space and power; the fabric crosses them at the aggregation tier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

from infraplan.catalog.facility_loader import CoolingType, load_network_cost
from infraplan.catalog.network_price_loader import load_link_catalog, load_switch_catalog
from infraplan.catalog.schemas import Network, NetworkTier, Node, System
from infraplan.cluster.generic import clos_tiers, fabric_radix
from infraplan.cluster.power import ITLoad, ServerLayout, it_load
from infraplan.identity_memo import IdentityMemo
from infraplan.network.costs import bill_of_materials
from infraplan.network.topology import build_topology
from infraplan.units import counted

CAMPUS_OVERSUBSCRIPTION = 7.0  # zone NIC links per aggregation uplink: Llama 3 Sec. 3.3.1's 1:7 above the pod
# `_zone_load`'s, by layout: at most a zone's packing units per layout (2,048 H100 in 8-GPU servers: 256)
_ZONE_LOADS: IdentityMemo[tuple[tuple[object, ...], ITLoad]] = IdentityMemo(4096)
_ZONE_LAYOUTS: IdentityMemo[ServerLayout] = IdentityMemo(64)  # `zone_layout`'s, by the campus's layout


@dataclass(frozen=True)
class CampusInterconnect:
    """The aggregation tier joining the zones: uplinks, switches, ports, power and capex."""

    uplinks: int
    tiers: int
    switches: int
    switch_ports: int
    power_w: float
    capex_usd: float


NO_INTERCONNECT = CampusInterconnect(0, 0, 0, 0, 0.0, 0.0)


def zone_accelerators(layout: ServerLayout) -> int:
    """Accelerators of one zone: the most whole packing units whose NIC links fit a two-stage non-blocking Clos
    of the radix its fabric is built of (k^2/2 links; `generic.fabric_radix`, hB66: GB200 144, not the default 64),
    at least one unit; a catalog system's whole size where a count past it (`layout.outgrown`) is built of copies of
    it (`zone_layout`)."""
    radix = fabric_radix(layout.system.network)
    unit = layout.packing_unit_accelerators
    links_per_unit = unit // layout.accelerators_per_server * layout.nics_per_server
    generic = max(1, radix * radix // 2 // max(links_per_unit, 1)) * unit
    own = layout.outgrown
    return own.total_accelerators if own is not None and own.total_accelerators > generic else generic


def zone_layout(layout: ServerLayout) -> ServerLayout:
    """The layout each zone of `layout`'s campus is built on: the outgrown catalog system's own (its tiers built for
    the zone's count, as `network SYSTEM --gpus N`) where its size is the zone (`zone_accelerators`), else `layout`.

    A system larger than a generic zone is one fabric its source builds whole: dgx-h100-superpod's 16,384 H100 on a
    non-blocking 3-tier NDR Clos of 1,280 QM9700 (NVIDIA's DGX SuperPOD H100 reference architecture), Meta's 24k
    clusters (Gangidi et al., SIGCOMM 2024). Past its size the count is that system again, whole, plus the rest on
    its tiers, joined at 1:7 as every campus joins its zones; built of 2,048-GPU generic zones joined at 1:7, the
    16,392 H100 one server past it took 907 switches, 3.4 % less capex than the 16,384 (hP73): a fabric with less
    bisection, priced below the system it grew from. A system within one generic zone (a DGX B200 of 256) is inside
    the zone's non-blocking Clos already, which costs more past its size than at it."""
    own = layout.outgrown
    if own is None or zone_accelerators(layout) != own.total_accelerators:
        return layout
    kept = _ZONE_LAYOUTS.get(layout, ())
    if kept is None:
        system = own if own.node is layout.system.node else own.model_copy(update={"node": layout.system.node})
        kept = _ZONE_LAYOUTS.put(layout, (), ServerLayout(layout.accelerator, system))
    return kept


def outgrown_fabric(layout: ServerLayout) -> str:
    """What a count past a catalog system's size is built on (`zone_layout`), as `facility --count` and `plan`'s
    pools say it: whole copies of the system on its own tiers, else its node on the generic Clos."""
    own = layout.outgrown
    if own is not None and zone_layout(layout) is not layout:
        return (f"whole copies of its {own.total_accelerators:,} on its own tiers and the rest on them, joined at "
                f"1:{CAMPUS_OVERSUBSCRIPTION:g} as `campus` joins its zones")
    return "its node on the generic Clos"


def zone_uplinks(load: ITLoad, layout: ServerLayout) -> int:
    """Aggregation uplinks of one zone: its NIC links / CAMPUS_OVERSUBSCRIPTION, rounded up."""
    return math.ceil(load.servers * layout.nics_per_server / CAMPUS_OVERSUBSCRIPTION)


@dataclass(frozen=True)
class _Aggregation:
    """The aggregation tiers of a Clos (`_aggregation`): the bill of materials' tier rows, whether its endpoint
    links are rail-optimised, and the tiers above the zones' spines with their switches, ports, power and capex."""

    rows: int
    rail_optimized: bool
    tiers: int
    switches: int
    switch_ports: int
    power_w: float
    capex_usd: float


@lru_cache(maxsize=256)
def _aggregation(tiers: tuple[NetworkTier, ...], built: int, port_bytes_per_s: float, kind: str) -> _Aggregation:
    """The folded Clos `clos_tiers` gives (its tiers, built for `built` endpoints) as the topology builder and the
    network layer's bill of materials build it, the tiers above the buildings' top switches. It depends on the
    uplinks only through (tiers, built), which many uplink counts share (`built` is rounded up to whole domains
    below the top), so it is built once for them."""
    node = Node(accelerators_per_node=1, scale_up_domain=1, nics_per_node=1,
                nic_bandwidth_bytes_per_s=port_bytes_per_s)
    # rail_optimized: the endpoint links leave the zone's rows, so they are optical (network/costs.py)
    system = System(name="campus-aggregation", display_name="campus aggregation", source="campus_fabric.py",
                    accelerator="campus-uplink", total_accelerators=built, node=node,
                    network=Network(kind=kind, tiers=list(tiers), rail_optimized=True,  # type: ignore[arg-type]
                                    collective_efficiency=1.0))
    topo = build_topology(system, gpus=built)
    rows = bill_of_materials(topo)["tiers"]
    core = rows[1:] if len(rows) > 1 else rows  # above the buildings' top switches
    layers = topo.tiers[1:] if len(rows) > 1 else topo.tiers
    return _Aggregation(
        rows=len(rows), rail_optimized=topo.rail_optimized, tiers=len(layers),
        switches=sum(t.switches for t in layers),
        switch_ports=sum(t.switches * (t.down_ports + t.up_ports) for t in layers),
        power_w=sum(r["power_w"] for r in core), capex_usd=sum(r["capex_usd"] for r in core))


@lru_cache(maxsize=256)
def _interconnect(uplinks: int, port_bytes_per_s: float, kind: str, radix: int) -> CampusInterconnect:
    """The zones' spine switches joined by the upper tiers of a non-blocking folded Clos over `uplinks` ports.

    The Clos is built over the uplinks as endpoints; its leaf tier is the zones' own spines (their up ports are
    the uplinks, priced at the switch catalog's per-port share), so the aggregation is the tiers above and the
    links into them (optical: transceiver pair plus fibre, `_aggregation`). A single switch takes the uplinks
    directly. `radix`: the zones' own switches' (`zone_accelerators`).
    """
    node = Node(accelerators_per_node=1, scale_up_domain=1, nics_per_node=1,
                nic_bandwidth_bytes_per_s=port_bytes_per_s)
    tiers, built = clos_tiers(uplinks, node, radix)
    agg = _aggregation(tuple(tiers), built, port_bytes_per_s, kind)
    per_port = load_switch_catalog().per_port
    port_scale = port_bytes_per_s / per_port.reference_port_bandwidth_bytes_per_s
    optics = load_link_catalog().at(port_bytes_per_s)
    unpriced_optics = 0 if agg.rows > 1 or agg.rail_optimized else 2 * uplinks  # DAC-priced endpoint links
    return CampusInterconnect(
        uplinks=uplinks, tiers=agg.tiers, switches=agg.switches, switch_ports=agg.switch_ports + uplinks,
        power_w=agg.power_w + uplinks * per_port.power_w * port_scale + unpriced_optics * optics.transceiver_power_w,
        capex_usd=agg.capex_usd + uplinks * per_port.usd * port_scale + unpriced_optics * optics.transceiver_usd)


def interconnect(zones: list[tuple[ITLoad, int]], layout: ServerLayout) -> CampusInterconnect:
    """The aggregation tier joining the zones, given as (zone load, how many such zones); none for a single
    zone or servers without NICs."""
    if sum(n for _, n in zones) < 2 or layout.nics_per_server == 0:
        return NO_INTERCONNECT
    uplinks = sum(n * zone_uplinks(z, layout) for z, n in zones)
    return _interconnect(uplinks, layout.nic_bandwidth_bytes_per_s, layout.system.network.kind,
                         fabric_radix(layout.system.network))


def _zone_load(layout: ServerLayout, accelerators: int, cooling: CoolingType, cooling_name: str,
               rack_power_w: float | None) -> ITLoad:
    """`it_load` of one zone of `accelerators`, computed once per layout, size, cooling and rack cap: every campus
    past one zone holds the same whole zones, and campuses a whole number of zones apart the same partial zone (a
    planner pricing every count of a pool asks for each at every count). Kept by the layout's identity (a frozen
    ServerLayout, `identity_memo`), and by the cooling type and the network catalogs it was priced with (held with
    the load, compared by `is`: a catalog read again is priced again), so the value is `it_load`'s own object: the
    same figures, bit for bit."""
    key = (accelerators, cooling_name, rack_power_w)
    inputs = (cooling, load_network_cost(), load_switch_catalog(), load_link_catalog())
    kept = _ZONE_LOADS.get(layout, key)
    if kept is not None and all(a is b for a, b in zip(kept[0], inputs, strict=True)):
        return kept[1]
    load = it_load(layout, accelerators, cooling, cooling_name, rack_power_w)
    return _ZONE_LOADS.put(layout, key, (inputs, load))[1]


def zone_sizes(layout: ServerLayout, accelerators: int) -> list[tuple[int, int]]:
    """(accelerators per zone, zones) of a campus of `accelerators`: whole zones, then one partial zone."""
    per_zone = zone_accelerators(layout)
    full, rest = divmod(accelerators, per_zone)
    return ([(per_zone, full)] if full else []) + ([(rest, 1)] if rest else [])


def rack_fills(layout: ServerLayout, load: ITLoad) -> list[tuple[int, int]]:
    """(servers in a rack, racks) of a built load (`built_load`), fullest first: each zone (a catalog system: the
    whole system) fills racks of `load.servers_per_rack` servers and puts the rest of its servers in one last rack."""
    zones = zone_sizes(layout, load.accelerators) if zoned(layout) else [(load.accelerators, 1)]
    racks: dict[int, int] = {}
    for accelerators, n in zones:
        full, rest = divmod(-(-accelerators // layout.accelerators_per_server), load.servers_per_rack)
        for servers, count in ((load.servers_per_rack, full * n), (rest, n if rest else 0)):
            if count:
                racks[servers] = racks.get(servers, 0) + count
    return sorted(racks.items(), reverse=True)


def campus_load(layout: ServerLayout, accelerators: int, cooling: CoolingType, cooling_name: str,
                rack_power_w: float | None = None) -> ITLoad:
    """IT load of a campus of `accelerators`: whole zones plus one partial zone, and the aggregation tier.
    `rack_power_w` caps the rack as in `it_load`."""
    per_zone, built_on = zone_accelerators(layout), zone_layout(layout)
    zones = [(_zone_load(built_on, size, cooling, cooling_name, rack_power_w), n)
             for size, n in zone_sizes(layout, accelerators)]
    dci = interconnect(zones, built_on)  # the outgrown system's kind and radix where it is the zone
    first = zones[0][0]
    count = sum(n for _, n in zones)

    def total(field: str) -> float:
        return float(sum(n * getattr(z, field) for z, n in zones))

    load = replace(
        first,
        accelerators=int(total("accelerators")), servers=int(total("servers")), racks=int(total("racks")),
        accelerators_w=total("accelerators_w"), hosts_w=total("hosts_w"), misc_w=total("misc_w"),
        scale_up_switches_w=total("scale_up_switches_w"),
        network_w=total("network_w") + dci.power_w, network_capex_usd=total("network_capex_usd") + dci.capex_usd,
        switch_ports=int(total("switch_ports")) + dci.switch_ports, switches=int(total("switches")) + dci.switches,
        network_tiers=max(z.network_tiers for z, _ in zones) + dci.tiers,
        fabric_accelerators=int(total("fabric_accelerators")),
        network_catalog_priced=tuple(sorted({k for z, _ in zones for k in z.network_catalog_priced}
                                            | ({"switches", "links"} if dci.uplinks else set()))),  # per-port uplinks
        network_model=(f"{count:,} {_zone_words(layout, built_on)} of up to {per_zone:,} (network/topology.py) "
                       f"joined at 1:{CAMPUS_OVERSUBSCRIPTION:g} by {counted(dci.tiers, 'aggregation tier')} over "
                       f"{dci.uplinks:,} uplinks (facility/campus_fabric.py)" if dci.uplinks else first.network_model),
    )
    return load


def _zone_words(layout: ServerLayout, built_on: ServerLayout) -> str:
    """What a campus's zones are: non-blocking generic Clos, or copies of the outgrown system's own tiers."""
    return "non-blocking zones" if built_on is layout else f"zones on {built_on.system.name}'s own tiers"


def zoned(layout: ServerLayout) -> bool:
    """Whether a count of `layout`'s servers is built as zones: a generic layout whose servers have back-end NICs
    (servers without them, plan's CPU pools, have no fabric to split: one block of racks)."""
    return layout.generic and layout.nics_per_server > 0


def built_load(layout: ServerLayout, accelerators: int, cooling: CoolingType, cooling_name: str,
               rack_power_w: float | None = None) -> ITLoad:
    """IT load of `accelerators` as every command builds them: a generic layout (an accelerator count) as the
    campus's zones (`campus_load`, one zone = `it_load`'s non-blocking Clos), a catalog system on its own fabric
    (and servers with no back-end NICs, `zoned`, as one block)."""
    if zoned(layout):
        return campus_load(layout, accelerators, cooling, cooling_name, rack_power_w)
    return it_load(layout, accelerators, cooling, cooling_name, rack_power_w)
