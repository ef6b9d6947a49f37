"""The bus bandwidth a double binary tree all-reduce gets through an oversubscribed tier: its edges crossing the tier.

`fabric.group_link` prices a tier the group crosses as a ring's: each of the k channels (one per member of a
scale-up domain and its NIC) crosses a tier domain's uplinks once per direction, so the ranks' bus bandwidth B
loads them with B and B <= the group's share of the uplinks, C = k_t x NIC / (o x occ). NCCL's double binary
tree (`nccl_trees.tree_parents`: ncclGetBtree / ncclGetDtree; Sanders, Speck & Traeff, Parallel Computing 35(12),
2009) is not a ring: per channel, each of its two trees carries half the channel's data on every edge, and a tree
over the domains (`nccl_trees.tree_latency_one`'s placement: domain d's member c at rank (d k + c) stride) has
edges of every power-of-two span, so many of them leave a tier domain. With X edges of the k channels' 2 k trees
crossing the busiest tier domain's uplinks one way per pass (`tree_edges_crossing`: (out + in) / 2, the reduce and
the broadcast running at once), a pass moves X x S / (2 k) through C while each rank moves S over its links at B, so

    B_tree <= C x 2 k / X

i.e. the ring's tier limit scaled by the ring's crossings (k channel loads) over the tree's (X / 2 channel loads).
hN70's hand count, 512 GPUs (64 DGX B200 nodes) on two 256-GPU leaf domains of 6 unrailed leaves of 43 NIC links
at 1:4 (11 uplinks each): the busiest leaf has 43 tree edges leaving it per pass where a ring has 8, so the
tree's pass is 43 x S / 16 / (11 x NIC) = 1.95 x S / (8 NIC), the flow model's pooled leaf load (validation/
notes/network_flow_tried.md, hN70). A tree crossing a tier less than a ring (X < 2 k) gets more than the ring's C
there. ASSUMPTION: channel c's two trees use member c's NIC on every node (NCCL's tree
graph keeps a channel on one NIC per node, src/graph/connect.cc connectTrees: channel c and c + nChannels take tree
0 and tree 1 over the same NICs -- cited from memory), as the flow schedule (`flow_schedules._tree_edges`) places
them; tier domains are blocks of consecutive ranks (tier 0's unrailed leaves tile each leaf domain,
`Fabric.leaf_domain_gpus`).

Which limit binds (formerly network/tree_crossings.py, merged unchanged: hM, session 62; `bottleneck_tier`, and
`tree_bottleneck` for the tree): which limit sets a group's analytical bandwidth: the scale-up link, the NICs, or an
oversubscribed tier. The same limits `network.fabric.group_link` prices a group's bus bandwidth with (the scale-up term
of a ring that crosses domains, `fabric.ring_scale_up_limit`; k NICs per domain; each crossed tier's uplinks shared by
the groups that run at once, `fabric.uplink_occupancy`; an all-to-all's share of bytes that leave a tier's domain and,
on a rail-only fabric, the bytes forwarded over the scale-up domain), read one group shape at a time to name the one
that binds (`collective`'s `bottleneck_tier`, the flow comparison's reason). Split from network/fabric.py (hE60).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from infraplan.identity_memo import IdentityMemo
from infraplan.network.fabric import Fabric, group_domain, ring_scale_up_limit, uplink_occupancy
from infraplan.network.nccl_trees import tree_parents


def tier_blocks(fabric: Fabric, tier: int, where: np.ndarray) -> np.ndarray:
    """Index of the tier-`tier` domain holding each rank position in `where`: blocks of `tier_sizes[tier]` ranks; tier
    0's leaves (`leaf_switch_gpus` of an unrailed leaf domain) tile each leaf domain of `fabric.leaf_domain_gpus`,
    the last leaf of a domain holding the remainder (as `clos_topology.leaf_index` wires them)."""
    size = fabric.tier_sizes[tier]
    domain = fabric.leaf_domain_gpus
    if tier == 0 and domain > size:
        return np.asarray(np.floor(where / domain) * math.ceil(domain / size) + np.floor(np.mod(where, domain) / size))
    return np.asarray(np.floor(where / size))


def _placed(fabric: Fabric, n: float, stride: float) -> tuple[np.ndarray, int]:
    """Rank position of every (channel, domain) member of the group (`tree_latency_one`'s placement: domain d's
    member c at (d k + c) stride) and the domain count m."""
    domain = float(group_domain(fabric, n, stride))
    k = int(min(max(math.floor(domain / stride), 1.0), n))
    m = int(math.ceil(n / k))
    return (np.arange(m, dtype=np.float64) * (k * stride))[None, :] + (np.arange(k) * stride)[:, None], m


def _busiest_crossings(blocks: np.ndarray, m: int) -> float:
    """(out + in) / 2 at the busiest block: the edges of the 2 k trees over `m` domains (NCCL's btree / dtree)
    leaving and entering it, `blocks` the (channel, domain) -> block index."""
    count = int(blocks.max()) + 1
    out, into = np.zeros(count, dtype=np.int64), np.zeros(count, dtype=np.int64)
    for parents in tree_parents(m):
        child = np.flatnonzero(parents >= 0)
        a, b = blocks[:, child], blocks[:, parents[child]]
        cross = a != b
        out += np.bincount(a[cross], minlength=count)
        into += np.bincount(b[cross], minlength=count)
    return float((out + into).max()) / 2.0


def tree_edges_crossing(fabric: Fabric, tier: int, n: float, stride: float) -> float:
    """X: the edges of a tree all-reduce's 2 k trees (k channels, two trees each) that cross one tier-`tier`
    domain's uplinks in one direction per pass, for `n` ranks `stride` apart spanning scale-up domains
    (`tree_latency_one`'s placement), at the busiest domain; 0 when no edge crosses.

    NCCL runs the reduce (up) and the broadcast (down) at once: its tree all-reduce splits each channel's threads
    between the two (src/device/all_reduce.h runTreeSplit, the kernel for every protocol but on CUDA 11.2-11.3
    sm80, where runTreeUpDown runs them one after the other; recalled: ASSUMPTION, no NCCL source or binary in the
    reference or this environment, session 51), pipelined by chunk. A link is full
    duplex, and an edge with its child in the domain carries up-traffic out of it and down-traffic into it, an
    edge with its parent there the reverse: each direction of the uplinks carries out + in edges' data over the
    whole all-reduce, the two passes' time. Per pass that is X = (out + in) / 2 at the busiest domain, against
    max(out, in) were the passes run one after the other (equal where out = in, as on hN70's o4 leaves)."""
    where, m = _placed(fabric, n, stride)
    return _busiest_crossings(tier_blocks(fabric, tier, where).astype(np.int64), m)


TREE_NIC_CROSSINGS = False
"""hB57: the tree's NIC bound from its own edges leaving the busiest scale-up domain (`domain_edges_crossing`), k NIC x
2 k / X, as the flow model's tree loads the NICs: 2 k NIC over 2 domains (each channel's two trees cross between
the same two nodes in opposite directions: S / k a NIC per direction where the ring's bound prices 2 S / k), 4 k / 3
NIC over 3, k NIC from 4 domains on (every domain inner in one tree and a leaf of the other, X = 2 k). Off: the
ring's k NIC, NCCL's tuning model (the tree's bus bandwidth is its channels' NIC rate at any node count,
src/graph/tuning.cc, recalled: ASSUMPTION), so the flow tree over 2-3 DGX H100 nodes stays 1.12x faster than the
analytical line (README, hH56) and `tree_nic_reason` says why. Off because nccl-tests measures 2 A100 nodes of 4 HDR
NICs at 86-91 GB/s bus bandwidth (validation/notes/out_of_sample_s55, pub-2n-a100-4hdr: +7.3 % off, +103 % on: the
edges' 2x is not measured) and the gated training set moves 5.65110 -> 5.65116 % (validation/notes/
network_flow_tried.md, hB (session 57))."""


def domain_edges_crossing(fabric: Fabric, n: float, stride: float) -> float:
    """X over the scale-up domains: the tree edges (k channels, two trees each) leaving and entering the busiest
    domain per pass ((out + in) / 2, `tree_edges_crossing`'s rule), for `n` ranks `stride` apart spanning domains:
    2 k where every domain is inner in one tree and a leaf of the other, k over two domains."""
    where, m = _placed(fabric, n, stride)
    domain = float(group_domain(fabric, n, stride))
    return _busiest_crossings(np.floor(where / domain).astype(np.int64), m)


def tree_nic_reason(fabric: Fabric, n: int, stride: int) -> str:
    """What `difference_reason` adds where a flow tree beats the analytical line by more than 5 %: where the trees'
    edges leave the busiest scale-up domain fewer times than a ring's channels (X < 2 k, `domain_edges_crossing`: 2-3
    domains), the share of the ring's NIC load they put on its NICs, which the analytical tree does not count
    (`TREE_NIC_CROSSINGS` off: NCCL's tuning model); "" otherwise."""
    domain = float(group_domain(fabric, n, stride))
    if TREE_NIC_CROSSINGS or not n * stride > domain:
        return ""
    k = min(max(math.floor(domain / stride), 1.0), n)
    edges = domain_edges_crossing(fabric, n, stride)
    if not 0.0 < edges < 2.0 * k:
        return ""
    return (f" (the trees' edges over {math.ceil(n / k):g} scale-up domains load the busiest one's NICs with "
            f"{edges / (2.0 * k):.3g}x a ring's channel loads, where the analytical tree takes the ring's NIC bound, "
            "NCCL's tuning model: tree_crossings.TREE_NIC_CROSSINGS, off)")


def tree_link_one(fabric: Fabric, n: float, stride: float, bw: float) -> float:
    """The tree's bus bandwidth for `n` ranks `stride` apart whose ring gets `bw` (`group_link`): `bw` where the
    group stays in a scale-up domain or crosses no oversubscribed tier (and `TREE_NIC_CROSSINGS` is off); else the
    ring's non-tier limits (scale-up, k NICs: with `TREE_NIC_CROSSINGS` the tree's own NIC crossings) and, at each
    oversubscribed tier it crosses, C x 2 k / X (module docstring) instead of the ring's C."""
    return _tree_limit(fabric, n, stride, bw)[0]


def tree_bottleneck(fabric: Fabric, n: int, stride: int, ring_tier: str) -> str:
    """`collective`'s bottleneck of a tree all-reduce: the oversubscribed tier whose crossings bind the tree
    (`tree_link_one`), else the scale-up or NIC limit it shares with the ring; `ring_tier` (`bottleneck_tier`)
    where the group crosses no oversubscribed tier."""
    _, tier = _tree_limit(fabric, float(n), float(stride), math.inf)
    return ring_tier if tier == -2 else fabric.tier_names[tier] if tier >= 0 else "nic" if tier == -1 else "scale-up"


def _tree_limit(fabric: Fabric, n: float, stride: float, bw: float) -> tuple[float, int]:
    """(`tree_link_one`, the binding tier's index: -1 the k NICs, -3 the scale-up link, -2 no oversubscribed tier
    crossed and `bw` returned)."""
    domain = float(group_domain(fabric, n, stride))
    extent = n * stride
    crossed = [i for i, (size, over) in enumerate(zip(fabric.tier_sizes, fabric.tier_oversubscription, strict=True))
               if over > 1.0 and extent > size]
    if not extent > domain or not (crossed or TREE_NIC_CROSSINGS):
        return bw, -2
    k = min(max(math.floor(domain / stride), 1.0), n)
    up, nics = float(ring_scale_up_limit(fabric, k)), k * fabric.nic_bytes_per_s
    edges = domain_edges_crossing(fabric, n, stride) if TREE_NIC_CROSSINGS else 0.0
    if edges:  # the tree's own NIC crossings, not the ring's k channel loads
        nics *= 2.0 * k / edges
    rate, which = (up, -3) if up < nics else (nics, -1)
    for i in crossed:  # the tier's occupancy by its index: its rail rules too, as the ring's (hF71)
        size, over = fabric.tier_sizes[i], fabric.tier_oversubscription[i]
        k_tier = min(max(math.floor(size / stride), 1.0), n)
        share = k_tier * fabric.nic_bytes_per_s / (over * float(uplink_occupancy(fabric, k_tier, stride, size, i)))
        edges = tree_edges_crossing(fabric, i, n, stride)
        if edges and share * 2.0 * k / edges < rate:
            rate, which = share * 2.0 * k / edges, i
    return rate, which


_KEPT: IdentityMemo[float] = IdentityMemo(4096)


def tree_link_kept(fabric: Fabric, n: float, stride: float, bw: float) -> float:
    """`tree_link_one`, kept by the fabric's identity and the group's numbers (bw follows from them)."""
    if max(fabric.tier_oversubscription, default=1.0) <= 1.0 and not TREE_NIC_CROSSINGS:  # no tier can bind: the
        return bw  # ring's bandwidth
    kept = _KEPT.get(fabric, (n, stride))
    if kept is not None:
        return kept
    return _KEPT.put(fabric, (n, stride), tree_link_one(fabric, n, stride, bw))


def forget_tree_links() -> None:
    """Forget the kept tree bandwidths (for tests that patch the fabric physics)."""
    _KEPT.clear()


def tree_link(fabric: Fabric, n: npt.ArrayLike, stride: npt.ArrayLike, bw: npt.ArrayLike) -> np.ndarray:
    """`tree_link_one` over arrays of group shapes (each distinct shape computed once); `bw` itself where no tier
    of the fabric is oversubscribed."""
    bw = np.asarray(bw, dtype=np.float64)
    if max(fabric.tier_oversubscription, default=1.0) <= 1.0 and not TREE_NIC_CROSSINGS:
        return bw
    n, stride, bw = np.broadcast_arrays(np.asarray(n, dtype=np.float64), np.asarray(stride, dtype=np.float64), bw)
    if not n.size:
        return np.zeros(n.shape)
    shapes, first, inverse = np.unique(np.stack([n.ravel(), stride.ravel()], axis=1), axis=0, return_index=True,
                                       return_inverse=True)
    flat_bw = bw.ravel()
    values = np.array([tree_link_kept(fabric, a, s, float(flat_bw[j]))
                       for (a, s), j in zip(shapes.tolist(), first.tolist(), strict=True)])
    return np.asarray(values[np.ravel(inverse)].reshape(n.shape))


def bottleneck_tier(fabric: Fabric, n: int, stride: int, all_to_all: bool = False) -> str:
    """Which limit sets the analytical bandwidth: 'scale-up', 'nic', or the oversubscribed tier's name."""
    if n * stride <= fabric.scale_up_domain:
        return "scale-up"
    k_domain = min(max(fabric.scale_up_domain // stride, 1), n)
    name, rate = "nic", fabric.nic_bytes_per_s
    if not all_to_all:
        up = float(ring_scale_up_limit(fabric, k_domain))
        name, rate = ("scale-up", up) if up < k_domain * rate else ("nic", k_domain * rate)
    for i, (size, over, tier) in enumerate(zip(fabric.tier_sizes, fabric.tier_oversubscription, fabric.tier_names,
                                               strict=True)):
        if n * stride <= size or over <= 1.0:
            continue
        k_tier = min(max(size // stride, 1), n)
        shared = over * float(uplink_occupancy(fabric, k_tier, stride, size, i))
        limit = fabric.nic_bytes_per_s / (shared * max((n - k_tier) / max(n - k_domain, 1), 1e-12)) if all_to_all \
            else k_tier * fabric.nic_bytes_per_s / shared
        if limit < rate:
            name, rate = tier, limit
    if all_to_all:
        share_local = k_domain / n
        # rail-only: and the bytes forwarded to the member on the destination's rail (`_group_link`)
        share_up = share_local + ((1.0 - share_local) * (k_domain - 1) / k_domain if fabric.rail_only else 0.0)
        if share_up / fabric.scale_up_bytes_per_s > (1.0 - share_local) / rate:
            return "scale-up"
    return name
