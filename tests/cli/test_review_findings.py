"""Findings of a first-time user's review of the CLI (2026-12-02), bad input: absurd, malformed or inconsistent
input is one line and exit code 2 (no traceback, nothing written), with the limit or the key it breaks named.
The same question asked two ways, readable output and config reading are in test_review_consistency.py."""

from __future__ import annotations

import json

import pytest

TRAIN_8 = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--seq-len", "4096",
           "--global-batch", "16"]


LLAMA = {"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
         "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 128256, "max_position_embeddings": 8192}


@pytest.mark.parametrize(("key", "value"), [
    ("hidden_size", "4096"),  # a string was a TypeError message from inside the reader
    ("hidden_size", True),  # a bool was read as 1
    ("hidden_size", 4096.5),  # was truncated to 4096
    ("hidden_size", 10**30),  # was a model of 1e30 width: a step time of 1e44 years
    ("num_hidden_layers", 10**12),
    ("intermediate_size", 0),  # 0 was silently replaced by 4 x hidden
    ("vocab_size", 0),  # ... by 32,000
    ("max_position_embeddings", 0),  # ... by 2,048
])
def test_a_config_size_that_is_not_a_whole_number_in_range_names_its_key(cli, tmp_path, key, value):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**LLAMA, key: value}))
    code, out, err = cli(["train", str(path), *TRAIN_8[2:]])
    assert code == 2 and out == ""
    assert f"{key} must be a whole number" in err and len(err.strip().splitlines()) == 1


def test_moe_with_zero_experts_per_token_is_refused(cli, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**LLAMA, "num_local_experts": 8, "num_experts_per_tok": 0}))
    code, _, err = cli(["train", str(path), *TRAIN_8[2:]])
    assert code == 2 and "routes each token to at least 1" in err
    path.write_text(json.dumps({**LLAMA, "num_local_experts": 0, "num_experts_per_tok": 0}))  # dense: harmless
    assert cli(["train", str(path), *TRAIN_8[2:]])[0] == 0


def test_a_validation_error_of_the_shape_has_no_empty_location(cli, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**LLAMA, "num_key_value_heads": 5}))
    code, _, err = cli(["train", str(path), *TRAIN_8[2:]])
    assert code == 2 and ": :" not in err and "Value error" not in err and "kv heads 5" in err


def test_train_tokens_beyond_the_stated_limit_is_refused(cli):
    code, out, err = cli([*TRAIN_8, "--tokens", "1e40"])  # printed a wall clock of 6e27 years before
    assert code == 2 and out == "" and "at most 1e+15" in err
    assert cli([*TRAIN_8, "--tokens", "15.6T"])[0] == 0


def test_scenario_training_tokens_and_gpus_are_bounded(cli, tmp_path):
    spec = ("name: x\nphases: [{name: '2025', year: 2025}]\nservices:\n"
            "  - {name: t, kind: training, model: llama3-8b, tokens: 1e40, gpus: 1024}\n"
            "pools:\n  - {name: h100, device: h100-sxm, site: s}\n"
            "sites:\n  - {name: s, power: 100MW, location: ohio}\n")
    path = tmp_path / "s.yaml"
    path.write_text(spec)
    code, _, err = cli(["plan", str(path)])
    assert code == 2 and "services.0.tokens" in err
    path.write_text(spec.replace("tokens: 1e40, gpus: 1024", "tokens: 15.6T, gpus: 1000000000000"))
    code, _, err = cli(["plan", str(path)])
    assert code == 2 and "services.0.gpus" in err


def test_campus_power_beyond_the_accelerator_limit_is_refused(cli):
    code, out, err = cli(["campus", "--power", "1000TW", "--accelerator", "h100-sxm"])  # 623 G accelerators before
    assert code == 2 and out == "" and "10,000,000 accelerators" in err


def test_collective_bytes_beyond_a_pebibyte_is_refused(cli):
    args = ["collective", "all-reduce", "--system", "meta-genai-roce-24k", "--gpus", "1024", "--bytes"]
    code, _, err = cli([*args, "1e30"])  # printed 867 G EiB and 1.7e11 years before
    assert code == 2 and "at most 1 PiB" in err
    assert cli([*args, "1GiB"])[0] == 0


