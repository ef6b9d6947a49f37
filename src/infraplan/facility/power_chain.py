"""The power chain from chip to IT load: accelerator draw, server, rack packing, scale-out network.

- Accelerator draw at utilisation u: idle + (TDP - idle) * u (linear between the catalog's `idle_power_w`,
  10 % of TDP when unknown, and `tdp_w`).
- Server: accelerators + the node's `host_power_w` (CPUs, NICs, fans, PSU loss). DGX H100: 8 x 700 W + 4.6 kW
  = 10.2 kW, the NVIDIA DGX H100 system maximum, i.e. Epoch AI's 1.82 x GPU TDP server multiplier (Epoch AI
  GPU-clusters documentation). An accelerator with no catalog system gets that 1.82 multiplier.
- Rack: the packing unit is one server, or the whole scale-up domain when it spans servers (a GB200 NVL72
  rack: 18 trays of 4 GPUs + 1.8 kW host = 118.8 kW, ServeTheHome measured ~120 kW). Units per rack are limited
  by the cooling type's rack power (cooling.yaml) and by rack space (42U).
- Network: a folded Clos counted tier by tier from the system's tiers and oversubscription (or a non-blocking
  Clos of the default radix), priced per switch port (network.yaml, an estimate until the explicit topology
  builder of the network issue is available), plus storage/frontend/management as a fraction of server power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from infraplan.catalog import list_presets, load_accelerator, load_system
from infraplan.catalog.facility_loader import CoolingType, load_hardware_cost, load_network_cost
from infraplan.catalog.schemas import Accelerator, System
from infraplan.errors import InputError

try:  # the explicit Clos builder of the network issue; the per-port estimate stands in without it
    from infraplan.network.topology import build_topology
except ImportError:  # pragma: no cover - depends on which parts of the package are installed
    build_topology = None

EPOCH_SERVER_MULTIPLIER = 1.82  # server power / GPU TDP, Epoch AI from DGX H100 (10.2 kW / 8 / 700 W)
RACK_UNITS = 42
DEFAULT_IDLE_FRACTION = 0.10


@dataclass(frozen=True)
class ServerLayout:
    """What the power chain needs about a server and its fabric."""

    accelerator: Accelerator
    accelerators_per_server: int
    host_power_w: float
    nics_per_server: int
    nic_bandwidth_bytes_per_s: float
    scale_up_domain: int
    tiers: tuple[tuple[int, float], ...]  # (group size in accelerators, oversubscription) per tier; () = generic
    switch_radix: int
    system: str | None

    @property
    def packing_unit_accelerators(self) -> int:
        """Accelerators that must share a rack: a server, or a scale-up domain spanning servers (NVL72)."""
        per = self.accelerators_per_server
        return self.scale_up_domain if self.scale_up_domain > per and self.scale_up_domain % per == 0 else per


def reference_system(accelerator: str) -> System | None:
    """The largest catalog system built from this accelerator (its node and fabric stand in for a plain count)."""
    matches = [load_system(name) for name in list_presets("systems")]
    matches = [s for s in matches if s.accelerator == accelerator]
    return max(matches, key=lambda s: (s.total_accelerators, s.name)) if matches else None


def layout_from_system(system: System) -> ServerLayout:
    acc = load_accelerator(system.accelerator)
    radices = [t.switch_radix for t in system.network.tiers if t.switch_radix]
    radix = min(radices) if radices else load_network_cost().default_switch_radix  # the leaf radix
    return ServerLayout(acc, system.node.accelerators_per_node, system.node.host_power_w, system.node.nics_per_node,
                        system.node.nic_bandwidth_bytes_per_s, system.node.scale_up_domain,
                        tuple((t.group_size, t.oversubscription) for t in system.network.tiers), radix, system.name)


def layout_for_accelerator(accelerator: str) -> ServerLayout:
    """Node of the reference system, generic non-blocking fabric; Epoch's 1.82x rule when no system exists."""
    acc = load_accelerator(accelerator)
    if acc.kind == "cpu":
        raise InputError(f"{accelerator} is a CPU; facility sizing needs an accelerator")
    ref = reference_system(accelerator)
    if ref is not None:
        base = layout_from_system(ref)
        return ServerLayout(acc, base.accelerators_per_server, base.host_power_w, base.nics_per_server,
                            base.nic_bandwidth_bytes_per_s, base.scale_up_domain, (), base.switch_radix, None)
    per = 8
    host = (EPOCH_SERVER_MULTIPLIER - 1.0) * acc.tdp_w * per
    return ServerLayout(acc, per, host, per, acc.scale_out_bandwidth_bytes_per_s, per, (),
                        load_network_cost().default_switch_radix, None)


