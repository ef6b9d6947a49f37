"""Blackwell's W4A16 Marlin rate (`serving.format_precision` "Precision"; catalog `weight_only_matmul_fraction`): vLLM
runs a compressed-tensors int4 MoE on Marlin's `mma.sync` (vllm 0.15.1 compressed_tensors_moe.py:178-197), which on
B200 / B300 / GB200 / GB300 reaches about half of Hopper's share of the bf16 peak (AIConfigurator 0.12.0's measured
vLLM Marlin int4 MoE tables against H200's; validation/calibration/aic_marlin_int4_moe.py). vLLM's sm_100 MXFP4 x BF16
(a tcgen05 kernel) keeps the bf16 fraction. Before session 54 the Blackwell parts had no weight-only figure and int4
ran at the bf16 fraction (B200 0.62: 1,395 TF against 578 TF now).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog.loader import load_accelerator
from infraplan.serving import trtllm_gen_moe
from infraplan.serving.format_precision import serving_precision
from infraplan.validation import serving_blackwell as sb

CALIBRATION = Path(__file__).parents[2] / "validation" / "calibration" / "aic_marlin_int4_moe.json"
PARTS = {"b200_sxm": "b200", "b300_sxm": "b300", "gb200": "gb200", "gb300": "gb300"}


def test_the_catalog_figures_are_the_calibration_s() -> None:
    """Each Blackwell part's figure is H200's 0.47 x its measured ratio (the stored calibration output), and the
    method's check holds: H100 against H200 (the same tensor cores) comes out at ~1."""
    fits = json.loads(CALIBRATION.read_text())
    for system, name in PARTS.items():
        fraction = load_accelerator(name).efficiency.weight_only_matmul_fraction
        assert fraction == pytest.approx(fits[system]["weight_only_matmul_fraction"], abs=5e-4), name
        assert fraction == pytest.approx(0.47 * fits[system]["ratio_median"], abs=1e-3), name
    assert fits["b200_sxm"]["pairs"] >= 500 and fits["b200_sxm"]["release"] == "0.19.0"
    assert 0.95 <= fits["h100_sxm"]["ratio_median"] <= 1.0


def test_int4_runs_at_the_marlin_rate_and_mxfp4_bf16_input_at_the_bf16_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trtllm_gen_moe, "VLLM_MXFP4_BF16_GEMM", True)
    b200 = load_accelerator("b200")
    int4 = serving_precision(b200, "int4", engine="vllm")
    assert int4.rate == pytest.approx(2250e12 * 0.257) and int4.grouped_rate == pytest.approx(2250e12 * 0.257)
    assert serving_precision(b200, "mxfp4", engine="vllm").rate == pytest.approx(2250e12 * 0.62)  # tcgen05, unchanged
    h200 = load_accelerator("h200")  # Hopper's mma.sync figure, for int4 and its weight-only MXFP4 alike
    assert serving_precision(h200, "int4").rate == pytest.approx(989e12 * 0.47)
    assert serving_precision(h200, "mxfp4", engine="vllm").rate == pytest.approx(989e12 * 0.47)


def test_the_kimi_int4_long_prompt_first_token_on_b200() -> None:
    """vLLM 0.15.1 Kimi-K2.5 INT4 TP8 on B200, 8,192-token prompts at 4 clients: 436.7 ms measured; at the bf16 rate
    the model gave 273.7 ms (-37 %), at the Marlin rate 435.7 ms."""
    row = next(r for r in sb.load_rows() if sb.why_not(r) is None and r["precision"] == "int4"
               and r["backend_version"] == "0.15.1" and r["isl"] == "8192" and r["concurrency"] == "4")
    measured = float(row["silicon_ttft_ms"]) / 1e3
    assert measured == pytest.approx(0.4367, abs=5e-4)
    assert sb.run_row(row)["ttft_s"] == pytest.approx(measured, rel=0.10)
