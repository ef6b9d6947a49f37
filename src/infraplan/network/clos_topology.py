"""A built folded-Clos fabric (`network.topology.build_topology` builds it) and what is read off it.

Per tier (`TierLayout`): its domains, switches (planes x switches per plane per domain), the ports each switch uses
down and up, the parallel links from a lower switch to each switch it reaches, its hop latency and the line rate of
an uplink. The fabric (`ClosTopology`): its endpoints (nodes x NICs), switch and link counts tier by tier, the line
rate of a NIC's link (the slower end's, `nic_link_rate`) and per GPU, the rails of a rail-only fabric, and the leaf a
NIC plugs into (`leaf_index`: by rail on a rail-optimised unit, by rail group where a unit has fewer leaves than NICs
per node, by port otherwise).

Bisection: the least cut between two halves of the GPUs (`network.min_cut`, line rates, no protocol efficiency):
half their NIC bandwidth where every tier carries it.

The scale-up domain (`scale_up_domain_gpus`, the catalog's `node.scale_up_domain`) is the set of GPUs that
reach each other over NVLink rather than the NICs: one 8-GPU node on a DGX, the 72-GPU rack of 18 four-GPU
trays on a GB200/GB300 NVL72 (NVIDIA GB200 NVL72: 9 NVSwitch trays join all 72 GPUs at 1.8 TB/s each).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import cast

import numpy as np

from infraplan.network.min_cut import Level, Run, packed_cut


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
    # where planes > 1, the lower switches of one lower domain in each plane: 1, planes by the lower switch's index;
    # a rail's leaves (2 where a unit has 2 leaves a rail), one plane a rail (`topology._rail_planes`, hF2)
    lowers_per_plane: int = 1

    def plane_of(self, low: np.ndarray) -> np.ndarray:
        """The plane that lower switch `low` (its index within its domain) climbs into (0 where planes == 1)."""
        return low // self.lowers_per_plane if self.planes > 1 else np.zeros_like(low)

    def bundle_position(self, j: np.ndarray, low: np.ndarray, below_switches: int) -> np.ndarray:
        """A bundle's position among an upper switch's `fan` bundles: lower switch `low` of lower domain `j` (within
        the upper domain); `below_switches`: the lower tier's switches per domain."""
        if self.planes == 1:
            return cast(np.ndarray, j * below_switches + low)
        return cast(np.ndarray, j * self.lowers_per_plane + low % self.lowers_per_plane)

    def fan(self, sub: int, below_switches: int) -> int:
        """Lower switches an upper switch reaches in its domain of `sub` lower domains."""
        return sub * (below_switches if self.planes == 1 else self.lowers_per_plane)

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
        # a rail's leaves take the nodes in blocks as equal as whole nodes allow (`rail_leaves.railed_leaf_count`)
        return cast(np.ndarray, nic * topo.leaves_per_rail + within * topo.leaves_per_rail // npd)
    return cast(np.ndarray, (within * topo.nics_per_node + nic) // topo.tiers[0].down_ports)
