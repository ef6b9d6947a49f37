"""Kernel times from shapes: large GEMMs reach the calibrated rate, skinny ones are memory-bound."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.hardware.kernels import KernelRates, attention_time, gemm_time

H100 = load_accelerator("h100-sxm")
RATES = KernelRates.for_dtype(H100, "bf16")


def test_large_square_gemm_runs_near_the_calibrated_rate():
    n = 8192
    t = float(gemm_time(RATES, n, n, n, 2.0))
    achieved = 2 * n**3 / t
    assert achieved == pytest.approx(H100.peak("bf16") * H100.matmul_fraction("bf16"), rel=0.10)
    assert float(gemm_time(RATES, n, n, 2 * n, 2.0)) > t


def test_skinny_gemm_is_memory_bound():
    n = k = 8192
    t = float(gemm_time(RATES, 1, n, k, 2.0))
    weight_read = n * k * 2.0 / RATES.memory_bytes_per_s
    assert t == pytest.approx(weight_read + RATES.kernel_overhead_s, rel=0.01)


def test_wave_quantisation_costs_a_partial_wave():
    # compute-bound shape: 8 full waves of tiles; one more row of tiles needs a ninth wave
    m, n = RATES.tile_m * RATES.compute_units, RATES.tile_n * 8
    eight = float(gemm_time(RATES, m, n, 8192, 2.0)) - RATES.kernel_overhead_s
    nine = float(gemm_time(RATES, m + RATES.tile_m, n, 8192, 2.0)) - RATES.kernel_overhead_s
    assert nine == pytest.approx(eight * 9 / 8, rel=0.01)


def test_empty_gemm_and_attention_cost_nothing():
    assert float(gemm_time(RATES, 0, 128, 128, 2.0)) == 0
    assert float(attention_time(RATES, 0.0, 1)) == 0


def test_attention_occupancy_penalises_a_partial_wave():
    flops = 1e12
    full = float(attention_time(RATES, flops, RATES.compute_units))
    partial = float(attention_time(RATES, flops, RATES.compute_units + 1))
    assert partial > 1.9 * (full - RATES.kernel_overhead_s)
