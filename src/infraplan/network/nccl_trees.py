"""NCCL's double binary trees over the scale-up domains a group spans, and the latency of a pipelined tree pass.

The two complementary binary trees are NCCL's (ncclGetBtree / ncclGetDtree; Sanders, Speck & Traeff, Parallel
Computing 35(12), 2009). A chunk goes up the chain through a domain's members, then up the trees over the domains,
each hop as soon as the previous one delivered it, so one pass (reduce up, or broadcast down) pays the sum of the
hop latencies along its longest leaf-to-root path, each hop at the round trip of the lowest tier holding both ends
(`network.fabric`'s tier latencies; `fabric.PIPELINED_TREE_LATENCY` says why, and switches it off for measuring).
`network.collective_formulas` prices the tree all-reduce with it; the flow schedule (`network.flow_schedules`)
places the trees the same way.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from infraplan.identity_memo import IdentityMemo
from infraplan.network.fabric import SCALE_UP_LATENCY_S, Fabric, group_domain


def tree_parents(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Parent of every rank in NCCL's two complementary binary trees over `m` ranks (-1 at the roots).

    Tree 0 (ncclGetBtree): rank r with lowest set bit b hangs under (r ^ b) | 2b, or r ^ b past the end.
    Tree 1 (ncclGetDtree): tree 0 mirrored (r -> m - 1 - r) when m is even, shifted by one rank when m is odd
    (src/graph/trees.cc, its comment draws 12 ranks mirrored, 13 shifted; recalled: ASSUMPTION), so that the leaves
    of one tree (tree 0's: the odd ranks) are inner nodes of the other: a mirror maps odd to even only when m - 1
    is odd. Before session 50 (hT80) the two were swapped: for odd m the odd ranks were leaves of both trees.
    """
    def btree(rank: np.ndarray) -> np.ndarray:
        low = rank & -rank
        up = (rank ^ low) | (low << 1)
        up = np.where(up >= m, rank ^ low, up)
        return np.where(rank == 0, -1, up)

    ranks = np.arange(m, dtype=np.int64)
    first = btree(ranks)
    if m % 2 == 1:
        shifted = btree((ranks - 1) % m)
        second = np.where(shifted < 0, -1, (shifted + 1) % m)
    else:
        mirrored = btree(m - 1 - ranks)
        second = np.where(mirrored < 0, -1, m - 1 - mirrored)
    return first, second


def tree_depth_latency(parents: np.ndarray, edge_latency_s: np.ndarray) -> np.ndarray:
    """Latency from every rank of a tree to its root: the sum of the hop latencies on its path up
    (`edge_latency_s[r]`: the hop from rank r to its parent; ignored at the root)."""
    has_parent = parents >= 0
    up = np.where(has_parent, parents, 0)
    hop = np.where(has_parent, edge_latency_s, 0.0)
    depth = np.zeros(parents.size)
    for _ in range(parents.size):  # one level settles per pass: at most the tree's depth (ceil(log2 m) + 1)
        deeper = np.where(has_parent, depth[up] + hop, 0.0)
        if np.array_equal(deeper, depth):
            break
        depth = deeper
    return depth


