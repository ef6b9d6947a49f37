"""A tree all-reduce across scale-up domains is NCCL's pipelined tree: per pass the leg inside a domain of k members
(priced as the in-domain tree, ceil(log2 k) NVLink steps) plus the longest path up the double binary tree over the
domains, each hop at the round trip of the tier it crosses; not 2 ceil(log2 n) steps at the slowest hop (hN2).

On the Llama 3 fabric (meta-genai-roce-24k: 8-GPU nodes, 16-GPU racks, 3,072-GPU pods, round trips 4 / 14 / 34 us)
the slowest-hop rule charged a 24,576-GPU tree 2 x 15 x 34 us = 1.02 ms of latency.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.cluster import Cluster
from infraplan.network import fabric as fabric_module
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.collectives import SCALE_UP_LATENCY_S, all_reduce_time, collective_seconds
from infraplan.network.fabric import Fabric
from infraplan.network.nccl_trees import tree_latency, tree_latency_one, tree_parents

MIB = 2.0**20


def _fabric(name: str) -> Fabric:
    spec = load_system(name)
    return Fabric.from_system(spec, load_accelerator(spec.accelerator))


def _walked(fabric: Fabric, n: int) -> float:
    """The tree latency enumerated by walking every domain's path to the root, one hop at a time (packed ranks):
    2 x (ceil(log2 k) NVLink steps + the longest of the paths, each hop at the lowest tier holding both domains)."""
    k = fabric.scale_up_domain
    m = n // k
    longest = 0.0
    for parents in tree_parents(m):
        for start in range(m):
            node, total = start, 0.0
            while parents[node] >= 0:
                a, b = node * k, int(parents[node]) * k
                tier = next((t for t, size in enumerate(fabric.tier_sizes) if a // size == b // size),
                            len(fabric.tier_sizes) - 1)
                total += fabric.tier_round_trip_latency_s[tier]
                node = int(parents[node])
            longest = max(longest, total)
    return 2.0 * (math.ceil(math.log2(k)) * SCALE_UP_LATENCY_S + longest)


def test_eight_dgx_h100_nodes_under_one_leaf_pay_the_node_leg_and_three_leaf_levels() -> None:
    # by hand: 8 nodes, tree depth 3 (1 -> 2 -> 4 -> 0), every hop under one 256-GPU leaf group (2 us round trip);
    # in the node 3 x 3 us; 2 x (9 + 6) = 30 us (the slowest-hop rule: 2 x 6 steps x 2 us = 24 us)
    h100 = _fabric("dgx-h100-superpod")
    assert h100.tier_round_trip_latency_s[0] == pytest.approx(2e-6)
    assert tree_latency_one(h100, 64.0, 1.0, 0.0) == pytest.approx(2.0 * (3 * 3e-6 + 3 * 2e-6), rel=1e-12)
    # 12 nodes: depth 4 (1 -> 2 -> 4 -> 8 -> 0)
    assert tree_latency_one(h100, 96.0, 1.0, 0.0) == pytest.approx(2.0 * (3 * 3e-6 + 4 * 2e-6), rel=1e-12)
    tiny = float(all_reduce_time(h100, 8.0, 64, 1, algorithm="tree"))
    assert tiny == pytest.approx(30e-6, rel=1e-3)


@pytest.mark.parametrize("n", [16, 48, 1024, 3072, 6144, 24576])
def test_the_pipelined_tree_equals_its_paths_walked_hop_by_hop_on_the_llama_fabric(n: int) -> None:
    roce = _fabric("meta-genai-roce-24k")
    assert tree_latency_one(roce, float(n), 1.0, 0.0) == pytest.approx(_walked(roce, n), rel=1e-12)


def test_the_24k_tree_pays_its_tiers_not_30_pod_crossings() -> None:
    roce = _fabric("meta-genai-roce-24k")
    whole = tree_latency_one(roce, 24576.0, 1.0, 0.0)
    slowest_hop = 2.0 * math.ceil(math.log2(24576)) * roce.tier_round_trip_latency_s[-1]
    assert slowest_hop == pytest.approx(1.02e-3)
    # 2 x (3 x 3 + 6 x 34 + 6 x 14) us: the longest path, 6 hops across pods and 6 across racks in a pod (hT80:
    # NCCL mirrors the second tree for an even count, 3,072 nodes; the shifted twin's path had 7 + 5: 634 us)
    assert whole == pytest.approx(594e-6, rel=1e-9)
    assert whole < 0.65 * slowest_hop


def test_the_array_path_takes_each_shape_once_and_equals_the_float_path() -> None:
    roce = _fabric("meta-genai-roce-24k")
    n = np.array([16.0, 1024.0, 16.0, 24576.0, 8.0])
    stride = np.array([1.0, 1.0, 8.0, 1.0, 1.0])
    got = tree_latency(roce, n, stride, 4e-6)
    assert got.tolist() == [tree_latency_one(roce, a, b, 4e-6) for a, b in zip(n, stride, strict=True)]
    assert got[-1] == 0.0  # inside one domain: the caller keeps 2 ceil(log2 n) steps
    for size in (1e3, MIB, 2**30):  # the sized all-reduce: float twin and array path, same bits
        for members, spacing in ((16, 1), (1024, 1), (24576, 1), (64, 8)):
            arr = float(all_reduce_time(roce, np.array([size, size]), np.array([members, members]),
                                        np.array([spacing, spacing]), sized=True)[0])
            assert collective_seconds(roce, "all_reduce", size, members, spacing) == arr


@pytest.mark.parametrize(("system", "gpus", "placement"), [
    ("meta-genai-roce-24k", 1024, "packed"), ("meta-genai-roce-24k", 1024, "spread"),
    ("dgx-h100-superpod", 64, "packed"), ("gb300-nvl72-superpod", 288, "packed")])
def test_flow_and_analytical_trees_pay_the_same_latency(system: str, gpus: int, placement: str) -> None:
    result = estimate_collective("all-reduce", Cluster.resolve(system), gpus, MIB, placement, "tree", sim="flow")
    assert result.time_s == pytest.approx(result.analytical_time_s, rel=0.01)


def test_switched_off_the_tree_pays_2_ceil_log2_n_slowest_hops(monkeypatch: pytest.MonkeyPatch) -> None:
    # in this process, whatever it priced before (test_review_hq35's --algorithm sharp kept a link latency of 0
    # under the key of this group's float link until hX, session 36: tests/network/test_switch_memos.py)
    cluster = Cluster.resolve("dgx-h100-superpod")
    on = estimate_collective("all-reduce", cluster, 64, MIB, "packed", "tree", sim="flow")
    monkeypatch.setattr(fabric_module, "PIPELINED_TREE_LATENCY", False)
    off = estimate_collective("all-reduce", cluster, 64, MIB, "packed", "tree", sim="flow")
    assert on.analytical_time_s is not None and off.analytical_time_s is not None
    # before, the flow model's tree steps paid its slowest hop, the chain's 3 us NVLink, and the analytical one
    # the 2 us leaf: 41.0 vs 29.6 us; now both pay the leg in the node and the levels (35.6 us)
    assert off.time_s > 1.3 * off.analytical_time_s
    assert on.time_s == pytest.approx(on.analytical_time_s, rel=1e-6)
    # 2 x 6 steps at the 2 us leaf round trip before; 2 x (3 x 3 + 3 x 2) us now
    assert on.analytical_time_s - off.analytical_time_s == pytest.approx(30e-6 - 24e-6, rel=1e-6)


def test_two_nvl72_racks_pay_the_in_rack_tree_not_a_chain_of_71_steps() -> None:
    # the leg in a 72-GPU rack as the tree inside it, 7 steps; NCCL's chain at the 3 us step would be 71 (426 us)
    nvl72 = _fabric("gb200-nvl72-superpod")
    inside = float(all_reduce_time(nvl72, 8.0, 72, 1, algorithm="tree"))
    across = float(all_reduce_time(nvl72, 8.0, 144, 1, algorithm="tree"))
    assert inside < across < inside + 2.0 * nvl72.tier_round_trip_latency_s[-1] + 1e-6
