"""Mutation wave hI74 on `network.collective_schedules` (session 73's `_flow_algorithm` and `PricedCollective.tier`).

* The flow model runs flows, not in-switch reduction: NVLS's flows are the ring it replaces, NVLS_TREE's the tree
  across domains (`_flow_algorithm`), so `--sim flow` gives NVLS the ring's time and NVLS_TREE the tree's (a mutant
  swapping the two lived).
* send-recv's binding tier is the link its pairs load most (`pair_loads`, hF72, carried as `PricedCollective.tier`):
  pairs inside one NVL72 domain are bound by NVLink, not by a NIC.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective

SIZE = 64 * 2**20


@pytest.fixture(scope="module")
def superpod() -> Cluster:
    return Cluster.resolve(load_system("dgx-h100-superpod"))


@pytest.mark.parametrize(("switch", "flows", "gpus"), [("nvls", "ring", 8), ("nvls_tree", "tree", 16)])
def test_flow_model_runs_nvls_as_the_ring_and_nvls_tree_as_the_tree(superpod: Cluster, switch: str, flows: str,
                                                                     gpus: int) -> None:
    inswitch = estimate_collective("all-reduce", superpod, gpus, SIZE, algorithm=switch, sim="flow", seed=0)
    plain = estimate_collective("all-reduce", superpod, gpus, SIZE, algorithm=flows, sim="flow", seed=0)
    other = estimate_collective("all-reduce", superpod, gpus, SIZE, algorithm="tree" if flows == "ring" else "ring",
                                sim="flow", seed=0)
    assert inswitch.algorithm == switch
    assert inswitch.time_s == pytest.approx(plain.time_s, rel=1e-12)
    assert abs(other.time_s / plain.time_s - 1.0) > 0.02  # the schedules differ: the test tells them apart


def test_send_recv_inside_one_nvl72_domain_is_bound_by_nvlink() -> None:
    """64 packed GPUs of a GB200 NVL72 SuperPOD sit in one 72-GPU NVLink domain: their 32 pairs never reach a NIC,
    so the binding tier is the scale-up one (`pair_loads` counts each link; the generic `bottleneck_tier` of 32 pairs
    a stride of 32 apart says "nic": a mutant dropping `PricedCollective.tier` lived)."""
    nvl72 = Cluster.resolve(load_system("gb200-nvl72-superpod"))
    pairs = estimate_collective("send-recv", nvl72, 64, SIZE)
    assert pairs.stride == 1 and nvl72.fabric.scale_up_domain == 72
    assert pairs.bottleneck_tier == "scale-up"


def test_an_adaptive_fabric_with_failed_uplinks_blames_its_pools_not_hashing() -> None:
    """hC71's 512-GPU DGX H100 copy at 4:1 leaves routes adaptively (InfiniBand, `Network.balancing`); a quarter of
    its leaf uplinks failed, a 384-GPU spread send-recv runs 2.66x the analytical time in the flow model, on pooled
    uplinks: nothing hashes, so the reason is the pools', not "ECMP hash collisions" (a mutant passing
    `adaptive=False` to `difference_reason` lived)."""
    from tests.network.test_send_recv_pairs_hF72 import _h100_512_at_4to1

    cluster = _h100_512_at_4to1()
    assert cluster.system.network.balancing == "adaptive"
    run = estimate_collective("send-recv", cluster, 384, SIZE, placement="spread", sim="flow", failed_links="leaf:25%")
    assert run.time_s > 1.5 * run.analytical_time_s and run.bottleneck_tier == "leaf"
    reason = run.difference_reason or ""
    assert "adaptive routing spreads each flow over the leaf tier's equal-cost uplinks" in reason
    assert "hash" not in reason and "one path per flow" not in reason
