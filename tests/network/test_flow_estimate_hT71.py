"""A long flow simulation says so before it starts, an all-to-all by its filling rounds too (hT71, session 49).

hH70 ran `collective all-to-all --sim flow` among 100,000 H100 (an accelerator preset, one flow per pair, a 4-tier
fabric): 3.2 M flows, estimated at 41 s by the per-flow rate (under the 60 s warning) and run for > 120 s without a
word (measured here: 137 s wall, 102 s CPU, 24,090 filling rounds). With one flow per pair no ECMP copies merge and
the filling rounds over the links set the time: `flow_sim.estimated_seconds` takes the larger of the per-flow term
and the rounds' (`all_to_all_link_rounds`). Among 999,424 GPUs the 32 M transfers were built (7 s, 1.6 GB) before
the memory refusal; now a lower bound on the flows, counted without building them, refuses first. The tests check
the estimates, not the runs.
"""

from __future__ import annotations

import pytest

from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.limits import MAX_FLOW_SIM_SECONDS
from infraplan.network import collective_schedules, flow_sim
from infraplan.network.collective_schedules import estimate_collective, place
from infraplan.network.flow_schedules import all_to_all_flows_at_least, all_to_all_transfers, flow_phases
from infraplan.network.flow_sim import all_to_all_link_rounds, estimated_seconds, flow_count
from infraplan.network.topology import build_topology


class _Stop(Exception):
    """Raised by the notice to stop before the simulation."""


def test_the_100k_gpu_all_to_all_is_said_before_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []

    def ran(*args: object, **kwargs: object) -> None:
        raise AssertionError("the simulation started without a word")

    monkeypatch.setattr(collective_schedules, "simulate", ran)

    def stop(line: str) -> None:
        said.append(line)
        raise _Stop

    with pytest.raises(_Stop):
        estimate_collective("all-to-all", Cluster.resolve("h100-sxm").for_gpus(100_000), 100_000, 2.0**20,
                            sim="flow", notice=stop)
    assert len(said) == 1 and "3,200,000 flows" in said[0] and "filling rounds" in said[0]
    flows = 100_000 * 32  # 32 peers in flight each, one flow per pair (the preset's ECMP setting)
    assert estimated_seconds(flows) < flow_sim.FLOW_SIM_WARN_S  # the per-flow term alone said nothing (hH70)
    # 4 tiers: at least the 137 s the run took on the development VM, within 1.5x of it
    assert 137.0 <= estimated_seconds(flows, all_to_all_link_rounds(100_000, 4)) <= 1.5 * 137.0


@pytest.mark.parametrize(("system", "gpus", "flows_per_pair", "measured_s"), [
    ("h100-sxm", 4_096, 1, 2.7), ("h100-sxm", 32_768, 1, 38.3),  # hT71, one flow per pair, 3 tiers
    ("meta-genai-roce-24k", 4_096, 1, 5.4), ("meta-genai-roce-24k", 4_096, 16, 26.7),  # hF, session 35: 11.4-26.7
])
def test_no_measured_all_to_all_took_longer_than_its_estimate(system: str, gpus: int, flows_per_pair: int,
                                                              measured_s: float) -> None:
    """The estimate is what a run may take: at least the wall time each measured run took, at most 2.5x it."""
    spec = Cluster.resolve(system).for_gpus(gpus).system
    topo = build_topology(spec)
    members, _ = place(spec.total_accelerators, gpus, "packed")
    (step, _), = flow_phases("all-to-all", "direct", members, topo.scale_up_domain_gpus, 2.0**30)
    estimate = estimated_seconds(flow_count(topo, step, flows_per_pair), all_to_all_link_rounds(gpus, len(topo.tiers)))
    assert measured_s * 0.95 <= estimate <= 2.5 * measured_s


@pytest.mark.parametrize(("system", "gpus", "placement"), [
    ("dgx-h100-superpod", 64, "packed"), ("dgx-h100-superpod", 64, "spread"), ("dgx-h100-superpod", 12, "packed"),
    ("gb200-nvl72-superpod", 144, "packed"), ("meta-genai-roce-24k", 512, "spread"), ("dgx-h100-superpod", 3, "packed"),
])
@pytest.mark.parametrize("flows_per_pair", [1, 4, 16])
def test_the_flows_counted_without_building_them_are_a_lower_bound(system: str, gpus: int, placement: str,
                                                                  flows_per_pair: int) -> None:
    spec = Cluster.resolve(system).system
    topo = build_topology(spec)
    members, stride = place(spec.total_accelerators, gpus, placement)
    (step, _), = flow_phases("all-to-all", "direct", members, topo.scale_up_domain_gpus, 2.0**20)
    rounds = -(-(gpus - 1) // 32)  # R = ceil((n - 1) / 32); one round's peers: offsets 1 + q R below n
    assert step.src.size == all_to_all_transfers(gpus) == gpus * sum(1 + q * rounds < gpus for q in range(32))
    bound = all_to_all_flows_at_least(topo, gpus, stride, flows_per_pair)
    assert step.src.size <= bound <= flow_count(topo, step, flows_per_pair)
    if placement == "spread" and stride >= topo.scale_up_domain_gpus:  # one member per domain: every pair across
        assert bound == flow_count(topo, step, flows_per_pair)


def test_a_million_gpu_all_to_all_is_refused_before_its_flows_are_built(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def built(*args: object, **kwargs: object) -> None:
        raise AssertionError("the flow set was built before the refusal")

    monkeypatch.setattr(collective_schedules, "flow_phases", built)
    with pytest.raises(InputError, match=r"31,981,568 flows needs about .* GiB of memory"):
        estimate_collective("all-to-all", Cluster.resolve("h100-sxm").for_gpus(999_424), 999_424, 2.0**20,
                            sim="flow")
    assert main(["collective", "all-to-all", "--system", "h100-sxm", "--gpus", "999424", "--bytes", "1MiB",
                 "--sim", "flow"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_run_estimated_past_the_stated_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusal bound is `limits.MAX_FLOW_SIM_SECONDS` (an hour); lowered to 100 s, the 100,000-GPU all-to-all
    (about 3 min) is refused before it runs."""
    assert flow_sim.FLOW_SIM_MAX_S == MAX_FLOW_SIM_SECONDS == 3600.0
    monkeypatch.setattr(flow_sim, "FLOW_SIM_MAX_S", 100.0)
    with pytest.raises(InputError, match=r"may take about 3 min .* over the 100 s bound \(infraplan.limits\)"):
        estimate_collective("all-to-all", Cluster.resolve("h100-sxm").for_gpus(100_000), 100_000, 2.0**20,
                            sim="flow")
