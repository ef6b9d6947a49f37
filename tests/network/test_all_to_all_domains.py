"""Collectives spanning scale-up domains are no faster than the in-domain exchange of their local members."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network.collective_formulas import (
    _one_all_to_all,
    all_reduce_time,
    all_to_all_time,
    reduce_scatter_time,
)
from infraplan.scalar_path import FLOAT_OPS


@pytest.mark.parametrize("sized", [True, False])
@pytest.mark.parametrize("size", [1e3, 1e4, 1e5, 1e6])
def test_two_boards_not_faster_than_one(size: float, sized: bool) -> None:
    """16 ranks over two 8-GPU H100 boards run, among their pairs, the 8 local ranks' exchange of the same
    per-peer chunk (size / 16, a size / 2 buffer over 8 ranks). Before the bound: 100 KB per rank took 5.06 us
    over two boards and 9.34 us inside one (sized, as training and serving price it), 1 KB 2.0 us and 3.0 us
    (alpha-beta, the `collective` command)."""
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    across = float(all_to_all_time(fabric, size, 16, 1, sized=sized))
    inside = float(all_to_all_time(fabric, size / 2.0, 8, 1, sized=sized))
    assert across >= inside > 0.0


def test_bound_leaves_bandwidth_bound_groups_alone() -> None:
    """At 1 GiB per rank the NIC term dominates: the bounded time is the formula's own, on both paths."""
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    size, n = 2.0**30, np.array([16.0, 64.0, 512.0])
    bounded = all_to_all_time(fabric, np.full(3, size), n, np.ones(3), sized=True)
    for i in range(3):
        assert bounded[i] == _one_all_to_all(FLOAT_OPS, fabric, size, float(n[i]), 1.0, True)
        assert all_to_all_time(fabric, size, n[i:i + 1], np.ones(1), sized=True)[0] == bounded[i]


@pytest.mark.parametrize("system", ["gb200-nvl72", "dgx-h100-superpod"])
def test_ring_across_domains_not_faster_than_its_nvlink_legs(system: str) -> None:
    """A sized reduce-scatter spanning domains runs n - 1 steps of its per-peer chunk, (k - 1) / k of each
    member's bytes over NVLink: its bus bandwidth stays within k / (k - 1) of the in-domain ring of the k local
    members at the same chunk. Before the bound 144 ranks over two GB200 NVL72 racks reached 727 GB/s at 100 GB
    against 615 GB/s inside one rack (the measured in-domain efficiency, 0.854), 16 ranks 8 apart (9 per rack)
    810 GB/s."""
    fabric = Cluster.resolve(system).fabric
    domain = float(fabric.scale_up_domain)
    for size in (1e6, 1e8, 1e11):
        for n, stride in ((2.0 * domain, 1.0), (16.0, 8.0), (4.0 * domain, 1.0)):
            k = min(max(float(np.floor(domain / stride)), 1.0), n)
            across = float(reduce_scatter_time(fabric, size, n, stride, sized=True))
            inside = float(reduce_scatter_time(fabric, size * k / n, k, stride, sized=True))
            assert across >= (n - 1.0) / k * inside * (1.0 - 1e-12), (size, n, stride)
            # the all-reduce's ring keeps that bound; its tree (the whole buffer once through the in-domain chain)
            # is bounded by the in-domain all-reduce of the whole buffer instead (hN3, session 34)
            ring_leg = (n - 1.0) / k * float(all_reduce_time(fabric, size * k / n, k, stride, sized=True))
            tree_leg = float(all_reduce_time(fabric, size, k, stride, sized=True))
            ring = float(all_reduce_time(fabric, size, n, stride, algorithm="ring", sized=True))
            assert ring >= ring_leg * (1.0 - 1e-12)
            assert float(all_reduce_time(fabric, size, n, stride, sized=True)) >= min(ring_leg, tree_leg) * (
                1.0 - 1e-12)


def test_ring_bound_keeps_nic_bound_rings() -> None:
    """Two DGX H100 nodes at 100 GB: the NIC rate (8 x 47 GB/s) binds before the NVLink legs (335 x 8 / 7 GB/s),
    so the ring keeps its own time."""
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    size = 1e11
    t = float(reduce_scatter_time(fabric, size, 16, 1, sized=True))
    assert 15.0 / 16.0 * size / t == pytest.approx(8.0 * fabric.nic_bytes_per_s, rel=1e-3)
