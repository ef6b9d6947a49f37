"""Generic systems: the cluster an accelerator preset stands for when no catalog system is named.

The node is the one of the accelerator's reference system (the largest catalog system built from it), or, when
there is none, the part file's `devices_per_server` (a 2-socket CPU server: xeon-8480.yaml, epyc-9654.yaml), else 8
accelerators per node, with a NIC each at the accelerator's scale-out bandwidth. Its host power is the
device's one host share (`cluster.host_share`: the device's own figure, else the reference node's, else Epoch AI's
rule, server = 1.82 x GPU TDP, from the DGX H100's 10.2 kW for 8 x 700 W). The fabric is one non-blocking folded Clos
of the default switch radix (catalog network prices), balanced adaptively (stated: `load_balancing: adaptive`, every
flow spread evenly over its equal-cost uplinks, so `train`, `serve`, `collective` and the flow model price no ECMP
hash collisions on it, hB74: an idealised fabric, as its non-blocking tiers are; a kind's default, ECMP off
InfiniBand, would hash a fabric nobody measured, and DeepSeek-V3's H800 ran InfiniBand, arXiv:2412.19437 sec. 3.1): a
single switch when every NIC link fits one, else leaves of radix/2 links and as many tiers as needed, each joining up
to radix/2 domains of the tier below and the top up to radix (the k-ary fat tree of Al-Fares et al., SIGCOMM 2008).
The fabric is built for whole domains of the tier below the top (a partial pod is bought whole), so
`total_accelerators` may exceed the count asked for; `network.topology.build_topology` counts its switches.

Where the part's catalog SuperPOD is rail-optimised (`rail_unit`: the largest catalog system of the part with
`rail_optimized: true`), the leaf domain is that system's scalable unit, its `leaf` tier's group (hB66): the
unit's leaves take NIC r of every node on rail r (`build_topology`'s rails), sit in their own racks and so reach the
NICs over optics (network/costs.py), as NVIDIA's DGX SuperPOD reference architectures build them: GB200 / GB300
NVL72, 8 racks = 576 GPUs on 8 leaves + 4 spines of 144 ports (gb200-nvl72-superpod.yaml); DGX H100, 32 nodes = 256
GPUs on 8 QM9700 leaves (dgx-h100-superpod.yaml). The unit is used where its leaves fill their down ports and a
whole number of units fills the k/2 leaves one tier-1 switch reaches (so the tiers above keep the fat tree's
arithmetic, counted in leaf switches); else, and for parts whose catalog systems have no rails, a top-of-rack leaf
of whole nodes as above. A count within one unit is built on the fewest of its leaves that take the count, each
whole, under those leaves' spines (`network.rail_leaves.unit_part`, hB2; a catalog system's partial unit by the
same rule, hB67), so the fabric never costs less for more accelerators. Above two tiers the domain below the top
is the whole sub-domains of the fewest switches the builder wires, ties to the least waste (hB67: the least waste
alone built 704 A100 with 120 switches, 712 with 101), then to the fewest switch hops between pairs
(`mean_switch_hops`, hN68: equal switches are equal price, power, links and bisection, so the larger pod).
"""

from __future__ import annotations

import math
from functools import lru_cache

from infraplan.catalog import list_presets, load_accelerator, load_system
from infraplan.catalog.schemas import Accelerator, Network, NetworkTier, Node, System
from infraplan.cluster.host_share import EPOCH_SERVER_MULTIPLIER as EPOCH_SERVER_MULTIPLIER
from infraplan.cluster.host_share import accelerator_host_share, assumed_share_note, reference_system
from infraplan.errors import InputError
from infraplan.network.rail_leaves import unit_part
from infraplan.network.topology import build_topology

GENERIC_ACCELERATORS_PER_NODE = 8
GENERIC_COLLECTIVE_EFFICIENCY = 0.9  # NCCL busbw / NIC line rate assumed without a measured system
MAX_TIERS = 8
GENERIC_SYSTEM_SOURCE = "generic system built from the accelerator preset (cluster/generic.py)"
GENERIC_BALANCING_SOURCE = ("generic cluster (cluster/generic.py): an idealised non-blocking Clos, whatever its kind; "
                            "no fabric anyone measured, so none hashed (a system file states its own)")


