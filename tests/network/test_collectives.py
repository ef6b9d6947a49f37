"""Alpha-beta collectives priced by the fabric tier a group spans."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.network import (
    Fabric,
    all_gather_time,
    all_reduce_time,
    all_to_all_time,
    group_link,
    reduce_scatter_time,
    send_recv_time,
)
from infraplan.network.tree_crossings import bottleneck_tier, tree_edges_crossing

GiB = 2.0**30


def _fabric(system: str, **factors) -> Fabric:
    spec = load_system(system)
    return Fabric.from_system(spec, load_accelerator(spec.accelerator), **factors)


def _without_oversubscription(fabric: Fabric) -> Fabric:
    return dataclasses.replace(fabric, tier_oversubscription=tuple(1.0 for _ in fabric.tier_oversubscription))


@pytest.fixture(scope="module")
def h100() -> Fabric:
    return _fabric("dgx-h100-superpod")


@pytest.fixture(scope="module")
def roce() -> Fabric:
    """The RoCE cluster at the even spread: these tests price its tiers' oversubscription; its ECMP hash collisions
    (hE74, `network.ecmp_tiers`) are tests/network/test_ecmp_concurrent_hE74.py's."""
    return dataclasses.replace(_fabric("meta-genai-roce-24k"), ecmp_pools=())


@pytest.fixture(scope="module")
def ib() -> Fabric:
    return _fabric("meta-genai-ib-24k")


# --- the fabric scalars ---------------------------------------------------------------------------------------


def test_fabric_from_system_scalars(h100: Fabric) -> None:
    acc = load_accelerator("h100-sxm")
    assert h100.scale_up_domain == 8
    assert h100.scale_up_bytes_per_s == pytest.approx(
        450e9 * acc.efficiency.scale_up_collective_efficiency)
    assert h100.nic_bytes_per_s == pytest.approx(50e9 * 0.94)  # one 400 Gb/s NIC per GPU at 94 %
    assert h100.tier_sizes == (256, 2048, 16384)
    assert list(h100.tier_round_trip_latency_s) == sorted(h100.tier_round_trip_latency_s)


def test_fabric_factors_scale_bandwidths() -> None:
    base = _fabric("dgx-h100-superpod")
    scaled = _fabric("dgx-h100-superpod", scale_up_factor=2.0, scale_out_factor=3.0)
    assert scaled.scale_up_bytes_per_s == pytest.approx(2.0 * base.scale_up_bytes_per_s)
    assert scaled.nic_bytes_per_s == pytest.approx(3.0 * base.nic_bytes_per_s)
    assert scaled.tier_round_trip_latency_s == base.tier_round_trip_latency_s


# --- all-reduce inside a node ---------------------------------------------------------------------------------


def test_all_reduce_grows_with_size(h100: Fabric) -> None:
    sizes = np.logspace(0, 11, 45)
    for n, stride in ((8, 1), (16, 8), (1024, 8)):
        t = all_reduce_time(h100, sizes, n, stride)
        # in one NVSwitch board auto takes NVLS where its time is least (no size threshold): it grows with the
        # size throughout, and so does each algorithm on its own
        assert np.all(np.diff(t) > 0.0), (n, stride)
        for algorithm in ("ring", "tree", "nvls") if n * stride <= h100.scale_up_domain else ("ring", "tree"):
            assert np.all(np.diff(all_reduce_time(h100, sizes, n, stride, algorithm=algorithm)) >= 0.0), algorithm


@pytest.mark.parametrize("n", [2, 4, 8])
def test_large_all_reduce_in_a_node_is_ring_busbw(h100: Fabric, n: int) -> None:
    size = 4 * GiB
    t = float(all_reduce_time(h100, size, n, 1, algorithm="ring"))  # NVLS apart: tests/network/test_nvls.py
    expected = 2.0 * (n - 1) / n * size / h100.scale_up_bytes_per_s
    assert t == pytest.approx(expected, rel=0.01)
    assert t >= expected


