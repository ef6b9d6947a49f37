"""An oversubscribed leaf domain whose leaves build no rails, and the all-to-all's bytes over a leaf's uplinks (hF65,
session 48): both models held to a hand count of the bytes each leaf sends up.

The toy: 16 eight-GPU nodes (8 x 400G NICs each), leaf domains of 64 GPUs at 1:4 on 32-port switches, one spine
tier joining two domains. By hand (`topology.build_topology`'s arithmetic, module docstring): a leaf uses
floor(32 x 4 / 5) = 25 ports down at most, so a domain's 64 NIC links take ceil(64 / 25) = 3 leaves of
ceil(64 / 3) = 22 ports down and ceil(22 / 4) = 6 up; 3 leaves for 8 NICs per node make no rails, so NIC link i
of a domain (node i // 8, NIC i % 8, the node's GPU i % 8) sits on leaf i // 22, and a byte between two leaves of
one domain climbs to the spine as one to the other domain does. The analytical model had priced the 64-GPU domain
as one switch (only the other domain's bytes leave)."""

from __future__ import annotations

import pytest
from flow_toy_fabric import unrailed_mi300x

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.tier_bandwidth import leaf_switch_gpus
from infraplan.network.topology import build_topology

MIB = 2.0**20
NIC = 50e9  # 400 Gb/s
EFF = 0.94
TOY = """
display_name: hF65 toy, 1:4 leaves wired without rails
source: test fixture
accelerator: b200
total_accelerators: {gpus}
node: {{accelerators_per_node: 8, scale_up_domain: 8, nics_per_node: 8, nic_bandwidth_bytes_per_s: 400Gbps}}
network:
  kind: infiniband
  rail_optimized: {railed}
  collective_efficiency: 0.94
  tiers:
    - {{name: leaf, group_size: {domain}, oversubscription: {o}, hop_latency_s: 1.0e-6, switch_radix: {radix},
       port_bandwidth_bytes_per_s: 400Gbps}}
    - {{name: spine, group_size: {gpus}, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: {top_radix},
       port_bandwidth_bytes_per_s: {spine_port}}}
"""


def _toy(tmp_path, o: int = 4, gpus: int = 128, domain: int = 64, radix: int = 32, top_radix: int = 32,
         spine_port: str = "400Gbps", railed: bool = False) -> str:
    # hI56: a rail-optimised domain at 1:4 builds 8 railed leaves (`rail_leaves.railed_leaf_count`), so the toy of
    # leaves that build no rails states its wiring unrailed (rail_optimized: false); railed where a test asks
    path = tmp_path / f"toy-{o}-{gpus}-{domain}-{radix}-{spine_port}-{railed}.yaml"
    path.write_text(TOY.format(o=o, gpus=gpus, domain=domain, radix=radix, top_radix=top_radix,
                               spine_port=spine_port, railed=str(railed).lower()))
    return str(path)


def _hand_leaf_seconds(gpus: int, size: float) -> list[float]:
    """Seconds each leaf's uplinks take to carry what its GPUs send to GPUs behind another leaf (pairs on one node
    meet over NVLink), at 6 uplinks x 50 GB/s x 0.94 each: the all-to-all sends size / gpus to every peer."""
    def leaf(g: int) -> tuple[int, int]:
        return g // 64, (g % 64) // 22

    up: dict[tuple[int, int], float] = {}
    for a in range(gpus):
        for b in range(gpus):
            if a != b and a // 8 != b // 8 and leaf(a) != leaf(b):
                up[leaf(a)] = up.get(leaf(a), 0.0) + size / gpus
    return [v / (6 * NIC * EFF) for v in up.values()]


