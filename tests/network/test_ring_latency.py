"""A ring's latency is the sum of its hops' latencies (NCCL's pipelined ring), not every step at the slowest hop.

On the Llama 3 fabric (meta-genai-roce-24k: 8-GPU nodes, 16-GPU racks, 3,072-GPU pods, round trips 4 / 14 / 34 us)
a ring over all 24,576 GPUs has 7 NVLink hops per node hop, half of its node hops inside a rack and 8 between pods;
the slowest-hop rule charged all 2 x 24,575 steps 34 us (1.68 s for a 1 GiB all-reduce).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network.collective_algorithms import analytical_time
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.collectives import SCALE_UP_LATENCY_S, all_reduce_time, reduce_scatter_time
from infraplan.network.fabric import Fabric
from infraplan.network.ring_latency import ring_latency

GIB = 2.0**30


@pytest.fixture(scope="module")
def roce() -> Cluster:
    return Cluster.resolve("meta-genai-roce-24k")


def _hops_mean(fabric: Fabric, n: int, stride: int) -> float:
    """The ring's hop latencies enumerated: member i sends to member i + 1 (mod n); a hop inside one scale-up domain
    is NVLink, one that leaves it pays the round trip of the lowest tier whose domain holds both ends."""
    ranks = np.arange(n) * stride
    total = 0.0
    for a, b in zip(ranks, np.roll(ranks, -1), strict=True):
        if a // fabric.scale_up_domain == b // fabric.scale_up_domain:
            total += SCALE_UP_LATENCY_S
            continue
        tier = next((t for t, size in enumerate(fabric.tier_sizes) if a // size == b // size),
                    len(fabric.tier_sizes) - 1)
        total += fabric.tier_round_trip_latency_s[tier]
    return total / n


@pytest.mark.parametrize(("n", "stride"), [(24576, 1), (1024, 1), (4096, 6), (128, 128), (16, 1), (2, 12288),
                                           (3, 8192), (512, 48)])
def test_ring_latency_is_the_mean_of_the_enumerated_hops(roce, n, stride):
    assert float(ring_latency(roce.fabric, n, stride)) == pytest.approx(_hops_mean(roce.fabric, n, stride),
                                                                        rel=1e-12)


def test_superpod_rings_match_their_hops():
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    for n, stride in [(16384, 1), (2048, 1), (256, 64), (64, 8)]:
        assert float(ring_latency(fabric, n, stride)) == pytest.approx(_hops_mean(fabric, n, stride), rel=1e-12)


def test_network_hops_take_the_floor_and_nvlink_hops_do_not(roce):
    # 16 ranks on one rack: 14 NVLink hops at 3 us, 2 ToR round trips (4 us) floored at 10 us
    assert float(ring_latency(roce.fabric, 16, 1, 10e-6)) == pytest.approx((14 * 3e-6 + 2 * 10e-6) / 16)
    assert float(ring_latency(roce.fabric, 8, 1, 10e-6)) == SCALE_UP_LATENCY_S  # inside a node: no network hop


def test_24k_ring_all_reduce_pays_its_hops_not_the_top_tier_on_every_step(roce):
    fabric, n = roce.fabric, 24576
    mean = (21504 * 3e-6 + 1536 * 4e-6 + 1528 * 14e-6 + 8 * 34e-6) / n  # NVLink, rack, pod, cluster hops
    assert float(ring_latency(fabric, n, 1)) == pytest.approx(mean, rel=1e-12)
    ring = float(all_reduce_time(fabric, GIB, n, 1, algorithm="ring"))
    latency = float(all_reduce_time(fabric, 1.0, n, 1, algorithm="ring"))
    assert latency == pytest.approx(2 * (n - 1) * mean, rel=1e-6)  # 0.185 s, was 2 x 24,575 x 34 us = 1.67 s
    assert 0.18 < ring < 0.2
    assert float(reduce_scatter_time(fabric, GIB, n, 1)) == pytest.approx(ring / 2, rel=1e-3)


def test_rail_rings_of_the_hierarchical_collective_pay_their_hops(roce):
    """3,072 one-per-node rail rings: half the hops inside a rack (4 us), 1,528 in a pod (14 us), 8 across pods;
    the reduce-scatter of 1 GiB over 24,576 GPUs took 110 ms at 34 us per step, now 33 ms."""
    t = analytical_time(roce.fabric, "reduce-scatter", "hierarchical", GIB, 24576, 1)
    assert 0.030 < t < 0.036


@pytest.mark.parametrize(("gpus", "placement"), [(1024, "packed"), (1024, "spread")])
def test_flow_and_analytical_rings_agree(roce, gpus, placement):
    """The same question two ways: both price a ring step at its slowest transfer plus its hops' mean latency."""
    r = estimate_collective("all-reduce", roce.for_gpus(24576), gpus, 2**20, placement=placement,
                            algorithm="ring", sim="flow")
    assert r.time_s == pytest.approx(r.analytical_time_s, rel=0.01)
    assert r.difference_reason is None