def test_small_all_reduce_is_latency_bound(h100: Fabric) -> None:
    t = float(all_reduce_time(h100, 8.0, 8, 1))
    assert 0.0 < t < 1e-4
    assert t > 8.0 / h100.scale_up_bytes_per_s * 100  # latency, not bandwidth, dominates


def test_collectives_on_one_rank_cost_nothing(h100: Fabric) -> None:
    for fn in (all_reduce_time, reduce_scatter_time, all_gather_time, all_to_all_time):
        assert float(fn(h100, 1e9, 1, 1)) == 0.0


def test_reduce_scatter_plus_all_gather_is_an_all_reduce(h100: Fabric) -> None:
    size = 2 * GiB
    ring = float(all_reduce_time(h100, size, 8, 1, algorithm="ring"))
    parts = float(reduce_scatter_time(h100, size, 8, 1)) + float(all_gather_time(h100, size, 8, 1))
    assert parts == pytest.approx(ring, rel=1e-12)
    assert float(reduce_scatter_time(h100, size, 8, 1)) == pytest.approx(
        7 / 8 * size / h100.scale_up_bytes_per_s, rel=0.01)


def test_auto_picks_the_faster_of_ring_and_tree(h100: Fabric) -> None:
    for size in (1e3, 1e6, 1e9):
        for n, stride in ((8, 1), (512, 8)):
            ring = all_reduce_time(h100, size, n, stride, algorithm="ring")
            tree = all_reduce_time(h100, size, n, stride, algorithm="tree")
            nvls = all_reduce_time(h100, size, n, stride, algorithm="nvls")
            auto = all_reduce_time(h100, size, n, stride)
            candidates = [float(ring), float(tree), float(nvls)]  # NVLS infinite where it cannot run
            assert float(auto) == min(candidates)
    # tree has log-depth latency: it wins for small messages on big groups
    assert float(all_reduce_time(h100, 1e3, 512, 8, "tree")) < float(all_reduce_time(h100, 1e3, 512, 8, "ring"))


# --- which link a group is priced at --------------------------------------------------------------------------


def test_group_inside_scale_up_domain_gets_scale_up_bandwidth(h100: Fabric) -> None:
    for n, stride in ((2, 1), (8, 1), (4, 2), (2, 4)):
        bw, lat, tier = group_link(h100, n, stride)
        assert float(bw) == h100.scale_up_bytes_per_s
        assert int(tier) == -1


@pytest.mark.parametrize(("n", "stride", "per_domain"), [(16, 8, 1), (64, 8, 1), (8, 4, 2), (32, 2, 4), (16, 1, 8)])
def test_group_across_nodes_is_min_of_scale_up_and_k_nics(n: int, stride: int, per_domain: int) -> None:
    """A ring crossing domains puts (k-1)/k of a member's bytes on scale-up and 1/k on its NIC."""
    for system in ("dgx-h100-superpod", "dgx-a100-superpod", "gaudi2-cluster"):
        fabric = _fabric(system)
        bw, _, tier = group_link(fabric, n, stride)
        up = fabric.scale_up_bytes_per_s * per_domain / (per_domain - 1) if per_domain > 1 else float("inf")
        expected = min(up, per_domain * fabric.nic_bytes_per_s)
        assert float(bw) == pytest.approx(expected, rel=1e-12), system
        assert int(tier) >= 0


def test_dgx_a100_eight_nics_give_192_gb_s_busbw() -> None:
    """8 HDR NICs at 96 % = 192 GB/s all-reduce bus bandwidth across DGX A100 nodes (below NVLink)."""
    fabric = _fabric("dgx-a100-superpod")
    bw, _, _ = group_link(fabric, 64, 1)
    assert float(bw) == pytest.approx(192e9, rel=0.01)
    assert float(bw) < fabric.scale_up_bytes_per_s


