"""How many leaves a rail-optimised leaf domain is wired with: rails kept whatever the leaves' oversubscription, and
the rail-only design's wider leaf domains (`topology.build_topology` reads both); and the rail-only variant of a
system that `--fabric rail-only` asks for (`with_fabric`: Wang et al., arXiv:2307.12169; moved from
`network.topology`, hE62).

Rail-optimised (NVIDIA DGX SuperPOD reference architecture, the source of catalog/systems/dgx-h100-superpod.yaml:
a scalable unit of 32 DGX H100 has 8 QM9700 leaves, NIC r of every DGX on leaf r: the same NIC index on every node
goes to the same leaf, the compute fabric's rail-optimised wiring): which NICs a leaf takes follows the rails,
and a leaf's oversubscription o:1 sets how many of its ports go up (ceil(down / o)), not which NICs it takes. The
builder's count ceil(NIC links / down ports) gave a DGX H100 SU at 2:1 leaves (42 down ports of 64 at most) 7
leaves for 8 rails: wired unrailed, with 7 spine planes above them (split by leaf index) that nothing joined, so the
flow model refused a 64-GPU all-reduce that `network`, `facility` and the analytical model priced (hH, session 56).
`railed_leaf_count` raises it to the fewest rail-aligned count: 8 leaves of 32 NICs and 16 up ports at 2:1 (the
spines and cores of the non-blocking SuperPOD halved: 512 / 256 / 128 switches for 16,384 GPUs, 1,645 before), rail
groups where fewer leaves divide the NICs (Gaudi 2: 6 leaves of 4 rails, as at 1:1). A leaf's spare ports stay
unused, as the reference architecture's 1:1 SU leaves their UFM / storage ports (ASSUMPTION: an oversubscribed
rail-optimised SU is not in NVIDIA's published designs, which are all 1:1; the rule follows from the wiring).
"""

from __future__ import annotations

import math

from infraplan.catalog.schemas import NetworkTier, Node, System
from infraplan.errors import InputError

RAILED_OVERSUBSCRIBED_LEAVES = True
"""hI56: a rail-optimised leaf domain keeps its rails at any leaf oversubscription (`railed_leaf_count`); False: the
ceil(NIC links / down ports) leaves, unrailed where that count is neither a divisor nor a multiple of the NICs."""


