"""Directed links of a built Clos as arrays, and ECMP up-down routing of GPU-to-GPU flows over them.

Links (one entry per direction, capacities in bytes/s at the achievable protocol efficiency):
* scale-up: one out and one in link per GPU into a non-blocking NVSwitch-like fabric spanning the system's
  scale-up domain (`node.scale_up_domain`: the 8-GPU node of a DGX, the 72-GPU rack of a GB200 NVL72, whose
  18 NVSwitch trays join every GPU to every other at the full NVLink rate); pairs inside it never use a NIC;
* NIC: one up and one down link per NIC (node x NIC index) to its leaf;
* above: one bundle per (upper switch, lower switch it reaches), carrying `links_per_lower` parallel links.

Routing is up-down (valley-free), as in a folded Clos: a flow climbs to the lowest tier whose domain holds both
ends, then descends. Each climb picks one of the switches above by a seeded hash per flow (ECMP); with
planes (see topology.py) the plane is forced by the lower switch's index, and the descent must use the same plane.
Rail-optimised fabrics use PXN, as NCCL does: a flow leaves through the NIC of the destination GPU's rail (the
NVLink hop to that NIC is not charged), so it stays in one rail plane. A GPU with several NICs (Gaudi 2: three
100 GbE scale-out ports) stripes a pair's flows over them round-robin, as NCCL spreads its channels over the
NICs local to a GPU and Habana's HCCL uses all three scale-out ports; the analytical model prices the GPU's
scale-out bandwidth as the sum of its NICs (fabric.py), which is this striping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infraplan.errors import InputError
from infraplan.network.topology import ClosTopology, leaf_index


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


def build_links(topo: ClosTopology, scale_up_bytes_per_s: float, efficiency: float) -> LinkTable:
    """Link capacities: scale-up at its achievable rate, NIC and fabric links at line rate x `efficiency`."""
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
    nic_up = add(topo.endpoint_links, topo.nic_bytes_per_s * efficiency, 1)
    nic_down = add(topo.endpoint_links, topo.nic_bytes_per_s * efficiency, 1)
    up, down, fan = [0], [0], [0]
    for t in range(1, len(topo.tiers)):
        tier, below = topo.tiers[t], topo.tiers[t - 1]
        sub = tier.domain_gpus // below.domain_gpus
        fan_t = sub * below.switches_per_domain if tier.planes == 1 else sub
        count = tier.switches * fan_t
        cap = tier.links_per_lower * below.port_bytes_per_s * efficiency
        up.append(add(count, cap, 2 + t - 1))
        down.append(add(count, cap, 2 + t - 1))
        fan.append(fan_t)
    names = ("scale-up", "nic", *(t.name for t in topo.tiers))
    return LinkTable(np.concatenate(caps), np.concatenate(classes), names, gpu_out, gpu_in, nic_up, nic_down,
                     tuple(up), tuple(down), tuple(fan))


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
    reached = np.where(intra_pair, -1, np.argmax(same, axis=0))[owner]
    same_leaf = same[0][owner] & (leaf_s == leaf_d)
    above_leaf = np.argmax(same[1:], axis=0)[owner] + 1 if depth > 1 else np.zeros(f, dtype=np.int64)
    turn = np.where(same_leaf | intra, 0, above_leaf)
    forced = [np.zeros(f, dtype=bool) for _ in range(depth)]
    for t in reversed(range(depth)):
        above = forced[t + 1] & (tiers[t + 1].planes > 1) & (t < turn) if t + 1 < depth else False
        forced[t] = (turn == t) | above
    bad = forced[0] & (leaf_s != leaf_d) & ~same_leaf & ~intra
    if bad.any():
        i = int(owner[np.argmax(bad)])
        raise InputError(f"GPUs {src[i]} and {dst[i]} sit on different planes of the {topo.system} fabric and no "
                         "up-down path joins them (planes without rail alignment)")
    idx_s, idx_d = leaf_s, leaf_d
    for t in range(1, depth):
        tier, below = tiers[t], tiers[t - 1]
        per_plane, sub = tier.switches_per_plane, tier.domain_gpus // below.domain_gpus
        climb = t <= turn
        up_s = (idx_s * per_plane if tier.planes > 1 else 0) + rng.integers(0, per_plane, size=f)
        up_d = (idx_d * per_plane if tier.planes > 1 else 0) + rng.integers(0, per_plane, size=f)
        up_d = np.where(forced[t], up_s, up_d)
        for col, up, low, dom, offset in ((t, up_s, idx_s, dom_s, links.bundle_up),
                                          (depth - 1 + t, up_d, idx_d, dom_d, links.bundle_down)):
            d_up, d_low = dom[t][owner], dom[t - 1][owner]
            j = d_low - d_up * sub
            pos = j * below.switches_per_domain + low if tier.planes == 1 else j
            glob = d_up * tier.switches_per_domain + up
            paths[:, col] = np.where(climb, offset[t] + glob * links.fan_down[t] + pos, -1)
        idx_s, idx_d = up_s, up_d
    return paths, reached, owner
