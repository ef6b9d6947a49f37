"""hM73's mutation wave on hF73's adaptive routing: failed links under adaptive routing must slow a collective whose
leaf uplinks bind, never leave it as fast as the healthy fabric."""

from __future__ import annotations

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.flow_explain import PhaseComparison, difference_reason

SIZE = 1 << 30


def test_failed_leaf_uplinks_slow_an_adaptive_all_to_all() -> None:
    """DGX H100 SuperPOD (InfiniBand, adaptive), a 1,024-GPU all-to-all: each leaf's 8 spine uplinks form its pool.
    With 20 % of the leaf uplinks failed (seeded), most leaves lose at least one (1 - 0.8^8 = 83 %), so the slowest
    leaf's pool carries its all-to-all share on fewer links: slower than the healthy fabric, and slower again at 30 %.
    (Routing a pooled table over random healthy members instead of its representative spreads a pool's flows over
    several members each carrying the whole pool's capacity: as fast as the healthy fabric at 20 %.)"""
    cluster = Cluster.resolve(load_system("dgx-h100-superpod"))
    base = estimate_collective("all-to-all", cluster, 1024, SIZE, sim="flow").time_s
    twenty = estimate_collective("all-to-all", cluster, 1024, SIZE, sim="flow", failed_links="leaf:20%").time_s
    thirty = estimate_collective("all-to-all", cluster, 1024, SIZE, sim="flow", failed_links="leaf:30%").time_s
    assert base * 1.05 < twenty < thirty


def _phase(path_share: float) -> PhaseComparison:
    """An all-to-all phase whose flows froze on the spine links: 4 flows on the busiest where 2 average, flow 1.3 s of
    transfer against the analytical 1.0 s."""
    return PhaseComparison(name="all-to-all", steps=1, flow_bandwidth_s=1.3, flow_latency_s=0.0,
                           analytical_bandwidth_s=1.0, analytical_latency_s=0.0, flow_tier="spine",
                           busiest_link_flows=4.0, mean_link_flows=2.0, links_in_use=8, path_share=path_share)


def test_a_difference_on_an_adaptive_fabric_is_said_as_pools_not_hashes() -> None:
    """`difference_reason` (hF73): on an adaptive fabric a switch tier's 1.3x is the busiest pool, never one path per
    flow nor ECMP collisions, which stay ECMP's words (one path per flow where a flow's path is under a NIC's rate and
    the busiest link's flows fit it; collisions otherwise)."""
    thin, wide = _phase(0.25), _phase(1.0)  # 0.25 x 1 flow < 1 and 4 x 0.25 <= 1: one path per flow under ECMP
    assert difference_reason(1.3, 1.0, [thin], "spine", 1).startswith(
        "flow 1.30x the analytical time: one path per flow in the all-to-all")
    assert difference_reason(1.3, 1.0, [wide], "spine", 1).startswith(
        "flow 1.30x the analytical time: ECMP hash collisions (1 flow per GPU pair) on the spine links")
    for phase in (thin, wide):
        said = difference_reason(1.3, 1.0, [phase], "spine", 1, adaptive=True)
        assert said is not None and said.startswith(
            "flow 1.30x the analytical time: adaptive routing spreads each flow over the spine tier's equal-cost "
            "uplinks, pooled by the switches a flow reaches in the all-to-all: the busiest pool carries 4 flows "
            "where the 8 pools in use average 2"), said
    assert difference_reason(1.04, 1.0, [thin], "spine", 1, adaptive=True) is None  # within 5 %: they agree