def test_slo_option_with_a_bad_unit_is_one_line(cli):
    code, _, err = cli(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--rate", "1",
                        "--input-len", "100", "--output-len", "10", "--ttft-slo", "2x"])
    assert code == 2 and "cannot read duration '2x'" in err


def test_facility_accelerator_without_count_says_what_is_missing(cli):
    code, _, err = cli(["facility", "--accelerator", "h100-sxm"])
    assert code == 2 and "needs --count" in err and "None" not in err


def test_rack_power_below_a_kilowatt_prints_watts(cli):
    code, _, err = cli(["facility", "--system", "meta-genai-roce-24k", "--rack-power", "1W"])
    assert code == 2 and "1 W per rack" in err and "0.0 kW" not in err


def _one_site_scenario(tmp_path, service: str, pool: str):  # type: ignore[no-untyped-def]
    """A one-phase scenario file with one recsys service and one H100 pool on a 10 MW site in Ohio."""
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nphases: [{name: '2025', year: 2025}]\nservices:\n"
                    f"  - {{{service}, kind: recsys, model: dlrm-low, latency_slo: 10ms}}\n"
                    f"pools:\n  - {{{pool}, device: h100-sxm, site: s}}\n"
                    "sites:\n  - {name: s, power: 10MW, location: ohio}\n")
    return path


def test_an_infeasible_plan_with_a_huge_demand_still_names_the_binding_constraint(cli, tmp_path):
    # qps 1e15 beside unit coefficients: the elastic LP failed ("relaxation failed")
    path = _one_site_scenario(tmp_path, "name: ranking, qps: 1e15", "name: h100")
    code, _, err = cli(["plan", str(path)])
    assert code == 2 and "ranking in 2025 short by" in err and "power cap of 10 MW" in err


def test_a_video_ladder_longer_than_the_input_allows_is_refused(cli):
    code, _, err = cli(["video", "--device", "msvp", "--input", "2160p60", "--ladder", "50"])  # 8 rungs before
    assert code == 2 and "at most 8" in err
    assert cli(["video", "--device", "msvp", "--input", "2160p60", "--ladder", "8"])[0] == 0


def test_a_non_config_warning_is_one_line_not_a_recursion(capsys):
    import importlib
    import warnings

    from infraplan.catalog import model_config_keys  # noqa: F401  (the module whose saved hook recursed)

    cli_main = importlib.import_module("infraplan.cli.main")

    saved = warnings.showwarning
    try:
        warnings.showwarning = cli_main._show_warning
        cli_main._show_warning(RuntimeWarning("overflow encountered in exp"), RuntimeWarning, "x.py", 1)
    finally:
        warnings.showwarning = saved
    err = capsys.readouterr().err
    assert err == "infraplan: warning: RuntimeWarning: overflow encountered in exp\n"


def test_a_workload_with_an_absurd_spread_is_refused(cli, tmp_path):
    path = tmp_path / "w.yaml"  # sigma 1e30: a numpy overflow warning, then a RecursionError traceback
    path.write_text("display_name: w\nsource: test\nkind: llm\n"
                    "input_tokens: {distribution: lognormal, median: 1000, sigma: 1.0e30, min: 8, max: 6000}\n"
                    "output_tokens: {distribution: fixed, median: 100}\narrival: {process: poisson}\n")
    code, _, err = cli(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--rate", "1",
                        "--workload", str(path), "--requests", "20"])
    assert code == 2 and "input_tokens.sigma" in err


