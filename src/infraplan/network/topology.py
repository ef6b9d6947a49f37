"""Folded-Clos (fat-tree) builder: switches, links and bisection of a multi-tier fabric from a system description.

A system lists its scale-out tiers from the rack/leaf up (`NetworkTier`: GPUs per domain, oversubscription,
switch radix, port speed). The builder counts switches tier by tier with the folded-Clos arithmetic of
Al-Fares et al., "A Scalable, Commodity Data Center Network Architecture" (SIGCOMM 2008) -- k-ary fat tree:
leaves = spines = N/(k/2), cores = N/k -- generalised to oversubscription and to domains not powers of two:

* a switch of a tier with oversubscription o uses at most floor(k * o / (1 + o)) ports down, the rest up
  (the top tier uses all k ports down); its up ports are ceil(down / o);
* leaves: each tier-0 domain (a rack, or a rail-optimised scalable unit) needs ceil(NIC links / down ports)
  switches. Rail-optimised (NVIDIA DGX SuperPOD reference architecture): NIC r of every node in the unit goes
  to the leaves of rail r; where there are fewer leaves than NICs per node (Gaudi 2: 24 NICs, 6 leaves of 32
  down ports per 8 servers; MI300X: 8 NICs, 2 leaves of 32 per 8 nodes), each leaf takes a group of
  nics / leaves rails of every node, so every node reaches every leaf and hence every plane;
* above: the m lower switches of a domain are joined to S upper switches with the same number of parallel
  links u/S from every lower switch to every upper one (balanced wiring); S is the smallest divisor of the
  lower switch's u up ports with m * u / S <= down ports. When no S fits (the radix is too small to reach every
  lower switch), the domain is split into planes by the lower switches' index within their own domain, as a
  k-ary fat tree's cores are grouped by spine index; when even one plane cannot be wired, the build fails with
  the arithmetic (InputError).

This reproduces the DGX SuperPOD H100 leaf/spine/core counts (512 -> 16/8, ..., 16,384 -> 512/512/256) and the
Llama 3 RoCE fabric (Llama 3 paper, arXiv:2407.21783, Sec. 3.3.1: 16 GPUs per ToR, 192 racks per 3,072-GPU
pod, 8 pods, 1:7 above the pod). Bisection: the least cut between two halves of the GPUs (`network.min_cut`,
line rates, no protocol efficiency): half their NIC bandwidth where every tier carries it.

The scale-up domain (`scale_up_domain_gpus`, the catalog's `node.scale_up_domain`) is the set of GPUs that
reach each other over NVLink rather than the NICs: one 8-GPU node on a DGX, the 72-GPU rack of 18 four-GPU
trays on a GB200/GB300 NVL72 (NVIDIA GB200 NVL72: 9 NVSwitch trays join all 72 GPUs at 1.8 TB/s each).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import cast

import numpy as np

from infraplan.catalog.schemas import System
from infraplan.errors import InputError
from infraplan.network.min_cut import Level, Run, packed_cut
from infraplan.network.rail_leaves import leaf_down_ports, rail_leaf_domain, railed_leaf_count


@dataclass(frozen=True)
class TierLayout:
    """One built tier: its domains, switches, ports used per switch and wiring to the tier below."""

    name: str
    index: int
    domain_gpus: int  # GPUs under one domain of this tier
    domains: int
    planes: int  # 1: every switch of a domain reaches every lower switch of the domain; >1: split by lower index
    switches_per_plane: int
    radix: int
    port_bytes_per_s: float
    down_ports: int  # used per switch
    up_ports: int  # per switch; 0 at the top
    links_per_lower: int  # parallel links from one lower switch (or NIC, tier 0) to each switch it reaches
    oversubscription: float  # as configured for this tier's uplinks
    hop_latency_s: float
    is_top: bool
    uplink_bytes_per_s: float = 0.0  # one uplink's line rate: this tier's port or the tier above's, the slower (hY64)
    switch: tuple[str, float | None, float | None] | None = None  # as its file names it (name, USD, W), hU54

    @property
    def switches_per_domain(self) -> int:
        return self.planes * self.switches_per_plane

    @property
    def switches(self) -> int:
        return self.domains * self.switches_per_domain

    @property
    def uplinks(self) -> int:
        """Links from this tier's switches up to the next tier."""
        return self.switches * self.up_ports

    @property
    def effective_oversubscription(self) -> float:
        return self.down_ports / self.up_ports if self.up_ports else 1.0