def accelerator_power_w(accelerator: Accelerator, utilization=1.0):
    """Accelerator draw at utilisation in [0, 1] (array-friendly), linear from idle to TDP."""
    u = np.clip(np.asarray(utilization, dtype=np.float64), 0.0, 1.0)
    idle = accelerator.idle_power_w
    if idle is None:
        idle = DEFAULT_IDLE_FRACTION * accelerator.tdp_w
    return idle + (accelerator.tdp_w - idle) * u


def server_power_w(layout: ServerLayout, utilization=1.0):
    """Server draw: its accelerators at `utilization` plus host power (held at its rating)."""
    return layout.accelerators_per_server * accelerator_power_w(layout.accelerator, utilization) + layout.host_power_w


def clos_switch_ports(endpoints: int, tiers: tuple[tuple[int, float], ...], accelerators_per_endpoint: float,
                      radix: int) -> tuple[int, int]:
    """(switch ports, tiers) of a folded Clos over `endpoints` NIC ports.

    With explicit tiers: each tier below the top has down-ports = what arrives from below and up-ports = down /
    oversubscription; the top tier has down-ports only; tiers whose group already holds every endpoint are not
    built. Generic (no tiers): a non-blocking Clos of L tiers, L the fewest with 2 (radix/2)^L >= endpoints,
    which has (2L - 1) switch ports per endpoint.
    """
    if endpoints <= 0:
        return 0, 0
    if not tiers:
        levels = 1
        while endpoints > 2 * (radix / 2) ** levels and levels < 8:
            levels += 1
        if endpoints <= radix:
            levels = 1
        return endpoints * (2 * levels - 1), levels
    accelerators = endpoints * accelerators_per_endpoint
    used = []
    for group, over in tiers:
        used.append((group, over))
        if group >= accelerators:
            break
    down, ports = float(endpoints), 0.0
    for i, (_, over) in enumerate(used):
        if i == len(used) - 1:
            ports += down
        else:
            up = down / over
            ports += down + up
            down = up
    return int(math.ceil(ports)), len(used)


@dataclass(frozen=True)
class ITLoad:
    """Peak (nameplate) IT power of a cluster and its parts, plus the rack layout."""

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
    network_model: str = "per-port estimate"

    @property
    def servers_w(self) -> float:
        return self.accelerators_w + self.hosts_w

    @property
    def it_w(self) -> float:
        return self.servers_w + self.network_w + self.misc_w


def _fmt_kw(watts: float) -> str:
    return f"{watts / 1e3:.1f} kW"


