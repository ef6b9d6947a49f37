"""A plain-GEMM wave fit's K loop runs at the peak of the dtype the MMA runs in, not the weight dtype's (hY54).

hL53 noted that `decode_kernels.gemm_rates` took the K-loop rate of a `plain_gemm_wave` fit from the WEIGHT dtype's
peak: right for nvfp4 (W4A4, the only fit shipped), wrong for a weight-only one: an int4 (W4A16) fit on a part
with an int4 peak ran its K loop at that 4-bit peak, though the weights are widened to bf16 before the MMA, and a
native mxfp4 fit (MXFP4 x MXFP8 on Blackwell, `serving_precision`'s 8-bit rate) at the fp4 peak. Now the rate is
the fit's fraction of `mma_dtype`'s peak: the rate `serving.format_precision.serving_precision` prices the format at.
Checked to fail before the change: the int4 and mxfp4 assertions (peak int4 / mxfp4 x the fraction there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.loader import list_presets, load_accelerator
from infraplan.hardware.kernels import KernelRates
from infraplan.serving import decode_kernels
from infraplan.serving.decode_kernels import gemm_rates, mma_dtype

FIT = "{fraction: 0.5, wave_fixed_s: 1.0e-6}"


@pytest.fixture
def w4(tmp_path: Path):  # a B200 listing an int4 peak (A100 / H100-class parts list one), with fits for 3 formats
    path = tmp_path / "w4.yaml"
    path.write_text("extends: b200\npeak_flops_per_s: {tf32: 1125e12, fp16: 2250e12, bf16: 2250e12, fp8: 4500e12, "
                    "mxfp8: 4500e12, int8: 4500e12, int4: 18000e12, fp4: 9000e12, nvfp4: 9000e12, mxfp4: 9000e12}\n"
                    f"efficiency: {{plain_gemm_wave: {{trtllm: {{int4: {FIT}, mxfp4: {FIT}, nvfp4: {FIT}, "
                    f"fp8: {FIT}}}}}}}\n")
    return load_accelerator(str(path))


def _k_loop(acc, dtype: str) -> float:
    return gemm_rates(acc, KernelRates.for_dtype(acc, "bf16"), "trtllm", dtype).wave_flops_per_s


def test_weight_only_int4_runs_its_k_loop_at_the_bf16_peak(w4) -> None:
    assert mma_dtype(w4, "int4", "trtllm") == "bf16"
    assert _k_loop(w4, "int4") == 0.5 * w4.peak("bf16")  # was 0.5 x the int4 peak: 8x faster
    assert _k_loop(w4, "int4") != 0.5 * w4.peak("int4")


def test_native_mxfp4_runs_at_the_eight_bit_rate_and_w4a4_nvfp4_at_its_own(w4) -> None:
    assert mma_dtype(w4, "mxfp4", "trtllm") == "fp8"  # MXFP4 x MXFP8 (`serving_precision`: eight_bit_rate)
    assert _k_loop(w4, "mxfp4") == 0.5 * w4.peak("fp8")  # was the mxfp4 (fp4) peak
    assert _k_loop(w4, "nvfp4") == 0.5 * w4.peak("nvfp4") and _k_loop(w4, "fp8") == 0.5 * w4.peak("fp8")


def test_mxfp4_on_a_part_without_mxfp4_tensor_cores_is_weight_only() -> None:
    h100 = load_accelerator("h100-sxm")
    assert mma_dtype(h100, "mxfp4", "trtllm") == "bf16" and mma_dtype(h100, "int8", "trtllm") == "int8"


def test_every_shipped_fit_is_priced_as_before() -> None:
    """Only nvfp4 fits ship (b200 / b300 / gb200 / gb300, TensorRT-LLM): their rate is the weight dtype's peak
    x the fraction to the bit, so no serving validation row moves."""
    seen = 0
    for name in list_presets("accelerators"):
        acc = load_accelerator(name)
        for engine, fits in (acc.efficiency.plain_gemm_wave or {}).items():
            for dtype, fit in fits.items():
                rates = decode_kernels.gemm_rates(acc, KernelRates.for_dtype(acc, "bf16"), engine, dtype)
                assert rates.wave_flops_per_s == acc.peak(dtype) * fit.fraction, (name, engine, dtype)
                seen += 1
    assert seen >= 4
