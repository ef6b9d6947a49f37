"""Long flow simulations say so before they start and show their progress (hN2, session 34).

The 24,576-GPU all-to-all on meta-genai-roce-24k (12.6 M flows) ran past 15 minutes with no sign of life; now
its time is estimated from the flow count before it starts (one line past `FLOW_SIM_WARN_S`, refused past
`FLOW_SIM_MAX_S`) and `simulate` reports its stages and the bytes moved (a progress bar on a terminal's stderr).
"""

from __future__ import annotations

import json

import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network import flow_sim
from infraplan.network.collective_schedules import estimate_collective, place
from infraplan.network.collectives import SCALE_UP_LATENCY_S, Fabric
from infraplan.network.flow_schedules import flow_phases
from infraplan.network.flow_sim import estimated_seconds, flow_count, simulate
from infraplan.network.routing import build_links
from infraplan.network.topology import build_topology

A2A = ["collective", "all-to-all", "--system", "dgx-h100-superpod", "--gpus", "64", "--bytes", "64MiB",
       "--sim", "flow"]


def test_the_24k_all_to_all_is_estimated_before_it_starts() -> None:
    spec = load_system("meta-genai-roce-24k")
    topo = build_topology(spec)
    members, _ = place(spec.total_accelerators, 24576, "packed")
    step, _ = flow_phases("all-to-all", "direct", members, topo.scale_up_domain_gpus, 2.0**30)[0]
    flows = flow_count(topo, step, spec.network.ecmp_flows_per_pair)
    # 24,576 ranks x 32 peers in flight, each pair across nodes over 16 ECMP flows (a few peers are on NVLink)
    assert 12.0e6 < flows <= 24576 * 32 * 16
    # said before the run: about 2.6 min at the slowest rate measured since the replayed filling rounds (hF,
    # session 35: it ran in 141 s; before, it was estimated at 16 min and had not finished after 15)
    assert estimated_seconds(flows) == pytest.approx(flows * 26.69 / 2_081_792)
    assert flow_sim.FLOW_SIM_WARN_S < estimated_seconds(flows) < 5 * 60


def test_the_flow_count_is_what_the_simulation_routes() -> None:
    spec = load_system("dgx-h100-superpod")
    fabric = Fabric.from_system(spec, load_accelerator(spec.accelerator))
    topo = build_topology(spec)
    links = build_links(topo, fabric.scale_up_bytes_per_s, spec.network.collective_efficiency)
    members, _ = place(spec.total_accelerators, 64, "packed")
    step, _ = flow_phases("all-to-all", "direct", members, topo.scale_up_domain_gpus, 2.0**26)[0]
    stages: list[tuple[str, float, float]] = []
    result = simulate(topo, links, step, fabric.tier_round_trip_latency_s, SCALE_UP_LATENCY_S, flows_per_pair=4,
                      progress=lambda stage, done, total: stages.append((stage, done, total)))
    assert flow_count(topo, step, 4) == result.flows
    names = [s for s, _, _ in stages]
    assert names[:2] == ["routing", "merging flow classes"] and names[2].startswith("filling: event 1,")
    filling = [(done, total) for s, done, total in stages if s.startswith("filling")]
    moved = [done for done, _ in filling]
    assert moved == sorted(moved) and all(0.0 <= d <= t for d, t in filling)
    assert filling[0][1] == pytest.approx(float(step.size_bytes.sum()), rel=1e-9)  # bytes of every transfer


def test_a_run_past_the_warning_bound_says_its_estimate_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow_sim, "FLOW_SIM_WARN_S", 0.0)
    said: list[str] = []
    result = estimate_collective("all-to-all", Cluster.resolve("dgx-h100-superpod"), 64, 2.0**26, sim="flow",
                                 notice=said.append)
    assert len(said) == 1 and "\n" not in said[0]
    assert f"{result.flows:,} flows" in said[0] and "2-vCPU" in said[0]
    # 64 GPUs x 32 peers: the per-flow term (13 us per flow) is below the filling rounds' (hT71), which it names
    assert "filling rounds over the links it crosses at 18 ns per link per round" in said[0]


def test_a_run_past_the_bound_is_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(flow_sim, "FLOW_SIM_WARN_S", 0.0)
    monkeypatch.setattr(flow_sim, "FLOW_SIM_MAX_S", 1e-3)
    with pytest.raises(InputError, match=r"over the 0 s bound \(infraplan.limits\); use --sim analytical"):
        estimate_collective("all-to-all", Cluster.resolve("dgx-h100-superpod"), 64, 2.0**26, sim="flow")
    assert main(A2A) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_the_cli_says_the_estimate_on_stderr_and_keeps_json_clean(monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(flow_sim, "FLOW_SIM_WARN_S", 0.0)
    assert main([*A2A, "--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert err.startswith("note: a flow simulation of ") and f"{data['flows']:,} flows" in err
    assert len(err.strip().splitlines()) == 1  # no progress bar: stderr is not a terminal here
    monkeypatch.setattr(flow_sim, "FLOW_SIM_WARN_S", 60.0)
    assert main([*A2A, "--json"]) == 0
    assert capsys.readouterr().err == ""  # a short run says nothing
