"""Flow-level simulator: max-min fairness, agreement with the analytical model, oversubscription, ECMP, jobs."""

from __future__ import annotations

import numpy as np
import pytest
from flow_toy_fabric import TOY

from infraplan.catalog import load_accelerator, load_system
from infraplan.cluster import Cluster
from infraplan.network.clos_topology import leaf_index
from infraplan.network.collective_schedules import estimate_collective, place
from infraplan.network.collectives import SCALE_UP_LATENCY_S, Fabric
from infraplan.network.flow_schedules import flow_phases
from infraplan.network.flow_sim import FlowSet, merge_classes, simulate
from infraplan.network.max_min_filling import Incidence, max_min_rates
from infraplan.network.routing import build_links, route
from infraplan.network.topology import build_topology


def test_progressive_filling_gives_the_textbook_max_min_allocation():
    # link 0 (capacity 1) carries flows 0 and 1; link 1 (capacity 2) carries flows 1 and 2
    paths = np.array([[0, -1], [0, 1], [1, -1]])
    rate, frozen_by, rounds = max_min_rates(paths, np.array([1.0, 2.0]), np.ones(3, dtype=bool))
    assert rate == pytest.approx([0.5, 0.5, 1.5])
    assert list(frozen_by) == [0, 0, 1] and rounds == 2


def _fabric(name):
    spec = load_system(name)
    fabric = Fabric.from_system(spec, load_accelerator(spec.accelerator))
    topo = build_topology(spec)
    return spec, fabric, topo, build_links(topo, fabric.scale_up_bytes_per_s, spec.network.collective_efficiency)


def test_routes_are_valley_free_and_stay_in_the_rail():
    spec, _, topo, links = _fabric("dgx-h100-superpod")
    rng = np.random.default_rng(0)
    src = np.array([0, 0, 3, 5])
    dst = np.array([1, 8, 3 + 8 * 40, 2 + 8 * 1500])  # NVLink, same leaf, another unit, another spine domain
    paths, reached, _ = route(topo, links, src, dst, np.ones(4, dtype=np.int64), rng)
    hops = (paths >= 0).sum(axis=1)
    assert list(hops) == [2, 2, 4, 6]
    assert list(reached) == [-1, 0, 1, 2]
    assert links.class_names[links.link_class[paths[0, 0]]] == "scale-up"


def test_nvl72_pairs_in_one_rack_use_nvlink_and_only_pairs_across_racks_use_nics():
    spec, _, topo, links = _fabric("gb200-nvl72-superpod")
    assert topo.gpus_per_node == 4 and topo.scale_up_domain_gpus == spec.node.scale_up_domain == 72
    # another tray, the rack's last tray, the next rack, rack 4; hN65: the RA's rail leaves, NIC r of racks 0-3 on
    # leaf 2r and of racks 4-7 on leaf 2r + 1, so the next rack meets at its leaf (tier 0), rack 4 at a spine
    src, dst = np.array([0, 0, 70, 0]), np.array([4, 71, 72, 288])
    paths, reached, _ = route(topo, links, src, dst, np.ones(4, dtype=np.int64), np.random.default_rng(0))
    first = [links.class_names[links.link_class[p[0]]] for p in paths]
    assert first == ["scale-up", "scale-up", "nic", "nic"] and list(reached) == [-1, -1, 0, 1]


@pytest.mark.parametrize("algorithm", ["ring", "tree", "hierarchical"])
def test_spread_groups_with_uneven_members_per_nvlink_domain_are_scheduled(algorithm):
    # 40 GPUs 14 apart on 576: 6 on some 72-GPU racks, 5 on others; every rank sends and receives in each ring
    members, _ = place(576, 40, "spread")
    step, _ = flow_phases("all-reduce", algorithm, members, 72, 2.0**30)[0]
    if algorithm == "ring":
        assert np.bincount(step.src).max() == np.bincount(step.dst).max() == 6
        assert sorted(set(step.src.tolist())) == members.tolist() == sorted(set(step.dst.tolist()))
    result = estimate_collective("all-reduce", Cluster.resolve("gb200-nvl72-superpod"), 40, 2**30, "spread",
                                 algorithm, sim="flow")
    assert result.analytical_time_s <= result.time_s < 4.0 * result.analytical_time_s


UNCONGESTED = [
    ("all-reduce", "dgx-h100-superpod", 8, "packed", "ring"),
    ("all-reduce", "dgx-h100-superpod", 64, "packed", "ring"),
    ("all-reduce", "dgx-h100-superpod", 64, "packed", "hierarchical"),
    ("reduce-scatter", "meta-genai-ib-24k", 256, "packed", "ring"),
    ("all-gather", "dgx-a100-superpod", 32, "spread", "ring"),
    ("all-to-all", "dgx-h100-superpod", 64, "packed", "auto"),
    ("send-recv", "meta-genai-roce-24k", 2, "packed", "auto"),
    ("all-reduce", "meta-genai-roce-24k", 128, "spread", "ring"),
    # NVL72: rings and all-to-all inside the 72-GPU NVLink domain (18 trays of 4) go over NVLink, not the NICs
    ("all-reduce", "gb200-nvl72-superpod", 64, "packed", "ring"),
    ("all-to-all", "gb200-nvl72-superpod", 64, "packed", "auto"),
    ("all-reduce", "gb300-nvl72-superpod", 288, "packed", "tree"),
]


