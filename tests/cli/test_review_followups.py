"""Follow-ups of the demanding user's review (validation/notes/product_review_tried.md, helper hG4): refusals that
name the values that broke their rule, units named as units and bare numbers refused where the name has no unit,
`results --sql` read-only, and `serve --offline` without the HTTP front end. Each test failed before its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.errors import InputError

TRAIN = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--seq-len", "4096"]


@pytest.mark.parametrize(("args", "wanted"), [
    # "global batch not divisible by DP x micro-batch" named neither number (DP 125 here)
    (["--gpus", "1000", "--tp", "8", "--global-batch", "16"],
     ["global batch 16", "DP 125 x micro-batch 1 = 125", "nearest valid global batch: 125"]),
    (["--gpus", "64", "--tp", "8", "--global-batch", "100"], ["DP 8 x micro-batch 1 = 8", "global batches: 96, 104"]),
    (["--gpus", "24", "--tp", "3", "--global-batch", "16"], ["TP 3", "1, 2, 4, 8, 16, 32"]),
    (["--gpus", "64", "--tp", "1", "--pp", "16", "--vpp", "4", "--global-batch", "64"], ["PP 16 x VPP 4 = 64"]),
    (["--gpus", "8", "--tp", "8", "--vpp", "2", "--global-batch", "64"], ["VPP 2 with PP 1"]),
    (["--gpus", "64", "--tp", "8", "--pp", "2", "--vpp", "2", "--global-batch", "12"],
     ["3 micro-batches per step", "DP 4"]),
    (["--gpus", "64", "--tp", "8", "--pp", "2", "--global-batch", "64", "--recompute", "full",
      "--recompute-layers", "40"], ["--recompute-layers 40, 16 layers in a chunk"]),
    (["--gpus", "64", "--tp", "8", "--global-batch", "64", "--recompute", "selective", "--recompute-layers", "4"],
     ["--recompute-layers 4 with --recompute selective"]),
])
def test_a_broken_plan_rule_names_the_values_that_broke_it(cli, args: list[str], wanted: list[str]) -> None:
    code, out, err = cli([*TRAIN, *args])
    assert code == 2 and not out.strip() and err.count("\n") == 1, err
    assert all(w in err for w in wanted), err


def test_a_sequence_not_divisible_by_2cp_names_the_nearest_lengths(cli) -> None:
    code, _, err = cli([*TRAIN[:4], "--seq-len", "4095", "--gpus", "16", "--tp", "8", "--cp", "2",
                        "--global-batch", "64"])
    assert code == 2 and "sequence length 4,095, 2 x CP = 4" in err and "4,092, 4,096" in err


def test_refusals_in_the_python_api_name_the_value() -> None:
    from infraplan.serving.workloads import fixed_requests
    from infraplan.training import estimate_training

    with pytest.raises(InputError, match="got 5"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=8, seq_len=2048, global_batch=8, zero=5)
    with pytest.raises(InputError, match="--pp 0"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=8, pp=0, seq_len=2048, global_batch=8)
    with pytest.raises(InputError, match="'partial'"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=8, seq_len=2048, global_batch=8,
                          recompute="partial")
    with pytest.raises(InputError, match="got 0 and 10"):
        fixed_requests(4, 0, 10, None, 0)


SCENARIO = Path(__file__).parents[2] / "examples" / "plan-minimal.yaml"


@pytest.mark.parametrize(("power", "wanted", "unwanted"), [
    ("10GWW", "unknown unit 'GWW' in '10GWW'", "prefix"),       # was "unknown unit prefix 'GW'"
    ("10W", "power cap 10 W is below", "1e-05"),                # was "power cap 1e-05 MW"
    ("'1e3W'", "power cap 1 kW is below", "0.001 MW"),
    # hU68: a bare number (the key names no unit) is refused, as `campus --power 1000` is, not read as watts
    ("10", "sites.0.power: 10 has no unit; write the power with one, e.g. 10MW or 1GW (10W is 10 W)", "power cap"),
    ("'1e3'", "sites.0.power: 1e3 has no unit; write the power with one, e.g. 10MW or 1GW (1e3W is 1 kW)", "cap"),
    # hB66: 24.73 kW until the generic H100's NIC links went optical (DGX SuperPOD rail units)
    ("10 W", "power cap 10 W is below the smallest useful build (one rack unit of pool 'h100' needs 25.15 kW)",
     "e-0"),
])
def test_scenario_power_names_a_bad_unit_and_a_cap_in_its_unit(cli, tmp_path: Path, power: str, wanted: str,
                                                                    unwanted: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.read_text().replace("power: 10MW", f"power: {power}"))
    code, out, err = cli(["plan", str(path)])
    assert code == 2 and not out.strip() and err.count("\n") == 1, err
    assert wanted in err and unwanted not in err, err


def test_cli_powers_and_sizes_without_a_unit_are_refused(cli) -> None:
    for args, wanted in ((["campus", "--power", "1000", "--accelerator", "h100-sxm"], "--power 1000 has no unit"),
                         (["facility", "--accelerator", "h100-sxm", "--count", "1024", "--rack-power", "40"],
                          "--rack-power 40 has no unit"),
                         (["reliability", "--system", "meta-genai-roce-24k", "--gpus", "16384",
                           "--checkpoint-size", "1000"], "--checkpoint-size 1000 has no unit"),
                         (["campus", "--power", "1GWW", "--accelerator", "h100-sxm"], "unknown unit 'GWW'"),
                         (["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "16", "--bytes",
                           "1GiBB"], "unknown unit 'GiBB'")):
        code, _, err = cli(args)
        assert code == 2 and err.count("\n") == 1 and wanted in err, err
    code, _, err = cli(["campus", "--power", "10MW", "--accelerator", "h100-sxm"])
    assert code == 0, err


def test_units_parse_the_same_values_and_write_power_without_e_notation() -> None:
    from infraplan.units import parse_bytes, parse_power_w, parse_stated_power_w, power_text

    assert parse_power_w("10") == 10.0 and parse_bytes("4096") == 4096.0  # names with a unit keep bare numbers
    assert parse_stated_power_w("1GW") == parse_power_w("1GW") == 1e9
    assert [power_text(w) for w in (10, 24_730, 1e7, 1.2e9, 999.96)] == ["10 W", "24.73 kW", "10 MW", "1.2 GW",
                                                                         "1 kW"]


@pytest.fixture(scope="module")
def sweep_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from infraplan.sweep.runner import run_sweep

    out = tmp_path_factory.mktemp("results") / "train"
    run_sweep({"function": "train", "fixed": {"model": "llama3-8b", "system": "dgx-h100-superpod", "seq_len": 2048,
                                              "global_batch": 64, "gpus": 8},
               "axes": [{"product": {"tp": [4, 8]}}]}, out, workers=1, progress=False)
    return out


def test_results_sql_is_read_only(cli, sweep_results: Path, tmp_path: Path) -> None:
    """`results --sql` ran any DuckDB statement: COPY ... TO wrote files, ATTACH / INSTALL / LOAD reached disk and
    network, and a SELECT read any file (read_text('/etc/passwd'))."""
    target = tmp_path / "leak.csv"
    for sql in (f"COPY results TO '{target}'", f"ATTACH '{tmp_path / 'x.db'}'", "INSTALL httpfs", "LOAD httpfs",
                "SET enable_external_access = true", "SELECT 1; DROP VIEW results",
                "SELECT * FROM read_text('/etc/hostname')", f"SELECT * FROM read_csv('{SCENARIO}')"):
        code, out, err = cli(["results", str(sweep_results), "--sql", sql])
        assert code == 2 and not out.strip() and err.count("\n") == 1, (sql, err)
    assert not target.exists() and not (tmp_path / "x.db").exists()
    code, out, err = cli(["results", str(sweep_results), "--sql",
                          "WITH t AS (SELECT in_tp FROM results) SELECT count(*) AS n FROM t", "--json"])
    assert code == 0, err
    assert json.loads(out)["rows"] == [[2]]


def test_serve_offline_has_no_http_front_end(cli) -> None:
    """`serve --offline` added the stack's front end (0.12 s then) to TTFT; trtllm-bench and MLPerf Offline run
    in-process, and the validation scores those rows without it (`front_end: false`)."""
    base = ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--input-len", "1000",
            "--output-len", "200", "--requests", "200", "--json"]
    code, out, err = cli([*base, "--offline"])
    assert code == 0, err
    offline = json.loads(out)
    assert offline["deployment"]["front_end_s"] == 0.0
    code, out, err = cli([*base, "--rate", "1"])
    assert code == 0, err
    assert json.loads(out)["deployment"]["front_end_s"] == pytest.approx(0.080)  # an online client keeps it
    code, out, _ = cli(base[:-1] + ["--offline"])
    assert "TTFT (offline: no front end)" in out


def test_serving_ep_refusal_names_the_experts_and_tp(cli) -> None:
    base = ["serve", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--offline", "--input-len", "100",
            "--output-len", "100"]
    code, _, err = cli([base[0], "mixtral-8x7b", *base[1:], "--ep", "3"])
    assert code == 2 and "mixtral-8x7b has 8 experts, TP 8" in err
    code, _, err = cli([base[0], "llama3-8b", *base[1:], "--ep", "2"])
    assert code == 2 and "llama3-8b has no experts (dense), TP 8" in err