def test_gaudi2_cross_node_ring_is_scale_up_bound_at_k_over_k_minus_1() -> None:
    """Gaudi 2: 21 x 100 GbE scale-up at 80 % = 210 GB/s, 3 x 100 GbE NICs at 90 % = 33.75 GB/s per chip.
    Across servers 7/8 of a chip's ring bytes ride scale-up: 210 x 8/7 = 240 GB/s, below 8 NICs' 270 GB/s."""
    fabric = _fabric("gaudi2-cluster")
    bw, _, _ = group_link(fabric, 16, 1)
    assert float(bw) == pytest.approx(fabric.scale_up_bytes_per_s * 8.0 / 7.0, rel=1e-12)
    assert float(bw) < 8 * fabric.nic_bytes_per_s
    assert bottleneck_tier(fabric, 16, 1) == "scale-up"
    assert bottleneck_tier(_fabric("dgx-h100-superpod"), 16, 1) == "nic"  # 369 x 8/7 > 8 x 47 GB/s


def test_bottleneck_tier_index(roce: Fabric, h100: Fabric) -> None:
    top = len(roce.tier_sizes) - 1
    assert int(group_link(roce, 8, 1)[2]) == -1  # one node
    assert int(group_link(roce, 16, 1)[2]) == 0  # two nodes under one rack switch
    assert int(group_link(roce, 32, 1)[2]) == 1  # leaves the rack, stays in the pod
    assert int(group_link(roce, 1024, 24)[2]) == top  # spans all pods
    assert int(group_link(h100, 16384, 1)[2]) == len(h100.tier_sizes) - 1
    # latency grows with the tier crossed
    lats = [float(group_link(roce, n, s)[1]) for n, s in ((8, 1), (16, 1), (32, 1), (1024, 24))]
    assert lats == sorted(lats) and lats[0] < lats[-1]


# --- the 1:7 tier of the Llama 3 RoCE cluster -----------------------------------------------------------------


@pytest.mark.parametrize("stride", [8, 24])
def test_all_to_all_across_pods_slower_on_oversubscribed_roce(roce: Fabric, ib: Fabric, stride: int) -> None:
    """1,024 GPUs, one per node (or every third node), spread over several 3,072-GPU pods."""
    n, size = 1024, 8 * GiB
    assert n * stride > roce.tier_sizes[1]  # the group leaves a pod
    t_roce = float(all_to_all_time(roce, size, n, stride))
    t_ib = float(all_to_all_time(ib, size, n, stride))
    t_flat = float(all_to_all_time(_without_oversubscription(roce), size, n, stride))
    assert t_roce > 2.5 * t_ib
    assert t_roce > 2.5 * t_flat
    # the NIC rate falls to NIC / (7 x share of bytes leaving the pod)
    in_pod = roce.tier_sizes[1] // stride
    leaving = 1.0 - in_pod / n
    bw_roce = float(group_link(roce, n, stride, all_to_all=True)[0])
    bw_flat = float(group_link(_without_oversubscription(roce), n, stride, all_to_all=True)[0])
    bw_ib = float(group_link(ib, n, stride, all_to_all=True)[0])
    assert bw_flat / bw_roce == pytest.approx(7.0 * leaving, rel=0.01)
    assert bw_ib == bw_flat  # same NICs, non-blocking


def test_all_to_all_inside_a_pod_is_not_oversubscribed(roce: Fabric) -> None:
    n, stride, size = 256, 8, 1 * GiB
    assert n * stride <= roce.tier_sizes[1]
    assert float(all_to_all_time(roce, size, n, stride)) == float(
        all_to_all_time(_without_oversubscription(roce), size, n, stride))