@lru_cache(maxsize=4096)
def tree_latency_one(fabric: Fabric, n: float, stride: float, network_floor_s: float) -> float:
    """Latency of a pipelined tree all-reduce (reduce up, broadcast down) over `n` ranks `stride` apart that spans
    scale-up domains: 2 x (the leg inside a domain of k members + the longest path up NCCL's two binary trees over
    the m = ceil(n / k) domains, each hop at the round trip of the lowest tier holding both ends, network hops
    floored at `network_floor_s`). Domain d's member c sits at rank (d k + c) stride, as the flow schedule places
    the trees (`flow_schedules._tree_phases`). 0 for a group inside one domain.

    The leg inside a domain is priced as the model's tree inside one domain, ceil(log2 k) steps of
    `SCALE_UP_LATENCY_S` (bounded there by the measured curves, `network.nvlink_all_reduce`), not NCCL's chain of
    k - 1 hops at that step: the 3 us step is a whole small all-reduce step, not NCCL's NVLink hop (hwLat NVLink
    Tree LL 0.6 us, read from the NCCL 2.30.7 binary, `nvlink_all_reduce.NVLS_LATENCY_S`'s comment), and a chain of
    71 such steps priced a tree over two NVL72 racks at 434 us against 42 us inside one
    (validation/notes/network_flow_tried.md, hN2)."""
    domain = float(group_domain(fabric, n, stride))
    if not n > 1.0 or not n * stride > domain:
        return 0.0
    k = min(max(math.floor(domain / stride), 1.0), n)
    m = int(math.ceil(n / k))
    where = np.arange(m, dtype=np.float64) * (k * stride)  # each domain's first member (channel 0's tree)
    trips = [max(t, network_floor_s) for t in fabric.tier_round_trip_latency_s]
    longest = 0.0
    for parents in tree_parents(m):
        a, b = where, where[np.where(parents >= 0, parents, 0)]
        hop = np.full(m, trips[-1])
        for size, trip in zip(reversed(fabric.tier_sizes), reversed(trips), strict=True):
            hop = np.where(np.floor(a / size) == np.floor(b / size), trip, hop)
        unit = float(fabric.scale_up_domain)
        hop = np.where(np.floor(a / unit) == np.floor(b / unit), SCALE_UP_LATENCY_S, hop)
        longest = max(longest, float(tree_depth_latency(parents, hop).max()))
    return 2.0 * (math.ceil(math.log2(k)) * SCALE_UP_LATENCY_S + longest)


# `tree_latency_one`'s values by the fabric's identity: its lru_cache hashes every field of the frozen `Fabric` on
# each call (~128 per GPT-3 search through `tree_latency`; hP19, session 42); cleared with it (`forget_tree_latencies`)
_KEPT: IdentityMemo[float] = IdentityMemo(4096)


def tree_latency_kept(fabric: Fabric, n: float, stride: float, network_floor_s: float) -> float:
    """`tree_latency_one`, kept by the fabric's identity and the other inputs (the same float)."""
    key = (n, stride, network_floor_s)
    kept = _KEPT.get(fabric, key)
    if kept is not None:
        return kept
    return _KEPT.put(fabric, key, tree_latency_one(fabric, n, stride, network_floor_s))


def forget_tree_latencies() -> None:
    """Forget the kept tree latencies (`tree_latency_kept` and `tree_latency_one`'s cache): for tests that patch
    the fabric physics."""
    _KEPT.clear()
    tree_latency_one.cache_clear()


def tree_latency(fabric: Fabric, n: npt.ArrayLike, stride: npt.ArrayLike, network_floor_s: float = 0.0) -> np.ndarray:
    """`tree_latency_one` over arrays of group shapes (each distinct shape computed once)."""
    n = np.asarray(n, dtype=np.float64)
    stride = np.asarray(stride, dtype=np.float64)
    n, stride = np.broadcast_arrays(n, stride)
    flat_n, flat_s = n.ravel(), stride.ravel()
    if not flat_n.size:
        return np.zeros(n.shape)
    # the distinct shapes by their bits: one lexsort of the two columns (np.unique(axis=1) sorts a structured view,
    # ~10x slower on a search's columns); each element gets the value of its own shape's floats
    bits_n, bits_s = flat_n.view(np.int64), flat_s.view(np.int64)
    order = np.lexsort((bits_s, bits_n))
    sorted_n, sorted_s = bits_n[order], bits_s[order]
    starts = np.concatenate(([True], (sorted_n[1:] != sorted_n[:-1]) | (sorted_s[1:] != sorted_s[:-1])))
    first = order[starts]
    values = np.array([tree_latency_kept(fabric, a, b, network_floor_s)
                       for a, b in zip(flat_n[first].tolist(), flat_s[first].tolist(), strict=True)])
    out = np.empty(flat_n.size)
    out[order] = values[np.cumsum(starts) - 1]
    return out.reshape(n.shape)