@dataclass(frozen=True)
class ClosTopology:
    """A built fabric for `gpus` accelerators of a system: endpoints (NIC links) and the tiers above them."""

    system: str
    kind: str
    gpus: int
    gpus_per_node: int
    nics_per_node: int
    nic_bytes_per_s: float  # per NIC, per direction, the NIC's own line rate (its link: `nic_link_bytes_per_s`)
    rail_optimized: bool  # effective: the leaves of each tier-0 domain split evenly into rails (or rail groups)
    leaves_per_rail: int
    tiers: tuple[TierLayout, ...]
    rails_per_leaf: int = 1  # > 1: fewer leaves than NICs per node, each leaf takes a group of rails
    scale_up_gpus: int = 0  # GPUs of one NVLink/scale-up domain (whole nodes); 0: one node (gpus_per_node)
    rail_only: bool = False  # every tier above the leaves split into planes by rail: no switch joins two rails

    @property
    def scale_up_domain_gpus(self) -> int:
        """GPUs that reach each other over scale-up (NVLink), not the NICs: an NVL72 rack's 18 trays."""
        return self.scale_up_gpus or self.gpus_per_node

    @property
    def nodes(self) -> int:
        return self.gpus // self.gpus_per_node

    @property
    def endpoint_links(self) -> int:
        return self.nodes * self.nics_per_node

    @property
    def nodes_per_leaf_domain(self) -> int:
        return self.tiers[0].domain_gpus // self.gpus_per_node

    @property
    def switches_total(self) -> int:
        return sum(t.switches for t in self.tiers)

    def links_between(self, upper: int) -> int:
        """Physical links into tier `upper` from below (tier 0: the NIC links)."""
        return self.endpoint_links if upper == 0 else self.tiers[upper - 1].uplinks

    @property
    def links_total(self) -> int:
        return sum(self.links_between(i) for i in range(len(self.tiers)))

    @property
    def nic_link_bytes_per_s(self) -> float:
        """Line rate of one NIC's link to its leaf (`nic_link_rate`): the NIC held to the leaf port's speed."""
        return nic_link_rate(self.nic_bytes_per_s, self.tiers[0].port_bytes_per_s)

    @property
    def gpu_bytes_per_s(self) -> float:
        """Scale-out line rate per GPU, at the NIC links' rate."""
        return self.nics_per_node * self.nic_link_bytes_per_s / self.gpus_per_node

    @property
    def rails(self) -> int:
        """Rail-only: the rails, one per NIC of an HB (scale-up) domain (a DGX's 8, an NVL72 rack's 72); else 0."""
        return self.nics_per_node * (self.scale_up_domain_gpus // self.gpus_per_node) if self.rail_only else 0

    @property
    def rail_bisection_bytes_per_s(self) -> float:
        """Rail-only: one rail's bisection (`rail_bisection_of` the fabric's GPUs)."""
        return self.rail_bisection_of(self.gpus)

    def rail_bisection_of(self, gpus: int) -> float:
        """Rail-only: one rail's bisection (line rate, per direction) for `gpus` of the fabric's, packed: the least
        cut between half their HB domains and the rest on this rail (`bisection_of`'s rule, each tier's domain
        holding switches_per_domain / rails of its switches: no switch joins two rails). 0 for a Clos."""
        if not self.rail_only:
            return 0.0
        count, sud = min(int(gpus), self.gpus) // self.scale_up_domain_gpus, self.scale_up_domain_gpus
        levels = [Level(() if t.index == 0 else ((t.domain_gpus // self.tiers[t.index - 1].domain_gpus,
                                                  Fraction(self.tiers[t.index - 1].domain_gpus, sud)),),
                        t.switches_per_domain / self.rails * t.up_ports * t.uplink_bytes_per_s) for t in self.tiers]
        return packed_cut(levels, self.nic_link_bytes_per_s, Fraction(count // 2), Fraction(count - count // 2))

    @property
    def bisection_bytes_per_s(self) -> float:
        """Line-rate bisection, per direction, of every GPU the fabric is built for (`bisection_of`)."""
        return self.bisection_of(self.gpus)

    def bisection_of(self, gpus: int) -> float:
        """Line-rate bisection, per direction, of `gpus` of the fabric's, packed from its first domain: the least cut
        of the built fabric between their first half and the rest (`network.min_cut`: half their NIC bandwidth where
        every tier carries it; an oversubscribed tier's uplinks bound it, a domain split by the halves counted for
        its share, hN68). A count on part of the fabric (hB68: 136 GPUs on a rail unit's 8 leaves built for 256) has
        the bisection of the GPUs there. Rail-only: the rails' own bisections summed (`rails` x `rail_bisection_of`,
        the cut through the middle of the HB domains); a byte between halves on two rails crosses the scale-up
        domain first (NVLink), which no network cut counts. A domain's unrailed leaves (a ToR pair) each count: a
        leaf takes the NIC links of its ports' nodes (`leaf_index`)."""
        gpus = min(int(gpus), self.gpus)
        if self.rail_only:
            return self.rails * self.rail_bisection_of(gpus)
        leaf, levels = self.tiers[0], []
        if self.rail_optimized or leaf.switches_per_domain == 1:  # every leaf of a domain sees the same halves
            runs: tuple[Run, ...] = ((1, Fraction(leaf.domain_gpus)),)
            levels.append(Level((), leaf.switches_per_domain * leaf.up_ports * leaf.uplink_bytes_per_s))
        else:  # each leaf its own level-0 domain: its down ports' share of the nodes (a node may straddle two)
            size = Fraction(leaf.down_ports * self.gpus_per_node, self.nics_per_node)
            last = leaf.domain_gpus - (leaf.switches_per_domain - 1) * size
            runs = ((leaf.switches_per_domain - 1, size), (1, last))
            levels.append(Level((), leaf.up_ports * leaf.uplink_bytes_per_s))
        for tier in self.tiers[1:]:
            runs = runs * (tier.domain_gpus // self.tiers[tier.index - 1].domain_gpus)
            levels.append(Level(runs, tier.switches_per_domain * tier.up_ports * tier.uplink_bytes_per_s))
            runs = ((1, Fraction(tier.domain_gpus)),)
        half = Fraction(gpus, 2)
        return packed_cut(levels, self.gpu_bytes_per_s, half, gpus - half)


def nic_link_rate(nic_bytes_per_s: float, leaf_port_bytes_per_s: float | None) -> float:
    """The rate a NIC's link to its leaf runs at: the slower end's (Ethernet auto-negotiation, IEEE 802.3 Clause 73,
    and InfiniBand link training both bring a link up at the highest rate both ends support; cited from memory). A
    NIC faster than its leaf port is held to the port's speed; None: ports at the NIC's (`NetworkTier`). The same
    rule prices every inter-tier link (`TierLayout.uplink_bytes_per_s`, set by `build_topology`)."""
    return min(nic_bytes_per_s, leaf_port_bytes_per_s) if leaf_port_bytes_per_s else nic_bytes_per_s


def _smallest_fitting_divisor(up: int, lower: int, down_max: int) -> int | None:
    """Smallest S dividing `up` with lower * up / S <= down_max (balanced wiring), or None."""
    for s in range(1, up + 1):
        if up % s == 0 and lower * (up // s) <= down_max:
            return s
    return None


def _down_max(radix: int, oversubscription: float, top: bool) -> int:
    return radix if top else leaf_down_ports(radix, oversubscription)


def _nearest_multiples(n: int, unit: int) -> str:
    """The multiples of `unit` around `n` a user can ask for instead: '9,999,360 or 10,000,384 are'."""
    near = [m for m in (n // unit * unit, (n // unit + 1) * unit) if m > 0]
    return " or ".join(f"{m:,}" for m in near) + (" are" if len(near) > 1 else " is")


def endpoint_word(system: System) -> str:
    """What the fabric's text calls one of `system`'s endpoints (`Accelerator.device_word`: GPU, TPU, CPU, or
    accelerator for an ASIC such as MTIA: "24,576-GPU domain" read wrong on MTIA, hU45); 'accelerator' where the
    system's accelerator does not load by its name (a what-if file's generic system). Read on text paths only."""
    from infraplan.catalog import load_accelerator  # lazy: the builder's arithmetic never needs it

    try:
        return load_accelerator(system.accelerator).device_word
    except InputError:
        return "accelerator"


def build_topology(system: System, gpus: int | None = None) -> ClosTopology:
    """Build the explicit folded Clos for `gpus` accelerators (default: the whole system).

    Only the tiers needed are built: the first tier whose domain holds all `gpus` becomes the top.
    Raises InputError with the failing arithmetic when the fabric cannot be built.
    """
    node, net = system.node, system.network
    n = system.total_accelerators if gpus is None else int(gpus)
    if n <= 0:
        raise InputError(f"--gpus must be positive, got {n}")
    if n > system.total_accelerators:
        raise InputError(f"{n:,} {endpoint_word(system)}s requested but {system.name} has "
                         f"{system.total_accelerators:,}")
    gpn, nics = node.accelerators_per_node, node.nics_per_node
    if n % gpn:
        w = endpoint_word(system)
        raise InputError(f"{n:,} {w}s is not a multiple of the {gpn}-{w} node ({n:,} / {gpn} = {n / gpn:,.3f}; "
                         f"{_nearest_multiples(n, gpn)})")
    if nics == 0:
        raise InputError(f"{system.name} has no NICs: no scale-out fabric to build")
    layouts: list[TierLayout] = []
    rail_only = net.rail_only
    # the scale-up (NVLink) domain in whole nodes: GB200/GB300 NVL72 join 18 trays of 4 GPUs (catalog
    # `scale_up_domain: 72`); a domain that is not a multiple of the node stays the node (none in the catalog)
    sud = node.scale_up_domain if node.scale_up_domain % gpn == 0 else gpn
    # rail-only: a rail is NIC k of every HB (scale-up) domain, k over the domain's sud / gpn x NICs (Wang et al.,
    # arXiv:2307.12169 Sec. 4: the GPUs of one rank in every HB domain share a rail), so a rail has n / sud NICs
    hb = sud if rail_only else gpn
    for i, spec in enumerate(net.tiers):
        # one leaf must hold every NIC link for tier 0 to be the top (rail-only: every NIC link of one rail)
        fits = i > 0 or (spec.switch_radix is not None and n // gpn * (1 if rail_only else nics) <= spec.switch_radix
                         if not rail_only else spec.switch_radix is not None and n // hb <= spec.switch_radix)
        top = (n <= spec.group_size and fits) or i == len(net.tiers) - 1 or (
            rail_only and _rail_top_fits(layouts, spec.switch_radix, n, hb))
        domain = min(n, spec.group_size) if not top else n
        if n > domain and n % domain:
            w = endpoint_word(system)
            raise InputError(f"{n:,} {w}s is not a multiple of the {domain:,}-{w} {spec.name} domain "
                             f"({n:,} / {domain:,} = {n / domain:,.3f}; {_nearest_multiples(n, domain)})")
        if domain % gpn:
            w = endpoint_word(system)
            raise InputError(f"the {domain:,}-{w} {spec.name} domain is not a multiple of the {gpn}-{w} node")
        if spec.switch_radix is None:
            raise InputError(f"tier {spec.name} of {system.name} has no switch_radix: cannot build the fabric, whose "
                             "switches serve, facility, campus, fleet-mix and network price: give its ports per switch")
        radix = spec.switch_radix
        port = spec.port_bandwidth_bytes_per_s or node.nic_bandwidth_bytes_per_s
        o = spec.oversubscription
        down_max = _down_max(radix, o, top)
        if down_max < 1:
            raise InputError(f"tier {spec.name}: radix {radix} at {o:g}:1 leaves no down port")
        if i == 0:
            if rail_only and not top:  # a rail's leaf takes as many HB domains as its down ports reach
                domain = _rail_leaf_span(domain, down_max, hb, n, o, net.tiers[1].switch_radix,
                                         min(n, net.tiers[1].group_size))
            links = domain // gpn * nics
            leaves = math.ceil(links / down_max)
            if rail_only:  # every rail its own leaves: one per rail in a leaf domain (more: not built, below)
                rail_count = nics * (hb // gpn)
                if domain % hb:
                    w = endpoint_word(system)
                    raise InputError(f"rail-only: the {domain:,}-{w} {spec.name} domain is not a multiple of the "
                                     f"{hb}-{w} scale-up domain whose NICs make the rails")
                leaves = rail_count * math.ceil(domain // hb / down_max)
                if leaves > rail_count:
                    raise InputError(f"rail-only: the {domain // hb} HB domains of a {domain:,}-"
                                     f"{endpoint_word(system)} {spec.name} "
                                     f"domain need {leaves // rail_count} leaves per rail at radix {radix} {o:g}:1; "
                                     "the builder takes one leaf per rail per leaf domain (a smaller leaf group_size)")
            if net.rail_optimized and not rail_only and not top and domain > sud:
                leaves = railed_leaf_count(leaves, nics, domain // gpn)
            down = math.ceil(links / leaves)
            layouts.append(TierLayout(spec.name, 0, domain, n // domain, 1, leaves, radix, port, down,
                                      0 if top else math.ceil(down / o), 1, o, spec.hop_latency_s, top))
        else:
            below = layouts[-1]
            sub = domain // below.domain_gpus
            lower, up = sub * below.switches_per_domain, below.up_ports
            s = None if rail_only else _smallest_fitting_divisor(up, lower, down_max)
            planes = 1
            if s is None:  # rail-only: always planes by the lower switch's index, which keeps each within a rail
                planes = below.switches_per_domain
                s = _smallest_fitting_divisor(up, sub, down_max)
                if s is None or (planes == 1 and not rail_only):
                    raise InputError(
                        f"cannot build tier {spec.name}: {sub} {below.name} switches per plane x {up // (s or up)} "
                        f"link{'s' * (up > (s or up))} each need {sub * (up // (s or up))} down ports per switch, but "
                        f"radix {radix} at {o:g}:1 gives {down_max} (need radix >= "
                        f"{math.ceil(sub * (1 + o) / o) if not top else sub})")
            per_lower = up // s
            down = (lower if planes == 1 else sub) * per_lower
            layouts.append(TierLayout(spec.name, i, domain, n // domain, planes, s, radix, port, down,
                                      0 if top else math.ceil(down / o), per_lower, o, spec.hop_latency_s, top))
        if top:
            break
    # a link between two tiers runs at its slower end's rate too (leaf ports at 400G under 100G spine ports: 100G)
    layouts = [replace(t, uplink_bytes_per_s=nic_link_rate(t.port_bytes_per_s, above.port_bytes_per_s) if above
                       else t.uplink_bytes_per_s, switch=net.tiers[t.index].own_switch())
               for t, above in zip(layouts, [*layouts[1:], None], strict=True)]
    leaf = layouts[0]
    if len(layouts) == 1 and leaf.switches > 1 and not rail_only:
        raise InputError(f"{n // gpn * nics:,} NIC links need {leaf.switches} switches of radix {leaf.radix} but "
                         f"{system.name} has only the {leaf.name} tier to join them")
    leaves = leaf.switches_per_domain
    # rail groups where a leaf domain of several scale-up domains has 2+ leaves but fewer than NICs per node: NICs
    # r*g .. r*g + g - 1 of every node go to leaf r (the same NIC index on every node to one leaf; hN70: the MI300X
    # unit's 2 leaves were built unrailed), so every node reaches every leaf and every plane above
    grouped = net.rail_optimized and 1 < leaves < nics and nics % leaves == 0 and leaf.domain_gpus > sud
    rpl = nics // leaves if grouped else 1
    rails = net.rail_optimized and ((leaves % nics == 0 and leaves >= nics) or rpl > 1)
    lpr = max(1, leaves // nics) if rails else 0
    if rails and (leaf.domain_gpus // gpn) % lpr:
        rails, lpr, rpl = False, 0, 1
    return ClosTopology(system.name, net.kind, n, gpn, nics, node.nic_bandwidth_bytes_per_s, rails, lpr,
                        tuple(layouts), rpl, sud, rail_only)


def _rail_leaf_span(group: int, down_max: int, hb: int, n: int, o: float, radix_above: int | None,
                    pod: int) -> int:
    """Rail-only: a rail leaf's domain in GPUs. Wang et al. (arXiv:2307.12169, Sec. 4) make each rail a Clos of its
    own, so the system's pod (the Clos's tier-1 group, `pod` GPUs) does not bound a rail's leaf: where the rail's
    next tier can be its top over the leaves that span all `n` GPUs (`_rail_top_fits`' test), the leaves take as
    many HB domains as their `down_max` ports reach (dividing `n`); a rail too large for two tiers keeps the pod's
    cap, so the tier above still groups whole leaf domains. So does a job of no whole number of pods (as before):
    its leaf domains, all equal, would hold a divisor of an awkward HB-domain count (74 racks: 37 leaves of 2)."""
    if n % pod:
        return rail_leaf_domain(group, down_max * hb, pod)
    wide = rail_leaf_domain(group, down_max * hb, n)  # >= the pod's choice, which divides n too
    up = math.ceil((wide // hb) / o)  # one rail leaf's up links: its HB domains' NICs on this rail, at o:1
    if radix_above is not None and _smallest_fitting_divisor(up, n // wide, radix_above) is not None:
        return wide
    return rail_leaf_domain(group, down_max * hb, pod)


def _rail_top_fits(layouts: list[TierLayout], radix: int | None, n: int, hb: int) -> bool:
    """Rail-only: whether this tier can be the top, one plane per rail holding all of the rail's lower switches
    (Wang et al., arXiv:2307.12169: a rail needs only the tiers its own NIC count does, n / hb endpoints for HB
    domains of hb GPUs, not the tiers the whole fabric of n x NICs endpoints needs)."""
    if radix is None:
        return False
    if not layouts:
        return n // hb <= radix
    below = layouts[-1]
    if n % below.domain_gpus:
        return False
    return _smallest_fitting_divisor(below.up_ports, n // below.domain_gpus, radix) is not None


def leaf_index(topo: ClosTopology, node: np.ndarray, nic: np.ndarray) -> np.ndarray:
    """Index of the leaf switch (within its leaf domain) that NIC `nic` of server `node` plugs into."""
    npd = topo.nodes_per_leaf_domain
    within = node % npd
    if topo.rails_per_leaf > 1:  # a rail group per leaf: every node has rails_per_leaf NICs on every leaf
        return nic // topo.rails_per_leaf
    if topo.rail_only:  # rail k = the HB domain's k-th NIC: the node's tray position x NICs per node + its NIC
        trays = topo.scale_up_domain_gpus // topo.gpus_per_node
        return cast(np.ndarray, (within % trays) * topo.nics_per_node + nic)
    if topo.rail_optimized:
        return cast(np.ndarray, nic * topo.leaves_per_rail + within // (npd // topo.leaves_per_rail))
    return cast(np.ndarray, (within * topo.nics_per_node + nic) // topo.tiers[0].down_ports)