@pytest.mark.parametrize(("op", "system", "gpus", "placement", "algorithm"), UNCONGESTED)
def test_flow_and_analytical_agree_within_5_percent_when_uncongested(op, system, gpus, placement, algorithm):
    result = estimate_collective(op, Cluster.resolve(system), gpus, 2**30, placement, algorithm, sim="flow")
    assert result.time_s == pytest.approx(result.analytical_time_s, rel=0.05)




@pytest.fixture()
def toy(tmp_path):
    path = tmp_path / "toy-roce.yaml"
    path.write_text(TOY)
    return Cluster.resolve(str(path))


def test_oversubscribed_tier_slows_cross_pod_traffic(toy):
    inside = estimate_collective("send-recv", toy, 128, 2**30, sim="flow")  # rank i -> i + 64: inside the pod
    across = estimate_collective("send-recv", toy, 256, 2**30, sim="flow")  # pod 0 <-> pod 1, all 128 GPUs each
    analytical = estimate_collective("send-recv", toy, 256, 2**30)
    assert across.bottleneck_tier == analytical.bottleneck_tier == "pod"
    assert inside.bottleneck_tier != "pod"
    assert 3.5 < across.time_s / inside.time_s < 5.0
    # the analytical model assumes perfect balance; ECMP leaves some uplinks busier than the mean
    assert 0.95 * analytical.time_s <= across.time_s < 1.25 * analytical.time_s
    assert any("ECMP" in a for a in analytical.assumptions)


def test_ecmp_collisions_shrink_as_flows_per_pair_grow(toy):
    times = {f: estimate_collective("send-recv", toy, 128, 2**30, sim="flow", flows_per_pair=f).time_s
             for f in (1, 4, 16)}
    nic_time = estimate_collective("send-recv", toy, 2, 2**30, placement="spread", sim="flow").time_s
    assert times[1] > times[4] > times[16] >= 0.99 * nic_time
    assert times[1] > 1.3 * times[16]


def test_same_seed_same_result_and_the_seed_matters(toy):
    args = ("send-recv", toy, 128, 2**30)
    a = estimate_collective(*args, sim="flow", flows_per_pair=1, seed=3)
    b = estimate_collective(*args, sim="flow", flows_per_pair=1, seed=3)
    times = {estimate_collective(*args, sim="flow", flows_per_pair=1, seed=s).time_s for s in range(4)}
    assert a == b
    assert len(times) > 1


def test_two_jobs_contend_for_the_oversubscribed_uplinks():
    spec, fabric, topo, links = _fabric("meta-genai-roce-24k")
    half = np.arange(1536)
    job_a = FlowSet.of(half, half + 3072, 1e9, job=0)  # pod 0 -> pod 1
    job_b = FlowSet.of(half + 1536, half + 2 * 3072, 1e9, job=1)  # pod 0 -> pod 2, same pod-0 uplinks
    kwargs = {"latency_by_tier": fabric.tier_round_trip_latency_s, "scale_up_latency_s": SCALE_UP_LATENCY_S,
              "flows_per_pair": 16, "seed": 1}
    alone = simulate(topo, links, job_a, **kwargs).job_finish_s[0]
    both = simulate(topo, links, FlowSet.concat([job_a, job_b]), **kwargs).job_finish_s
    assert both[0] == pytest.approx(2.0 * alone, rel=0.15)
    assert both[1] == pytest.approx(both[0], rel=0.15)


def test_weighted_classes_fill_exactly_like_the_flows_they_stand_for():
    # 3 identical flows on link 0 (capacity 3) + 1 flow on links 0 and 1 (capacity 3, 10); merged: weight 3 and 1
    paths = np.array([[0, -1], [0, -1], [0, -1], [0, 1]])
    flat, _, _ = max_min_rates(paths, np.array([3.0, 10.0]), np.ones(4, dtype=bool))
    inc = Incidence.build(np.array([[0, -1], [0, 1]]), 2, np.array([3.0, 1.0]))
    merged, frozen_by, _ = max_min_rates(inc.paths, np.array([3.0, 10.0]), np.ones(2, dtype=bool), incidence=inc)
    assert flat == pytest.approx([0.75] * 4)
    assert merged == pytest.approx([0.75, 0.75]) and list(frozen_by) == [0, 0]


