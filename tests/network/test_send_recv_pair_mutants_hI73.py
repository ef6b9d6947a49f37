"""Mutants of `network.pair_loads` (hF72's send-recv pair count) that the hF72 / hI56 / hB57 tests let live (hI73).

Each test checks the rate a pair's stream gets (S over t(2S) - t(S), free of the hop latency) against a hand count
of the busiest link:
* pairs inside one scale-up domain ride the scale-up links alone: 1 / scale-up rate a byte, whether the domain is one
  node (DGX H100, 8 GPUs) or spans trays (GB200 NVL72: 64 packed GPUs are 16 trays of 4, partners 32 ranks apart in
  one 72-GPU NVLink domain, none leaves it through a NIC);
* a rail uplink carries the pairs leaving its domain on that rail as well as those arriving (Gaudi 2 cluster at 3:1
  leaves, 130 packed; a leaf domain is 64 GPUs = 8 nodes, GPU index g on rail g // 2, so 2 x 8 = 16 NICs a rail
  a domain). Ranks 64-127 (domain 1) all leave: 64 -> 129 (index 1) and 65-127 -> 0-62 (indices 0-6 eight times,
  7 seven times); with 129 that is 8 + 9 = 17 pairs on rail 0 (indices 0, 1) over its 16 uplinks' NICs, so at 3:1
  the busiest leaf uplink takes 17 / 16 x 3 bytes a byte sent. Arrivals are at most 16 / 16 a rail (each GPU takes
  one). Counting only the arrivals gave 3 / nic rate, 6 % low;
* a tier above the rail planes (`Fabric.rail_tiers`) is one pool of uplinks that every rail's bytes share: a 2,048-GPU
  DGX H100 copy, 1:1 rail leaves of 256, spines of 1,024 GPUs at ~2.9:1 (32 / 11 as the radix builds it) under a
  core. 1,024 GPUs spread (stride 2) pair rank i with i + 512, GPU g with g + 1,024: all 512 even GPUs of spine domain
  0 leave it, half its GPUs, so its uplinks run at 0.5 x 2.9 bytes a byte sent. Counting them per rail (GPU indices
  0, 2, 4, 6: those rails full) or over half the domain gave 1.0 x 2.9, twice the time. The flow model agrees with
  the shared pool: 2.08 ms at 1 and 64 flows a pair with hF73's adaptive routing on InfiniBand; with c5311d67's ECMP
  hashing 1.32x / 1.15x / 1.08x the analytical 2.08 ms at 64 / 256 / 1,024 flows a pair, converging on it (the
  per-rail count's 4.16 ms is above all of them).
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective

SIZE = 64 * 2**20


def _rate(cluster: Cluster, gpus: int, placement: str) -> tuple[float, str]:
    """Bytes a second one pair's stream moves at the binding link (S over t(2S) - t(S)), and that link."""
    one = estimate_collective("send-recv", cluster, gpus, SIZE, placement=placement)
    two = estimate_collective("send-recv", cluster, gpus, 2 * SIZE, placement=placement)
    assert one.bottleneck_tier == two.bottleneck_tier
    # the even-spread count (the line; an ECMP fabric's answer adds the expected collisions, hE73)
    return SIZE / (two.alpha_beta_time_s - one.alpha_beta_time_s), one.bottleneck_tier


@pytest.mark.parametrize(("system", "gpus"), [("dgx-h100-superpod", 8), ("dgx-h100-superpod", 2),
                                              ("gb200-nvl72-superpod", 64)])
def test_pairs_inside_a_scale_up_domain_ride_its_links(system: str, gpus: int) -> None:
    cluster = Cluster.resolve(system)
    rate, tier = _rate(cluster, gpus, "packed")
    assert tier == "scale-up"
    assert rate == pytest.approx(cluster.fabric.scale_up_bytes_per_s, rel=1e-9)


def test_a_rail_uplink_carries_the_pairs_leaving_its_domain() -> None:
    spec = load_system("gaudi2-cluster")
    leaf, *above = spec.network.tiers
    tiers = [leaf.model_copy(update={"oversubscription": 3.0}), *above]
    even = {"tiers": tiers, "load_balancing": "adaptive", "load_balancing_source": "test: the even count (hE74: ECMP's "
            "collisions on top, test_ecmp_concurrent_hE74)"}
    cluster = Cluster.resolve(spec.model_copy(update={"network": spec.network.model_copy(update=even)}))
    fabric = cluster.fabric
    assert (fabric.tier_sizes[0], fabric.rail_nics_per_gpu, tuple(fabric.rail_of_gpu)) == (64, 1, (0, 0, 1, 1, 2, 2,
                                                                                                  3, 3))
    rate, tier = _rate(cluster, 130, "packed")
    assert tier == "leaf"
    assert rate == pytest.approx(fabric.nic_bytes_per_s / 3.0 * 16 / 17, rel=1e-9)


def test_a_tier_above_the_rails_pools_its_uplinks() -> None:
    spec = load_system("dgx-h100-superpod")
    tiers = [tier.model_copy(update={"oversubscription": o, "group_size": g})
             for tier, o, g in zip(spec.network.tiers, (1.0, 3.0, 1.0), (256, 1024, 2048), strict=True)]
    cluster = Cluster.resolve(spec.model_copy(update={"total_accelerators": 2048, "network": spec.network.model_copy(
        update={"tiers": tiers})}))
    fabric = cluster.fabric
    assert fabric.rail_tiers == 1 and fabric.tier_sizes[1] == 1024
    over = fabric.tier_oversubscription[1]
    assert over == pytest.approx(32 / 11, rel=1e-9)
    rate, tier = _rate(cluster, 1024, "spread")
    assert tier == "spine"
    assert rate == pytest.approx(fabric.nic_bytes_per_s / (0.5 * over), rel=1e-9)
