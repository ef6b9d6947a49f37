"""Honest outputs (issue 17, item 4): no e-notation in human output, tables that fit 100 columns without cutting
ids, a warning when a serving result misses its SLO for most requests, strict JSON."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infraplan.cli import main
from infraplan.cli.commands._output import fmt_num, fmt_quantity, fmt_rate, fmt_seconds, fmt_usd

E_NOTATION = re.compile(r"\d[eE][+-]?\d")
OVERLOADED = ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--rate", "200", "--requests",
              "200", "--input-len", "2000", "--output-len", "200", "--ttft-slo", "0.2", "--tpot-slo", "0.02"]


@given(st.floats(min_value=-1e30, max_value=1e30, allow_nan=False))
def test_formatters_never_use_e_notation(value: float) -> None:
    for text in (fmt_num(value), fmt_num(value, 3), fmt_seconds(abs(value)), fmt_quantity(value, "GPU-h"),
                 fmt_usd(value), fmt_rate(value, "W")):
        assert not E_NOTATION.search(text), text


@pytest.mark.parametrize(("seconds", "text"), [(1390.0, "23.2 min"), (0.0123, "12.3 ms"), (4.5, "4.5 s"),
                                               (18_000.0, "5 h"), (54 * 86400.0, "54 days")])
def test_durations_take_the_unit_that_keeps_them_short(seconds: float, text: str) -> None:
    assert fmt_seconds(seconds) == text


def test_big_counts_take_a_prefix() -> None:
    assert fmt_quantity(2.671e7, "GPU-h") == "26.7 M GPU-h"
    assert fmt_usd(1.855e8) == "$186 M"
    assert fmt_num(float("nan")) == "-"


def test_negative_money_puts_the_sign_before_the_dollar() -> None:
    assert fmt_usd(-25_200.0) == "-$25.2 k" and fmt_usd(-1.855e8) == "-$186 M"  # a negative saving


def test_a_bad_choice_says_no_pydantic_prefix(capsys) -> None:
    assert main(["train", "llama3-8b", "--system", "dgx-h100", "--gpus", "8", "--schedule", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "Value error" not in err and "'bogus' is not one of '1f1b'" in err and err.count("\n") == 1


def test_a_whole_training_run_prints_no_e_notation(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    code = main(["train", "llama3-405b", "--system", "meta-genai-roce-24k", "--gpus", "16384", "--tp", "8", "--pp",
                 "16", "--vpp", "8", "--seq-len", "8192", "--global-batch", "2048", "--zero", "3", "--tokens",
                 "15.6T"])
    out = capsys.readouterr().out
    assert code == 0
    assert not E_NOTATION.search(out), out
    assert "GPU-h" in out and "…" not in out


def test_a_serving_result_below_half_its_slo_says_so(capsys) -> None:
    assert main([*OVERLOADED, "--json"]) == 0
    data = json.loads(capsys.readouterr().out, parse_constant=lambda name: pytest.fail(f"{name} in --json"))
    assert data["slo_attainment"] < 0.5
    # its 200 requests arrive in 1 s, under 4 mean end-to-end latencies: the short-run note beside the SLO line
    # (`serving.steady_state.short_run_note`, hO, session 53)
    assert len(data["warnings"]) == 2 and "meet the SLO" in data["warnings"][1]
    assert data["warnings"][0].startswith("open loop: the 200 requests arrive over")
    # too short to read a steady state (1.1 s of arrivals under 4 first-arrival latencies): no steady served rate, so
    # its per-token cost and energy are the whole run's and its draw is no steady one above TDP + host (lead, session
    # 57: hJ57's estimate read 35.4 k tokens/s "served" here where the whole run did 2.6 k, hO57)
    assert data["steady_output_tokens_per_s"] is None
    # its steady draw is no more than an H100 and its DGX host share draw (TDP 700 W + 575 W): by construction since
    # hA58 (`serving.window_marks`; hO57 read 7,455 W here, before hJ57's served rate gave way to the whole run's)
    assert data["power_w_per_gpu"] <= data["steady_power_w_per_gpu"] + 1e-9 <= 700.0 + 575.0
    assert data["joules_per_token"] == pytest.approx(data["energy_j"] / (data["output_tokens_per_s"]
                                                                         * data["duration_s"]), rel=1e-9)
    assert main(OVERLOADED) == 0
    assert "warning: only" in capsys.readouterr().out


def test_a_serving_result_within_its_slo_has_no_warning(capsys) -> None:
    relaxed = [*OVERLOADED[:7], "0.5", *OVERLOADED[8:15], "1000s", "--tpot-slo", "10s"]  # units: hF46
    assert main([*relaxed, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["slo_attainment"] >= 0.5 and data["warnings"] == []


@pytest.mark.parametrize("argv", [
    ["fleet-mix", "examples/fleet-mix.yaml"],
    ["search", "gpt3-175b", "--system", "dgx-h100-superpod", "--gpus", "512,1024", "--seq-len", "2048",
     "--global-batch", "512"],
    ["network", "meta-genai-roce-24k"],
])
def test_tables_fit_100_columns_without_cutting_ids(capsys, monkeypatch, argv: list[str]) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 100
