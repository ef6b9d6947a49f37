"""ECMP fabrics: train and serve price the expected hash collisions of all the groups that run at once (hE74).

Before hE74 `collective --sim analytical` priced ECMP's collisions (hE73, `network.ecmp_collisions`) while what train
and serve price kept the even spread: a pipeline hop on meta-genai-roce-24k was charged 1,442 µs where `collective
send-recv` over the same pairs answered 2,258 µs (1.57x), on gaudi2 / mi355x 2.6x / 3.3x apart. `network.ecmp_tiers`
prices each crossed tier's load times the expected busiest of its equal-cost pools' hashed uplinks, every concurrent
group's flows at once (`Fabric.ecmp_pools`, read off the built Clos); adaptive fabrics keep the even spread.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_system
from infraplan.catalog.loader import list_presets
from infraplan.cluster import Cluster
from infraplan.network.adaptive_routing import pool_of
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.collectives import collective_seconds, group_link, send_recv_seconds
from infraplan.network.ecmp_collisions import collision_factor
from infraplan.network.ecmp_tiers import pool_geometry
from infraplan.network.flow_sim import FlowSet
from infraplan.network.routing import build_links
from infraplan.network.topology import build_topology

SIZE = 64 * 2**20


def _adaptive(name: str) -> Cluster:
    spec = load_system(name)
    net = spec.network.model_copy(update={"load_balancing": "adaptive", "load_balancing_source": "test"})
    return Cluster.resolve(spec.model_copy(update={"network": net}))


@pytest.mark.parametrize("name", ["meta-genai-roce-24k", "gaudi2-cluster", "mi355x-cluster", "dgx-h100-superpod",
                                  "meta-genai-ib-24k", "gb200-nvl72-superpod"])
def test_the_pools_priced_are_the_flow_models(name: str) -> None:
    """`pool_geometry` counts, off the layout, the pools `adaptive_routing.pool_of` builds on the links: per tier the
    members of one pool and the GPUs whose NICs feed it (3-tier and plane-split fabrics included)."""
    topo = build_topology(load_system(name))
    links = build_links(topo, 1.0, 1.0)
    rep = pool_of(topo, links)
    per_gpu = topo.nics_per_node / topo.gpus_per_node
    for t, (bins, gpus) in enumerate(pool_geometry(topo)[:-1], start=1):
        _, members = np.unique(rep[links.bundle_up[t]:links.bundle_down[t]], return_counts=True)
        assert (bins, gpus) == (int(members.max()), pytest.approx(topo.endpoint_links / members.size / per_gpu))
    assert pool_geometry(topo)[-1] == (0, 0.0)


@pytest.mark.parametrize(("name", "gpus", "at_least"), [
    ("meta-genai-roce-24k", 512, 1.45), ("meta-genai-roce-24k", 2048, 1.5), ("meta-genai-roce-24k", 6144, 1.1),
    ("gaudi2-cluster", 512, 2.5), ("mi355x-cluster", 512, 3.2),
])
def test_a_pipeline_hop_is_priced_as_collective_answers_for_the_same_pairs(name: str, gpus: int,
                                                                           at_least: float) -> None:
    """Train's pipeline hop of stride s (all s pairs (i, i + s) at once) is `collective send-recv --gpus 2s` packed:
    one answer, the collisions in both, and well above the even spread (the base charged the even spread)."""
    cluster = Cluster.resolve(name)
    train = send_recv_seconds(cluster.fabric, SIZE, gpus // 2)
    said = estimate_collective("send-recv", cluster, gpus, SIZE)
    assert train == pytest.approx(said.time_s, rel=1e-9) and said.priced_time_s == pytest.approx(train, rel=1e-9)
    assert train > at_least * send_recv_seconds(_adaptive(name).fabric, SIZE, gpus // 2)
    assert "every group of a shape at once" in said.time_basis and "its n/2 pairs at once" in said.time_basis


@pytest.mark.parametrize(("name", "n", "stride", "at_least"), [
    ("meta-genai-roce-24k", 64, 128, 1.6), ("meta-genai-roce-24k", 16, 1024, 1.2), ("gaudi2-cluster", 16, 64, 2.6),
    ("mi355x-cluster", 64, 16, 1.6),
])
def test_all_data_parallel_rings_at_once_hash_as_the_flow_schedules_pools(name: str, n: int, stride: int,
                                                                          at_least: float) -> None:
    """`stride` rings of `n` members interleaved (a job's DP rings, every one in a step at once): the priced bus
    bandwidth falls by the expected busiest pool of all their flows, which `ecmp_collisions` finds routing every
    ring's flows on the built fabric (within 0.2 %; 1.64x on roce-24k's racks at 16 flows a pair)."""
    spec = load_system(name)
    topo = build_topology(spec)
    ranks = np.arange(n * stride).reshape(n, stride)  # row j: member j of every ring
    step = FlowSet.of(ranks.ravel(), np.roll(ranks, -1, axis=0).ravel(), 1.0)
    routed = collision_factor(topo, build_links(topo, 1e12, 1.0), step, spec.network.ecmp_flows_per_pair)
    fabric = Cluster.resolve(name).fabric
    hashed, _, _ = group_link(fabric, float(n), float(stride))
    even, _, _ = group_link(replace(fabric, ecmp_pools=()), float(n), float(stride))
    assert float(even / hashed) == pytest.approx(routed, rel=2e-3) and routed > at_least


def test_adaptive_fabrics_and_nvlink_keep_the_even_spread_bit_for_bit() -> None:
    """No pool on an adaptive fabric, nor on a generic cluster; on an ECMP one a group inside its scale-up domain, or
    inside a non-hashed tier, prices exactly as the even spread."""
    for name in list_presets("systems"):
        cluster = Cluster.resolve(name)
        assert bool(cluster.fabric.ecmp_pools) == (cluster.system.network.balancing == "ecmp"
                                                   and len(cluster.fabric.tier_sizes) > 1), name
    # a generic cluster states an idealised adaptive fabric whatever its kind (hB74; H800: "ethernet"): no pools
    assert Cluster.for_accelerator("h800", 2048).system.network.balancing == "adaptive"
    assert not Cluster.for_accelerator("h800", 2048).fabric.ecmp_pools
    fabric = Cluster.resolve("meta-genai-roce-24k").fabric
    even = replace(fabric, ecmp_pools=())
    for kind, n, stride in [("all_reduce", 8.0, 1.0), ("all_to_all", 8.0, 1.0), ("all_reduce", 2.0, 8.0)]:
        assert collective_seconds(fabric, kind, SIZE, n, stride) == collective_seconds(even, kind, SIZE, n, stride)
    assert fabric.ecmp_flows == 16 and Cluster.resolve("gaudi2-cluster").fabric.ecmp_flows == 3  # 3 NICs a GPU
