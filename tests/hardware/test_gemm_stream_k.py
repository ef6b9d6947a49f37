"""Stream-K plain GEMMs (`KernelEfficiency.matmul_stream_k`, `hardware.kernels`): the tiles' K work balanced over the
SMs, measured against NVIDIA AIConfigurator 0.12.0's B200 tables (hB86, session 50; built, set on no part yet).

Hand counts on a made-up part, the measured B200 bf16 GEMMs at medium M (AIConfigurator 0.12.0
systems/data/b200_sxm/gemm/trtllm/1.3.0rc20/gemm_perf.parquet, TensorRT-LLM's Linear, latency in us to 0.01; the
table behind validation/calibration/aic_stream_k.py) and the catalog field's path to the rates."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_accelerator
from infraplan.hardware.gemm_seconds import gemm_fwd_bwd_seconds, gemm_seconds
from infraplan.hardware.kernels import KernelRates, gemm_time
from infraplan.serving.decode_kernels import gemm_rates
from infraplan.serving.format_precision import serving_precision

# 4 units, 1 TFLOP/s, 1 GB/s, no launch cost: every term of the rule countable by hand
TOY = KernelRates(matmul_flops_per_s=1e12, attention_flops_per_s=1e12, memory_bytes_per_s=1e9, compute_units=4,
                  tile_m=128, tile_n=128, kernel_overhead_s=0.0, stream_k=True)
TILE_FLOPS_PER_K = 128 * 128 * 2.0

# (M, N, K): AIC's B200 bf16 latency in us (module docstring)
B200_BF16_US = {
    (128, 2048, 7168): 11.10, (256, 2048, 7168): 11.42, (512, 2048, 7168): 16.21, (256, 7168, 16384): 51.72,
    (512, 7168, 16384): 90.09, (1024, 7168, 16384): 165.14, (256, 10240, 8192): 37.49, (512, 10240, 8192): 60.51,
    (512, 6144, 4096): 21.31, (1024, 1536, 7168): 18.14, (8192, 8192, 8192): 737.15,
}


def test_a_partial_last_wave_is_spread_over_the_units() -> None:
    # 5 tiles on 4 units: whole waves price 2 waves of 4 tiles (8 tile-times), stream-K 5 / 4 of one
    m, n, k = 128.0, 640.0, 4096.0
    fast = dataclasses.replace(TOY, memory_bytes_per_s=1e30)
    balanced = gemm_seconds(fast, m, n, k, 2.0, fast.matmul_flops_per_s)
    whole = gemm_seconds(dataclasses.replace(fast, stream_k=False), m, n, k, 2.0, fast.matmul_flops_per_s)
    assert balanced == pytest.approx(5 * TILE_FLOPS_PER_K * k / 1e12, rel=1e-12)
    assert whole == pytest.approx(8 * TILE_FLOPS_PER_K * k / 1e12, rel=1e-12)


def test_a_single_tile_splits_k_over_the_units_and_pays_its_partial_sums() -> None:
    # one 128 x 128 tile, K 4,096 on 4 units (a unit at 1 / 4 of the rate): 4 chunks of 1,024 (134 us, unsplit
    # 537 us); at 10 GB/s the operands (213 us) and 3 splits' fp32 partial sums (8 B each) of 128 x 128 (39 us) bind
    m, n, k = 128.0, 128.0, 4096.0
    rates = dataclasses.replace(TOY, memory_bytes_per_s=1e10)
    compute = 1024 * 4 * TILE_FLOPS_PER_K / 1e12
    memory = ((m * k + k * n + m * n) * 2.0 + 3 * 8.0 * m * n) / 1e10
    assert compute < memory < k * 4 * TILE_FLOPS_PER_K / 1e12
    assert gemm_seconds(rates, m, n, k, 2.0, 1e12) == pytest.approx(memory, rel=1e-12)
    fast = dataclasses.replace(TOY, memory_bytes_per_s=1e30)
    assert gemm_seconds(fast, m, n, k, 2.0, 1e12) == pytest.approx(compute, rel=1e-12)


def test_a_memory_bound_gemm_is_not_split() -> None:
    # at 1 GB/s the operands alone (2.1 ms) outlast the unsplit tile (537 us): splitting would only add partial sums
    m, n, k = 128.0, 128.0, 4096.0
    assert gemm_seconds(TOY, m, n, k, 2.0, 1e12) == pytest.approx((m * k + k * n + m * n) * 2.0 / 1e9, rel=1e-12)


def test_a_chunk_is_never_shallower_than_the_minimum_depth() -> None:
    # K 1,024 on 4 units: a 256-deep quarter is below 512, so 2 chunks of 512 (2 units idle, 67 us against the
    # unsplit 134), one split's partial sums; at 8 GB/s the operands (70 us) + partial sums (16 us) bind
    m, n, k = 128.0, 128.0, 1024.0
    fast = dataclasses.replace(TOY, memory_bytes_per_s=1e30)
    assert gemm_seconds(fast, m, n, k, 2.0, 1e12) == pytest.approx(512 * 4 * TILE_FLOPS_PER_K / 1e12, rel=1e-12)
    rates = dataclasses.replace(TOY, memory_bytes_per_s=8e9)
    operands = (m * k + k * n + m * n) * 2.0 / 8e9
    assert gemm_seconds(rates, m, n, k, 2.0, 1e12) - operands == pytest.approx(8.0 * m * n / 8e9, rel=1e-9)


def test_the_array_path_prices_stream_k_as_the_float_paths() -> None:
    # bit for bit (tests/hardware/test_kernel_fast_path.py's rule), on B200's stream-K rates
    b200 = dataclasses.replace(KernelRates.for_dtype(load_accelerator("b200"), "bf16"), stream_k=True)
    rng = np.random.default_rng(86)
    m = np.concatenate([rng.integers(1, 9000, 300).astype(float), rng.uniform(0.1, 300.0, 50), [0.0]])
    n = rng.choice([128.0, 384.0, 2048.0, 7168.0, 9000.0, 16384.0], m.size)
    k = rng.choice([0.0, 256.0, 511.0, 512.0, 1024.0, 2880.0, 7168.0, 40000.0], m.size)
    width = rng.choice([1.0, 2.0], m.size)
    array = gemm_time(b200, m, n, k, width)
    for i in range(m.size):
        args = (float(m[i]), float(n[i]), float(k[i]), float(width[i]), b200.matmul_flops_per_s)
        assert gemm_time(b200, m[i:i + 1], n[i], k[i], width[i])[0] == array[i]
        assert gemm_seconds(b200, *args) == array[i]
        assert gemm_fwd_bwd_seconds(b200, *args)[0] == array[i]
    assert array[-1] == 0.0 and np.all(array[k == 0.0] == 0.0)
    assert np.all(gemm_time(dataclasses.replace(b200, stream_k=False), m, n, k, width) >= array)


def _b200_bf16(stream_k: bool) -> np.ndarray:
    b200 = load_accelerator("b200")
    precision = serving_precision(b200, "bf16", None)
    rates = dataclasses.replace(gemm_rates(b200, KernelRates.for_dtype(b200, "bf16"), "trtllm", "bf16"),
                                stream_k=stream_k)
    return np.array([float(gemm_time(rates, m, n, k, 2.0, precision.rate)) / (us * 1e-6)
                     for (m, n, k), us in B200_BF16_US.items()])


def test_b200_bf16_gemms_at_medium_m_run_at_the_measured_rate() -> None:
    # whole waves of full-K tiles: 1.18-2.6x the table at M 128-1,024; balanced: within 20 % at every shape, and
    # the medium-M shapes no further from the table than the M = 8,192 one (the catalog's lent-H100 basis, ~1.1x)
    balanced, whole = _b200_bf16(True), _b200_bf16(False)
    assert np.all(np.abs(balanced - 1.0) < 0.20), balanced
    assert np.mean(np.abs(balanced - 1.0)) < 0.12
    assert np.median(whole[:-1]) > 1.4
    assert np.all(balanced[:-1] < balanced[-1] + 0.08)


def test_the_catalog_field_reaches_the_rates() -> None:
    # a part file setting `matmul_stream_k` prices its GEMMs balanced (the field is data; no preset sets it yet)
    b200 = load_accelerator("b200")
    balanced = b200.model_copy(update={"efficiency": b200.efficiency.model_copy(update={"matmul_stream_k": True})})
    on, off = KernelRates.for_dtype(balanced, "bf16"), KernelRates.for_dtype(b200, "bf16")
    assert on.stream_k and not off.stream_k
    # 10,240 x 8,192 at 256 rows: 160 tiles on 148 SMs, 2 whole waves against 160 / 148 of one
    assert float(gemm_time(on, 256.0, 10240.0, 8192.0, 2.0)) < 0.6 * float(gemm_time(off, 256.0, 10240.0, 8192.0, 2.0))
