"""The assumed host share is said wherever it is assumed (hH70).

`serve --json`'s `assumed_host_w_per_gpu` says "0: every figure sourced", but before hH70 `assumed_share_w` counted
only sources labelled ASSUMPTION: gaudi2-cluster.yaml's 2,500 W host (312.5 W a chip) had no source at all, and a part
priced by the generic rule (Epoch AI's GPU server = 1.82 x TDP: tpu-v5p's 287 W, tpu-v6e's 246 W, h800's 574 W)
came back as 0, with no warning. Now a figure labelled ASSUMPTION, the generic rule's, or one stated with no source
is ASSUMED. And `serve-plan`'s answer says the line `serve` says (`serving_metrics.assumed_host_note`), where before
it said nothing.
"""

from __future__ import annotations

import json

import pytest

from infraplan.catalog.schemas import Node
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.cluster.host_share import assumed_share_note, assumed_share_w
from infraplan.planning.device_money import pool_figures_note

SMALL = ["--gpus", "1", "--rate", "2", "--requests", "40", "--input-len", "256", "--output-len", "32", "--seed", "0"]
PLAN = ["--rate", "2", "--input-len", "256", "--output-len", "32", "--ttft-slo", "2s", "--tpot-slo", "200ms",
        "--requests", "100", "--max-gpus", "8", "--dtypes", "bf16", "--max-batch", "64", "--no-disaggregation",
        "--seed", "0", "--json"]


@pytest.mark.parametrize(("system", "assumed_w", "why"), [
    ("gaudi2-cluster", 312.5, "labelled ASSUMPTION"), ("gaudi2", 312.5, "labelled ASSUMPTION"),
    ("tpu-v5p", 287.0, "Epoch AI's GPU-server rule"), ("tpu-v6e", 246.0, "Epoch AI's GPU-server rule"),
    ("h800", 574.0, "Epoch AI's GPU-server rule"),
    ("dgx-h100-superpod", 0.0, None), ("mtia-v1", 0.0, None), ("dgx-b200", 0.0, None)])
def test_unsourced_and_generic_rule_shares_are_assumed(system: str, assumed_w: float, why: str | None) -> None:
    got, lines = assumed_share_w(Cluster.resolve(system).system.node)
    assert got == pytest.approx(assumed_w)
    assert [why in line for line in lines] == ([True] if why else [])


def test_a_host_figure_with_no_source_is_assumed() -> None:
    bare = Node(accelerators_per_node=8, scale_up_domain=8, nics_per_node=8, nic_bandwidth_bytes_per_s=50e9,
                host_power_w=2000.0)
    assert assumed_share_w(bare) == (pytest.approx(250.0), ["250 W of host with no source stated"])
    sourced = bare.model_copy(update={"host_power_source": "a datasheet maximum less its accelerators"})
    assert assumed_share_w(sourced) == (0.0, []) and assumed_share_note(sourced) is None


def test_serve_counts_the_generic_rule_and_warns(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "llama3-8b", "--system", "tpu-v5p", *SMALL, "--json"]) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["assumed_host_w_per_gpu"] == pytest.approx(287.0)
    assert [w for w in run["warnings"] if w.startswith("joules_per_token: 287 of the 287 W")]


def _notes(system: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["serve-plan", "llama3-8b", "--system", system, *PLAN]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["feasible"] and answer["serve"]["joules_per_token"] > 0
    return [n for n in answer["notes"] if n.startswith("joules_per_token:")]


def test_serve_plan_says_the_line_serve_says(capsys: pytest.CaptureFixture[str]) -> None:
    said = _notes("mtia-400", capsys)
    assert said == [f"joules_per_token: {assumed_share_note(Cluster.resolve('mtia-400').system.node)}"]
    assert said[0].startswith("joules_per_token: 350 of the 350 W")
    assert _notes("h100-sxm", capsys) == []  # DGX H100's host is sourced: no line


def test_plan_and_fleet_mix_pools_say_the_new_ones() -> None:
    assert "287 of the 287 W per TPU of host and scale-up switches is ASSUMED" in (
        pool_figures_note("tpu", "tpu-v5p") or "")
    assert "312.5 of the 312.5 W per accelerator" in (pool_figures_note("g", "gaudi2-cluster") or "")
    assert pool_figures_note("h", "dgx-h100-superpod") is None