def test_merge_classes_groups_same_links_and_bytes_in_first_flow_order():
    paths = np.array([[5, 7], [1, 2], [5, 7], [5, 7], [1, 2]], dtype=np.int32)
    size = np.array([2.0, 1.0, 2.0, 3.0, 1.0])
    cls_paths, cls_size, weight, flow_class = merge_classes(paths, size)
    assert cls_paths.tolist() == [[5, 7], [1, 2], [5, 7]]
    assert cls_size.tolist() == [2.0, 1.0, 3.0] and weight.tolist() == [2.0, 2.0, 1.0]
    assert flow_class.tolist() == [0, 1, 0, 2, 1]


def test_ecmp_copies_that_hash_alike_merge_and_the_answer_does_not_change():
    spec, fabric, topo, links = _fabric("dgx-h100-superpod")
    src = np.arange(64)
    flows = FlowSet.of(src, (src + 32) % 64, 1e8)  # one leaf apart: few distinct ECMP paths per pair
    kwargs = {"latency_by_tier": fabric.tier_round_trip_latency_s, "scale_up_latency_s": SCALE_UP_LATENCY_S,
              "seed": 2}
    merged = simulate(topo, links, flows, flows_per_pair=16, **kwargs)
    assert merged.classes < merged.flows == 64 * 16
    # 16 copies of 1/16 of the bytes, fairly shared, finish with one flow carrying it all on an idle fabric
    assert merged.job_finish_s[0] == pytest.approx(simulate(topo, links, flows, flows_per_pair=1, **kwargs)
                                                   .job_finish_s[0], rel=0.3)


def test_filling_over_merged_classes_equals_filling_flow_by_flow():
    rng = np.random.default_rng(7)
    distinct = rng.integers(0, 40, size=(30, 3)).astype(np.int32)
    distinct[rng.random(30) < 0.3, 2] = -1
    paths = distinct[rng.integers(0, 30, size=400)]  # 400 flows over 30 distinct paths
    capacity = rng.uniform(1.0, 5.0, size=40)
    flat, flat_by, _ = max_min_rates(paths, capacity, np.ones(400, dtype=bool), rtol=0.0)
    cls_paths, _, weight, flow_class = merge_classes(paths, np.ones(400))
    inc = Incidence.build(cls_paths, 40, weight)
    merged, merged_by, _ = max_min_rates(cls_paths, capacity, np.ones(weight.size, dtype=bool), 0.0, inc)
    assert weight.size <= 30 and weight.sum() == 400
    assert merged[flow_class] == pytest.approx(flat, rel=1e-12)
    assert (merged_by[flow_class] == flat_by).all()


def test_gaudi2_cross_node_collectives_route_and_agree_with_the_analytical_model():
    """Gaudi 2: 3 x 100 GbE scale-out ports per chip, 24 per server, 6 leaves per 8 servers and spines in 6
    planes. Every server sits on every leaf (rail groups) and a pair's flows stripe over the chip's 3 ports, so
    the flow simulator routes every cross-node collective and prices the NIC as the analytical model does."""
    _, _, topo, links = _fabric("gaudi2-cluster")
    assert topo.rails_per_leaf == 4 and topo.tiers[1].planes == 6
    nodes = np.repeat(np.arange(topo.nodes), topo.nics_per_node)
    nics = np.tile(np.arange(topo.nics_per_node), topo.nodes)
    leaves = leaf_index(topo, nodes, nics).reshape(topo.nodes, -1)
    assert all(set(row) == set(range(6)) for row in leaves.tolist())  # every server on every leaf
    # one inter-node pair: three striped flows, one per port, at three NICs' bandwidth
    flows = FlowSet.of([0], [8 * 100], 3e9)
    result = simulate(topo, links, flows, (1e-6, 1e-6), SCALE_UP_LATENCY_S, flows_per_pair=1)
    assert result.flows == 3
    assert result.finish_s[0] == pytest.approx(3e9 / (3 * links.capacity[links.nic_up]), rel=1e-3)
    gaudi2 = Cluster.resolve("gaudi2-cluster")
    for op, gpus in (("all-to-all", 16), ("all-to-all", 256), ("all-gather", 1024), ("all-reduce", 16),
                     ("all-reduce", 256)):
        r = estimate_collective(op, gaudi2, gpus, 2**30, sim="flow")
        assert r.time_s == pytest.approx(r.analytical_time_s, rel=0.05), (op, gpus)
    # the ring's scale-up share is (k-1)/k: the analytical bound is 210 x 8/7 = 240 GB/s, as the flow reaches
    # (charging every byte to scale-up left the flow 13-15 % faster)
    ring = estimate_collective("all-reduce", gaudi2, 16, 2**30, algorithm="ring", sim="flow")
    assert ring.time_s == pytest.approx(ring.analytical_time_s, rel=0.02)
