"""`difference_reason` names the phase and term (latency or bandwidth) where the flow simulation and the
analytical model differ most, not the tier of the longest phase."""

from __future__ import annotations

from pathlib import Path

import pytest
from flow_toy_fabric import tor_nvl72_superpod

from infraplan.cluster import Cluster
from infraplan.network.collective_algorithms import analytical_time, hierarchical_parts, hierarchical_time
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.flow_explain import PhaseComparison, difference_reason

GIB = 2.0**30


@pytest.fixture(scope="module")
def nvl72_superpod() -> Cluster:
    return Cluster.resolve("gb200-nvl72-superpod")


@pytest.fixture(scope="module")
def tor_superpod(tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    """The SuperPOD on its pre-hN65 top-of-rack leaves (2 a rack, no rails), its flows hashed (ECMP): they spread
    over the superpod switches and collide on some. The catalog SuperPOD's rail leaves (hN65) keep a rail's flows on
    one leaf within 4 racks: flow = analytical there (`test_rail_leaves_leave_no_ecmp_collision_to_explain`); its
    adaptive routing (hF73) spreads them on the ToR build too (`test_adaptive_routing_leaves_no_collision_to_blame`)."""
    return Cluster.resolve(tor_nvl72_superpod(tmp_path_factory.mktemp("tor"), railed=False, balancing="ecmp"))


@pytest.mark.parametrize("op", ["all-gather", "all-to-all"])
def test_adaptive_routing_leaves_no_collision_to_blame(tmp_path: Path, op: str) -> None:
    """The same ToR build with the catalog's adaptive routing: each flow spread over the superpod switches, flow =
    analytical within 1 % (1.05x+ hashed, the two tests below) and no reason to give."""
    cluster = Cluster.resolve(tor_nvl72_superpod(tmp_path, railed=False))
    algorithm = "hierarchical" if op == "all-gather" else "auto"
    f = estimate_collective(op, cluster, 576, GIB, sim="flow", algorithm=algorithm)
    assert f.time_s == pytest.approx(f.analytical_time_s, rel=0.01) and f.difference_reason is None


@pytest.mark.parametrize("gpus", [144, 576])
def test_ring_across_nvl72_racks_agrees_with_the_pipelined_ring(nvl72_superpod, gpus):
    """A ring over 2 or 8 NVL72 racks has 71 NVLink hops per rack hop. Both models price a step at the mean of the
    ring's hop latencies (NCCL's pipelined ring, `network.ring_latency`): they agree, with no reason to give. Before,
    the analytical model charged every step the rack tier's latency and the flow model its slowest pair's own
    (flow 0.93x / 0.85x analytical)."""
    f = estimate_collective("all-reduce", nvl72_superpod, gpus, GIB, algorithm="ring", sim="flow")
    assert f.time_s == pytest.approx(f.analytical_time_s, rel=0.01)
    assert f.difference_reason is None


def test_latency_reason_names_the_phase_and_both_per_step_latencies():
    """The latency branch of `difference_reason`: the (phase, term) that differs most is a latency, and the reason
    gives both models' per-step latency and transfer."""
    phases = [PhaseComparison("tree", 10, 10e-6, 30e-6, 10e-6, 60e-6, "scale-up")]
    reason = difference_reason(40e-6, 70e-6, phases, "nic", 1)
    assert reason is not None and "per-step latency" in reason
    assert "3.00 us of hop latency" in reason and "6.00 us of latency" in reason and "over 10 steps" in reason


def test_hierarchical_all_gather_blames_ecmp_between_racks(tor_superpod):
    # named: since hC52 `auto` simulates NCCL's choice, the ring (the alpha-beta line's fastest was hierarchical)
    f = estimate_collective("all-gather", tor_superpod, 576, GIB, sim="flow", algorithm="hierarchical")
    assert f.algorithm == "hierarchical" and f.time_s > 1.05 * f.analytical_time_s
    reason = f.difference_reason
    assert reason is not None and "ECMP" in reason and "inter-domain" in reason
    assert "scale-up" not in reason.split(":")[1]  # not the NVLink tier of the longer phase
    busiest, mean = _loads(reason)
    assert busiest > mean


def test_all_to_all_across_racks_blames_ecmp_with_the_link_loads(tor_superpod):
    f = estimate_collective("all-to-all", tor_superpod, 576, GIB, sim="flow")
    reason = f.difference_reason
    assert f.time_s > 1.05 * f.analytical_time_s and reason is not None
    assert "ECMP" in reason and "rack links" in reason and "per-step latency" not in reason
    assert _loads(reason)[0] > _loads(reason)[1]


def _loads(reason: str) -> tuple[float, float]:
    """(flows on the busiest link, mean over the links in use) as the reason states them."""
    return float(reason.split("carries ")[1].split(" flows")[0]), float(reason.split("average ")[1].split(" ")[0])


def test_hierarchical_parts_add_up_to_its_time(nvl72_superpod):
    fabric = nvl72_superpod.fabric
    (a, b), (c, d) = hierarchical_parts(fabric, GIB, 576, 1)
    assert hierarchical_time(fabric, "all-gather", GIB, 576, 1) == (a + b) + (c + d)
    assert analytical_time(fabric, "all-reduce", "hierarchical", GIB, 576, 1) == 2.0 * (a + b) + 2.0 * (c + d)


def _phase(name: str, flow: tuple[float, float], analytical: tuple[float, float], tier: str) -> PhaseComparison:
    return PhaseComparison(name, 10, flow[0], flow[1], analytical[0], analytical[1], tier, 6.0, 3.0, 8)


def test_reason_picks_the_largest_term():
    # flow slower in bandwidth on a NIC tier: the schedule's own uneven load, in the phase that differs
    phases = [_phase("intra", (1.0, 0.1), (1.0, 0.1), "scale-up"), _phase("inter", (0.5, 0.1), (0.3, 0.1), "nic")]
    reason = difference_reason(1.7, 1.5, phases, "nic", 1)
    assert reason is not None and "uneven members" in reason and "inter phase" in reason and "6 flows" in reason
    # flow faster in bandwidth: the analytical bound is not reached
    phases = [_phase("ring", (0.5, 0.1), (1.0, 0.1), "nic")]
    reason = difference_reason(0.6, 1.1, phases, "scale-up", 1)
    assert reason is not None and "scale-up bound" in reason and "not reached" in reason
    # within 5 %: no reason
    assert difference_reason(1.0, 1.04, phases, "nic", 1) is None
