"""A double binary tree all-reduce across oversubscribed tiers (hN70, session 49): both models held to a hand count
of NCCL's tree edges crossing a tier domain's uplinks; the MI300X unit's rail groups.

The o4 fabric (hF65's what-if): DGX B200 nodes (8 GPUs, 8 x 400G NICs), 256-GPU leaf domains at 1:4 on 64-port
switches: floor(64 x 4 / 5) = 51 down ports at most, so a domain's 256 NIC links take ceil(256 / 51) = 6 leaves of
ceil(256 / 6) = 43 ports down and ceil(43 / 4) = 11 up; 6 leaves for 8 NICs per node make no rails, so NIC c of
node j sits on leaf (8 j + c) // 43 of its domain. The tree's channel c joins NIC c of the 64 nodes of a 512-GPU
group; NCCL's trees (ncclGetBtree: rank r with lowest set bit b hangs under (r ^ b) | 2b, or r ^ b past the end;
ncclGetDtree: the same mirrored, r -> m - 1 - r, for an even count, shifted by one rank for an odd one; hT80,
session 50: they were the other way round) are rebuilt here from that rule, not from the package, and each of the
two trees carries half of a channel's bytes on every edge. The reduce and the broadcast run at once (NCCL's
runTreeSplit), so a domain's uplinks carry out + in edges each way over both passes: (out + in) / 2 per pass."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from flow_toy_fabric import O4, tor_nvl72_superpod, unrailed_mi300x

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.network.clos_topology import leaf_index
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.collectives import all_reduce_time
from infraplan.network.fabric import group_link
from infraplan.network.topology import build_topology
from infraplan.network.tree_crossings import tree_edges_crossing, tree_link, tree_link_kept

MIB = 2.0**20
NIC = 50e9 * 0.94  # 400 Gb/s at the fabric's collective efficiency


def _o4(tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "o4.yaml"
    path.write_text(O4)
    return str(path)


def _nccl_parent(r: int, m: int) -> int:
    if r == 0:
        return -1
    low = r & -r
    up = (r ^ low) | (low << 1)
    return up if up < m else r ^ low


def _two_trees(m: int) -> list[list[int]]:
    """ncclGetBtree and ncclGetDtree's twin (m even: mirrored; m odd: shifted by one), parents by rank."""
    first = [_nccl_parent(r, m) for r in range(m)]
    if m % 2:
        second = [-1 if _nccl_parent((r - 1) % m, m) < 0 else (_nccl_parent((r - 1) % m, m) + 1) % m
                  for r in range(m)]
    else:
        second = [-1 if _nccl_parent(m - 1 - r, m) < 0 else m - 1 - _nccl_parent(m - 1 - r, m) for r in range(m)]
    return [first, second]


def _most_crossing(m: int, channels: int, domain_of) -> float:  # type: ignore[no-untyped-def]
    """The tree edges (both trees, every channel) through one domain's uplinks each way per pass, at the busiest
    domain: (out + in) / 2, the two passes running at once."""
    out: dict[int, int] = {}
    into: dict[int, int] = {}
    for c in range(channels):
        for parents in _two_trees(m):
            for r, p in enumerate(parents):
                if p >= 0 and domain_of(r, c) != domain_of(p, c):
                    out[domain_of(r, c)] = out.get(domain_of(r, c), 0) + 1
                    into[domain_of(p, c)] = into.get(domain_of(p, c), 0) + 1
    return max(out.get(d, 0) + into.get(d, 0) for d in set(out) | set(into)) / 2.0


