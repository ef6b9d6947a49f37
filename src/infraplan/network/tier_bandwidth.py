"""The bandwidth oversubscription of each scale-out tier: what a domain's NICs bring in over what its uplinks carry.

A tier's configured `oversubscription` o (catalog `NetworkTier`) is a ratio of switch ports: a switch of the tier
uses o down ports per up port (`topology.build_topology` takes ceil(down / o) whole up ports). The bandwidth that
leaves a domain is its switches' up ports at the tier's port speed, and the bandwidth that enters it is its GPUs'
NICs at the NIC speed, so the ratio that limits traffic leaving the domain is

    domain GPUs x NIC bandwidth per GPU / (switches of the domain x up ports x port bandwidth)

(line rates; the protocol efficiency scales both sides alike, `routing.build_links`). With NICs at the ports'
speed and whole up ports it is the configured o (the Llama 3 RoCE pods: 6.98:1 built for 1:7, since 3,072 GPUs'
ports round up). With NICs slower than the ports it is less: dgx-b200's 400G NICs under 800G switches at 1:7
above 2,048-GPU pods give 2,048 x 50 GB/s / (32 spines x 10 up ports x 100 GB/s) = 3.2:1 (7:1 in ports, 6.4:1
built); NICs faster than the ports are held to the ports' speed (a link runs at its slower end's rate), so the
ratio is the port ratio. The tiers' ratios multiply: a tier's up ports carry what the tiers below let through (a
2:1 leaf under a 2:1 spine leaves 1/4 of the NIC bandwidth above the spine).

`tier_bandwidth_ratios` is the one place the analytical model (`fabric.Fabric.from_system` ->
`tier_oversubscription`) takes a tier's capacity from, the same links the flow simulation routes over
(`routing.build_links`: NIC links at the slower of the NIC and the leaf port, `clos_topology.nic_link_rate`, tier t's
uplinks at its port rate). A system that describes no fabric to build (a tier without `switch_radix`, no NICs)
takes the same ratio without the whole-port rounding: NIC link rate x the product of the configured o up
to the tier / the tier's port rate.
`speed_mismatch_note` is the line `network`, `collective` and `train` (`crossing_notes`) print where the NICs and
leaf ports differ; `tier_speed_note` the line where two adjacent tiers' ports differ (each link between them at the
slower port's rate, `TierLayout.uplink_bytes_per_s`, in both models and the bill's optics: hY64).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from infraplan.catalog.schemas import System
from infraplan.errors import InputError
from infraplan.network.clos_topology import ClosTopology, nic_link_rate
from infraplan.network.topology import build_topology


def built_ratios(topo: ClosTopology) -> tuple[float, ...]:
    """Per built tier: its domain's NIC bandwidth over its uplink bandwidth (1.0 at the top, which has no
    uplinks); rounded to 12 significant digits so a non-blocking tier reads exactly 1."""
    ratios = []
    for tier in topo.tiers:
        up = tier.switches_per_domain * tier.up_ports * tier.uplink_bytes_per_s
        ratio = tier.domain_gpus * topo.gpu_bytes_per_s / up if up > 0 and not tier.is_top else 1.0
        ratios.append(float(f"{ratio:.12g}"))
    return tuple(ratios)


def port_ratios(system: System) -> tuple[float, ...]:
    """Per configured tier, without building it: NIC link rate x the configured o of this tier and those below
    / this tier's port rate (1.0 for the last tier)."""
    tiers = system.network.tiers
    raw_nic = system.node.nic_bandwidth_bytes_per_s
    nic = nic_link_rate(raw_nic, tiers[0].port_bandwidth_bytes_per_s)
    ratios, product = [], 1.0
    for i, tier in enumerate(tiers):
        product *= tier.oversubscription
        if i < len(tiers) - 1:  # the uplink at the slower of this tier's and the next tier's ports; a tier with no
            # port speed runs at the NIC's own rate, as `topology.build_topology` reads it (hR70)
            port = min(tier.port_bandwidth_bytes_per_s or raw_nic, tiers[i + 1].port_bandwidth_bytes_per_s or raw_nic)
        ratios.append(1.0 if i == len(tiers) - 1 else float(f"{nic * product / port:.12g}"))
    return tuple(ratios)


def tier_bandwidth_ratios(system: System) -> tuple[float, ...]:
    """Per configured tier of `system` (`system.network.tiers`, in order): its bandwidth oversubscription as the
    whole system's fabric builds it (`built_ratios`); tiers above the built top (never crossed) and a system that
    describes no fabric to build (`built_or_none`) take `port_ratios`."""
    return analytical_tiers(system)[1]


