"""Kernel and collective formulas priced once per run of equal consecutive inputs (`scalar_path.price_runs`) give
every element the bits of pricing the whole arrays (issue 18: the search's sorted rows repeat most kernels' inputs)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator
from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.hardware.gemm_seconds import gemm_seconds, grouped_gemm_seconds
from infraplan.hardware.kernels import gemm_time, grouped_gemm_time
from infraplan.network.collectives import collective_seconds, collective_time
from infraplan.scalar_path import price_runs


def _runs(rng: np.random.Generator, values: np.ndarray, n: int) -> np.ndarray:
    """n elements in runs of random length (1 to 40) of values drawn from `values`."""
    out: list[float] = []
    while len(out) < n:
        out += [float(rng.choice(values))] * int(rng.integers(1, 41))
    return np.array(out[:n])


def test_runs_are_priced_once_each_with_the_bits_of_the_whole_arrays() -> None:
    rng = np.random.default_rng(18)
    n = 5000
    # signed zeros and NaNs are compared by their bits: 1/x tells -0.0 from 0.0, NaN starts its own run
    x = _runs(rng, np.array([-0.0, 0.0, 1.0, 3.5, np.nan, 1e300]), n)
    y = _runs(rng, np.array([2.0, 7.0]), n)
    seen: list[int] = []

    def formula(a: np.ndarray, b: np.ndarray, c: float) -> np.ndarray:
        seen.append(np.size(a))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.asarray(np.where(b > 3.0, 1.0 / a, a * b * c))

    got = price_runs(formula, x, y, 3.0)
    whole = formula(x, y, 3.0)
    assert got.shape == (n,)
    assert got.tobytes() == whole.tobytes()
    assert seen[0] < n / 5  # the runs, not every element


def test_no_runs_or_small_or_mixed_shapes_price_the_arrays_as_they_are() -> None:
    calls: list[tuple[int, ...]] = []

    def formula(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        calls.append(np.shape(a))
        return np.asarray(a + b)

    distinct = np.arange(4096.0)
    assert price_runs(formula, distinct, 1.0).tobytes() == (distinct + 1.0).tobytes()
    small = np.ones(10)
    price_runs(formula, small, small)
    grid = np.ones((3, 2048))
    assert price_runs(formula, grid, 1.0).shape == (3, 2048)
    assert calls == [(4096,), (10,), (3, 2048)]


@pytest.fixture(scope="module")
def rates() -> KernelRates:
    return KernelRates.for_dtype(load_accelerator("b200"), "bf16")


def test_gemm_times_in_runs_equal_each_element_alone(rates: KernelRates) -> None:
    rng = np.random.default_rng(7)
    n = 3000
    m = _runs(rng, np.array([1.0, 17.0, 512.0, 4096.0, 8192.0, 3000.5]), n)
    k = _runs(rng, np.array([0.0, 1024.0, 7168.0]), n)
    width = _runs(rng, np.array([0.5, 1.0, 2.0]), n)
    rate = width * 1e15
    dense = gemm_time(rates, m, 2048.0, k, width, rate)
    grouped = grouped_gemm_time(rates, m, 2048.0, k, 8.0, width, rate)
    assert [float(t) for t in dense] == [gemm_seconds(rates, a, 2048.0, c, b, r)
                                         for a, c, b, r in zip(m, k, width, rate, strict=True)]
    assert [float(t) for t in grouped] == [grouped_gemm_seconds(rates, a, 2048.0, c, 8.0, b, r)
                                           for a, c, b, r in zip(m, k, width, rate, strict=True)]


@pytest.mark.parametrize("kind", ["all_gather", "reduce_scatter", "all_reduce", "all_to_all"])
def test_collective_times_in_runs_equal_each_group_alone(kind: str) -> None:
    fabric = Cluster.resolve("gb200-nvl72").fabric
    rng = np.random.default_rng(11)
    n = 2000
    size = _runs(rng, np.array([1e3, 5e6, 3e8, 2e9]), n)
    group = _runs(rng, np.array([1.0, 2.0, 8.0, 64.0, 256.0]), n)
    stride = _runs(rng, np.array([1.0, 4.0, 72.0]), n)
    times = collective_time(fabric, kind, size, group, stride)
    assert [float(t) for t in times] == [collective_seconds(fabric, kind, s, g, d)
                                         for s, g, d in zip(size, group, stride, strict=True)]