def _leaf(j: int, c: int) -> int:
    """Leaf of NIC c of node j (o4: 32 nodes per 256-GPU domain, 6 leaves of 43 NIC links each)."""
    return (j // 32) * 6 + ((j % 32) * 8 + c) // 43


def test_tree_edges_leaving_a_leaf_by_hand(tmp_path) -> None:
    """o4, 512 GPUs: the busiest leaves have 48 tree edges out and 48 in per pass (43 with the shifted twin before
    hT80), where a ring's 8 channels cross it once each; the analytical count on the fabric's leaf blocks is the
    same 48. Llama 3 RoCE: a DP group of 192 ranks 128 apart holds 24 ranks per 3,072-GPU pod; 6 edges of its two
    trees cross the busiest pod's uplinks each way per pass (7 before)."""
    system = _o4(tmp_path)
    topo = build_topology(load_system(system))
    nodes, nics = np.repeat(np.arange(64), 8), np.tile(np.arange(8), 64)
    built = leaf_index(topo, nodes, nics) + (nodes // 32) * 6
    assert built.tolist() == [_leaf(j, c) for j, c in zip(nodes.tolist(), nics.tolist(), strict=True)]
    assert _most_crossing(64, 8, _leaf) == 48
    fabric = Cluster.resolve(system).fabric
    assert (fabric.tier_sizes[0], fabric.leaf_domain_gpus) == (43, 256)
    assert tree_edges_crossing(fabric, 0, 512.0, 1.0) == 48
    # (the even spread: the rings' ECMP collisions on the racks, hE74, are test_ecmp_concurrent_hE74's)
    roce = dataclasses.replace(Cluster.resolve("meta-genai-roce-24k").fabric, ecmp_pools=())
    assert _most_crossing(192, 1, lambda r, c: r // 24) == 6
    assert tree_edges_crossing(roce, 1, 192.0, 128.0) == 6
    # all 128 groups run at once (a training job): 24 NICs' worth of the pod's 440 uplinks of 3,072 NICs, x 2 / 6
    # = 1.15 NICs: the NIC binds (at 7 edges, 0.98 NICs, the pod did)
    bw = float(group_link(roce, 192.0, 128.0)[0])
    assert 24 * 440 / 3072 * 2 / 6 > 1.0 > 24 * 440 / 3072 * 2 / 7
    assert tree_link_kept(roce, 192.0, 128.0, bw) == bw == roce.nic_bytes_per_s


def test_tree_all_reduce_across_1_to_4_leaves_matches_the_hand_count(tmp_path) -> None:
    """o4, 512 GPUs x 64 MiB, per pass: the busiest leaf sends 48 x 64 MiB / 16 over 11 uplinks: 2 passes =
    0.779 ms (0.698 ms with 43 before hT80's mirrored twin; the analytical model prices the leaf domain's mean
    uplinks, 66 per 256 NICs: 0.8 % less). It had priced the ring's 8 crossings (0.357 ms, NIC bound). The flow
    model lands above the hand count: o4 is InfiniBand, so since hF73 it routes adaptively, each flow over a leaf's
    11 uplinks evenly: 0.845 ms, 1.007x the analytical line at any flow count (hV73). With its flows hashed (ECMP, 16
    a pair: 11 uplinks a little uneven) it was 2.2x the analytical time, then 1.17x since hT80, 0.98 ms. The ring
    and a tree on the same leaves at 1:1 are unchanged (the NICs bind)."""
    system, size = _o4(tmp_path), 64 * MIB
    cluster = Cluster.resolve(system)
    hand = 2 * 48 * size / 16 / (11 * NIC)
    tree = estimate_collective("all-reduce", cluster, 512, size, algorithm="tree")
    latency = estimate_collective("all-reduce", cluster, 512, 1.0, algorithm="tree").alpha_beta_time_s
    assert tree.alpha_beta_time_s - latency == pytest.approx(hand, rel=0.01)  # the line (the answer before hC52)
    assert tree.bottleneck_tier == "leaf"
    flow = estimate_collective("all-reduce", cluster, 512, size, algorithm="tree", sim="flow", flows_per_pair=16)
    assert flow.analytical_time_s == tree.alpha_beta_time_s
    assert hand < flow.time_s == pytest.approx(tree.alpha_beta_time_s, rel=0.01)  # adaptive (hF73): 1.007x
    assert flow.difference_reason is None
    hashed = system.replace(".yaml", "-ecmp.yaml")
    Path(hashed).write_text(O4.replace("  collective_efficiency: 0.94\n", "  collective_efficiency: 0.94\n  "
                                       "load_balancing: ecmp\n  load_balancing_source: 'test: hashed flows'\n"))
    ecmp = estimate_collective("all-reduce", Cluster.resolve(hashed), 512, size, algorithm="tree", sim="flow",
                               flows_per_pair=16)
    assert 1.1 * tree.alpha_beta_time_s < ecmp.time_s < 1.3 * tree.alpha_beta_time_s  # 1.17x, 0.98 ms
    assert "ECMP hash collisions" in (ecmp.difference_reason or "")
    flat = dataclasses.replace(cluster.fabric, tier_oversubscription=(1.0, 1.0), concurrent_groups=1)
    fabric = dataclasses.replace(cluster.fabric, concurrent_groups=1)
    assert float(all_reduce_time(fabric, size, 512, 1, algorithm="ring")) == float(
        all_reduce_time(flat, size, 512, 1, algorithm="ring"))
    assert float(all_reduce_time(flat, size, 512, 1, algorithm="tree")) - latency == pytest.approx(
        2 * size / (8 * NIC), rel=1e-6)  # (the 1-byte time holds 2 bytes at the tree's rate too)


def test_float_and_array_paths_give_the_same_tree(tmp_path) -> None:
    """A training job's fabric (every group at once): the sized all-reduce of each group shape on arrays equals
    its single-estimate float path bit for bit, and the array `tree_link` its kept floats."""
    fabric = Cluster.resolve(_o4(tmp_path)).fabric
    n = np.array([512.0, 64.0, 128.0, 16.0, 512.0])
    stride = np.array([1.0, 8.0, 4.0, 32.0, 1.0])
    size = np.array([64 * MIB, 4 * MIB, 1 * MIB, 256 * MIB, 2.0])
    both = all_reduce_time(fabric, size, n, stride, sized=True)
    tree = all_reduce_time(fabric, size, n, stride, algorithm="tree", sized=True)
    for i in range(n.size):
        assert float(all_reduce_time(fabric, size[i], n[i], stride[i], sized=True)) == both[i]
        assert float(all_reduce_time(fabric, size[i], n[i], stride[i], algorithm="tree", sized=True)) == tree[i]
    bw = group_link(fabric, n, stride)[0]
    assert tree_link(fabric, n, stride, bw).tolist() == [tree_link_kept(fabric, a, s, b) for a, s, b in
                                                         zip(n.tolist(), stride.tolist(), bw.tolist(), strict=True)]
    assert tree_link(fabric, n, stride, bw)[0] < bw[0]  # 512 GPUs on the 1:4 leaves: held by the tree's crossings
    h100 = Cluster.resolve("dgx-h100-superpod").fabric  # no oversubscribed tier: the ring's bandwidth itself
    assert tree_link(h100, n, stride, bw).tolist() == bw.tolist()


def test_mi300x_rail_groups_keep_a_tree_on_one_leaf(tmp_path) -> None:
    """mi300x-cluster (catalog: rail-optimised): its 64-GPU leaf domain's 2 leaves of 32 ports take NICs 0-3 and
    4-7 of every node, so channel c's trees stay on leaf c // 4 and a 1 MiB tree all-reduce pays the leaf's 2 us
    round trip on each of its 3 levels over the 8 nodes: 2 x (3 x 3 us in the node + 3 x 2 us) + 2 x 1 MiB / (8
    NICs) = 35.58 us in both models (47.6 us wired unrailed, hF65: half the pairs climb to the spine). NVL72 racks
    (leaf domain = NVLink domain) stay unrailed: no pair of theirs meets at a leaf."""
    topo = build_topology(load_system("mi300x-cluster"))
    assert (topo.rail_optimized, topo.rails_per_leaf) == (True, 4)
    nodes = np.repeat(np.arange(8), 8)
    assert leaf_index(topo, nodes, np.tile(np.arange(8), 8)).tolist() == (np.tile(np.arange(8), 8) // 4).tolist()
    hand = 2 * (3 * 3e-6 + 3 * 2e-6) + 2 * MIB / (8 * NIC)
    cluster = Cluster.resolve("mi300x-cluster")
    flow = estimate_collective("all-reduce", cluster, 64, MIB, algorithm="tree", sim="flow")
    assert flow.analytical_time_s == pytest.approx(hand, rel=1e-9)
    assert flow.time_s == pytest.approx(hand, rel=0.01)
    unrailed = estimate_collective("all-reduce", Cluster.resolve(unrailed_mi300x(tmp_path)), 64, MIB,
                                   algorithm="tree")
    # the longest path's 2 of 3 hops at the spine's 4 us (nodes 0-3 / 4-7 on two leaves: tree 0's 1-2-4-0, the
    # mirrored tree's 6-5-3-7; the shifted twin before hT80 had a path of 3)
    assert unrailed.alpha_beta_time_s == pytest.approx(hand + 2 * 2 * 2e-6, rel=0.01)  # the line (hC52)
    # hN65: top-of-rack NVL72 leaves (leaf domain = NVLink domain) as a user's file; the catalog SuperPOD's 8-rack SU
    assert not build_topology(load_system(tor_nvl72_superpod(tmp_path, railed=True))).rail_optimized
    assert build_topology(load_system("gb200-nvl72-superpod")).rail_optimized
