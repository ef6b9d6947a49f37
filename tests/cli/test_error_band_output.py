"""Findings of the demanding user's review (helper hG3, 2026-12-02; validation/notes/product_review_tried.md): the
error band is part of the answer in words too (train, search, serve, serve-plan printed it only in `--json`), an
unpriced accelerator's serving cost says why ("$- per million output tokens" before), serve-plan carries the band
`serve` gives its deployment, and an encoder-decoder config.json is named, not priced silently as its decoder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

TRAIN = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--seq-len", "4096",
         "--global-batch", "16"]
SERVE = ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--rate", "1", "--input-len", "200",
         "--output-len", "20", "--requests", "40"]


def _band_line(out: str) -> str:
    """The printed band (wrapped at the console width like every other line: its words joined again)."""
    assert out.count("error band:") == 1, out
    return re.sub(r"\s+", " ", out[out.index("error band:"):])


def test_train_prints_its_error_band_and_the_throughput_it_implies(cli) -> None:
    code, out, err = cli([*TRAIN, "--json"])
    assert code == 0, err
    r = json.loads(out)
    band = r["error_band"]
    code, out, _ = cli(TRAIN)
    line = _band_line(out)
    assert f"{band['low'] * 100:+.1f} % to {band['high'] * 100:+.1f} %" in line
    assert band["basis"] in line
    # residual r = predicted / measured - 1: the measured throughput lies at predicted / (1 + r)
    low, high = (float(x.replace(",", "")) for x in re.findall(r"likely ([\d.,]+) \S*tokens/s per GPU to "
                                                                r"([\d.,]+) \S*tokens/s", line)[0])
    per_gpu = r["tokens_per_s_per_gpu"]
    scale = 1000.0 if "ktokens" in line else 1.0
    assert low * scale == pytest.approx(per_gpu / (1 + band["high"]), rel=5e-3)
    assert high * scale == pytest.approx(per_gpu / (1 + band["low"]), rel=5e-3)


def test_search_prints_the_band_of_its_rows(cli) -> None:
    args = ["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
            "--global-batch", "16", "--top", "2"]
    code, out, err = cli([*args, "--json"])
    assert code == 0, err
    band = json.loads(out)["top"][0]["error_band"]
    code, out, _ = cli(args)
    assert f"{band['low'] * 100:+.1f} % to {band['high'] * 100:+.1f} %" in _band_line(out)


def test_serve_prints_its_band_as_the_tpot_it_implies(cli) -> None:
    code, out, err = cli([*SERVE, "--json"])
    assert code == 0, err
    r = json.loads(out)
    band, tpot = r["error_band"], r["tpot_s"]["p50"]
    code, out, _ = cli(SERVE)
    line = _band_line(out)
    assert f"{band['low'] * 100:+.1f} % to {band['high'] * 100:+.1f} %" in line and "TPOT p50 likely" in line
    # the serving residual is measured / predicted TPOT - 1: the measured TPOT is predicted x (1 + r)
    ms = [float(x) for x in re.findall(r"likely ([\d.]+) ms to ([\d.]+) ms", line)[0]]
    assert ms[0] / 1e3 == pytest.approx(tpot * (1 + band["low"]), rel=5e-3)
    assert ms[1] / 1e3 == pytest.approx(tpot * (1 + band["high"]), rel=5e-3)


def test_serve_and_serve_plan_print_their_ttft_band_as_the_mean_ttft_it_implies(cli) -> None:
    """A plan may bind on its TTFT SLO, and the dense set's TTFT error is 31 %: the answers carry a band of the mean
    TTFT too (residual r = predicted / measured mean TTFT - 1, so the measured mean TTFT is predicted / (1 + r))."""
    code, out, err = cli([*SERVE, "--json"])
    assert code == 0, err
    r = json.loads(out)
    band, ttft = r["ttft_error_band"], r["ttft_s"]["mean"]
    assert band is not None and "TTFT cases" in band["basis"] and band != r["error_band"]
    code, out, _ = cli(SERVE)
    text = re.sub(r"\s+", " ", out)
    line = text[text.index("error band (TTFT):"):]
    assert f"{band['low'] * 100:+.1f} % to {band['high'] * 100:+.1f} %" in line and band["basis"] in line
    low, high = (float(x) for x in re.findall(r"mean TTFT likely ([\d.]+) ms to ([\d.]+) ms", line)[0])
    assert low / 1e3 == pytest.approx(ttft / (1 + band["high"]), rel=5e-3)
    assert high / 1e3 == pytest.approx(ttft / (1 + band["low"]), rel=5e-3)
    args = ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "2", "--input-len", "200",
            "--output-len", "20", "--requests", "200", "--dtypes", "fp8", "--ttft-slo", "2s", "--tpot-slo", "100ms"]
    code, out, err = cli([*args, "--json"])
    assert code == 0, err
    assert json.loads(out)["ttft_error_band"] == band  # one engine class and family: the band `serve` gives
    code, out, _ = cli(args)
    assert "mean TTFT likely" in re.sub(r"\s+", " ", out)


def test_serve_on_an_unpriced_accelerator_says_why_its_cost_is_missing(cli) -> None:
    args = ["serve", "llama3-8b", "--system", "mtia-v2", "--gpus", "1", "--rate", "1", "--input-len", "100",
            "--output-len", "10", "--requests", "20", "--stack", "vllm-0.x"]  # vLLM asked on MTIA (hV42)
    code, out, err = cli(args)
    assert code == 0, err
    assert "$-" not in out  # was "$- per million output tokens"
    assert "not priced: no catalogued server price for mtia-v2" in re.sub(r"[│\s]+", " ", out)
    code, out, _ = cli([*args, "--usd-per-hour", "2"])
    assert "$" in out and "not priced" not in out


def test_serve_plan_carries_the_band_serve_gives_its_deployment(cli) -> None:
    args = ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "2", "--input-len", "200",
            "--output-len", "20", "--requests", "200", "--dtypes", "fp8", "--ttft-slo", "2s", "--tpot-slo", "100ms"]
    code, out, err = cli([*args, "--json"])
    assert code == 0, err
    plan = json.loads(out)
    assert plan["error_band"] is not None  # was absent: the fleet answer had no band
    code, out, err = cli(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", str(plan["gpus"]),
                          "--rate", "2", "--input-len", "200", "--output-len", "20", "--requests", "40",
                          "--dtype", "fp8", "--json"])
    assert code == 0, err
    assert plan["error_band"] == json.loads(out)["error_band"]
    code, out, _ = cli(args)
    assert "TPOT p50 likely" in _band_line(out)


def test_an_encoder_decoder_config_is_named_not_priced_silently_as_its_decoder(cli, tmp_path: Path) -> None:
    """transformers' `is_encoder_decoder: true` (T5, BART) adds an encoder stack and cross-attention; it was in the
    harmless keys, so a T5 config was priced as a 6-layer decoder-only model with no word."""
    config = tmp_path / "t5.json"
    config.write_text(json.dumps({"model_type": "t5", "d_model": 512, "num_layers": 6, "num_heads": 8,
                                  "d_ff": 2048, "vocab_size": 32128, "is_encoder_decoder": True}))
    code, _, err = cli(["train", str(config), "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8",
                        "--seq-len", "512", "--global-batch", "16", "--json"])
    assert code == 0
    assert "not modelled (the standard block is assumed): is_encoder_decoder" in err
    config.write_text(json.dumps({"model_type": "t5", "d_model": 512, "num_layers": 6, "num_heads": 8,
                                  "d_ff": 2048, "vocab_size": 32128, "is_encoder_decoder": False}))
    code, _, err = cli(["train", str(config), "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8",
                        "--seq-len", "512", "--global-batch", "16", "--json"])
    assert code == 0 and "is_encoder_decoder" not in err


@pytest.mark.parametrize(("derivative", "reference", "family"), [("h800", "h100-sxm", "hopper"),
                                                                  ("gb300", "gb200", "blackwell")])
def test_a_derivative_accelerator_takes_its_family_band(cli, derivative: str, reference: str, family: str) -> None:
    """H800 (the H100 die, catalog h800.yaml) and GB300 (Blackwell Ultra) were missing from the family table, so
    their answers carried the any-accelerator band ("fewer than 5 h800 training cases") and the MFU ceiling of the
    best of any family; now the band of the GPU they derive from."""
    bands = []
    for system in (derivative, reference):
        code, out, err = cli(["train", "llama3-8b", "--system", system, "--gpus", "8", "--tp", "8", "--seq-len",
                              "4096", "--global-batch", "16", "--json"])
        assert code == 0, err
        bands.append(json.loads(out)["error_band"])
    assert bands[0] == bands[1] and family in bands[0]["basis"] and derivative not in bands[0]["basis"]


def test_serve_without_an_slo_claims_no_attainment(cli) -> None:
    """`serve --offline --input-len 1000 --output-len 1000` printed "SLO attainment 100.0 %" with no SLO to attain."""
    args = ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--offline", "--input-len", "100",
            "--output-len", "10", "--requests", "20"]
    code, out, err = cli(args)
    assert code == 0, err
    row = next(line for line in out.splitlines() if "SLO attainment" in line)
    assert "%" not in row and "no SLO" in row
    code, out, _ = cli([*args, "--ttft-slo", "10s", "--tpot-slo", "1s"])
    assert "100.0 %" in next(line for line in out.splitlines() if "SLO attainment" in line)


def test_campus_runs_per_year_use_one_job_size_on_every_accelerator(cli) -> None:
    """`campus --power 1GW --accelerator b200` counted Llama-3-405B runs on 256-GPU jobs of 1,602 days (GB300: 512
    GPUs, 681 days; H200: 2,048 at MFU 0.58, above Hopper's published 0.43) because the job was capped by the largest
    catalog system; H100 ran the paper's 16,384. Every accelerator now runs the paper's job size."""
    caps = {}
    for accelerator in ("b200", "gb300", "h200", "h100-sxm"):
        code, out, err = cli(["campus", "--power", "1GW", "--accelerator", accelerator, "--json"])
        assert code == 0, err
        caps[accelerator] = json.loads(out)["training_capacity"]
    assert {c["job_gpus"] for c in caps.values()} == {16384}
    assert all(c["days_per_run_per_job"] < 120 for c in caps.values())
    # the 2,048-GPU job ran at MFU 0.58; the paper's 16,384 runs at 0.47 since the SimAI NIC table is read per ring
    # step (hT87: its FSDP reduce-scatter / all-gather over 128 one-GPU nodes no longer priced at 1,024 ranks' steps),
    # above Hopper's published bf16 0.43 (catalog/published_mfu.yaml) as the gated llama3-405b-16k-gpus row is +14 %
    assert caps["h200"]["mfu"] < 0.5


def test_dollars_take_the_money_prefix() -> None:
    """`plan examples/gigawatt-2027.yaml` printed "capex $35 G, TCO $5.85 G/year" where the README and every cost
    source write billions as B."""
    from infraplan.cli.commands._output import fmt_usd

    assert fmt_usd(3.49e10) == "$34.9 B" and fmt_usd(1.855e8) == "$186 M" and fmt_usd(2.1e12) == "$2.1 T"


def test_drafts_need_an_acceptance_rate(cli) -> None:
    """`serve ... --speculative-tokens 2` without --acceptance priced R = 0 silently: tokens per step 1.0, the drafts'
    cost on every step."""
    args = ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--rate", "1", "--input-len", "100",
            "--output-len", "10", "--requests", "20", "--speculative-tokens", "2"]
    code, out, err = cli(args)
    assert code == 2 and not out and err.count("\n") == 1 and "needs --acceptance" in err
    code, out, err = cli([*args, "--acceptance", "0.8", "--json"])
    assert code == 0, err
    assert json.loads(out)["deployment"]["tokens_per_step"] == pytest.approx((1 - 0.8**3) / (1 - 0.8))


def test_facility_refuses_a_cpu_preset_given_as_a_system_as_it_does_as_an_accelerator(cli) -> None:
    """`facility --accelerator xeon-8480 --count 8` was refused (helper hH) but `facility --system xeon-8480` sized
    "8 x xeon-8480, 1 rack x 25.5 kW (40 accelerators)"."""
    errors = []
    for args in (["--system", "xeon-8480"], ["--accelerator", "xeon-8480", "--count", "8"]):
        code, out, err = cli(["facility", *args])
        assert code == 2 and not out.strip() and err.count("\n") == 1
        errors.append(err)
    assert errors[0] == errors[1]


def test_search_marks_rows_beyond_the_published_mfu(cli, capsys: pytest.CaptureFixture[str]) -> None:
    """search flagged `beyond_published_mfu` rows only in `--json`; the table now marks them and says why."""
    from infraplan.cli.commands._search_table import render_search
    from infraplan.training.results import PlanSearchResult

    code, out, err = cli(["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
                          "--global-batch", "16", "--top", "2", "--json"])
    assert code == 0, err
    result = PlanSearchResult.model_validate_json(out)
    flagged = result.top[1].model_copy(update={"beyond_published_mfu": True,
                                                "beyond_published_mfu_reason": "above the published 0.43"})
    render_search(result.model_copy(update={"top": [result.top[0], flagged]}))
    shown = capsys.readouterr().out
    assert shown.count(" *") == 1 and "* beyond published MFU: above the published 0.43" in shown
