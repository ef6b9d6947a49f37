"""The GEMM model's shape physics against GEMMs timed on a lent H200 (2026-12-04, torch 2.11 / cuBLAS 13, CUDA
graphs): MoE expert GEMMs (benchmarks/gpu/gpu_moe_expert_gemm.py, 105 shapes of 5 models at 128-16,384 tokens per
expert, bf16 and per-tensor fp8) and bf16 GEMMs with few output tiles (benchmarks/gpu/gpu_splitk_probe.py).

The GPU ran them at its 1,980 MHz boost clock while the catalog's rates are sustained under the 700 W cap, so the
level is off by a constant (validation/calibration/h200_sustained_gemm.jsonl); the shape physics is judged with one
fitted number each: the model times a fitted scale against a fitted constant efficiency (t = FLOPs / (c peak)),
both chosen to minimise the mean |relative error|.
"""

from __future__ import annotations

import json
from importlib.resources import files

import numpy as np
import pytest

from infraplan.catalog import load_accelerator
from infraplan.hardware import kernels
from infraplan.hardware.kernels import KernelRates, gemm_time

H200 = load_accelerator("h200")


@pytest.fixture(autouse=True)
def split_k(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model as it is with split-K on (`hardware.kernels.SPLIT_K`, built, off)."""
    monkeypatch.setattr(kernels, "SPLIT_K", True)

DTYPES = {"bf16": ("bf16", 2.0), "fp8_tensor": ("fp8", 1.0)}  # measured column: (catalog dtype, operand bytes)


def _rows() -> list[dict]:
    text = (files("infraplan.validation") / "data" / "h200_moe_expert_gemm.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _fitted(kind: str) -> dict[str, np.ndarray]:
    """Per row: measured s, model s, and the relative errors of model x best scale and of the best constant."""
    dtype, width = DTYPES[kind]
    rates = KernelRates.for_dtype(H200, dtype)
    rows = _rows()
    measured = np.array([r["seconds_per_gemm"][kind] for r in rows])
    model = np.array([float(gemm_time(rates, r["m"], r["n"], r["k"], width)) for r in rows])
    flops = np.array([2.0 * r["m"] * r["n"] * r["k"] for r in rows])
    scales, efficiencies = np.arange(0.5, 1.5, 0.001), np.arange(0.05, 1.0, 0.001)
    scaled = np.abs(scales[:, None] * model / measured - 1)
    constant = np.abs(flops / (efficiencies[:, None] * H200.peak(dtype)) / measured - 1)
    return {"tokens": np.array([r["tokens_per_expert"] for r in rows]),
            "model": scaled[scaled.mean(axis=1).argmin()], "constant": constant[constant.mean(axis=1).argmin()]}


@pytest.mark.parametrize("kind", list(DTYPES))
def test_the_model_beats_a_constant_efficiency_on_shape(kind: str) -> None:
    """Model x scale against the best constant: bf16 12.1 % against 16.7 %, fp8 14.0 % against 22.5 %; at <= 512
    tokens per expert (few output tiles: split-K) 19 / 24 % against 40 / 51 %."""
    fit = _fitted(kind)
    assert len(fit["tokens"]) == 105
    assert fit["model"].mean() < fit["constant"].mean() - 0.04
    few = fit["tokens"] < 600
    assert fit["model"][few].mean() < 0.6 * fit["constant"][few].mean()
    # from 1,024 tokens on (whole waves of 128 x 128 tiles) the two are alike; the model's shortfall there is its
    # last wave rounded up where cuBLAS spreads it (stream-K, not modelled) and the longest GEMMs' clock falling
    # under the power cap (-14 to -23 % on Mixtral / DeepSeek-V3 at 16,384 tokens): within 2.5 points
    many = ~few
    assert fit["model"][many].mean() < fit["constant"][many].mean() + 0.025


def test_one_full_k_tile_per_sm_loses_to_a_constant_on_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without split-K the model prices the few-tile GEMMs at one full-K tile per SM (Qwen3-30B's 128 x 1,536 x
    2,048 expert at 16.8 us against 6.6 measured) and loses to the constant on bf16 (18.3 % against 16.7 %)."""
    monkeypatch.setattr(kernels, "SPLIT_K", False)
    fit = _fitted("bf16")
    assert fit["model"].mean() > fit["constant"].mean()


def test_few_tile_gemms_split_k_as_cublas_does() -> None:
    """bf16 GEMMs of 128 rows with 4-64 output tiles (K 4,096 and 14,336) and 32 tiles at K 1,024-16,384: the model
    within 32 % of each (mean 9 %) at its sustained rate; with one full-K tile per SM it was +44 % to +749 %."""
    probe = json.loads((files("infraplan.validation") / "data" / "h200_splitk_probe.json").read_text())
    rates = KernelRates.for_dtype(H200, "bf16")
    rows = [r for r in probe["tiles"] if r["n"] <= 64 * 128] + [r for r in probe["depth"] if r["k"] >= 1024]
    assert len(rows) == 19
    errors = np.array([float(gemm_time(rates, r["m"], r["n"], r["k"], 2.0)) / r["s"] - 1 for r in rows])
    assert np.abs(errors).max() < 0.35 and np.abs(errors).mean() < 0.12
    # cuBLAS fills the chip: a split-K kernel plus its reduction, or tiles narrower than 128 x 128
    assert all(any("splitK" in name or "64x64" in name or "64x32" in name for name in r["kernels"]) for r in rows
               if r["n"] <= 32 * 128)


def test_fp8_gemms_priced_with_their_bf16_output_fit_better() -> None:
    """Per-tensor fp8 GEMMs write bf16 (`training.layer_kernels.output_width`, Transformer Engine's out_dtype): the
    weight-gradient GEMMs of 128 tokens per expert (K = 128, a large M x N output) go from -53 to -58 % under the
    measurement (4 of 5 rows; output at 1 B) to -22 to -39 %, and the table's fit from 14.0 to 13.1 %."""
    from infraplan.training.layer_kernels import output_width

    rates = KernelRates.for_dtype(H200, "fp8")
    rows = _rows()
    measured = np.array([r["seconds_per_gemm"]["fp8_tensor"] for r in rows])
    shapes = [(float(r["m"]), float(r["n"]), float(r["k"])) for r in rows]
    one_byte = np.array([float(gemm_time(rates, m, n, k, 1.0)) for m, n, k in shapes])
    bf16_out = np.array([float(gemm_time(rates, m, n, k, output_width(1.0, m, n, k))) for m, n, k in shapes])
    wgrad = np.array([r["gemm"] == "fc1_wgrad" and r["tokens_per_expert"] == 128 for r in rows])
    assert np.all(bf16_out[wgrad] / measured[wgrad] - 1 > one_byte[wgrad] / measured[wgrad] - 1 + 0.1)
    scales = np.arange(0.5, 1.5, 0.001)

    def best(model: np.ndarray) -> float:
        return float(np.abs(scales[:, None] * model / measured - 1).mean(axis=1).min())

    assert best(bf16_out) < best(one_byte) - 0.005
    assert output_width(2.0, 128.0, 4096.0, 128.0) == 2.0  # bf16 operands: unchanged