def generic_node(accelerator: Accelerator, node_of: System | None = None) -> tuple[Node, str, float]:
    """(node, network kind, collective efficiency) of the reference system, or the generic node of 8; its host
    power is the device's one host share (`host_share`) times its accelerators. `node_of`: a system read as its part
    (`cluster.node_system`), whose node it is (host power, NICs, scale-up domain and switches: hP69), on the
    reference system's kind of fabric (its own where the part has none): every catalog system's node is its
    part's reference node, so a catalog system read as its part is priced as the part."""
    ref = reference_system(accelerator.catalog_name)  # a what-if file's `extends` preset's node
    if node_of is not None:
        fabric = (ref or node_of).network
        return node_of.node, fabric.kind, fabric.collective_efficiency
    share = accelerator_host_share(accelerator)
    if ref is not None:
        own = accelerator.devices_per_server
        if own and own != ref.node.accelerators_per_node:  # the field is for a part no catalog system houses
            raise InputError(f"{accelerator.name}: devices_per_server {own} is for a part no catalog system houses; "
                             f"its server is {ref.name}'s node of {ref.node.accelerators_per_node}: drop "
                             "devices_per_server, or give a system file (`accelerator:` this part)")
        node, per_gpu = ref.node, ref.node.nics_per_node * ref.node.nic_bandwidth_bytes_per_s
        per_gpu /= ref.node.accelerators_per_node  # every catalog reference node equals its accelerator's figure;
        if per_gpu > 0 and not math.isclose(per_gpu, accelerator.scale_out_bandwidth_bytes_per_s):  # a what-if's
            node = node.model_copy(update={"nic_bandwidth_bytes_per_s": node.nic_bandwidth_bytes_per_s  # own NICs
                                           * accelerator.scale_out_bandwidth_bytes_per_s / per_gpu})
        if share.basis == "device" and not math.isclose(share.host_w * node.accelerators_per_node,
                                                        node.host_power_w):  # the device's own figure comes first;
            # where they agree the reference node's source stands (it cites the part), so a catalog system read as its
            # part is the part (tests/consistency/test_system_as_part_node_hP69.py)
            node = node.model_copy(update={"host_power_w": share.host_w * node.accelerators_per_node,
                                           "host_power_source": share.host_source})  # said where ASSUMED (hM70)
        return node, ref.network.kind, ref.network.collective_efficiency
    per = accelerator.devices_per_server or GENERIC_ACCELERATORS_PER_NODE  # a CPU's sockets (its file's figure)
    node = Node(accelerators_per_node=per, scale_up_domain=per, nics_per_node=per,
                nic_bandwidth_bytes_per_s=accelerator.scale_out_bandwidth_bytes_per_s,
                host_power_w=share.host_w * per, host_power_source=share.host_source)
    return node, "ethernet", GENERIC_COLLECTIVE_EFFICIENCY


def fabric_radix(network: Network | None) -> int:
    """Switch radix of a generic Clos on a system's node: its own leaf switch (one at the node's NIC port speed: an
    HDR node's 40-port QM8700, not a 400G radix), else the catalog's default radix."""
    leaf = network.tiers[0].switch_radix if network is not None and network.tiers else None
    if leaf:
        return leaf
    from infraplan.catalog.facility_loader import load_network_cost  # lazy: a catalog system's tiers have radixes

    return load_network_cost().default_switch_radix


@lru_cache(maxsize=64)
def _rail_unit_gpus(catalog_name: str) -> int | None:
    """The leaf group of the largest rail-optimised catalog system of the part (its SuperPOD's scalable unit)."""
    systems = [load_system(name) for name in list_presets("systems")]
    railed = [s for s in systems if s.accelerator == catalog_name and s.network.rail_optimized and not
              s.network.rail_only and s.network.tiers]
    if not railed:
        return None
    return max(railed, key=lambda s: (s.total_accelerators, s.name)).network.tiers[0].group_size


