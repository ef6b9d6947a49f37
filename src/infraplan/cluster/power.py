"""The power chain from chip to IT load: accelerator draw, server, rack packing, scale-out network.

- Accelerator draw at utilisation u: idle + (TDP - idle) * u (linear between the idle figure and `tdp_w`).
- THE idle figure of a part (`idle_power`), the one `facility` / `plan` here, `serve` (serving_metrics.power_terms)
  and `recsys` (recsys/estimate.device_power_w) all read, so one part idles at one figure whichever command asks:
  the catalog's `idle_power_w` with its `idle_power_source`; else ASSUMPTION `DEFAULT_IDLE_FRACTION` = 10 % of TDP.
  Basis: this catalog's two own GPU idle figures, H100 SXM 75 W / 700 W = 10.7 % and A100 80 GB 60 W / 400 W =
  15 % (both from the core skeleton, no source recorded): the H100's, the larger and newer part, rounded down; no
  idle draw of any other part is in the project's references (hW45, session 44). Serving had its own 20 % and
  recsys the TDP itself (100 %) until then; each keeps its own dynamic model above the idle figure.
- Server: accelerators + the node's `host_power_w` (CPUs, NICs, fans, PSU loss). DGX H100: 8 x 700 W + 4.6 kW
  = 10.2 kW, the NVIDIA DGX H100 system maximum, i.e. Epoch AI's 1.82 x GPU TDP server multiplier (Epoch AI
  GPU-clusters documentation). A plain accelerator count takes the device's one host share (`cluster.host_share`:
  its own figure, else its reference system's node, else that 1.82 multiplier), the one every command adds.
- Scale-up switches: the node's `scale_up_switch_power_w` per scale-up domain, the switches outside the servers'
  own figure (a GB200 / GB300 NVL72 rack's 9 NVSwitch trays ~3.6 kW: introl, Morgan Stanley via epium, S), once
  per domain begun (a rack's trays are installed whole); 0 where the node's power counts them (DGX / HGX baseboards).
- Rack: the packing unit is one server, or the whole scale-up domain when it spans servers (a GB200 NVL72
  rack: 18 trays of (4 x 1.2 kW + 1.8 kW host) + 3.6 kW of NVSwitch trays = 122.4 kW; ServeTheHome ~120 kW,
  SemiAnalysis-style estimates ~132 kW), split in equal shares over the node's `racks_per_scale_up_domain` racks
  where its file declares them (GB200 NVL36x2: one 72-GPU NVLink domain over 2 racks of 18 trays and 9 NVSwitch
  trays each, Meta Catalina, OCP Global Summit 2024), never over more to fit a cooling type. Units per rack are
  limited by the cooling type's rack power (cooling.yaml) and by rack space (42U); `rack_fit` says which one binds.
- Network: switches, ports and tiers come from the explicit folded-Clos builder (`network.topology.
  build_topology`) on the system's own tiers, or on the generic non-blocking Clos of generic.py for a plain
  accelerator count; its power and capex are the network layer's bill of materials (`network.costs.
  bill_of_materials`: switch models, transceivers at both ends of every optical link, cables), the one
  `infraplan network` prints, so `network` and `facility` give one answer; plus storage/frontend/management
  as a fraction of server power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from infraplan.catalog.facility_loader import CoolingType, load_network_cost
from infraplan.catalog.file_checks import RACK_UNITS
from infraplan.catalog.hardware_costs import accelerator_price
from infraplan.catalog.schemas import Accelerator, System
from infraplan.cluster.generic import fabric_radix, generic_network
from infraplan.errors import InputError
from infraplan.network.clos_topology import ClosTopology
from infraplan.network.costs import bill_of_materials, whole_domain_topology
from infraplan.network.topology import build_topology
from infraplan.units import power_text

DEFAULT_IDLE_FRACTION = 0.10  # ASSUMPTION of TDP where a part has no idle figure (module docstring: its basis)
ArrayLike = float | npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ServerLayout:
    """What the power chain needs about a server and its fabric: the system it belongs to.

    `generic`: the system is the generic node and Clos of an accelerator preset, rebuilt for every count.
    `outgrown`: the catalog system a generic count of its node is past the size of (`Cluster.for_count`), whose own
    fabric is then a whole zone of the campus that count is built as (facility/campus_fabric.py `zone_layout`).
    """

    accelerator: Accelerator
    system: System
    generic: bool = False
    outgrown: System | None = None

    @property
    def accelerators_per_server(self) -> int:
        return self.system.node.accelerators_per_node

    @property
    def host_power_w(self) -> float:
        return self.system.node.host_power_w

    @property
    def scale_up_switch_power_w(self) -> float:
        return self.system.node.scale_up_switch_power_w

    @property
    def nics_per_server(self) -> int:
        return self.system.node.nics_per_node

    @property
    def nic_bandwidth_bytes_per_s(self) -> float:
        return self.system.node.nic_bandwidth_bytes_per_s

    @property
    def scale_up_domain(self) -> int:
        return self.system.node.scale_up_domain

    @property
    def system_name(self) -> str | None:
        return None if self.generic else self.system.name

    @property
    def packing_unit_accelerators(self) -> int:
        """Accelerators that must share a rack: a server, or a scale-up domain spanning servers (NVL72)."""
        per = self.accelerators_per_server
        return self.scale_up_domain if self.scale_up_domain > per and self.scale_up_domain % per == 0 else per

    @property
    def racks_per_packing_unit(self) -> int:
        """Racks one packing unit spans: its file's `racks_per_scale_up_domain` (a server, which that divides: 1)."""
        return self.system.node.racks_per_scale_up_domain


