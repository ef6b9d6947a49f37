"""`infraplan serve` and `serve-plan`: the JSON contract, exit codes, determinism."""

from __future__ import annotations

import json

from infraplan.cli import main

SERVE = ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "2", "--dtype", "fp8"]
KEYS = {"output_tokens_per_s", "requests_per_s", "ttft_s", "tpot_s", "e2e_s", "slo_attainment", "joules_per_token",
        "usd_per_million_tokens", "deployment", "fits"}


def run(capsys, args):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_serve_json_contract_and_determinism(capsys):
    args = [*SERVE, "--rate", "8", "--workload", "chat", "--requests", "300", "--seed", "4",
            "--ttft-slo", "1", "--tpot-slo", "0.05", "--json"]
    code, out, _ = run(capsys, args)
    assert code == 0
    data = json.loads(out)
    assert set(data) >= KEYS
    for key in ("ttft_s", "tpot_s", "e2e_s"):
        assert set(data[key]) >= {"p50", "p90", "p99"}
    assert data["deployment"]["tp"] == 1 and data["deployment"]["replicas"] == 2
    assert 0 <= data["slo_attainment"] <= 1
    assert run(capsys, args)[1] == out


def test_serve_offline_fixed_lengths_and_human_units(capsys):
    code, out, _ = run(capsys, [*SERVE, "--offline", "--input-len", "128", "--output-len", "128",
                                "--requests", "200"])
    assert code == 0
    for unit in ("tokens/s", "ms", "J", "$", "%", "GiB"):
        assert unit in out


def test_model_that_does_not_fit_exits_zero_with_fits_false(capsys):
    code, out, _ = run(capsys, ["serve", "llama3-405b", "--system", "dgx-h100-superpod", "--gpus", "1", "--offline",
                                "--input-len", "10", "--output-len", "10", "--json"])
    assert code == 0
    data = json.loads(out)
    assert data["fits"] is False and data["why"]


def test_malformed_trace_exits_2_naming_the_line(capsys, tmp_path):
    path = tmp_path / "trace.csv"
    path.write_text("arrival_s,input_tokens,output_tokens\n0,10,5\n0.1,10,5\n0.2,x,5\n")
    code, out, err = run(capsys, ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1",
                                  "--trace", str(path)])
    assert code == 2 and out == ""
    assert "line 4" in err and len(err.strip().splitlines()) == 1


def test_trace_arrivals_are_used(capsys, tmp_path):
    path = tmp_path / "trace.csv"
    path.write_text("arrival_s,input_tokens,output_tokens\n" + "".join(f"{i},100,10\n" for i in range(20)))
    code, out, _ = run(capsys, ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1",
                                "--trace", str(path), "--json"])
    data = json.loads(out)
    assert code == 0 and data["requests"] == 20 and data["duration_s"] > 19


def test_conflicting_flags_exit_2(capsys):
    code, _, err = run(capsys, [*SERVE, "--offline", "--rate", "3", "--input-len", "1", "--output-len", "1"])
    assert code == 2 and "--offline" in err


def test_image_generation_reports_images_per_second(capsys):
    code, out, _ = run(capsys, ["serve", "sd-v1.5-512", "--system", "dgx-h100-superpod", "--gpus", "2",
                                "--workload", "image-generation", "--rate", "4", "--requests", "200", "--json"])
    data = json.loads(out)
    assert code == 0 and data["images_per_s"] > 0 and set(data["latency_s"]) >= {"p50", "p90", "p99"}


def test_serve_plan_finds_the_fewest_gpus(capsys):
    base = ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--workload", "chat",
            "--ttft-slo", "1", "--tpot-slo", "0.05", "--requests", "400", "--json"]
    code, out, _ = run(capsys, [*base, "--rate", "4"])
    assert code == 0
    low = json.loads(out)
    code, out, _ = run(capsys, [*base, "--rate", "40"])
    high = json.loads(out)
    assert low["feasible"] and high["feasible"]
    assert low["gpus"] <= high["gpus"]
    assert high["gpus"] >= 2  # 40 chat requests/s need more than one H100 at this TPOT
    assert high["serve"]["slo_attainment"] > 0.9
    assert high["deployment"]["gpus"] == high["gpus"]