def rail_unit(accelerator: Accelerator, node: Node, radix: int, outgrown: System | None = None) -> int | None:
    """Accelerators of the rail-optimised leaf unit a generic Clos of `accelerator` is built of (module docstring):
    its catalog SuperPOD's scalable unit where the unit is whole scale-up domains (racks), its NIC links fill whole
    leaves of radix/2 down ports, and its leaves divide radix/2 (whole units under one tier-1 switch's reach); None
    otherwise (a top-of-rack leaf of whole nodes). `outgrown`: the rail-optimised system a count past its size is
    built of (`Cluster.for_count`, `ServerLayout.outgrown`), whose own leaf group is the unit first where it is one
    (hP75: a user's GB200 SuperPOD of 144-GPU NVLink domains on rails of 144 lost its rails one tray past its 576,
    its node no whole part of the catalog's 576-GPU unit, and cost 2.8 % less; every catalog system's leaf group is
    its part's unit)."""
    own = outgrown.network if outgrown is not None else None
    railed = own is not None and own.rail_optimized and not own.rail_only and bool(own.tiers)
    units = [own.tiers[0].group_size] if own is not None and railed else []
    gpn, nics, half = node.accelerators_per_node, node.nics_per_node, radix // 2
    sud = node.scale_up_domain if node.scale_up_domain % gpn == 0 else gpn
    for unit in [*units, _rail_unit_gpus(accelerator.catalog_name)]:
        links = 0 if unit is None else unit // gpn * nics
        if unit is not None and not (unit % sud or nics < 1 or links % half or half % (links // half)
                                     or links // half < 2):
            return unit
    return None


def clos_tiers(accelerators: int, node: Node, radix: int, unit: int | None = None) -> tuple[list[NetworkTier], int]:
    """(tiers, accelerators the fabric is built for) of a non-blocking folded Clos over whole nodes; `unit`: the
    rail-optimised leaf unit (`rail_unit`), whose leaves count as leaves of radix/2 NIC links in the tiers above.
    Above two tiers, the domain below the top is the one of the fewest switches the builder wires (hB67)."""
    tiers, built = _clos_tiers(accelerators, node, radix, unit)
    return list(tiers), built


@lru_cache(maxsize=4096)  # (the candidate pods' builds: planners ask the same counts again)
def _clos_tiers(accelerators: int, node: Node, radix: int, unit: int | None) -> tuple[tuple[NetworkTier, ...], int]:
    gpn, nics = node.accelerators_per_node, max(node.nics_per_node, 1)
    nodes = -(-accelerators // gpn)
    if nodes * nics <= radix:
        return (NetworkTier(name="leaf", group_size=nodes * gpn, switch_radix=radix),), nodes * gpn
    half = radix // 2
    if nics > half:
        raise InputError(f"a node's {nics} NICs do not fit the {half} down ports of a radix-{radix} leaf")
    domain = half // nics * gpn  # accelerators under one leaf
    leaves = 1  # leaves of a leaf domain: one top-of-rack leaf, or a rail unit's (domain: GPUs a leaf's ports reach)
    if unit is not None:
        leaves = unit // gpn * nics // half
        domain = unit // leaves
        if nodes * gpn <= unit:  # within one unit: the leaves it needs, each whole, and their spines (hB2)
            return (NetworkTier(name="leaf", group_size=unit, switch_radix=radix),
                    NetworkTier(name="spine", group_size=domain * radix, switch_radix=radix)), \
                unit_part(nodes, node, half, unit, leaves)
    sizes = [domain]
    while sizes[-1] * radix < nodes * gpn:  # the top joins up to `radix` domains of the tier below
        if len(sizes) >= MAX_TIERS:
            raise InputError(f"{accelerators:,} accelerators need more than {MAX_TIERS} tiers of radix {radix}")
        sizes.append(sizes[-1] * half)
    want = nodes * gpn
    if len(sizes) == 1:
        one, built = _tiers_of([domain * leaves], want, radix)
        return tuple(one), built
    inner = sizes[-2]  # the domain below the top: whole sub-domains, m of them, m a divisor of k/2 (so every lower
    step = leaves if len(sizes) == 2 else 1  # switch's k/2 up ports spread evenly: balanced wiring, no planes);
    fits = [m for m in range(2, half + 1) if half % m == 0 and m % step == 0  # whole units, more than one, under a
            and (step == 1 or m > step) and m * inner * radix >= want]  # tier-1 switch; the m of the fewest switches
    options = [(m, *_tiers_of([domain * leaves, *sizes[1:-1], m * inner], want, radix)) for m in fits]
    _, tiers, built = min(options, key=lambda o: (_switches(o[1], o[2], node, unit is not None), o[2],
                                                  mean_switch_hops(o[1], o[2], gpn)))
    return tuple(tiers), built


def mean_switch_hops(tiers: list[NetworkTier], built: int, per_node: int) -> float:
    """Switches a packet between two of `built` accelerators crosses, averaged over their pairs on different nodes:
    2 t + 1 where the pair's lowest common domain is tier t's (a leaf 1, a pod's spines 3, the top 5). `clos_tiers`'
    tie-break (hN68): pods of the same switches are the same leaves and non-blocking, so the same capex, power,
    links and bisection (728 A100: 10 pods of 80 or 5 of 160, 110 switches, $3.45 M, 54.5 kW, 9.1 TB/s either way);
    the larger pod puts more pairs under one spine tier, fewer hops a byte (each a switch's hop latency: `Fabric`
    prices a collective within one pod without the top's, and a pod's spines carry it without the top's links)."""
    sizes = [per_node, *(t.group_size for t in tiers[:-1]), built]
    pairs = [built * (size - 1) for size in sizes]  # ordered pairs within one domain of each size
    return sum((2 * t + 1) * (pairs[t + 1] - pairs[t]) for t in range(len(sizes) - 1)) / max(pairs[-1] - pairs[0], 1)


def _tiers_of(sizes: list[int], want: int, radix: int) -> tuple[list[NetworkTier], int]:
    """(tiers, accelerators built for) of domain `sizes` bottom up, the top joining whole domains of the last."""
    below_top = sizes[-1]
    built = math.ceil(want / below_top) * below_top
    names = ["leaf", "spine"] + [f"tier{i}" for i in range(2, len(sizes) + 1)]
    tiers = [NetworkTier(name=names[i], group_size=size, switch_radix=radix) for i, size in enumerate(sizes)]
    tiers.append(NetworkTier(name=names[len(sizes)] if len(sizes) > 1 else "spine", group_size=built,
                             switch_radix=radix))
    if built == below_top:  # one domain below the top is the whole fabric
        tiers.pop()
    return tiers, built


def _switches(tiers: list[NetworkTier], built: int, node: Node, railed: bool) -> int:
    """Switches `build_topology` wires for a candidate Clos (`clos_tiers` takes the fewest, hB67): the pod that
    wastes the fewest ports is not the cheapest, 704 A100 in 64-GPU pods took 120 switches where 712 in 80-GPU pods
    took 101."""
    network = Network.model_construct(kind="ethernet", tiers=tiers, rail_optimized=railed and len(tiers) > 1,
                                      rail_only=False, collective_efficiency=GENERIC_COLLECTIVE_EFFICIENCY)
    system = System.model_construct(name="candidate", display_name="", source="", accelerator="",
                                    total_accelerators=built, node=node, network=network)
    return build_topology(system, built).switches_total


def generic_system(accelerator: str | Accelerator, count: int = GENERIC_ACCELERATORS_PER_NODE,
                   node_of: System | None = None, outgrown: bool = False) -> System:
    """A System of `count` accelerators (rounded up as the fabric needs) on the generic node and Clos; `node_of`: the
    system whose node it is (`generic_node`), a system file read as its part or a generic cluster resized.
    `outgrown`: `count` is past `node_of`'s size (`Cluster.for_count`), so the Clos is of its own fabric's kind, leaf
    radix, collective efficiency and rail unit, not its part's reference system's, as a plan pool's layout builds it
    (power.py `fabric_system`; hP75: a user's DGX B200 on RoCE was InfiniBand past its 256 in `facility` alone)."""
    acc = load_accelerator(accelerator) if isinstance(accelerator, str) else accelerator
    if count <= 0:
        raise InputError(f"accelerator count must be positive, got {count}")
    node, kind, efficiency = generic_node(acc, node_of)
    ref = reference_system(acc.catalog_name) or node_of
    if outgrown and node_of is not None:
        ref, kind, efficiency = node_of, node_of.network.kind, node_of.network.collective_efficiency
    network, built = generic_network(acc, node, count, fabric_radix(ref.network if ref is not None else None),
                                     kind, efficiency, node_of if outgrown else None)
    return System(name=f"{acc.name}-generic-{built}",
                  display_name=f"{built:,} x {acc.display_name}, generic node and non-blocking Clos",
                  source=GENERIC_SYSTEM_SOURCE,
                  accelerator=acc.name, total_accelerators=built, node=node, network=network)


def generic_network(accelerator: Accelerator, node: Node, count: int, radix: int, kind: str,
                    efficiency: float, outgrown: System | None = None) -> tuple[Network, int]:
    """(network, accelerators built for) of the generic non-blocking Clos of `count` on `node` (module docstring):
    rail-optimised on its part's SuperPOD unit (`rail_unit`; an `outgrown` system's own first) where one applies,
    top-of-rack leaves otherwise."""
    unit = rail_unit(accelerator, node, radix, outgrown)
    tiers, built = clos_tiers(count, node, radix, unit)
    railed = unit is not None and len(tiers) > 1  # one switch that takes every NIC has no rails
    return Network(kind=kind, tiers=tiers, rail_optimized=railed,  # type: ignore[arg-type]
                   collective_efficiency=efficiency, load_balancing="adaptive",  # stated: one answer in train,
                   load_balancing_source=GENERIC_BALANCING_SOURCE), built  # collective and flow (hB74)


def generic_part_notes(accelerator: Accelerator, *, host: bool, node: bool) -> list[str]:
    """What an answer on a part that is not a GPU assumes from a GPU server where its file says nothing (hU50): the
    host share of the generic rule (`host_share`: Epoch AI's 0.82 x TDP, a GPU server's rule), where the part has
    no host figure and no reference system; and the generic node (`generic_node`: 8 per node, an 8-wide scale-up
    domain, Ethernet, collective efficiency 0.9 assumed), where it has no reference system. `host` / `node`: whether
    the caller's answer prices that figure (the assumption in force: `train` prices no host, a named catalog system
    keeps its own node). A GPU: [] (the rules are a GPU server's own). The host line is `host_share.
    assumed_share_note` of the generic node, the one wording of an ASSUMED host share: an answer that says that note
    itself (`serve`'s and `recsys`'s per-watt figures, a fleet-mix pool's `pool_figures_note`) passes `host=False`,
    so the share is said once (hK71: a TPU's `serve` said it twice, in two wordings)."""
    if accelerator.kind == "gpu":
        return []
    notes, word = [], accelerator.device_word
    if host and accelerator_host_share(accelerator).basis == "generic rule" and \
            (said := assumed_share_note(generic_node(accelerator)[0], word)):
        notes.append(f"{accelerator.name}: {said}")
    if node and reference_system(accelerator.catalog_name) is None:
        per = accelerator.devices_per_server or GENERIC_ACCELERATORS_PER_NODE
        notes.append(f"{accelerator.name}: no catalog system of it, so the generic node is ASSUMED: {per} {word}s "
                     f"per node, a scale-up domain of {per}, one Ethernet NIC per {word} at its scale-out rate, "
                     f"collective efficiency {GENERIC_COLLECTIVE_EFFICIENCY:g} (cluster/generic.py); a system file "
                     "(`accelerator:` this part) gives its own")
    return notes