@dataclass(frozen=True)
class IdlePower:
    """A part's idle draw: watts, whether the catalog gives it or the default rule does, and the sentence each
    answer's power assumption carries (`basis`)."""

    watts: float
    rule: Literal["catalog", "default"]
    source: str

    @property
    def basis(self) -> str:
        return f"idle {self.watts:.4g} W ({self.source})"


def idle_power(accelerator: Accelerator) -> IdlePower:
    """THE idle figure of a part (module docstring): the catalog's `idle_power_w`, else `DEFAULT_IDLE_FRACTION` of
    its TDP (ASSUMPTION)."""
    if accelerator.idle_power_w is not None:
        source = accelerator.idle_power_source or "no source given"
        return IdlePower(accelerator.idle_power_w, "catalog", f"the part's idle_power_w: {source}")
    watts = DEFAULT_IDLE_FRACTION * accelerator.tdp_w
    return IdlePower(watts, "default", f"ASSUMPTION: {DEFAULT_IDLE_FRACTION:.0%} of the {accelerator.tdp_w:.4g} W TDP, "
                     "the default where the part's file gives no idle figure (cluster/power.py)")


def accelerator_power_w(accelerator: Accelerator, utilization: ArrayLike = 1.0) -> npt.NDArray[np.float64]:
    """Accelerator draw at utilisation in [0, 1] (array-friendly), linear from the idle figure (`idle_power`) to
    TDP."""
    u = np.clip(np.asarray(utilization, dtype=np.float64), 0.0, 1.0)
    idle = idle_power(accelerator).watts
    return np.asarray(idle + (accelerator.tdp_w - idle) * u)


def server_power_w(layout: ServerLayout, utilization: ArrayLike = 1.0) -> npt.NDArray[np.float64]:
    """Server draw: its accelerators at `utilization` plus host power (held at its rating)."""
    return np.asarray(layout.accelerators_per_server * accelerator_power_w(layout.accelerator, utilization)
                      + layout.host_power_w)