def _bandwidth_seconds(system: str, op: str, gpus: int, size: float, sim: str = "analytical", fpp: int = 1) -> float:
    """The model's alpha-beta line less its line for 1 byte a rank (its latency terms; a chunk under a byte is refused,
    hE2 75), for the analytical model (the line
    the hand counts are of: `alpha_beta_time_s`, the answer's `time_s` before hC52); the flow model's total (its
    latency a few us of ms)."""
    cluster = Cluster.resolve(system)
    run = estimate_collective(op, cluster, gpus, size, sim=sim, flows_per_pair=fpp if sim == "flow" else None)
    if sim == "flow":
        return run.time_s
    return run.alpha_beta_time_s - estimate_collective(op, cluster, gpus, float(gpus)).alpha_beta_time_s


def test_leaf_switch_gpus_by_hand(tmp_path):
    """3 unrailed leaves of 22 ports: 22 GPUs under one; rail-optimised SuperPOD leaves (8 per 256-GPU unit, one
    per rail, PXN): the unit; the NVL72 SuperPOD's 8 rail leaves of a 576-GPU SU (2 per rail, racks 0-3 / 4-7, hN65;
    before, 2 leaves a rack, no rails: the 72-GPU NVLink domain): 288; the MI300X cluster's
    64-GPU domain on 2 leaves of 32 ports: 64 with its rail groups (NICs 0-3 / 4-7 of every node, hN70), 32 where
    the same leaves are wired unrailed."""
    topo = build_topology(load_system(_toy(tmp_path)))
    assert (topo.tiers[0].switches_per_domain, topo.tiers[0].down_ports, topo.tiers[0].up_ports) == (3, 22, 6)
    assert not topo.rail_optimized
    assert leaf_switch_gpus(topo) == 22
    assert Cluster.resolve(_toy(tmp_path)).fabric.tier_sizes == (22, 128)
    assert leaf_switch_gpus(build_topology(load_system("dgx-h100-superpod"))) == 256
    assert leaf_switch_gpus(build_topology(load_system("gb200-nvl72-superpod"))) == 288
    assert leaf_switch_gpus(build_topology(load_system("mi300x-cluster"))) == 64
    assert leaf_switch_gpus(build_topology(load_system(unrailed_mi300x(tmp_path)))) == 32



def test_all_to_all_over_unrailed_leaves_matches_the_hand_count(tmp_path):
    """128 GPUs x 64 MiB: leaves 0 and 1 of a domain send (22 x 106 - 12) x 0.5 MiB up (4.31 ms), leaf 2
    (20 x 108 - 16) x 0.5 MiB (4.02 ms). The analytical model prices the domain's mean ratio (64 NICs over 18
    uplinks): between the leaves' mean and the fullest; it gave 2.38 ms (one switch per domain: only the other
    domain's bytes leave, and the scale-up share taken off twice). The flow model at 16 flows per pair (ECMP near
    even over the two spines' 3-link bundles) finishes with the fullest leaf."""
    system, size = _toy(tmp_path), 64 * MIB
    hand = _hand_leaf_seconds(128, size)
    assert max(hand) == pytest.approx((22 * 106 - 12) * size / 128 / (6 * NIC * EFF), rel=1e-12)
    mean = sum(hand) / len(hand)
    analytical = _bandwidth_seconds(system, "all-to-all", 128, size)
    assert mean * 0.995 <= analytical <= max(hand) * 1.005
    flow = _bandwidth_seconds(system, "all-to-all", 128, size, sim="flow", fpp=16)
    assert flow == pytest.approx(max(hand), rel=0.03)