def railed_leaf_count(leaves: int, nics: int, nodes: int) -> int:
    """The fewest leaves >= `leaves` a rail-optimised leaf domain of `nodes` nodes with `nics` NICs each can be wired
    with: a divisor of `nics` (each leaf a group of nics / L rails of every node) or a multiple of it whose leaves per
    rail divide the nodes (`leaves_per_rail` blocks); where only one leaf a node divides them (a prime node count),
    the fewest multiple of `nics`, a rail's leaves taking the nodes in blocks as equal as whole nodes allow
    (`clos_topology.leaf_index`: 29 nodes on 2 leaves a rail, 15 and 14; `UNEVEN_RAIL_BLOCKS`); `leaves` itself where
    it is one already, where none fits the domain's NIC links, or with `RAILED_OVERSUBSCRIBED_LEAVES` off."""
    if not RAILED_OVERSUBSCRIBED_LEAVES:
        return leaves
    for count in range(leaves, nodes * nics + 1):
        if nics % count == 0 or (count % nics == 0 and nodes % (count // nics) == 0):
            if count < nodes * nics or nodes == 1 or not UNEVEN_RAIL_BLOCKS:
                return count
            return max(-(-leaves // nics) * nics, nics)  # one-port leaves, one a NIC: blocks of whole nodes instead
    return leaves


UNEVEN_RAIL_BLOCKS = True
"""hF72: where only one leaf a node divides a rail's nodes (a prime count), a rail's leaves split them into blocks that
differ by at most one node; False: 29 Leonardo-like nodes of 4 NICs under radix-40 leaves (20 down ports at 1:1, 2
leaves a rail needed) took 116 one-port leaves, one a NIC, and 120 switches (hF2-71); now 8 leaves of 15 and 3
spines."""


def leaf_down_ports(radix: int, oversubscription: float) -> int:
    """Down ports of a radix-`radix` switch below the top at `oversubscription`:1 (down / up), the rest up: the one
    rule of `topology.build_topology`'s tiers (`_down_max`) and `partial_unit_gpus`' leaves."""
    return int(math.floor(radix * oversubscription / (1.0 + oversubscription) + 1e-9))


def unit_part(nodes: int, node: Node, half: int, unit: int, unit_leaves: int) -> int:
    """Accelerators a count of `nodes` within one rail unit of `unit` accelerators on `unit_leaves` leaves of `half`
    down ports is built for (hB2): the fewest of the unit's leaves that take the nodes' NIC links (a divisor of the
    unit's leaves, each a rail or a group of rails of every node, as `railed_leaf_count`), each leaf whole, its
    down ports' nodes; the spines above are those leaves' (their up ports, N/k spines: the DGX SuperPOD RA's
    scalable unit of 8 leaves has 4, as catalog/systems/gb200-nvl72-superpod.yaml builds it). Before hB2, 17 H100
    nodes on 8 leaves of 17 up ports took 17 spines (prime wiring) while 18 nodes took 3. The one rule of a part's
    generic Clos (cluster/generic.py `clos_tiers`) and a catalog system's partial unit (`partial_unit_gpus`, hB67),
    so switches never fall as nodes are added. The switches are bought whole; NIC links are priced for the servers
    there and a leaf's uplinks for its ports in use (network/costs.py `populated_links`)."""
    gpn, nics = node.accelerators_per_node, max(node.nics_per_node, 1)
    sud = node.scale_up_domain if node.scale_up_domain % gpn == 0 else gpn
    need = -(-nodes * nics // half)
    for count in range(need, unit_leaves):
        built = count * half // nics * gpn
        if (unit_leaves % count == 0 and (nics % count == 0 or count % nics == 0) and count * half % nics == 0
                and built % sud == 0):
            return built
    return unit


def partial_unit_gpus(system: System, gpus: int) -> int:
    """The accelerators a rail-optimised system's fabric is built for where `gpus` fill part of its first tier's
    domain (its scalable unit: dgx-h100-superpod.yaml's 32 DGX on 8 rail leaves), by `unit_part`'s rule: the leaves
    the count needs, each whole, under their spines (hB67: the catalog path wired 17 H100 nodes' 17 up ports a
    leaf to 17 spines, 25 switches at 136 GPUs against 11 at 144). `gpus` itself where the system is not
    rail-optimised (or rail-only), where its NIC links fit one leaf switch (no spines), or where it fills whole
    units. A user's file smaller than its unit (17 DGX on the SuperPOD's tiers) is built the same (hN68: its own
    136 GPUs got the 25 switches the catalog's gave up): the count built may pass the system's, at most its unit
    (`costs.partial_unit_topology` widens the system to it); a `gpus` beyond the system is returned, for the
    builder's refusal ("144 GPUs requested but dgx17 has 136"; hN68's widening built them)."""
    net, node = system.network, system.node
    gpn, nics = node.accelerators_per_node, node.nics_per_node
    if not net.rail_optimized or net.rail_only or len(net.tiers) < 2 or nics < 1 or gpus % gpn:
        return gpus
    if gpus > system.total_accelerators:  # more than the system has: the builder refuses it
        return gpus
    leaf = net.tiers[0]
    unit, radix = leaf.group_size, leaf.switch_radix
    if radix is None or gpus >= unit or unit % gpn or gpus // gpn * nics <= radix:
        return gpus
    down_max = leaf_down_ports(radix, leaf.oversubscription)
    links = unit // gpn * nics
    leaves = railed_leaf_count(math.ceil(links / max(down_max, 1)), nics, unit // gpn)
    if links % leaves:
        return gpus
    built = unit_part(gpus // gpn, node, links // leaves, unit, leaves)
    return built if gpus <= built else gpus


def rail_leaf_domain(group: int, most: int, above: int) -> int:
    """Rail-only: GPUs under one leaf domain, the largest multiple of the system's own leaf `group` (its racks or
    scalable units kept whole) up to `most` (one rail leaf's down ports x GPUs per node) that divides the domain
    `above` it; `group` itself when no larger one does. A rail-optimised ToR of 2 servers would give each rail a
    leaf of 2 ports; the rail-only design (arXiv:2307.12169) gives a rail's switch all the nodes its ports take."""
    best = group
    for m in range(2, most // group + 1):
        if above % (group * m) == 0:
            best = group * m
    return best


FABRICS = ("clos", "rail-only")
"""`--fabric`: the system's own Clos as its catalog entry describes it, or its rail-only variant."""


def with_fabric(system: System, fabric: str | None) -> System:
    """`system` with the fabric `--fabric` names: None or 'clos' keeps it; 'rail-only' (Wang et al., "How to Build
    Low-cost Networks for Large Language Models (without Sacrificing Performance)", arXiv:2307.12169) keeps its
    switches, leaves and NICs but joins only the switches of one rail above the leaves (`build_topology`)."""
    if fabric is None or fabric == "clos":
        return system
    if fabric not in FABRICS:
        raise InputError(f"--fabric must be one of {', '.join(FABRICS)}, got {fabric!r}")
    net = system.network
    if net.kind not in ("infiniband", "roce", "ethernet") or system.node.nics_per_node < 1:
        raise InputError(f"--fabric rail-only needs a NIC-based scale-out fabric; {system.name} has "
                         f"{system.node.nics_per_node} NICs per node on {net.kind}")
    return system.model_copy(update={"network": net.model_copy(update={"rail_only": True, "rail_optimized": True})})



def unreached_planes(leaf: NetworkTier, leaves: int, nics: int, nodes: int, domain_gpus: int, above: str,
                     word: str, need: int | None) -> str:
    """The line refusing a fabric whose tier `above` the leaves is split into planes by leaf index
    (`network.topology`) while a leaf domain has more leaves than a node has NICs (`leaves` > `nics`): a node
    reaches only some leaves, hence only some planes, and two nodes on disjoint leaves share no switch (hL70: a DGX
    B200 unit's leaf at `switch_radix: 3` gave 256 one-port leaves in 256 spine planes). `need`: the smallest leaf
    radix the fabric builds with (None: none up to one port per node a rail)."""
    o = leaf.oversubscription
    fix = f"need switch_radix >= {need}" if need else "no leaf radix builds it"
    return (f"tier {leaf.name}: switch_radix {leaf.switch_radix} at {o:g}:1 wires the {nodes} nodes of a "
            f"{domain_gpus:,}-{word} {leaf.name} domain to {leaves} leaves, more than their {nics} NICs reach, and the "
            f"{above} tier is split into planes by leaf, so some nodes share no switch: {fix} (or a smaller "
            f"{leaf.name} group_size)")