def scale_up_switches_w(layout: ServerLayout, servers: int) -> float:
    """The scale-up switches of `servers` (a rack's, a cluster's): the node's `scale_up_switch_power_w` for every
    scale-up domain they begin (NVL72: 9 NVSwitch trays a rack however many of its 18 trays are filled); a domain over
    k racks, its 1/k share for every rack's share they begin (NVL36x2: a rack's own 9 trays)."""
    if servers <= 0 or layout.scale_up_switch_power_w == 0:
        return 0.0
    racks = layout.racks_per_packing_unit
    begun = -(-servers * layout.accelerators_per_server * racks // layout.scale_up_domain)
    return begun * layout.scale_up_switch_power_w / racks


def rack_share_power_w(layout: ServerLayout) -> float:
    """Peak draw of one rack's share of a packing unit (`packing_unit_power_w` over the racks it spans)."""
    return packing_unit_power_w(layout) / layout.racks_per_packing_unit


def packing_unit_power_w(layout: ServerLayout) -> float:
    """Peak draw of one packing unit (a server, or a scale-up domain spanning servers) with its scale-up switches."""
    unit_servers = layout.packing_unit_accelerators // layout.accelerators_per_server
    return unit_servers * float(server_power_w(layout)) + scale_up_switches_w(layout, unit_servers)


@dataclass(frozen=True)
class RackFit:
    """How a rack is filled (`rack_fit`): the servers its power limit allows, the servers rack space holds, and which
    of the two (or a scale-up domain filling the rack) sets the servers per rack."""

    servers_per_rack: int
    rack_power_w: float  # peak draw per rack reached: its servers and scale-up switches
    power_limit_w: float  # --rack-power, else the cooling type's maximum
    power_limit_source: str  # "--rack-power" or "<cooling> cooling"
    servers_by_power: int
    servers_by_space: int | None  # RACK_UNITS // server height; None: no height catalogued, or a scale-up domain
    server_rack_units: int | None
    limited_by: str  # "power" | "space" | "scale-up domain"
    domain_racks: int = 1  # racks one scale-up domain spans (node.racks_per_scale_up_domain), each an equal share


@dataclass(frozen=True)
class ITLoad:
    """Peak (nameplate) IT power of a cluster and its parts, plus the rack layout and the built fabric."""

    accelerators: int
    servers: int
    racks: int
    servers_per_rack: int
    rack_power_w: float
    accelerators_w: float
    hosts_w: float
    network_w: float
    misc_w: float
    switch_ports: int
    switches: int
    network_tiers: int
    port_scale: float  # port bandwidth / the 400G reference port
    fabric_accelerators: int  # accelerators the fabric is built for (whole domains below the top tier)
    network_capex_usd: float = 0.0  # the bill of materials: switches, optics, cables
    scale_up_switches_w: float = 0.0  # the scale-up domains' own switches (`scale_up_switches_w`): NVL72 trays
    network_model: str = "topology builder (network/topology.py)"
    network_pricing: str = "bill of materials (network/costs.py: switch models, transceivers, cables)"
    network_catalog_priced: tuple[str, ...] = ()  # the price catalogs the bill used (`bill_of_materials`)
    rack_fit: RackFit | None = None  # how each rack is filled (power, space or a scale-up domain)

    @property
    def servers_w(self) -> float:
        return self.accelerators_w + self.hosts_w

    @property
    def it_w(self) -> float:
        return self.servers_w + self.scale_up_switches_w + self.network_w + self.misc_w


def _fmt_kw(watts: float) -> str:
    if watts >= 1e7:  # no rack draws 10 MW: power_text's MW, GW, ... (e-notation beyond), not a 300-digit kW
        return power_text(watts)
    return f"{watts / 1e3:.1f} kW" if watts >= 100.0 else f"{watts:.3g} W"


def server_height_u(layout: ServerLayout) -> int | None:
    """A server's height in rack units: its system file's `node.server_rack_units` (the server that file describes:
    hF52's F7, a 4U liquid-cooled HGX H100 could not be stated), else the catalog entry's of its accelerator
    (hardware_costs.yaml; a what-if file: its preset's); None where neither gives one (rack space not counted)."""
    if layout.system.node.server_rack_units is not None:
        return layout.system.node.server_rack_units
    cost = accelerator_price(layout.accelerator)
    return None if cost is None else cost.server_rack_units


def servers_by_space(height: int | None) -> int | None:
    """Servers of `height` U a RACK_UNITS rack holds; None without a height (rack space not counted). A server
    taller than the rack is refused where its file loads (`catalog.file_checks.RackUnits`). `rack_fit` packs a
    system's servers so, `planning.device_money` a video ASIC's hosts (`host_rack_units`)."""
    return None if height is None else RACK_UNITS // height


def rack_fit(layout: ServerLayout, cooling: CoolingType, cooling_name: str,
             rack_power_w: float | None = None) -> RackFit:
    """Servers per rack under the cooling type's power limit (or `rack_power_w`, at most that) and rack space
    (RACK_UNITS over the catalog's server height), and which one binds; InputError naming the limit hit."""
    limit = cooling.max_rack_power_w
    source = f"{cooling_name} cooling"
    if rack_power_w is not None:
        if not math.isfinite(rack_power_w):  # nan was int()'s ValueError below (hK66); the CLI's words
            raise InputError(f"--rack-power: '{rack_power_w}' is not a finite number; expected a power such as 1GW, "
                             "10MW or 700W")
        if rack_power_w <= 0:
            raise InputError(f"--rack-power must be positive, got {rack_power_w:g} W")
        if rack_power_w > limit:
            raise InputError(f"rack power {_fmt_kw(rack_power_w)} exceeds the {_fmt_kw(limit)} per rack that "
                             f"{cooling_name} cooling allows")
        limit, source = rack_power_w, "--rack-power"
    racks = layout.racks_per_packing_unit
    unit_servers = layout.packing_unit_accelerators // layout.accelerators_per_server // racks  # a rack's share
    unit_w = rack_share_power_w(layout)
    what = (f"one {layout.packing_unit_accelerators}-accelerator scale-up domain"
            if unit_servers * racks > 1 else "one server") + f" of {layout.accelerator.name}"
    if racks > 1:
        what += f" over its {racks} racks (node.racks_per_scale_up_domain)"
    if unit_w > limit:
        by = "set by --rack-power" if rack_power_w else f"{cooling_name} cooling allows"
        spans = ("; a domain built over several racks (GB200 NVL36x2) says so in its system file: "
                 "node.racks_per_scale_up_domain" if unit_servers > 1 and racks == 1 else "")
        raise InputError(f"{what} draws {_fmt_kw(unit_w)}{' a rack' if racks > 1 else ''}"
                         f", above the {_fmt_kw(limit)} per rack {by}{spans}")
    by_power = int(limit // unit_w)
    units, by_space, height, limited_by = by_power, None, None, "power"
    if unit_servers * racks == 1:
        height = server_height_u(layout)
        by_space = servers_by_space(height)
        if by_space is not None and by_space < by_power:
            units, limited_by = by_space, "space"
    else:
        units, limited_by = 1, "scale-up domain"  # a scale-up domain fills its rack (NVL72), or its share (NVL36x2)
    servers_per_rack = units * unit_servers
    return RackFit(servers_per_rack, units * unit_w, limit, source, by_power * unit_servers, by_space,
                   height, limited_by, racks)


def fabric_system(layout: ServerLayout, accelerators: int) -> System:
    """The system whose fabric joins `accelerators`: the layout's own, or its generic Clos resized to them."""
    if not layout.generic:
        return layout.system
    system = layout.system
    network, built = generic_network(layout.accelerator, system.node, accelerators, fabric_radix(system.network),
                                     system.network.kind, system.network.collective_efficiency, layout.outgrown)
    return system.model_copy(update={"network": network, "total_accelerators": built,
                                     "name": f"{layout.accelerator.name}-generic-{built}"})


def fabric_topology(layout: ServerLayout, accelerators: int) -> ClosTopology | None:
    """The topology builder's fabric for `accelerators` (None: the servers have no NICs)."""
    if layout.nics_per_server == 0:
        return None
    system = fabric_system(layout, accelerators)
    if layout.generic:
        return build_topology(system, gpus=system.total_accelerators)
    return whole_domain_topology(system, accelerators)[0]  # as `network SYSTEM --gpus N` (hN68 part units, hC72 pods)


def fabric_ports(layout: ServerLayout, accelerators: int) -> tuple[int, int, int, int]:
    """(switch ports, tiers, switches, accelerators built for) of the topology builder's fabric."""
    topo = fabric_topology(layout, accelerators)
    if topo is None:
        return 0, 0, 0, accelerators
    ports = sum(t.switches * (t.down_ports + t.up_ports) for t in topo.tiers)
    return ports, len(topo.tiers), topo.switches_total, topo.gpus


def it_load(layout: ServerLayout, accelerators: int, cooling: CoolingType, cooling_name: str,
            rack_power_w: float | None = None) -> ITLoad:
    """Peak IT load of `accelerators` (rounded up to whole servers) packed into racks."""
    if accelerators <= 0:
        raise InputError(f"accelerator count must be positive, got {accelerators}")
    per = layout.accelerators_per_server
    servers = -(-accelerators // per)
    fit = rack_fit(layout, cooling, cooling_name, rack_power_w)
    servers_per_rack, rack_w = fit.servers_per_rack, fit.rack_power_w
    racks = -(-servers // servers_per_rack)
    net = load_network_cost()
    topo = fabric_topology(layout, servers * per)
    bom: dict[str, Any] = bill_of_materials(topo, populated_gpus=servers * per) if topo is not None else {
        "power_w": 0.0, "capex_usd": 0.0, "catalog_priced": ()}
    ports = sum(t.switches * (t.down_ports + t.up_ports) for t in topo.tiers) if topo is not None else 0
    levels, switches = (len(topo.tiers), topo.switches_total) if topo is not None else (0, 0)
    built = topo.gpus if topo is not None else servers * per
    scale = layout.nic_bandwidth_bytes_per_s / net.reference_port_bandwidth_bytes_per_s
    accel_w = servers * per * float(accelerator_power_w(layout.accelerator))
    hosts_w = servers * layout.host_power_w
    return ITLoad(
        accelerators=servers * per, servers=servers, racks=racks, servers_per_rack=servers_per_rack,
        rack_power_w=rack_w, accelerators_w=accel_w, hosts_w=hosts_w,
        network_w=float(bom["power_w"]), misc_w=net.misc_it_power_fraction * (accel_w + hosts_w),
        switch_ports=ports, switches=switches, network_tiers=levels, port_scale=scale, fabric_accelerators=built,
        network_capex_usd=float(bom["capex_usd"]), rack_fit=fit, network_catalog_priced=bom["catalog_priced"],
        scale_up_switches_w=scale_up_switches_w(layout, servers),
    )