def rack_layout(layout: ServerLayout, cooling: CoolingType, cooling_name: str,
                rack_power_w: float | None = None) -> tuple[int, float]:
    """(servers per rack, peak rack power) under the cooling type's limit; InputError naming the limit hit."""
    limit = cooling.max_rack_power_w
    if rack_power_w is not None:
        if rack_power_w <= 0:
            raise InputError(f"--rack-power must be positive, got {rack_power_w:g} W")
        if rack_power_w > limit:
            raise InputError(f"rack power {_fmt_kw(rack_power_w)} exceeds the {_fmt_kw(limit)} per rack that "
                             f"{cooling_name} cooling allows")
        limit = rack_power_w
    server_w = float(server_power_w(layout))
    unit_servers = layout.packing_unit_accelerators // layout.accelerators_per_server
    unit_w = unit_servers * server_w
    what = (f"one {layout.packing_unit_accelerators}-accelerator scale-up domain"
            if unit_servers > 1 else "one server")
    if unit_w > limit:
        by = "set by --rack-power" if rack_power_w else f"{cooling_name} cooling allows"
        raise InputError(f"{what} of {layout.accelerator.name} draws {_fmt_kw(unit_w)}, above the "
                         f"{_fmt_kw(limit)} per rack {by}")
    units = int(limit // unit_w)
    if unit_servers == 1:
        cost = load_hardware_cost(layout.accelerator.name)
        if cost is not None:
            units = min(units, max(1, RACK_UNITS // cost.server_rack_units))
    else:
        units = 1  # a scale-up domain fills its rack (NVL72)
    servers_per_rack = units * unit_servers
    return servers_per_rack, servers_per_rack * server_w


def _fabric_ports(layout: ServerLayout, servers: int) -> tuple[int, int, int, str]:
    """(switch ports, tiers, switches, model): the topology builder's fabric for a catalog system when it can
    build this size, else the per-port folded-Clos estimate."""
    accelerators = servers * layout.accelerators_per_server
    if build_topology is not None and layout.system is not None:
        try:
            topo = build_topology(load_system(layout.system), gpus=accelerators)
        except (InputError, ValueError, ZeroDivisionError):
            topo = None
        if topo is not None:
            ports = sum(t.switches * (t.down_ports + t.up_ports) for t in topo.tiers)
            return ports, len(topo.tiers), topo.switches_total, "topology builder (network/topology.py)"
    endpoints = servers * layout.nics_per_server
    ports, levels = clos_switch_ports(endpoints, layout.tiers, layout.accelerators_per_server /
                                      max(layout.nics_per_server, 1), layout.switch_radix)
    return ports, levels, -(-ports // layout.switch_radix), "folded-Clos per-port estimate"


def it_load(layout: ServerLayout, accelerators: int, cooling: CoolingType, cooling_name: str,
            rack_power_w: float | None = None) -> ITLoad:
    """Peak IT load of `accelerators` (rounded up to whole servers) packed into racks."""
    if accelerators <= 0:
        raise InputError(f"accelerator count must be positive, got {accelerators}")
    per = layout.accelerators_per_server
    servers = -(-accelerators // per)
    servers_per_rack, rack_w = rack_layout(layout, cooling, cooling_name, rack_power_w)
    racks = -(-servers // servers_per_rack)
    net = load_network_cost()
    ports, levels, switches, model = _fabric_ports(layout, servers)
    scale = layout.nic_bandwidth_bytes_per_s / net.reference_port_bandwidth_bytes_per_s
    accel_w = servers * per * float(accelerator_power_w(layout.accelerator))
    hosts_w = servers * layout.host_power_w
    return ITLoad(
        accelerators=servers * per, servers=servers, racks=racks, servers_per_rack=servers_per_rack,
        rack_power_w=rack_w, accelerators_w=accel_w, hosts_w=hosts_w,
        network_w=ports * net.switch_port_power_w * scale, misc_w=net.misc_it_power_fraction * (accel_w + hosts_w),
        switch_ports=ports, switches=switches, network_tiers=levels, port_scale=scale, network_model=model,
    )


def it_power_per_accelerator_w(layout: ServerLayout, cooling: CoolingType, cooling_name: str,
                               probe: int = 16384) -> float:
    """Peak IT watts per accelerator at scale (network share measured on a `probe`-sized cluster)."""
    load = it_load(layout, probe, cooling, cooling_name)
    return load.it_w / load.accelerators
