"""Kernel times on one accelerator, vectorised over numpy arrays of shapes.

GEMM (M x K) @ (K x N):
    tiles     = ceil(M / tile_m) * ceil(N / tile_n)         # tile_m shrinks (>= 16) for skinny M
    waves     = ceil(tiles / compute_units)            # wave quantisation
    t_compute = waves * compute_units * tile_m * tile_n * 2K / (peak * matmul_max_fraction)
    t_memory  = (MK + KN + MN) * bytes / (bandwidth * memory_bandwidth_fraction)
    t         = max(t_compute, t_memory) + kernel_overhead_s
The tile padding and the partial last wave are why small or odd-shaped GEMMs run below the measured
large-GEMM rate (MAMF); the overhead term is why tiny GEMMs do. Every parameter is catalog data
(`Accelerator.efficiency`), so calibrating means editing a YAML file.

Fused attention (FlashAttention-style) runs at `attention_max_fraction` of the bf16 peak and never
materialises the s x s score matrix. Element-wise kernels are memory-bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infraplan.catalog.schemas import Accelerator

ArrayLike = np.ndarray | float | int


@dataclass(frozen=True)
class KernelRates:
    """The scalars of one accelerator that kernel times need, resolved for one dtype."""

    matmul_flops_per_s: float  # peak * matmul_max_fraction for the GEMM dtype
    attention_flops_per_s: float
    memory_bytes_per_s: float
    compute_units: int
    tile_m: int
    tile_n: int
    kernel_overhead_s: float

    @classmethod
    def for_dtype(cls, accelerator: Accelerator, dtype: str) -> KernelRates:
        eff = accelerator.efficiency
        return cls(
            matmul_flops_per_s=accelerator.peak(dtype) * accelerator.matmul_fraction(dtype),
            attention_flops_per_s=accelerator.peak("bf16") * eff.attention_max_fraction,
            memory_bytes_per_s=accelerator.memory_bandwidth_bytes_per_s * eff.memory_bandwidth_fraction,
            compute_units=eff.compute_units,
            tile_m=eff.matmul_tile_m,
            tile_n=eff.matmul_tile_n,
            kernel_overhead_s=eff.kernel_overhead_s,
        )


def gemm_time(
    rates: KernelRates,
    m: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    bytes_per_element: ArrayLike,
    matmul_flops_per_s: ArrayLike | None = None,
) -> np.ndarray:
    """Seconds for one (m x k) @ (k x n) GEMM; zero-sized GEMMs cost nothing.

    `matmul_flops_per_s` overrides the rate per element (plans mixing bf16 and fp8 in one array).
    """
    m, n, k = np.asarray(m, dtype=np.float64), np.asarray(n, dtype=np.float64), np.asarray(k, dtype=np.float64)
    # libraries pick a narrower tile for skinny GEMMs (decode, small batches): pad M to a power of two >= 16
    # (np.clip spelled as minimum(maximum()): the same values without the wrapper's per-call cost)
    tile_m = np.minimum(np.maximum(2.0 ** np.ceil(np.log2(np.maximum(m, 1.0))), 16.0), rates.tile_m)
    tiles = np.ceil(m / tile_m) * np.ceil(n / rates.tile_n)
    waves = np.ceil(tiles / rates.compute_units)
    padded_flops = waves * rates.compute_units * tile_m * rates.tile_n * 2.0 * k
    rate = rates.matmul_flops_per_s if matmul_flops_per_s is None else matmul_flops_per_s
    t_compute = padded_flops / rate
    t_memory = (m * k + k * n + m * n) * bytes_per_element / rates.memory_bytes_per_s
    t = np.maximum(t_compute, t_memory) + rates.kernel_overhead_s
    return np.where(m * n * k > 0, t, 0.0)


def grouped_gemm_time(
    rates: KernelRates,
    m: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    groups: ArrayLike,
    bytes_per_element: ArrayLike,
    matmul_flops_per_s: ArrayLike | None = None,
) -> np.ndarray:
    """Seconds for one grouped GEMM: `groups` problems (m x k) @ (k x n) in one kernel (MoE experts).

    A grouped kernel (CUTLASS grouped GEMM; DeepGEMM's contiguous layout, which pads every expert's token
    segment to the M block size) schedules the tiles of all problems over the SMs together: each problem's M
    is padded to its tile (small per-expert token counts waste the padding), the waves count all groups' tiles
    at once, every group's weights are read (the roofline bound at small M), and one launch is paid.
    """
    m, n, k, g = (np.asarray(x, dtype=np.float64) for x in (m, n, k, groups))
    tile_m = np.clip(2.0 ** np.ceil(np.log2(np.maximum(m, 1.0))), 16.0, rates.tile_m)
    tiles = g * np.ceil(m / tile_m) * np.ceil(n / rates.tile_n)
    waves = np.ceil(tiles / rates.compute_units)
    rate = rates.matmul_flops_per_s if matmul_flops_per_s is None else matmul_flops_per_s
    t_compute = waves * rates.compute_units * tile_m * rates.tile_n * 2.0 * k / rate
    t_memory = g * (m * k + k * n + m * n) * bytes_per_element / rates.memory_bytes_per_s
    t = np.maximum(t_compute, t_memory) + rates.kernel_overhead_s
    return np.where(m * n * k * g > 0, t, 0.0)


def attention_time(rates: KernelRates, flops: ArrayLike, work_units: ArrayLike, kernels: ArrayLike = 1) -> np.ndarray:
    """Seconds for fused attention doing `flops` of score and value matmuls.

    `work_units` is the number of (batch, head, 128-query block) programs the kernel launches; a partial
    last wave over `compute_units` idles the rest of the chip, as for GEMM tiles.
    """
    flops = np.asarray(flops, dtype=np.float64)
    units = np.maximum(np.asarray(work_units, dtype=np.float64), 1.0)
    occupancy = units / (np.ceil(units / rates.compute_units) * rates.compute_units)
    t = flops / (rates.attention_flops_per_s * occupancy) + kernels * rates.kernel_overhead_s
    return np.where(flops > 0, t, 0.0)


def memory_bound_time(rates: KernelRates, bytes_moved: ArrayLike, kernels: ArrayLike = 1) -> np.ndarray:
    """Seconds for element-wise kernels that move `bytes_moved` through memory in `kernels` launches."""
    bytes_moved = np.asarray(bytes_moved, dtype=np.float64)
    return np.where(bytes_moved > 0, bytes_moved / rates.memory_bytes_per_s + kernels * rates.kernel_overhead_s, 0.0)
