"""Placement-aware alpha-beta collectives: scale-up vs NIC pricing, k NICs per node, oversubscription."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.network.collectives import (
    Fabric,
    all_reduce_time,
    all_to_all_time,
    group_link,
    send_recv_time,
)


def fabric(name: str) -> Fabric:
    system = load_system(name)
    return Fabric.from_system(system, load_accelerator(system.accelerator))


def test_large_all_reduce_inside_a_node_approaches_bus_bandwidth():
    f = fabric("dgx-h100-superpod")
    size = 8e9
    t = all_reduce_time(f, size, 8, 1, algorithm="ring")
    ideal = 2 * 7 / 8 * size / f.scale_up_bytes_per_s
    assert t == pytest.approx(ideal, rel=0.01)
    assert all_reduce_time(f, 2 * size, 8, 1) > t


def test_groups_are_priced_by_the_tier_they_span():
    f = fabric("dgx-a100-superpod")
    bw, _, tier = group_link(f, np.array([8.0, 32.0, 32.0]), np.array([1.0, 1.0, 8.0]))
    assert tier[0] == -1 and bw[0] == pytest.approx(f.scale_up_bytes_per_s)
    # 8 members per node drive 8 NICs (the 192 GB/s DGX A100 busbw in network.md); one member per node drives one
    assert bw[1] == pytest.approx(min(f.scale_up_bytes_per_s, 8 * f.nic_bytes_per_s))
    assert bw[1] == pytest.approx(192e9, rel=0.05)
    assert bw[2] == pytest.approx(f.nic_bytes_per_s)
    assert tier[1] >= 0 and tier[2] >= 0


def test_oversubscription_binds_only_where_few_members_share_a_pod():
    hashed, ib = fabric("meta-genai-roce-24k"), fabric("meta-genai-ib-24k")
    roce = replace(hashed, ecmp_pools=())  # the even spread (its ECMP collisions: test_ecmp_concurrent_hE74)
    # Llama 3 DP ring: stride 128 -> 24 members in each 3,072-GPU pod; 24/7 NICs > 1 NIC: not limited
    bw_roce, _, _ = group_link(roce, np.array([128.0]), np.array([128.0]))
    assert bw_roce[0] == pytest.approx(roce.nic_bytes_per_s)
    # hE74: all 128 rings' 16 flows a pair hashed on the racks' 8 pod-switch bundles at once: 1.677x below the NIC
    assert group_link(hashed, 128.0, 128.0)[0] == pytest.approx(roce.nic_bytes_per_s / 1.6766, rel=1e-3)
    # all-to-all over 1,024 GPUs, one per node, spread over all pods: 7/8 of the bytes cross the 1:7 tier
    slow = all_to_all_time(roce, 1e9, 1024, 24)
    fast = all_to_all_time(ib, 1e9, 1024, 24)
    assert slow > 4 * fast
    _, _, tier = group_link(roce, np.array([1024.0]), np.array([24.0]), all_to_all=True)
    assert roce.tier_names[tier[0]] == "cluster"


def test_point_to_point_inside_a_node_beats_crossing_nodes():
    f = fabric("dgx-h100-superpod")
    assert send_recv_time(f, 1e8, 4) < send_recv_time(f, 1e8, 8)


def test_single_rank_groups_cost_nothing_and_latency_grows_with_group_size():
    f = fabric("meta-genai-roce-24k")
    assert all_reduce_time(f, 1e9, 1, 1) == 0
    assert all_reduce_time(f, 1e3, 4096, 8, algorithm="ring") > all_reduce_time(f, 1e3, 64, 8, algorithm="ring")
