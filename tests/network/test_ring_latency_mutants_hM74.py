"""Mutation tests on network/ring_latency.py (moved out of fabric.py by hE74; hM74).

A ring's mean hop latency with `fabric.PIPELINED_RING_LATENCY` on is the mean of its n hops' latencies; a hop that
leaves even the top tier's domain (a ring over more ranks than the fabric spans) pays the top tier's round trip.
With the switch off (lockstep, for measuring) every step pays the group's slowest hop, `group_link`'s latency,
floored at the network step latency where the ring leaves its scale-up domain.
"""

from __future__ import annotations

import pytest

from infraplan.cluster import Cluster
from infraplan.network import fabric as _fabric
from infraplan.network.collectives import SCALE_UP_LATENCY_S, group_link
from infraplan.network.ring_latency import ring_latency


def test_a_ring_past_the_top_tier_pays_the_top_round_trip_on_those_hops() -> None:
    """64 ranks 1,024 apart on meta-genai-roce-24k (tiers of 16 / 3,072 / 24,576 GPUs): every hop leaves its rack;
    42 stay in a 3,072-GPU pod, 22 leave it, 3 of those leave the 24,576 too (65,536 / 24,576 -> 3 domains):
    (42 x pod trip + 22 x top trip) / 64."""
    fabric = Cluster.resolve("meta-genai-roce-24k").fabric
    assert fabric.tier_sizes == (16, 3072, 24576)
    ranks = [i * 1024 for i in range(64)]
    hops = list(zip(ranks, ranks[1:] + ranks[:1], strict=True))
    pod = sum(a // 3072 == b // 3072 for a, b in hops)
    assert (pod, len(hops) - pod) == (42, 22)
    trips = fabric.tier_round_trip_latency_s
    assert float(ring_latency(fabric, 64, 1024)) == pytest.approx((42 * trips[1] + 22 * trips[2]) / 64, rel=1e-12)


def test_lockstep_rings_pay_the_slowest_hop_floored(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the switch off: 16 ranks on one 16-GPU rack pay the ToR round trip a step, floored at 10 us; 8 ranks on
    one node stay on NVLink whatever the floor."""
    monkeypatch.setattr(_fabric, "PIPELINED_RING_LATENCY", False)
    fabric = Cluster.resolve("meta-genai-roce-24k").fabric
    _, lat, _ = group_link(fabric, 16.0, 1.0)
    assert float(lat) < 10e-6 and float(ring_latency(fabric, 16, 1)) == pytest.approx(float(lat), rel=1e-12)
    assert float(ring_latency(fabric, 16, 1, 10e-6)) == pytest.approx(10e-6, rel=1e-12)
    assert float(ring_latency(fabric, 8, 1, 10e-6)) == SCALE_UP_LATENCY_S
