"""Directed links of a built Clos as arrays, and ECMP up-down routing of GPU-to-GPU flows over them.

Links (one entry per direction, capacities in bytes/s at the achievable protocol efficiency):
* scale-up: one out and one in link per GPU into a non-blocking NVSwitch-like fabric spanning the system's
  scale-up domain (`node.scale_up_domain`: the 8-GPU node of a DGX, the 72-GPU rack of a GB200 NVL72, whose
  18 NVSwitch trays join every GPU to every other at the full NVLink rate); pairs inside it never use a NIC;
* NIC: one up and one down link per NIC (node x NIC index) to its leaf, at the slower of the NIC and the leaf port
  (`clos_topology.nic_link_rate`, as the analytical model prices it);
* above: one bundle per (upper switch, lower switch it reaches), carrying `links_per_lower` parallel links.

Routing is up-down (valley-free), as in a folded Clos: a flow climbs to the lowest tier whose domain holds both
ends, then descends. Each climb picks one of the switches above by a seeded hash per flow (ECMP); with
planes (see topology.py) the plane is forced by the lower switch's index, and the descent must use the same plane.
A fabric with adaptive routing (`network.adaptive_routing`) spreads each flow over every switch above instead: its
pooled link table routes every flow over one representative path of summed capacities, and draws nothing.
Rail-optimised fabrics use PXN, as NCCL does: a flow leaves through the NIC of the destination GPU's rail (the
NVLink hop to that NIC is not charged), so it stays in one rail plane. A GPU with several NICs (Gaudi 2: three
100 GbE scale-out ports) stripes a pair's flows over them round-robin, as NCCL spreads its channels over the
NICs local to a GPU and Habana's HCCL uses all three scale-out ports; the analytical model prices the GPU's
scale-out bandwidth as the sum of its NICs (fabric.py), which is this striping.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from infraplan.errors import InputError
from infraplan.network.clos_topology import ClosTopology, TierLayout, leaf_index


@dataclass(frozen=True)
class LinkTable:
    capacity: np.ndarray  # bytes/s per directed link
    link_class: np.ndarray  # 0 scale-up, 1 NIC, 2 + t: uplinks of tier t (between tier t and t + 1)
    class_names: tuple[str, ...]
    gpu_out: int
    gpu_in: int
    nic_up: int
    nic_down: int
    bundle_up: tuple[int, ...]  # offset per upper tier t >= 1 (index 0 unused)
    bundle_down: tuple[int, ...]
    fan_down: tuple[int, ...]  # bundles per upper switch, per tier
    # healthy parallel links per directed link (`fail_links`); None: every link up. A bundle of tier t carries
    # `links_per_bundle[t]` links; ECMP picks among the healthy ones, so a bundle is chosen in proportion to them
    healthy: np.ndarray | None = None
    links_per_bundle: tuple[int, ...] = ()
    # adaptive routing (`adaptive_routing.pooled_links`): each bundle carries its pool's capacity and `route` sends
    # every flow over its pools' representatives (the first switch of each plane) instead of hashing
    pooled: bool = False


def build_links(topo: ClosTopology, scale_up_bytes_per_s: float, efficiency: float) -> LinkTable:
    """Link capacities: scale-up at its achievable rate, NIC and fabric links at line rate x `efficiency` (a NIC link at
    the slower of the NIC and its leaf port, `clos_topology.nic_link_rate`; an inter-tier link at the slower of the two
    tiers' ports, `TierLayout.uplink_bytes_per_s`)."""
    caps: list[np.ndarray] = []
    classes: list[np.ndarray] = []
    offset = 0

    def add(count: int, cap: float, cls: int) -> int:
        nonlocal offset
        start = offset
        caps.append(np.full(count, cap))
        classes.append(np.full(count, cls, dtype=np.int64))
        offset += count
        return start

    gpu_out = add(topo.gpus, scale_up_bytes_per_s, 0)
    gpu_in = add(topo.gpus, scale_up_bytes_per_s, 0)
    nic_up = add(topo.endpoint_links, topo.nic_link_bytes_per_s * efficiency, 1)
    nic_down = add(topo.endpoint_links, topo.nic_link_bytes_per_s * efficiency, 1)
    up, down, fan = [0], [0], [0]
    for t in range(1, len(topo.tiers)):
        tier, below = topo.tiers[t], topo.tiers[t - 1]
        sub = tier.domain_gpus // below.domain_gpus
        fan_t = tier.fan(sub, below.switches_per_domain)
        count = tier.switches * fan_t
        cap = tier.links_per_lower * below.uplink_bytes_per_s * efficiency
        up.append(add(count, cap, 2 + t - 1))
        down.append(add(count, cap, 2 + t - 1))
        fan.append(fan_t)
    names = ("scale-up", "nic", *(t.name for t in topo.tiers))
    return LinkTable(np.concatenate(caps), np.concatenate(classes), names, gpu_out, gpu_in, nic_up, nic_down,
                     tuple(up), tuple(down), tuple(fan))


def parse_failed_links(text: str) -> tuple[str, float, bool]:
    """`--failed-links TIER:AMOUNT`: the tier whose uplinks fail, a count (e.g. 3) or a fraction (0.01, 1%), and
    whether it is a fraction (a percentage always is: 100% is every uplink of the tier, not one link)."""
    tier, sep, amount = text.partition(":")
    value = amount.strip()
    percent = value.endswith("%")
    try:
        number = float(value[:-1]) / 100.0 if percent else float(value)
    except ValueError:
        number = -1.0
    if not sep or not tier.strip() or not 0.0 <= number < math.inf:  # nan and inf fail the comparison too
        raise InputError(f"--failed-links must be TIER:COUNT or TIER:FRACTION (e.g. pod:3, pod:1%), got {text!r}")
    if percent and number > 1.0:
        raise InputError(f"--failed-links: a fraction of a tier's uplinks is at most 100%, got {value}")
    return tier.strip(), number, percent or number < 1.0


def fail_links(topo: ClosTopology, links: LinkTable, tier_name: str, amount: float, seed: int,
               fraction: bool | None = None) -> tuple[LinkTable, int, int]:
    """`links` with physical uplinks of tier `tier_name` (to the tier above) failed: `amount` of them when a count
    (`fraction` False; None: when >= 1), else that fraction of them rounded to the nearest link, chosen uniformly
    with the explicit `seed`. A cable fails both ways; a bundle keeps capacity x healthy / its links, and routing
    (`route`) spreads ECMP over the healthy links only. Returns (links, failed, uplinks of the tier)."""
    names = [t.name for t in topo.tiers]
    if tier_name not in names:
        raise InputError(f"--failed-links: no tier {tier_name!r} in {topo.system}; tiers: {', '.join(names)}")
    i = names.index(tier_name)
    if i + 1 >= len(topo.tiers):
        raise InputError(f"--failed-links: {tier_name} is the top tier of this fabric: it has no uplinks")
    t = i + 1  # bundles between tier i and tier t = i + 1
    per = topo.tiers[t].links_per_lower
    bundles = topo.tiers[t].switches * links.fan_down[t]
    total = bundles * per
    if fraction is None:
        fraction = amount < 1.0
    count = int(round(amount * total)) if fraction else int(amount)
    if not fraction and amount != count:
        raise InputError(f"--failed-links: a count of links must be whole, got {amount:g}")
    if count > total:
        raise InputError(f"--failed-links: {count:,} of the {total:,} {tier_name} uplinks requested")
    healthy = np.ones(links.capacity.size) if links.healthy is None else links.healthy.copy()
    per_bundle = list(links.links_per_bundle or (1,) * len(topo.tiers))
    if links.healthy is None:  # bundles count their parallel links
        for u in range(1, len(topo.tiers)):
            n_b = topo.tiers[u].switches * links.fan_down[u]
            healthy[links.bundle_up[u]:links.bundle_up[u] + n_b] = topo.tiers[u].links_per_lower
            healthy[links.bundle_down[u]:links.bundle_down[u] + n_b] = topo.tiers[u].links_per_lower
            per_bundle[u] = topo.tiers[u].links_per_lower
    lost = np.bincount(np.random.default_rng(seed).choice(total, size=count, replace=False) // per,
                       minlength=bundles).astype(np.float64)
    capacity = links.capacity.copy()
    for offset in (links.bundle_up[t], links.bundle_down[t]):
        part = slice(offset, offset + bundles)
        left = np.maximum(healthy[part] - lost, 0.0)
        capacity[part] = capacity[part] * np.where(healthy[part] > 0, left / np.maximum(healthy[part], 1.0), 0.0)
        healthy[part] = left
    return replace(links, capacity=capacity, healthy=healthy, links_per_bundle=tuple(per_bundle)), count, total


_REROUTE_TRIES = 2000  # ECMP redraws of a pick (kept with p = healthy / L per side): ~e^-80 to miss a path at L = 5


def route(topo: ClosTopology, links: LinkTable, src: np.ndarray, dst: np.ndarray, copies: np.ndarray,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Route `copies[i]` ECMP flows for each GPU pair src[i] -> dst[i].

    Returns (paths, reached, owner): an (F, H) int32 array of link ids padded with -1, the highest tier each
    flow's pair spans (-1: inside a scale-up domain) and the pair index of each flow. Everything that does not depend on
    the hash is computed once per pair.
    """
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    copies = np.asarray(copies, dtype=np.int64)
    tiers = topo.tiers
    depth = len(tiers)
    gpn, nics = topo.gpus_per_node, topo.nics_per_node
    owner = np.repeat(np.arange(src.size), copies)
    f = owner.size
    per_gpu = max(1, nics // gpn)
    node_s, node_d = src // gpn, dst // gpn
    intra_pair = src // topo.scale_up_domain_gpus == dst // topo.scale_up_domain_gpus  # over NVLink, no NIC
    if topo.rail_only:  # PXN over the HB domain: out of the NIC of the source domain's node on the destination's
        trays = topo.scale_up_domain_gpus // gpn  # rail (`clos_topology.leaf_index`: rail = tray position x NICs + NIC)
        node_s = node_s - node_s % trays + node_d % trays
    base_d = (dst % gpn) * nics // gpn
    base_s = base_d if topo.rail_optimized else (src % gpn) * nics // gpn
    if per_gpu > 1:  # several NICs per GPU: a pair's flows are striped over them (the same index on both ends)
        first = np.cumsum(copies) - copies
        pick = (np.arange(f) - first[owner]) % per_gpu
        nic_s, nic_d = base_s[owner] + pick, base_d[owner] + pick
        node_sf, node_df = node_s[owner], node_d[owner]
        leaf_s, leaf_d = leaf_index(topo, node_sf, nic_s), leaf_index(topo, node_df, nic_d)
    else:
        nic_s, nic_d = base_s[owner], base_d[owner]
        leaf_s, leaf_d = leaf_index(topo, node_s, base_s)[owner], leaf_index(topo, node_d, base_d)[owner]
    intra = intra_pair[owner]
    paths = np.full((f, 2 * depth), -1, dtype=np.int32)
    paths[:, 0] = np.where(intra, links.gpu_out + src[owner], links.nic_up + node_s[owner] * nics + nic_s)
    paths[:, -1] = np.where(intra, links.gpu_in + dst[owner], links.nic_down + node_d[owner] * nics + nic_d)
    # per pair: domains at every tier and the lowest tier whose domain holds both ends
    dom_s = [node_s // (t.domain_gpus // gpn) for t in tiers]
    dom_d = [node_d // (t.domain_gpus // gpn) for t in tiers]
    same = np.stack([a == b for a, b in zip(dom_s, dom_d, strict=True)])
    same_leaf = same[0][owner] & (leaf_s == leaf_d)
    above_leaf = np.argmax(same[1:], axis=0)[owner] + 1 if depth > 1 else np.zeros(f, dtype=np.int64)
    turn = np.where(same_leaf | intra, 0, above_leaf)
    # the tier a flow turns at sets its latency: two leaves of one leaf domain meet at the tier above (hF65: their
    # pairs paid the leaf's round trip though their path climbs to the spine, `tier_bandwidth.leaf_switch_gpus`)
    reached = np.where(intra, -1, turn)
    forced = [np.zeros(f, dtype=bool) for _ in range(depth)]
    for t in reversed(range(depth)):
        above = forced[t + 1] & (tiers[t + 1].planes > 1) & (t < turn) if t + 1 < depth else False
        forced[t] = (turn == t) | above
    # a flow that climbs into a plane must find its destination's leaf in the same plane (one plane a rail: the
    # rail's leaves, `TierLayout.lowers_per_plane`)
    plane_s, plane_d = (tiers[1].plane_of(leaf_s), tiers[1].plane_of(leaf_d)) if depth > 1 else (leaf_s, leaf_d)
    bad = forced[0] & (plane_s != plane_d) & ~same_leaf & ~intra
    if bad.any():
        i = int(owner[np.argmax(bad)])
        raise InputError(f"GPUs {src[i]} and {dst[i]} sit on different planes of the {topo.system} fabric and no "
                         "up-down path joins them (planes without rail alignment)")
    idx_s, idx_d = leaf_s, leaf_d
    for t in range(1, depth):
        tier, below = tiers[t], tiers[t - 1]
        per_plane, sub = tier.switches_per_plane, tier.domain_gpus // below.domain_gpus
        climb = t <= turn

        def bundle(up: np.ndarray, low: np.ndarray, dom: list[np.ndarray], offset: tuple[int, ...],
                   t: int = t, tier: TierLayout = tier, below: TierLayout = below, sub: int = sub) -> np.ndarray:
            d_up, d_low = dom[t][owner], dom[t - 1][owner]
            j = d_low - d_up * sub
            pos = tier.bundle_position(j, low, below.switches_per_domain)
            glob = d_up * tier.switches_per_domain + up
            return np.asarray(offset[t] + glob * links.fan_down[t] + pos)

        up_s = tier.plane_of(idx_s) * per_plane + (0 if links.pooled else rng.integers(0, per_plane, size=f))
        up_d = tier.plane_of(idx_d) * per_plane + (0 if links.pooled else rng.integers(0, per_plane, size=f))
        up_d = np.where(forced[t], up_s, up_d)
        if not links.pooled and links.healthy is not None and (links.healthy[links.bundle_up[t]:links.bundle_down[t]]
                                          < links.links_per_bundle[t]).any():
            up_s, up_d = _healthy_picks(links, t, per_plane, tier, climb, forced[t], idx_s, idx_d, up_s,
                                        up_d, lambda up, low: bundle(up, low, dom_s, links.bundle_up),
                                        lambda up, low: bundle(up, low, dom_d, links.bundle_down), rng)
        for col, up, low, dom, offset in ((t, up_s, idx_s, dom_s, links.bundle_up),
                                          (depth - 1 + t, up_d, idx_d, dom_d, links.bundle_down)):
            paths[:, col] = np.where(climb, bundle(up, low, dom, offset), -1)
        idx_s, idx_d = up_s, up_d
    return paths, reached, owner


def _healthy_picks(links: LinkTable, t: int, per_plane: int, tier: TierLayout, climb: np.ndarray, forced: np.ndarray,
                   idx_s: np.ndarray, idx_d: np.ndarray, up_s: np.ndarray, up_d: np.ndarray,
                   up_bundle: Callable[[np.ndarray, np.ndarray], np.ndarray],
                   down_bundle: Callable[[np.ndarray, np.ndarray], np.ndarray],
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """ECMP over healthy links at tier t: a pick is kept with probability healthy / links of its bundle (so the
    switches above are chosen in proportion to their healthy links), else drawn again; at the turn (`forced`) the
    descent takes the same switch, so both of its bundles must keep it."""
    assert links.healthy is not None
    per = float(links.links_per_bundle[t])
    up_s, up_d = up_s.copy(), up_d.copy()
    pending_s, pending_d = climb.copy(), climb & ~forced  # picks still to test (a kept pick stays kept)
    for _ in range(_REROUTE_TRIES):
        keep_s = rng.random(up_s.size) * per < links.healthy[up_bundle(up_s, idx_s)]
        keep_d = rng.random(up_d.size) * per < links.healthy[down_bundle(up_d, idx_d)]
        redo_s = pending_s & (~keep_s | (forced & ~keep_d))
        redo_d = pending_d & ~keep_d
        if not (redo_s.any() or redo_d.any()):
            return up_s, up_d
        pending_s, pending_d = redo_s, redo_d
        up_s[redo_s] = tier.plane_of(idx_s[redo_s]) * per_plane + rng.integers(0, per_plane, int(redo_s.sum()))
        up_d[redo_d] = tier.plane_of(idx_d[redo_d]) * per_plane + rng.integers(0, per_plane, int(redo_d.sum()))
        up_d = np.where(forced, up_s, up_d)
    raise InputError(f"--failed-links: no healthy path for some flows after {_REROUTE_TRIES} ECMP draws (the "
                     "failed links cut them off); fail fewer links")
