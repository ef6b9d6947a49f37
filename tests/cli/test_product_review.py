"""Findings of a review as a planner would use the tool (2026-12-02): dead ends, unitless numbers, a table that
printed the whole demand on every pool row. Each test failed before its fix."""

from __future__ import annotations

import json
import math
from pathlib import Path

from infraplan.cli.commands.schema import json_schema


def test_catalog_lists_the_presets_a_command_takes(cli) -> None:
    """There was no way to list preset names but to mistype one and read the did-you-mean."""
    code, out, err = cli(["catalog", "systems", "--json"])
    assert code == 0, err
    kinds = json.loads(out)["kinds"]
    names = [e["name"] for e in kinds[0]["entries"]]
    assert kinds[0]["kind"] == "systems" and "meta-genai-roce-24k" in names and "dgx-h100-superpod" in names
    code, out, _ = cli(["catalog", "--json"])
    assert code == 0 and {"accelerators", "models", "stacks", "workloads", "locations"} <= {
        k["kind"] for k in json.loads(out)["kinds"]}
    code, out, _ = cli(["catalog", "locations", "ohio"])
    assert code == 0 and json.loads(out)["grid_gco2_per_kwh"] > 0
    code, _, err = cli(["catalog", "systemz"])
    assert code == 2 and err.count("\n") == 1 and "systems" in err
    assert "kinds" in json_schema("catalog")["properties"]


def test_fleet_mix_objective_value_names_its_unit(cli) -> None:
    code, out, err = cli(["fleet-mix", "examples/fleet-mix.yaml", "--objective", "power", "--json"])
    assert code == 0, err
    data = json.loads(out)
    assert data["solver"]["objective_unit"].startswith("W")
    assert math.isclose(data["solver"]["objective_value"], data["totals"]["power_w"], rel_tol=1e-12)


def test_plan_out_on_a_file_says_it_is_a_file(cli, tmp_path: Path) -> None:
    """It said the folder 'does not exist' of a path that exists as a file."""
    path = tmp_path / "x.parquet"
    path.write_text("")
    code, _, err = cli(["plan", "examples/plan-minimal.yaml", "--out", str(path)])
    assert code == 2 and "is a file, not a folder" in err


def test_plan_services_table_shows_each_pools_share_of_a_split_service(cli, tmp_path: Path, monkeypatch) -> None:
    """A service split over two pools printed the whole demand on both rows."""
    monkeypatch.setenv("COLUMNS", "160")
    spec = {"name": "split", "phases": [{"name": "2025", "year": 2025}],
            "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": 1e9,
                          "latency_slo": "10ms"}],
            "pools": [{"name": "cheap", "device": "h100-sxm", "site": "a", "available": 8, "price_usd_per_device": 1},
                      {"name": "more", "device": "h100-sxm", "site": "a"}],
            "sites": [{"name": "a", "power": "50MW", "location": "ohio"}],
            "policy": {"objective": "capex"}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(spec))
    code, out, err = cli(["plan", str(path), "--json"])
    assert code == 0, err
    rows = {r["pool"]: r for r in json.loads(out)["services"]}
    assert set(rows) == {"cheap", "more"} and rows["cheap"]["served"] < rows["cheap"]["demand"]
    code, text, _ = cli(["plan", str(path)])
    assert code == 0 and text.count("of 1 G qps") == 2 and "served of demand" in text


def test_an_unknown_video_device_names_the_devices_video_runs_on(cli) -> None:
    """It listed every accelerator preset (GPUs, TPUs, MTIA) and not msvp, the one video ASIC."""
    code, _, err = cli(["video", "--device", "msvpp"])
    assert code == 2 and err.count("\n") == 1
    assert "did you mean msvp" in err and "xeon-8480" in err and "h100" not in err


def test_serve_plan_prints_the_serve_line_that_reruns_its_full_run(cli, monkeypatch) -> None:
    """`serve` on serve-plan's answer simulated 2,000 requests against the full run's own count, so the same
    deployment at the same rate printed two sets of percentiles (Qwen3-30B-A3B, H200, chat at 20/s: TPOT p99
    45.8 ms in serve-plan, 56.2 ms in serve). The printed line reruns it exactly, disaggregated answers too."""
    import shlex

    monkeypatch.setenv("COLUMNS", "400")
    plan = ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "1", "--requests", "50",
            "--max-gpus", "2", "--input-len", "100", "--output-len", "50", "--ttft-slo", "2", "--tpot-slo", "0.2"]
    code, out, err = cli(plan)
    assert code == 0, err
    line = next(x for x in out.splitlines() if x.startswith("the full run again: "))
    argv = shlex.split(line.removeprefix("the full run again: "))
    assert argv[:2] == ["infraplan", "serve"]
    code, out, err = cli([*plan, "--json"])
    planned = json.loads(out)["serve"]
    code, out, err = cli([*argv[1:], "--json"])
    assert code == 0, err
    served = json.loads(out)
    for key in ("ttft_s", "tpot_s"):
        assert served[key]["p99"] == planned[key]["p99"]
    assert served["output_tokens_per_s"] == planned["output_tokens_per_s"]


def test_reliability_beyond_a_systems_size_names_the_preset_that_takes_any_count(cli) -> None:
    code, _, err = cli(["reliability", "--system", "gb200-nvl72-superpod", "--gpus", "4096"])
    assert code == 2 and "accelerator preset gb200 takes any count" in err
    assert cli(["reliability", "--system", "gb200", "--gpus", "4096"])[0] == 0


def test_campus_takes_the_server_price_its_cost_reason_asks_for(cli) -> None:
    """`campus` on MI300X said 'pass --server-price USD' and then refused --server-price (no such option)."""
    code, out, _ = cli(["campus", "--power", "10MW", "--accelerator", "mi300x", "--json"])
    unpriced = json.loads(out)["facility"]
    assert code == 0 and "--server-price" in unpriced["cost_reason"] and unpriced["capex_total_usd"] is None
    code, out, err = cli(["campus", "--power", "10MW", "--accelerator", "mi300x", "--server-price", "20000",
                          "--json"])
    assert code == 0, err
    priced = json.loads(out)["facility"]
    assert priced["cost_reason"] is None and priced["capex_usd"]["servers"] == 20000 * priced["accelerators"]
    assert priced["it_power_w"] == unpriced["it_power_w"]



def test_plan_messages_print_demand_and_deadlines_in_plain_units(cli, tmp_path: Path) -> None:
    """'short by 1e+06 QPS' and 'the 0.0-day deadline' (a 1 s deadline) were what a planner read."""
    base = {"name": "t", "phases": [{"name": "2025", "year": 2025}],
            "sites": [{"name": "a", "power": "10MW", "location": "ohio"}]}
    rank = {**base, "services": [{"name": "s", "kind": "recsys", "model": "dlrm-low", "qps": "1M",
                                  "latency_slo": "10ms"}],
            "pools": [{"name": "p", "device": "h100-sxm", "site": "a", "serves": ["llm"]}]}
    train = {**base, "services": [{"name": "s", "kind": "training", "model": "llama3-8b", "tokens": "1T",
                                   "deadline": "1s"}],
             "pools": [{"name": "p", "device": "h100-sxm", "site": "a"}]}
    for spec, needle in ((rank, "short by 1,000,000 QPS"), (train, "the 1 s deadline")):
        path = tmp_path / "s.json"
        path.write_text(json.dumps(spec))
        code, _, err = cli(["plan", str(path)])
        assert code == 2 and needle in err and "e+" not in err and "0.0-day" not in err
