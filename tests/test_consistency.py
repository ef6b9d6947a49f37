"""One answer per question (issue 17): the same thing asked two ways gives the same answer, and questions
too big for memory are refused up front with one line."""

from __future__ import annotations

import json
import shlex
import time

import pytest

from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.nccl_trees import tree_parents


def run_json(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict:
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


# --- collective: one algorithm rule, analytical and flow agree (or say why) ---

CASES = [
    # the README's spread all-to-all: 7.6x apart before oversubscribed tiers were priced by share
    ("all-to-all", "meta-genai-roce-24k", 1024, "spread"),
    ("all-reduce", "dgx-h100-superpod", 1024, "packed"),  # auto: double binary tree
    ("all-reduce", "dgx-h100-superpod", 512, "spread"),
    ("reduce-scatter", "dgx-h100-superpod", 256, "packed"),
    ("all-gather", "meta-genai-roce-24k", 256, "packed"),
    ("all-to-all", "dgx-h100-superpod", 256, "packed"),
]


@pytest.mark.parametrize(("op", "system", "gpus", "placement"), CASES)
def test_collective_auto_same_algorithm_and_time(op, system, gpus, placement):
    cluster = Cluster.resolve(system)
    analytical = estimate_collective(op, cluster, gpus, 2.0**30, placement=placement, sim="analytical")
    flow = estimate_collective(op, cluster, gpus, 2.0**30, placement=placement, sim="flow")
    assert flow.algorithm == analytical.algorithm
    # the flow model's line is the analytical answer's alpha-beta line (its `time_s` before hC52, the priced time now)
    assert flow.analytical_time_s == pytest.approx(analytical.alpha_beta_time_s)
    ratio = flow.time_s / analytical.alpha_beta_time_s
    if flow.difference_reason is None:
        assert ratio == pytest.approx(1.0, abs=0.05)
    else:
        assert abs(ratio - 1.0) > 0.05


def test_readme_all_to_all_agrees_within_5_percent():
    cluster = Cluster.resolve("meta-genai-roce-24k")
    a = estimate_collective("all-to-all", cluster, 1024, 2.0**30, placement="spread", sim="analytical")
    f = estimate_collective("all-to-all", cluster, 1024, 2.0**30, placement="spread", sim="flow")
    assert f.time_s / a.alpha_beta_time_s == pytest.approx(1.0, abs=0.05)
    assert a.bottleneck_tier == f.bottleneck_tier == "nic"  # one group uses 1/24 of each pod's uplinks


def test_flow_explains_ecmp_collisions():
    cluster = Cluster.resolve("meta-genai-roce-24k")
    f = estimate_collective("all-to-all", cluster, 512, 2.0**28, sim="flow")
    assert f.time_s > 1.05 * f.analytical_time_s
    assert f.difference_reason is not None and "ECMP" in f.difference_reason
    # the tree all-reduce was 1.29x here while its broadcast ran after its reduce (busiest rack link 87 flows vs a
    # mean of 47); run at once (NCCL's runTreeSplit, hT80) each NIC carries both passes' 4 transfers a step and
    # binds before the rack links' collisions do
    tree = estimate_collective("all-reduce", cluster, 512, 2.0**30, algorithm="tree", sim="flow")
    assert tree.time_s == pytest.approx(tree.analytical_time_s, rel=0.01)


def test_training_groups_keep_the_full_oversubscription():
    """Priced by share: a lone group on an idle fabric vs every DP group of a training job at once."""
    from dataclasses import replace

    from infraplan.network.collectives import all_to_all_time

    fabric = Cluster.resolve("meta-genai-roce-24k").fabric
    alone = replace(fabric, concurrent_groups=1)
    all_groups = float(all_to_all_time(fabric, 2.0**30, 1024, 24))
    one = float(all_to_all_time(alone, 2.0**30, 1024, 24))
    assert all_groups > 5 * one  # the 1:7 above-pod ratio binds only when every group runs


def test_double_binary_trees_are_complementary():
    for m in (2, 5, 8, 13, 64):
        for parents in tree_parents(m):
            assert (parents < 0).sum() == 1 and parents.max() < m
            # every rank reaches the root
            for r in range(m):
                seen = 0
                while parents[r] >= 0:
                    r, seen = int(parents[r]), seen + 1
                    assert seen <= m
        if m % 2 == 0 and m > 2:
            first, second = tree_parents(m)
            inner_first = set(first[first >= 0].tolist())
            inner_second = set(second[second >= 0].tolist())
            leaves_first = set(range(m)) - inner_first
            assert leaves_first & inner_second  # leaves of one tree are inner nodes of the other


# --- search: every row reproduces exactly through `train` ---

def test_search_rows_reproduce_through_train(capsys):
    result = run_json(capsys, ["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "64",
                               "--seq-len", "2048", "--global-batch", "64", "--top", "5"])
    assert len(result["top"]) == 5
    for row in result["top"]:
        args = shlex.split(row["train_command"])
        assert args[:2] == ["infraplan", "train"]
        for flag in ("--order", "--schedule", "--vpp", "--recompute", "--zero", "--dtype"):
            assert flag in args
        train = run_json(capsys, args[1:])
        assert train["config"] == row["config"]
        assert train["step_time_s"] == pytest.approx(row["step_time_s"], rel=1e-12)
        assert train["mfu"] == pytest.approx(row["mfu"], rel=1e-12)
        assert train["memory_per_gpu_bytes"] == pytest.approx(row["memory_per_gpu_bytes"], rel=1e-12)


# --- network vs facility: one bill of materials ---

@pytest.mark.parametrize("system", ["meta-genai-roce-24k", "dgx-h100-superpod"])
def test_network_and_facility_agree(capsys, system):
    net = run_json(capsys, ["network", system])
    fac = run_json(capsys, ["facility", "--system", system])
    assert fac["network"]["switches"] == net["switches_total"]
    assert fac["capex_usd"]["network"] == pytest.approx(net["capex_usd"], rel=1e-9)
    assert fac["power_breakdown_w"]["network"] == pytest.approx(net["power_w"], rel=1e-9)


# --- bounded memory ---

def test_flow_simulation_refused_over_the_memory_limit(capsys):
    start = time.perf_counter()
    # 24,576 ranks x 32 peers in flight x 64 ECMP flows = 50 M flows, ~17 GiB
    code = main(["collective", "all-to-all", "--system", "meta-genai-roce-24k", "--gpus", "24576", "--bytes",
                 "1GiB", "--sim", "flow", "--flows-per-pair", "64"])
    _, err = capsys.readouterr()
    assert code == 2
    assert time.perf_counter() - start < 10
    line = err.strip()
    assert "\n" not in line and "GiB limit" in line and "INFRAPLAN_MEMORY_LIMIT" in line
    assert "--sim analytical" in line


def test_memory_limit_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("INFRAPLAN_MEMORY_LIMIT", "64MiB")
    code = main(["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "64", "--bytes", "1GiB",
                 "--sim", "flow"])
    _, err = capsys.readouterr()
    assert code == 2 and "64 MiB limit" in err
    monkeypatch.setenv("INFRAPLAN_MEMORY_LIMIT", "lots")
    assert main(["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "64", "--bytes", "1GiB",
                 "--sim", "flow"]) == 2
    assert "INFRAPLAN_MEMORY_LIMIT" in capsys.readouterr().err


def test_search_refused_over_the_memory_limit(capsys, monkeypatch):
    monkeypatch.setenv("INFRAPLAN_MEMORY_LIMIT", "1MiB")
    code = main(["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "64", "--seq-len", "2048",
                 "--global-batch", "64"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "plans" in err and "1 MiB limit" in err and "\n" not in err


def test_serving_refused_over_the_memory_limit(capsys, monkeypatch):
    monkeypatch.setenv("INFRAPLAN_MEMORY_LIMIT", "1MiB")
    code = main(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--offline",
                 "--input-len", "16", "--output-len", "2", "--requests", "100000"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "100,000 requests" in err and "1 MiB limit" in err and "--requests" in err
    assert "\n" not in err


def test_serving_memory_estimate_covers_the_measured_per_request_cost():
    import tracemalloc

    from infraplan.budget import SERVING_BYTES_PER_REQUEST
    from infraplan.serving.serving_api import estimate_serving

    def peak(n: int) -> int:
        tracemalloc.start()
        estimate_serving("llama3-8b", "dgx-h100-superpod", 8, offline=True, input_len=16, output_len=2, requests=n)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    peak(1000)  # the first run fills the process's one-time caches (catalog, cost tables): not per request
    slope = (peak(6000) - peak(1000)) / 5000  # 110 bytes/request (112 between 2,000 and 12,000: half the CPU)
    assert 0 < slope <= SERVING_BYTES_PER_REQUEST


def test_unpriced_serving_cost_is_null_with_a_reason(capsys):
    code = main(["serve", "llama3-8b", "--system", "mi355x-cluster", "--gpus", "8", "--offline", "--input-len", "64",
                 "--output-len", "8", "--requests", "50", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["usd_per_million_tokens"] is None
    assert "no server price for mi355x" in out["usd_per_million_tokens_reason"]
    code = main(["serve", "llama3-8b", "--system", "mi355x-cluster", "--gpus", "8", "--offline", "--input-len", "64",
                 "--output-len", "8", "--requests", "50", "--usd-per-hour", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["usd_per_million_tokens"] > 0 and "usd_per_million_tokens_reason" not in out


def test_facility_without_embodied_figure_says_why(capsys, tmp_path):
    """A user's part with no catalog entry (MI355X's figures at 1,450 W, no `extends`): every catalog part has a
    figure since hC41."""
    from importlib.resources import files

    own = tmp_path / "amd-own.yaml"
    own.write_text((files("infraplan.catalog") / "accelerators" / "mi355x.yaml").read_text()
                   .replace("tdp_w: 1400W", "tdp_w: 1450W"))
    assert main(["facility", "--accelerator", str(own), "--count", "64", "--server-price", "30000", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["embodied_co2_t"] is None and "no embodied carbon for amd-own" in out["embodied_co2_t_reason"]