def test_fleet_mix_with_a_huge_demand_names_only_what_is_short(cli, tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "fleet-mix.yaml"
    path = tmp_path / "fm.yaml"
    # 1e40 and 4E QPS are above what one service may ask since hO63 (`limits.MAX_RECSYS_QPS`, 1e15): refused up
    # front, the service and the limit named (every service was "short by 100 %" before: the elastic LP failed;
    # 4E was planned: 491 TW, $7.4 P of capex)
    for demand in ("1e40", "4E"):
        path.write_text(example.read_text().replace("qps: 4G", f"qps: {demand}"))
        code, _, err = cli(["fleet-mix", str(path)])
        assert code == 2 and "service 'retrieval'" in err and "MAX_RECSYS_QPS" in err
    path.write_text(example.read_text().replace("qps: 4G", "qps: 5e14"))  # below the limit, beyond the pools
    code, _, err = cli(["fleet-mix", str(path)])
    assert code == 2 and "retrieval short by" in err
    assert "early-ranking" not in err and "late-ranking" not in err and "video-ingest" not in err


@pytest.mark.parametrize(("axis", "needle"), [
    ("{range: {start: 1, stop: 1000000000, step: 1}}", "1,000,000 per axis"),  # hung building a 1e9-value list
    ("{log: {start: 1, stop: 1.0e+300, factor: 1.0000001}}", "1,000,000 points per axis"),  # was cut, then swept
])
def test_a_sweep_axis_beyond_a_million_values_is_refused(cli, tmp_path, axis, needle):
    path = tmp_path / "s.yaml"
    path.write_text("function: train\nfixed: {model: llama3-8b, system: dgx-h100-superpod, gpus: 8, seq_len: 4096, "
                    f"global_batch: 16}}\naxes:\n  - product:\n      tp: {axis}\n")
    code, _, err = cli(["sweep", str(path), "--out", str(tmp_path / "out")])
    assert code == 2 and needle in err and not (tmp_path / "out").exists()


def test_a_sweep_function_without_a_signature_is_one_line(cli, tmp_path):
    path = tmp_path / "s.yaml"  # a class: inspect.signature's ValueError escaped as a traceback
    path.write_text("function: infraplan.errors:InputError\nfixed: {}\naxes:\n  - product:\n      x: [1]\n")
    code, _, err = cli(["sweep", str(path), "--out", str(tmp_path / "out")])
    assert code == 2 and "no readable signature" in err


def test_a_trace_arrival_beyond_the_time_limit_is_one_line(cli, tmp_path):
    path = tmp_path / "t.csv"  # 1e300 s: the run's duration rounded to 0, a ZeroDivisionError traceback
    path.write_text("arrival_s,input_tokens,output_tokens\n1e300,100,5\n")
    code, _, err = cli(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--trace", str(path)])
    assert code == 2 and "arrival_s must be a time from 0 to 1e9 s" in err


@pytest.mark.parametrize("extra", [["--tp", "2"], ["--prefill-gpus", "4"], ["--tpot-slo", "0.1"],
                                   ["--kv-dtype", "fp8"]])
def test_llm_only_options_on_image_generation_are_refused(cli, extra):
    code, _, err = cli(["serve", "sd-v1.5-512", "--system", "dgx-h100-superpod", "--gpus", "8", "--workload",
                        "image-generation", "--rate", "5", "--requests", "50", *extra])  # ignored silently before
    assert code == 2 and f"{extra[0]} applies to LLM serving" in err


def test_web_check_warns_off_loopback_and_brackets_ipv6(cli):
    code, out, err = cli(["web", "--check", "--port", "18768", "--host", "0.0.0.0"])
    assert code == 0 and "no authentication" in err
    code, out, err = cli(["web", "--check", "--port", "18768"])
    assert code == 0 and err == "" and out.strip() == "http://127.0.0.1:18768/"
    code, out, err = cli(["web", "--check", "--port", "18768", "--host", "::1"])
    assert code in (0, 2)  # a machine without IPv6 refuses ::1 in one line
    if code == 0:
        assert out.strip() == "http://[::1]:18768/" and err == ""


def test_an_unbuildable_fabric_names_the_nearest_sizes_without_rounding_them_whole(cli):
    # hN55: 10,000,000 (9,765.625 leaf domains) now builds whole domains (test_partial_pod_hN55.py); a partial node
    # is still refused with its quotient unrounded ("= 9766" read as a whole quotient)
    code, _, err = cli(["network", "h100-sxm", "--gpus", "9999996"])
    assert code == 2 and "1,249,999.500" in err and "9,999,992 or 10,000,000 are" in err


def test_a_diffusion_model_with_an_llm_workload_says_what_to_do(cli):
    code, _, err = cli(["serve", "sd-v1.5-512", "--system", "dgx-h100-superpod", "--gpus", "8", "--rate", "5",
                        "--workload", "chat"])  # "unknown model 'sd-v1.5-512'; known: <LLMs>" before
    assert code == 2 and "diffusion model" in err and "--workload image-generation" in err


def test_a_recsys_latency_slo_beyond_the_time_limit_is_refused(cli):
    code, _, err = cli(["recsys", "dlrm-high", "--accelerator", "h100-sxm", "--latency-slo", "1e30s"])
    assert code == 2 and "at most 1e9 s" in err  # printed "SLO 31,688,087,814,028,950,241,280 years: met"


@pytest.mark.parametrize(("vary", "needle"), [
    ("h100.price=±300%", "less than ±100 %"),  # a ValidationError traceback (negative price) before
    ("pue=0.5..1.2", "policy.pue"),  # "needs policy.pue ... give LOW..HIGH" though LOW..HIGH was given
    ("electricity=50..120", "USD/MWh?"),  # $50-120/kWh planned silently
])
def test_plan_vary_ranges_are_checked_in_one_line(cli, vary, needle):
    code, _, err = cli(["plan", "examples/plan-minimal.yaml", "--vary", vary])
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_plan_vary_pue_as_a_range_needs_no_policy_pue(cli):
    code, out, err = cli(["plan", "examples/plan-minimal.yaml", "--vary", "pue=1.1..1.4", "--json"])
    assert code == 0, err
    assert json.loads(out)["tornado"][0]["parameter"] == "pue"


def test_a_text_column_as_a_pareto_objective_is_refused(cli, tmp_path):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "sweep" / "sample-results"
    code, _, err = cli(["results", str(sample), "--pareto", "time_s,op"])  # an empty front ("0 rows") before
    assert code == 2 and "'op' is not numeric" in err


def test_an_unknown_system_suggests_accelerator_presets_too(cli):
    code, _, err = cli([*TRAIN_8[:2], "--system", "h100", *TRAIN_8[4:]])  # "did you mean hgx-h200?" before
    assert code == 2 and "h100-sxm" in err and "unknown system or accelerator 'h100'" in err


def test_a_cost_file_takes_the_bounds_its_flags_take(cli, tmp_path):
    path = tmp_path / "c.yaml"  # $2.2e25 per GPU-hour printed before; --server-price 1e30 is refused
    path.write_text("server_usd_per_accelerator: 1.0e+30\n")
    code, _, err = cli(["facility", "--system", "meta-genai-roce-24k", "--costs", str(path)])
    assert code == 2 and "server_usd_per_accelerator" in err
    path.write_text("pue: 1.3\n")
    assert cli(["facility", "--system", "meta-genai-roce-24k", "--costs", str(path)])[0] == 0
    location = tmp_path / "loc.yaml"  # a location file likewise (electricity at 1e30 $/MWh was planned)
    location.write_text("climate: temperate\nelectricity_usd_per_mwh: 1.0e+30\ngrid_gco2_per_kwh: 400\nsource: x\n")
    code, _, err = cli(["facility", "--system", "meta-genai-roce-24k", "--location", str(location)])
    assert code == 2 and "electricity_usd_per_mwh" in err


def test_an_installed_base_over_its_site_cap_names_the_site(cli, tmp_path):
    # "HiGHS: ... its elastic relaxation failed" before: no shortfall can fix it
    path = _one_site_scenario(tmp_path, "name: r, qps: 1M", "name: p, installed: 100000")
    code, _, err = cli(["plan", str(path)])
    assert code == 2 and "site s in 2025: the installed devices draw" in err and "cap of 10 MW" in err


def test_an_output_path_error_names_the_option_once(cli, tmp_path):
    folder = tmp_path / "d.html"
    folder.mkdir()  # "--report: cannot write X: --report: X is a directory" before (InputError is a ValueError)
    code, _, err = cli(["plan", "examples/plan-minimal.yaml", "--report", str(folder)])
    assert code == 2 and err.count("--report") == 1 and "is a directory" in err


def test_a_checkpoint_beyond_an_exbibyte_is_refused(cli):
    code, _, err = cli(["reliability", "--system", "meta-genai-roce-24k", "--gpus", "16384", "--checkpoint-size",
                        "1e30B"])  # "867,361,737,988 EiB, written in 15,844,043,907 years" before
    assert code == 2 and "1 EiB" in err


def test_a_fleet_site_beyond_the_accelerator_limit_is_refused(cli, tmp_path):
    path = tmp_path / "fleet.yaml"  # 1e12 H100 planned as a 1.9 PW site before
    path.write_text("name: f\nsource: x\nsites:\n"
                    "  - {name: a, accelerator: h100-sxm, count: 1000000000000, cooling: air, location: us-average}\n")
    code, _, err = cli(["campus", "--fleet", str(path)])
    assert code == 2 and "sites.0.count" in err
