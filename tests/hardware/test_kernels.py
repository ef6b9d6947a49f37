"""Kernel time models: GEMM roofline with tiles and waves, fused attention occupancy, memory-bound kernels."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator
from infraplan.hardware import KernelRates, attention_time, gemm_time, memory_bound_time


@pytest.fixture(scope="module")
def h100() -> KernelRates:
    return KernelRates.for_dtype(load_accelerator("h100-sxm"), "bf16")


@pytest.fixture(scope="module")
def h100_spec():
    return load_accelerator("h100-sxm")


def _flops(m, n, k) -> float:
    return 2.0 * m * n * k


def test_rates_come_from_the_catalog(h100: KernelRates, h100_spec) -> None:
    eff = h100_spec.efficiency
    assert h100.matmul_flops_per_s == pytest.approx(989e12 * eff.matmul_max_fraction["bf16"])
    assert h100.memory_bytes_per_s == pytest.approx(3.35e12 * eff.memory_bandwidth_fraction)
    assert h100.compute_units == eff.compute_units
    fp8 = KernelRates.for_dtype(h100_spec, "fp8")
    assert fp8.matmul_flops_per_s > h100.matmul_flops_per_s


@pytest.mark.parametrize(("small", "big"), [
    ((4096, 4096, 4096), (8192, 4096, 4096)),
    ((4096, 4096, 4096), (4096, 8192, 4096)),
    ((4096, 4096, 4096), (4096, 4096, 8192)),
    ((1, 4096, 4096), (1, 4096, 8192)),
    ((1, 4096, 4096), (1, 8192, 4096)),
    ((128, 128, 128), (8192, 8192, 8192)),
])
def test_bigger_gemm_takes_longer(h100: KernelRates, small, big) -> None:
    assert gemm_time(h100, *big, 2.0) > gemm_time(h100, *small, 2.0)


def test_gemm_time_is_monotone_in_every_dimension(h100: KernelRates) -> None:
    sizes = np.array([1, 7, 16, 100, 128, 129, 1000, 4096, 5000, 16384], dtype=np.float64)
    for axis in range(3):
        dims = [np.full_like(sizes, 2048.0) for _ in range(3)]
        dims[axis] = sizes
        t = gemm_time(h100, *dims, 2.0)
        assert np.all(np.diff(t) >= 0.0), axis


def test_large_square_gemm_runs_near_the_measured_matmul_rate(h100: KernelRates, h100_spec) -> None:
    n = 8192
    t = float(gemm_time(h100, n, n, n, 2.0))
    achieved = _flops(n, n, n) / t
    ceiling = h100_spec.peak("bf16") * h100_spec.matmul_fraction("bf16")
    assert achieved <= ceiling
    assert achieved == pytest.approx(ceiling, rel=0.10)


def test_skinny_gemm_is_memory_bound(h100: KernelRates) -> None:
    """A matrix-vector product (m=1) reads the whole weight matrix once: time = bytes / bandwidth."""
    n = k = 16384
    t = float(gemm_time(h100, 1, n, k, 2.0))
    bytes_moved = (1 * k + k * n + 1 * n) * 2.0
    assert t - h100.kernel_overhead_s == pytest.approx(bytes_moved / h100.memory_bytes_per_s, rel=1e-9)
    assert t == pytest.approx(bytes_moved / h100.memory_bytes_per_s, rel=0.05)
    # far below the matmul rate
    assert _flops(1, n, k) / t < 0.01 * h100.matmul_flops_per_s
    # halving the operand width halves the time (fp8 weights)
    t8 = float(gemm_time(h100, 1, n, k, 1.0))
    assert t8 - h100.kernel_overhead_s == pytest.approx((t - h100.kernel_overhead_s) / 2, rel=1e-9)


def test_wave_quantisation_one_extra_tile_costs_a_whole_wave(h100: KernelRates) -> None:
    cu = h100.compute_units
    assert cu == 132  # 12 x 11 tiles fill one wave exactly; 7 x 19 = 133 tiles need two
    k = 16384
    one_wave = float(gemm_time(h100, 12 * h100.tile_m, 11 * h100.tile_n, k, 2.0))
    two_waves = float(gemm_time(h100, 7 * h100.tile_m, 19 * h100.tile_n, k, 2.0))
    assert cu + 1 == 7 * 19
    ratio = (two_waves - h100.kernel_overhead_s) / (one_wave - h100.kernel_overhead_s)
    assert ratio == pytest.approx(2.0, rel=0.02)
    # while the useful work grew by only 1/132
    assert _flops(7, 19, 1) / _flops(12, 11, 1) == pytest.approx(133 / 132)


def test_partial_tiles_are_padded(h100: KernelRates) -> None:
    """12 x 11 tiles fill one wave; one more row (M = 1537) pads to a 13th row tile, i.e. a second wave,
    and costs as much as M = 1664 (13 full row tiles)."""
    k = 16384
    n = 11 * h100.tile_n
    t_full = float(gemm_time(h100, 12 * h100.tile_m, n, k, 2.0))
    t_one_more = float(gemm_time(h100, 12 * h100.tile_m + 1, n, k, 2.0))
    t_padded = float(gemm_time(h100, 13 * h100.tile_m, n, k, 2.0))
    assert t_one_more == pytest.approx(t_padded, rel=1e-12)
    assert t_one_more > 1.5 * t_full


@pytest.mark.parametrize("shape", [(0, 4096, 4096), (4096, 0, 4096), (4096, 4096, 0), (0, 0, 0)])
def test_zero_sized_gemm_costs_nothing(h100: KernelRates, shape) -> None:
    assert float(gemm_time(h100, *shape, 2.0)) == 0.0


def test_gemm_is_vectorised_and_accepts_a_rate_per_element(h100: KernelRates) -> None:
    m = np.array([1.0, 4096.0, 8192.0])
    t = gemm_time(h100, m, 4096, 4096, 2.0)
    assert t.shape == (3,)
    for i, mi in enumerate(m):
        assert t[i] == float(gemm_time(h100, mi, 4096, 4096, 2.0))
    rates = np.array([h100.matmul_flops_per_s, 2.0 * h100.matmul_flops_per_s])
    both = gemm_time(h100, 8192, 8192, 8192, 2.0, rates)
    assert both[1] < both[0]  # compute-bound: the faster rate shows


def test_attention_time_full_occupancy_runs_at_the_attention_rate(h100: KernelRates) -> None:
    flops = 1e13
    t = float(attention_time(h100, flops, h100.compute_units))
    assert t - h100.kernel_overhead_s == pytest.approx(flops / h100.attention_flops_per_s, rel=1e-12)
    # any whole number of waves is fully occupied
    t4 = float(attention_time(h100, flops, 4 * h100.compute_units))
    assert t4 == pytest.approx(t, rel=1e-12)


def test_attention_time_respects_occupancy(h100: KernelRates) -> None:
    flops = 1e13
    cu = h100.compute_units
    full = float(attention_time(h100, flops, cu)) - h100.kernel_overhead_s
    half = float(attention_time(h100, flops, cu // 2)) - h100.kernel_overhead_s
    one_more = float(attention_time(h100, flops, cu + 1)) - h100.kernel_overhead_s
    single = float(attention_time(h100, flops, 1)) - h100.kernel_overhead_s
    assert half == pytest.approx(2.0 * full, rel=1e-9)
    assert one_more == pytest.approx(full * 2 * cu / (cu + 1), rel=1e-9)
    assert single == pytest.approx(cu * full, rel=1e-9)
    # more programs never lower occupancy below what fewer whole waves give
    units = np.arange(1, 4 * cu + 1)
    t = attention_time(h100, flops, units)
    assert np.all(t >= full + h100.kernel_overhead_s - 1e-15)


def test_attention_kernel_overhead_and_zero(h100: KernelRates) -> None:
    assert float(attention_time(h100, 0.0, 100)) == 0.0
    one = float(attention_time(h100, 1e9, h100.compute_units, kernels=1))
    three = float(attention_time(h100, 1e9, h100.compute_units, kernels=3))
    assert three - one == pytest.approx(2 * h100.kernel_overhead_s)


def test_memory_bound_time(h100: KernelRates) -> None:
    assert float(memory_bound_time(h100, 0.0)) == 0.0
    t = float(memory_bound_time(h100, 1e9, kernels=2))
    assert t == pytest.approx(1e9 / h100.memory_bytes_per_s + 2 * h100.kernel_overhead_s)
    assert float(memory_bound_time(h100, 2e9)) > float(memory_bound_time(h100, 1e9))