def leaf_switch_gpus(topo: ClosTopology) -> int:
    """GPUs whose traffic to one another never leaves a leaf switch (the flow model's `routing.route`): the whole
    tier-0 domain where it is one leaf, or where its leaves split into rails (PXN: a byte leaves through the NIC on
    the destination's rail, so it stays on that rail's leaf; `leaves_per_rail` leaves per rail split the domain's
    nodes into that many blocks, `clos_topology.leaf_index`); otherwise the GPUs behind one leaf's down ports (NIC link
    i of the domain on leaf i // down ports), whose traffic to the domain's other leaves climbs to the tier above;
    never fewer than the scale-up domain, whose pairs meet over NVLink, not a leaf (an NVL72 rack's 2 leaves).
    hF65: a 256-GPU rail-optimised leaf domain at 1:4 builds 6 leaves of 43 ports for 8 rails (no rails), and the
    analytical model priced its all-to-all as if half the bytes stayed below the leaf uplinks (2.79 ms at 512 GPUs,
    64 MiB) where 469 of a GPU's 511 peers sit behind another leaf (5.11 ms by hand, the flow model's links)."""
    leaf = topo.tiers[0]
    if leaf.switches_per_domain <= 1 or topo.rail_only:
        return leaf.domain_gpus
    if topo.rail_optimized:
        # the smaller block where a rail's leaves split the nodes unevenly (`rail_leaves.railed_leaf_count`)
        return topo.nodes_per_leaf_domain // max(topo.leaves_per_rail, 1) * topo.gpus_per_node
    return max(leaf.down_ports * topo.gpus_per_node // topo.nics_per_node, topo.scale_up_domain_gpus)


def built_or_none(system: System) -> ClosTopology | None:
    """`system`'s built fabric (`topology.build_topology`), or None where the file does not describe one to build (a
    tier without `switch_radix`, a node without NICs: the configured ratios, `port_ratios`). A fabric it describes
    that does not build is refused with the line `network` gives (its InputError; hF71: a DGX B200 copy at leaf
    `switch_radix: 3`, disconnected at its 256 GPUs, gave `train` the catalog's step time while `network` refused)."""
    try:
        return build_topology(system)
    except InputError:
        if system.node.nics_per_node < 1 or any(t.switch_radix is None for t in system.network.tiers):
            return None
        raise


STRADDLING_RAILS = True
"""hB57: a GPU whose NICs sit on two rail-group leaves (Gaudi 2: 3 scale-out NICs, 4 rails a leaf, so GPU 1 has NIC 3
on leaf 0 and NICs 4-5 on leaf 1) keeps the rail planes, each of its NICs counted on its own leaf (`rail_planes`,
`busiest_rail_share`); False: no rail planes for such a fabric (hI56: its spread send-recv priced as over every
leaf, gaudi2 2:1 256 spread 7.96 ms where the flow model finds 12.5 ms at 1,024 flows a pair)."""


def rail_planes(system: System, topo: ClosTopology | None = None) -> dict[str, Any]:
    """`Fabric.rail_of_gpu`, `Fabric.rail_nics_per_gpu` and `Fabric.rail_tiers` of `system`'s built fabric
    (`fabric.uplink_occupancy`): the leaf of its leaf domain (block, `leaves_per_rail`) each NIC of each GPU index of
    a node sends on (GPU-major, `rail_nics_per_gpu` a GPU) where the leaves are rails or rail groups (`routing.route`:
    GPU g's NICs from g x nics / gpn, a pair's flows striped over them; PXN leaves through the NICs of the destination
    GPU's index, `clos_topology.leaf_index`), and how many tiers from the leaves up keep the rails apart (the leaves; a
    tier above built in planes by the lower switch's index, a multiple of the leaves). A GPU's NICs may straddle two
    leaves (Gaudi 2; `STRADDLING_RAILS`). None for rail-only fabrics (`Fabric.rail_only` prices those), unrailed
    leaves and a system that describes no fabric to build (`built_or_none`). `topo`: the system's built fabric where
    the caller has it (None: built here)."""
    topo = built_or_none(system) if topo is None else topo
    if topo is None or not topo.rail_optimized or topo.rail_only:
        return {}
    gpn, nics = topo.gpus_per_node, topo.nics_per_node
    per_gpu = max(1, nics // gpn)
    rails: list[int] = []
    for g in range(gpn):
        first = g * nics // gpn
        leaves = [nic // topo.rails_per_leaf for nic in range(first, first + per_gpu)]
        if len(set(leaves)) != 1 and not STRADDLING_RAILS:
            return {}
        rails.extend(leaves)
    count = len(set(rails))
    tiers = 1
    for tier in topo.tiers[1:]:
        if tier.planes < 2 or tier.planes % count:
            break
        tiers += 1
    if all(len(set(rails[g * per_gpu:(g + 1) * per_gpu])) == 1 for g in range(gpn)):  # one leaf a GPU: one entry
        return {"rail_of_gpu": tuple(rails[::per_gpu]), "rail_tiers": tiers}
    return {"rail_of_gpu": tuple(rails), "rail_nics_per_gpu": per_gpu, "rail_tiers": tiers}


def busiest_rail_share(rail_of_gpu: tuple[int, ...], groups: int, spacing: float, shift: float, domain: int,
                       nics_per_gpu: int = 1) -> float:
    """The busiest rail's busy GPUs over its GPUs in a domain whose `groups` senders sit `spacing` ranks apart from
    its first rank, each sending on the rail of the GPU `shift` ranks on (rank r is GPU r % gpn of its node, gpn =
    len(rail_of_gpu) / `nics_per_gpu`); a rail holds the share of the domain that its NICs are of a node's. A GPU
    with several NICs (`rail_of_gpu`: each NIC's rail, GPU-major) stripes its flows over them (`routing.route`), so
    each NIC's rail takes 1 / `nics_per_gpu` of the sender. Exact over one period of the senders' GPU indices
    (gpn / gcd(spacing, gpn) senders). A `spacing` or `shift` that is not a whole number of ranks (a mean stride, as
    the network API's arrays take it: 3,000 GPUs evenly over 24,576, 8.192 apart) places sender c at rank
    floor(c x spacing + shift), each sender counted (`_spread_counts`; hK71: int() read 8.5 as 8, every sender on one
    rail)."""
    gpn = len(rail_of_gpu) // nics_per_gpu
    counts = [0.0] * (max(rail_of_gpu) + 1)
    if float(spacing).is_integer() and float(shift).is_integer():
        step, start = int(spacing), int(shift)
        period = gpn // math.gcd(step, gpn)
        full, left = divmod(groups, period)
        for c in range(min(groups, period)):
            g = (c * step + start) % gpn
            for rail in rail_of_gpu[g * nics_per_gpu:(g + 1) * nics_per_gpu]:
                counts[rail] += (full + (1 if c < left else 0)) / nics_per_gpu
    else:
        counts = _spread_counts(rail_of_gpu, groups, spacing, shift, gpn, nics_per_gpu, len(counts))
    sizes = [rail_of_gpu.count(r) / nics_per_gpu for r in range(len(counts))]
    return max(count * gpn / (domain * size) for count, size in zip(counts, sizes, strict=True) if size)


def _spread_counts(rail_of_gpu: tuple[int, ...], groups: int, spacing: float, shift: float, gpn: int,
                   nics_per_gpu: int, rails: int) -> list[float]:
    """Senders a rail carries where sender c sits at rank floor(c x `spacing` + `shift`) (`busiest_rail_share`'s
    mean stride), each sender's share split over its GPU's NICs."""
    gpu = np.floor(np.arange(groups, dtype=np.float64) * spacing + shift).astype(np.int64) % gpn
    per_gpu = np.bincount(gpu, minlength=gpn).astype(np.float64) / nics_per_gpu
    nic_rails = np.asarray(rail_of_gpu, dtype=np.int64)
    return [float(v) for v in np.bincount(nic_rails, weights=np.repeat(per_gpu, nics_per_gpu), minlength=rails)]


def busiest_rail_shares(rail_of_gpu: tuple[int, ...], groups: npt.ArrayLike, spacing: npt.ArrayLike,
                        shift: npt.ArrayLike, domain: int, nics_per_gpu: int = 1) -> np.ndarray:
    """`busiest_rail_share` element-wise over arrays of group shapes (broadcast; each distinct shape computed once),
    so an array of groups is priced as each group alone (hN2, session 70: `fabric.uplink_occupancy`'s rail rules
    read scalars only, and a column of group sizes fell back to k / domain: 47 GB/s a rank where each size alone
    gets 7.8-9.8 GB/s on a 6.4:1 rail-optimised pod). The groups are whole senders (their callers' floor / ceil);
    a spacing or shift is taken as it is, a fraction too (hK71: it was truncated)."""
    g, sp, sh = np.broadcast_arrays(np.asarray(groups, dtype=np.float64), np.asarray(spacing, dtype=np.float64),
                                    np.asarray(shift, dtype=np.float64))
    shares: dict[tuple[int, float, float], float] = {}
    out = np.empty(g.shape, dtype=np.float64)
    for j, (a, b, c) in enumerate(zip(g.ravel().astype(np.int64).tolist(), sp.ravel().tolist(), sh.ravel().tolist(),
                                      strict=True)):
        if (a, b, c) not in shares:
            shares[(a, b, c)] = busiest_rail_share(rail_of_gpu, a, b, c, domain, nics_per_gpu)
        out.flat[j] = shares[(a, b, c)]
    return out


def member_rail_shares(rail_of_gpu: tuple[int, ...], groups: npt.ArrayLike, spacing: float, stride: npt.ArrayLike,
                       members: npt.ArrayLike, domain: int, nics_per_gpu: int = 1) -> np.ndarray:
    """The busiest rail's share of its GPUs (`busiest_rail_share`), element-wise, for `groups` spaced pairs (first
    members `spacing` ranks apart, partners `stride` on) with `members` of each in the domain: one, it sends in the rail
    of its partner (PXN); m > 1, each lands on another member, so each member's own rail carries one member's bytes
    (shifts 0 .. (m - 1) x stride; hC71: k x the partner's rail before, twice a rail's load where the two members sit
    on different rails)."""
    g, st, m = np.broadcast_arrays(np.asarray(groups, dtype=np.float64), np.asarray(stride, dtype=np.float64),
                                   np.asarray(members, dtype=np.float64))
    gpn = len(rail_of_gpu) // nics_per_gpu
    rails = max(rail_of_gpu) + 1
    sizes = [rail_of_gpu.count(r) / nics_per_gpu for r in range(rails)]
    out = np.empty(g.shape, dtype=np.float64)
    for j, (a, b, c) in enumerate(zip(g.ravel().astype(np.int64).tolist(), st.ravel().tolist(),
                                      m.ravel().astype(np.int64).tolist(), strict=True)):
        shifts = [b] if c < 2 else [i * b for i in range(c)]
        counts = np.sum([_spread_counts(rail_of_gpu, a, spacing, shift, gpn, nics_per_gpu, rails)
                         for shift in shifts], axis=0)
        out.flat[j] = max(float(n) * gpn / (domain * size) for n, size in zip(counts, sizes, strict=True) if size)
    return out


PAIRED_HALVES = True
"""hB57: `collective send-recv` packed pairs rank i with i + g (g = n / 2 pairs, i < g): a tier domain of D < 2 g
consecutive ranks holds min(D, 2 g - D) pairs whose partner is outside it (senders 0 .. g - 1 reaching g .. D - 1 stay
inside), not min(g, D) (`paired_halves_busy`, read by `fabric.uplink_occupancy` where `Fabric.paired_halves`).
False: min(g, D): meta-rsc at 4:1 leaves, 256 GPUs, 35.8 ms where the flow model finds 27.5 at 4,096 flows a pair
(96 of a 160-GPU leaf domain leave)."""


def paired_halves_busy(groups: np.ndarray, domain: int) -> np.ndarray:
    """GPUs of the busiest tier domain (blocks of `domain` ranks) whose send-recv partner `groups` ranks on lies
    outside it, for pairs (i, i + g), i < g: min(D, 2 g - D), at least 1 (a tier with 2 g <= D is not crossed)."""
    return np.asarray(np.clip(2.0 * groups - domain, 1.0, float(domain)), dtype=np.float64)


def analytical_tiers(system: System, topo: ClosTopology | None = None) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Per configured tier of `system`: the GPUs of one domain the analytical model prices it by (the configured
    `group_size`, tier 0's as `leaf_switch_gpus` of the built fabric: what stays under one leaf) and its bandwidth
    ratio (`tier_bandwidth_ratios`). A system that describes no fabric to build (`built_or_none`) keeps the configured
    sizes and takes `port_ratios`; one whose fabric does not build is refused there. `topo`: the system's built
    fabric where the caller has it (None: built here)."""
    sizes = tuple(t.group_size for t in system.network.tiers)
    fallback = port_ratios(system)
    topo = built_or_none(system) if topo is None else topo
    if topo is None:
        return sizes, fallback
    built = built_ratios(topo)
    return (leaf_switch_gpus(topo), *sizes[1:]), built + fallback[len(built):]


def _gbps(bytes_per_s: float) -> str:
    return f"{bytes_per_s * 8 / 1e9:g} Gb/s"


def speed_mismatch_note(topo: ClosTopology) -> str | None:
    """One line where the NICs run slower or faster than the leaf tier's ports; None where they match. Slower: what
    that makes of each oversubscribed tier's bandwidth ratio (`built_ratios`, which both the analytical and the flow
    model price). Faster: the NIC links run at the ports' speed (`clos_topology.nic_link_rate`), so the ratios are the
    port ratios and the NICs' extra speed is unused."""
    leaf = topo.tiers[0]
    nic = topo.nic_bytes_per_s
    if math.isclose(nic, leaf.port_bytes_per_s, rel_tol=1e-9):
        return None
    head = f"NICs at {_gbps(nic)} under {leaf.name} ports at {_gbps(leaf.port_bytes_per_s)}"
    if nic > leaf.port_bytes_per_s:
        return (f"{head}: each NIC link runs at the ports' {_gbps(leaf.port_bytes_per_s)} (a link comes up at the "
                "slower end's rate), as the analytical and flow models both price it; the NICs' extra speed is "
                "unused")
    ratios = built_ratios(topo)
    shown = [f"{t.name} {r:.3g}:1 ({t.effective_oversubscription:.3g}:1 in ports)"
             for t, r in zip(topo.tiers, ratios, strict=True) if not t.is_top]
    head += (": the uplinks run at the ports' speed, so the bandwidth oversubscription is lower than the port "
             "ratio")
    if shown:
        head += f": {', '.join(shown)}, as the analytical and flow models both price it"
    return head


def tier_speed_note(topo: ClosTopology) -> str | None:
    """One line where two adjacent built tiers' ports run at different speeds; None where they match. Each link
    between them runs at the slower port's rate (`TierLayout.uplink_bytes_per_s`, the rule `clos_topology.nic_link_rate`
    states), so the lower tier's bandwidth ratio (`built_ratios`) is above its port ratio where the tier above is
    the slower (hY64: 400G leaf ports under 100G spine ports were priced as an all-400G fabric)."""
    pairs = [(low, up, ratio) for low, up, ratio in zip(topo.tiers, topo.tiers[1:], built_ratios(topo), strict=False)
             if not math.isclose(low.port_bytes_per_s, up.port_bytes_per_s, rel_tol=1e-9)]
    if not pairs:
        return None
    said = [f"{up.name} ports at {_gbps(up.port_bytes_per_s)} above {low.name} ports at {_gbps(low.port_bytes_per_s)}"
            f": each {low.name}-{up.name} link runs at {_gbps(low.uplink_bytes_per_s)}, {low.name} {ratio:.3g}:1 "
            f"({low.effective_oversubscription:.3g}:1 in ports)" for low, up, ratio in pairs]
    return (f"{'; '.join(said)} (a link comes up at the slower end's rate), as the analytical and flow models "
            "both price it")


def fabric_speed_notes(topo: ClosTopology) -> list[str]:
    """`network`'s and `crossing_notes`' lines: NICs against the leaf ports, then adjacent tiers' ports."""
    return [note for note in (speed_mismatch_note(topo), tier_speed_note(topo)) if note]


def _one_speed(system: System) -> bool:
    """Whether every tier's ports run at the NICs' speed (a port of None: the NIC's, `build_topology`): a loop with
    an early exit: `train`'s estimate path asks it once a call (0.38 us for `job_crossing_notes`, 0.28 before hY64)."""
    nic = system.node.nic_bandwidth_bytes_per_s
    for tier in system.network.tiers:
        port = tier.port_bandwidth_bytes_per_s
        if port is not None and port != nic and not math.isclose(port, nic, rel_tol=1e-9):
            return False
    return True


def crossing_notes(system: System, crosses_scale_up: bool) -> list[str]:
    """`collective`'s notes (and `train`'s, `job_crossing_notes`): the speed-mismatch lines of `system`'s fabric for
    traffic that leaves its scale-up domain (over the NICs); none inside one domain, where the NICs and every tier's
    ports run at one speed (checked before any fabric is built) or where the fabric does not build."""
    if not crosses_scale_up or _one_speed(system):
        return []
    try:
        return fabric_speed_notes(build_topology(system))
    except InputError:
        return []


def job_crossing_notes(system: System, gpus: int) -> list[str]:
    """`train`'s (one plan or a search): `crossing_notes` for a job of `gpus` accelerators, whose traffic leaves the
    scale-up domain (DP, PP or EP over the NICs) when it holds more than one domain."""
    return crossing_notes(system, gpus > system.node.scale_up_domain)