def test_ring_all_reduce_with_24_members_per_pod_is_not_limited_by_1_to_7(roce: Fabric, ib: Fabric) -> None:
    """A ring keeps one flow per group leaving a pod: 24 members per pod share 24 NICs' uplink / 7 > 1 NIC. (The
    double binary tree is not a ring: 6 of its edges cross the busiest pod's uplinks each way per pass, so it is
    held to 2/6 of that share, 1.15 NIC, `tree_crossings`: the NIC binds it too. hN70 counted 7 with the shifted
    twin tree, 0.98 NIC; hT80: NCCL mirrors the twin for an even count, 192 nodes.)"""
    stride = roce.tier_sizes[1] // 24  # 128: e.g. the DP group of TP8 x PP16
    n = 24 * (roce.tier_sizes[2] // roce.tier_sizes[1])  # 24 members in each of the 8 pods
    size = 4 * GiB
    flat = _without_oversubscription(roce)
    assert float(all_reduce_time(roce, size, n, stride, algorithm="ring")) == float(
        all_reduce_time(flat, size, n, stride, algorithm="ring"))
    assert float(all_reduce_time(roce, size, n, stride, algorithm="tree")) == float(
        all_reduce_time(flat, size, n, stride, algorithm="tree"))
    assert tree_edges_crossing(roce, 1, n, stride) == 6.0  # the pods, tier 1 (racks, pods of 3,072, cluster)
    assert float(group_link(roce, n, stride)[0]) == float(group_link(ib, n, stride)[0]) == roce.nic_bytes_per_s
    # a sparser ring (6 members per pod) does hit the 1:7 tier: 6 NICs' worth / 7 < 1 NIC. 1:7 as built: a pod's
    # 8 switches take 384 down ports each (2 links from each of 192 rack leaves) and ceil(384 / 7) = 55 whole up
    # ports, so 440 uplinks carry 3,072 NICs' bandwidth (6.98:1, `network.tier_bandwidth`, as the flow model)
    sparse_stride = roce.tier_sizes[1] // 6
    sparse_n = 6 * 8
    bw = float(group_link(roce, sparse_n, sparse_stride)[0])
    assert bw == pytest.approx(6.0 * (8 * 55) / 3072 * roce.nic_bytes_per_s, rel=1e-12)
    assert float(all_reduce_time(roce, size, sparse_n, sparse_stride)) > float(
        all_reduce_time(flat, size, sparse_n, sparse_stride))


# --- point to point -------------------------------------------------------------------------------------------


def test_send_recv_inside_a_node_is_faster_than_across(h100: Fabric, roce: Fabric) -> None:
    size = 64 * 2.0**20
    for fabric in (h100, roce):
        inside = float(send_recv_time(fabric, size, 1))
        across = float(send_recv_time(fabric, size, 8))
        assert inside < across
        assert inside == pytest.approx(size / fabric.scale_up_bytes_per_s, rel=0.05)
        # one transfer drives one NIC, however many GPUs a node has
        assert across == pytest.approx(size / fabric.nic_bytes_per_s, rel=0.05)
        assert across >= size / fabric.nic_bytes_per_s


def test_send_recv_is_vectorised(h100: Fabric) -> None:
    strides = np.array([1, 2, 4, 8, 64])
    t = send_recv_time(h100, 1e8, strides)
    assert t.shape == (5,)
    for i, s in enumerate(strides):
        assert t[i] == float(send_recv_time(h100, 1e8, int(s)))


# --- all-to-all lower bound -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "stride"), [(2, 8), (8, 8), (16, 1)])
def test_all_to_all_across_nodes_is_not_faster_than_its_nic_bytes(h100: Fabric, n: int, stride: int) -> None:
    """Each rank sends (n - k)/n of its buffer to the ranks outside its node (k members per node); those
    bytes go through its one NIC, so time >= that / NIC rate."""
    size = 8 * GiB
    per_node = max(1, h100.scale_up_domain // stride)
    nic_bytes = size * (n - per_node) / n
    assert float(all_to_all_time(h100, size, n, stride)) >= nic_bytes / h100.nic_bytes_per_s
