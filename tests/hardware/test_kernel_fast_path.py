"""The one-element (Python float) path of the kernel times equals the array path bit for bit (issue 18)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_accelerator
from infraplan.hardware import KernelRates, kernels
from infraplan.hardware.gemm_seconds import gemm_fwd_bwd_seconds, gemm_seconds, grouped_gemm_seconds
from infraplan.hardware.kernels import (
    attention_seconds,
    attention_time,
    gemm_time,
    grouped_gemm_time,
    memory_bound_seconds,
    memory_bound_time,
    one_element,
)


@pytest.fixture(scope="module", params=["h100-sxm", "b200"])
def rates(request: pytest.FixtureRequest) -> KernelRates:
    return KernelRates.for_dtype(load_accelerator(request.param), "bf16")


def _dims(rng: np.random.Generator, size: int) -> np.ndarray:
    """GEMM dimensions: integers, fractions (MoE tokens per expert), zeros, and powers of two and their neighbours."""
    powers = 2.0 ** rng.integers(0, 20, size)
    return np.concatenate([rng.integers(0, 70000, size).astype(float), rng.uniform(0.0, 5000.0, size),
                           powers, powers + 1.0, powers - 0.5, np.zeros(3)])


def _each(values: np.ndarray) -> list[np.ndarray]:
    return [np.array([v]) for v in values]


def test_gemm_fast_path_is_bit_identical(rates: KernelRates) -> None:
    rng = np.random.default_rng(18)
    m = _dims(rng, 400)
    n, k = rng.permutation(_dims(rng, 400)), rng.permutation(_dims(rng, 400))
    width = rng.choice([0.5, 1.0, 2.0], m.size)
    rate = rng.choice([rates.matmul_flops_per_s, 2 * rates.matmul_flops_per_s], m.size)
    groups = rng.integers(1, 300, m.size).astype(float)
    array = gemm_time(rates, m, n, k, width, rate)
    grouped = grouped_gemm_time(rates, m, n, k, groups, width, rate)
    assert np.count_nonzero(array) > m.size // 2
    for i, (a, b, c) in enumerate(zip(_each(m), _each(n), _each(k), strict=True)):
        one = gemm_time(rates, a, b, c, width[i], rate[i])
        assert one.shape == (1,) and one[0] == array[i], (m[i], n[i], k[i])
        assert grouped_gemm_time(rates, a, b, c, groups[i], width[i], rate[i])[0] == grouped[i]
        # the float entries of the one-plan path: plain numbers in, the same bits out as a float
        plain = (float(m[i]), float(n[i]), float(k[i]))
        seconds = gemm_seconds(rates, *plain, float(width[i]), float(rate[i]))
        assert type(seconds) is float and seconds == array[i]
        assert grouped_gemm_seconds(rates, *plain, float(groups[i]), float(width[i]), float(rate[i])) == grouped[i]
    # plain numbers give a 0-d array, as the array path does
    assert gemm_time(rates, float(m[0]), float(n[0]), float(k[0]), 2.0).shape == ()
    assert float(gemm_time(rates, 4096, 4096, 4096, 2)) == float(gemm_time(rates, np.full(2, 4096.0), 4096, 4096, 2)[0])


def test_attention_and_memory_bound_fast_paths_are_bit_identical(rates: KernelRates) -> None:
    rng = np.random.default_rng(7)
    flops = np.concatenate([rng.uniform(0.0, 1e14, 500), np.zeros(2)])
    units = rng.integers(0, 5000, flops.size).astype(float)
    kernels = rng.integers(1, 4, flops.size).astype(float)
    attention = attention_time(rates, flops, units, kernels)
    memory = memory_bound_time(rates, flops / 100.0, kernels)
    for i in range(flops.size):
        assert attention_time(rates, flops[i:i + 1], units[i:i + 1], kernels[i])[0] == attention[i]
        assert memory_bound_time(rates, flops[i:i + 1] / 100.0, kernels[i:i + 1])[0] == memory[i]
        assert attention_seconds(rates, float(flops[i]), float(units[i]), float(kernels[i])) == attention[i]
        assert memory_bound_seconds(rates, float(flops[i]) / 100.0, int(kernels[i])) == memory[i]


def test_one_element_takes_only_single_values() -> None:
    assert one_element(np.array([[3]]), 2, np.float64(1.5)) == ([3.0, 2.0, 1.5], 2)
    assert one_element(np.array([1.0, 2.0]), 1.0) is None
    assert one_element([1.0], 1.0) is None  # lists go through numpy


def test_split_k_gemms_are_bit_identical_on_both_paths(rates: KernelRates, monkeypatch: pytest.MonkeyPatch) -> None:
    """Few-tile GEMMs (decode batches, experts' few tokens) that split K: the float paths give the array's bits."""
    rates = dataclasses.replace(rates, stream_k=False)  # SPLIT_K's branch (a stream-K part balances its tiles first)
    monkeypatch.setattr(kernels, "SPLIT_K", True)
    rng = np.random.default_rng(47)
    m = np.concatenate([rng.integers(1, 600, 300).astype(float), rng.uniform(0.1, 300.0, 100)])
    n = rng.choice([128.0, 384.0, 1536.0, 2048.0, 4096.0, 6144.0, 8448.0, 9000.0], m.size)
    k = rng.choice([256.0, 511.0, 512.0, 1024.0, 1536.0, 2880.0, 7168.0, 14336.0, 40000.0], m.size)
    width = rng.choice([1.0, 2.0], m.size)
    array = gemm_time(rates, m, n, k, width)
    for i in range(m.size):
        assert gemm_time(rates, m[i:i + 1], n[i], k[i], width[i])[0] == array[i]
        assert gemm_seconds(rates, float(m[i]), float(n[i]), float(k[i]), float(width[i]),
                            rates.matmul_flops_per_s) == array[i]
        fwd, _ = gemm_fwd_bwd_seconds(rates, float(m[i]), float(n[i]), float(k[i]), float(width[i]),
                                      rates.matmul_flops_per_s)
        assert fwd == array[i]
    monkeypatch.setattr(kernels, "SPLIT_K", False)
    whole = gemm_time(rates, m, n, k, width)
    assert np.count_nonzero(whole > array) > m.size // 3  # most of them split (and run faster split)
    assert np.all(whole >= array)