def test_all_to_all_leaving_share_counts_the_scale_up_bytes_once(tmp_path):
    """A rail-optimised leaf (8 leaves of 4 ports per 32-GPU domain, one per rail; PXN) with its 4 uplinks at the
    spine's 100G: 4:1 in bandwidth (1:1 in ports). 2 domains of 32 GPUs: a rank sends
    size / 64 to each of 64 peers, 32 of them in the other domain, so S / 2 climbs per GPU over its leaf's
    uplinks at NIC / 4: 2 x S / NIC / 0.94. The old leaving share (1 - k_t / n of the NIC's (n - 8) / n) gave
    (56 / 64) x that."""
    path = _toy(tmp_path, o=1, gpus=64, domain=32, radix=8, top_radix=64, spine_port="100Gbps", railed=True)
    topo = build_topology(load_system(path))
    assert topo.rail_optimized and topo.leaves_per_rail == 1 and leaf_switch_gpus(topo) == 32
    assert topo.tiers[0].uplink_bytes_per_s == 12.5e9
    assert Cluster.resolve(path).fabric.tier_oversubscription[0] == 4.0
    size = 64 * MIB
    assert _bandwidth_seconds(path, "all-to-all", 64, size) == pytest.approx(
        size / 2 / (NIC * EFF / 4), rel=1e-3)


def test_a_pair_on_one_slower_uplink_is_named_one_path_per_flow() -> None:
    """hY64's 400G NICs under 100G leaf-spine links (one link per leaf and spine): a ring's crossing pair, one flow,
    rides one link at 0.25x its NIC (1.39 us per 16 KiB step against 0.35 us: 4x by hand), which no spread
    changes: the reason names the path, not ECMP collisions (its busiest link carries 1 flow). An all-to-all's
    29 flows on such a link against a mean of 16 collide; 4 flows per pair at 0.25x reach a NIC's rate."""
    from infraplan.network.flow_explain import PhaseComparison, difference_reason

    one = PhaseComparison("ring", 10, 4e-3, 0.0, 1e-3, 0.0, "leaf", 1.0, 1.0, 32, path_share=0.25)
    assert "one path per flow" in (difference_reason(4e-3, 1e-3, [one], "nic", 1) or "")
    crowded = PhaseComparison("all-to-all", 1, 2e-3, 0.0, 1e-3, 0.0, "leaf", 29.0, 16.0, 1024, path_share=0.25)
    assert "ECMP hash collisions" in (difference_reason(2e-3, 1e-3, [crowded], "leaf", 1) or "")
    assert "ECMP hash collisions" in (difference_reason(4e-3, 1e-3, [one], "nic", 4) or "")  # 4 flows: pooled
    even = PhaseComparison("ring", 10, 4e-3, 0.0, 1e-3, 0.0, "leaf", 1.0, 1.0, 32, path_share=1.0)
    assert "one path" not in (difference_reason(4e-3, 1e-3, [even], "nic", 1) or "")


def test_two_leaves_of_one_domain_meet_at_the_spine_in_both_models(tmp_path) -> None:
    """mi300x-cluster wired unrailed: a 64-GPU leaf domain (8 nodes x 8 NICs) on 2 leaves of 32 ports without
    rails (NIC link i on leaf i // 32: nodes 0-3 and 4-7; the catalog's rail groups keep a pair on one leaf,
    hN70). A node 0 -> node 4 pair climbs to the spine, so it pays the spine's round trip (its path, `route`'s
    turn), a node 0 -> node 1 pair the leaf's; the analytical tree over the 8 nodes prices the same hops (tier 0 at
    32 GPUs), so the two models agree on a latency-bound 1 MiB all-reduce (they had agreed at 35.6 us with both at
    the leaf's round trip; 47.6 us since)."""
    import numpy as np

    from infraplan.network.routing import build_links, route

    cluster = Cluster.resolve(unrailed_mi300x(tmp_path))
    topo = build_topology(cluster.system)
    links = build_links(topo, 1e12, 0.9)
    _, reached, _ = route(topo, links, np.array([0, 0]), np.array([32, 8]), np.array([1, 1]),
                          np.random.default_rng(0))
    assert reached.tolist() == [1, 0]
    run = estimate_collective("all-reduce", cluster, 64, MIB, algorithm="tree", sim="flow")
    assert run.time_s == pytest.approx(run.analytical_time_s, rel=0.05)
    assert run.analytical_time_s > estimate_collective("all-reduce", cluster, 32, MIB,
                                                       algorithm="tree").alpha_beta_time_s
