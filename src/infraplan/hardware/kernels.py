"""Kernel times on one accelerator, vectorised over numpy arrays of shapes.

GEMM (M x K) @ (K x N):
    tiles     = ceil(M / tile_m) * ceil(N / tile_n)         # tile_m shrinks (>= 16) for skinny M
    waves     = ceil(tiles / compute_units)            # wave quantisation
    t_compute = waves * compute_units * tile_m * tile_n * 2K / (peak * matmul_max_fraction)
    t_memory  = (MK + KN + MN) * bytes / (bandwidth * memory_bandwidth_fraction)
    t         = max(t_compute, t_memory) + kernel_overhead_s
Tile padding and the partial last wave are why small or odd-shaped GEMMs run below the measured large-GEMM rate
(MAMF); the overhead why tiny ones do. Every parameter is catalog data (`Accelerator.efficiency`).

Split-K (`SPLIT_K`, built, off; Osama et al. 2023, "Stream-K", arXiv:2301.03598, sec. 3-4; CUTLASS 4.2's sm90
stream-K scheduler, gemm/kernel/tile_scheduler_params.h:1066-1139): with fewer tiles than half the SMs K is split in
    splits    = max(1, min(floor(compute_units / tiles), floor(K / SPLIT_K_MIN_DEPTH)))
chunks (one wave of tiles x splits pieces), each split past the first writing fp32 partial sums read back: t_memory
gains (splits - 1) x 8 bytes x M x N (`PARTIAL_SUM_BYTES`); the time is the smaller of split and unsplit. From half
the SMs' tiles up, one full-K tile per SM (tile_scheduler_params.h:1099-1105). cuBLAS 13 on a lent H200 (src/
infraplan/validation/data/h200_splitk_probe.json, benchmarks/gpu/gpu_splitk_probe.py) splits where K >= 8,192 and
runs 64 x 64 tiles at K <= 4,096; measured against the model (us, off -> on): Qwen3-30B's expert 128 x 1,536 x 2,048
6.6 (16.8 -> 7.2), DeepSeek-V3's 128 x 4,096 x 7,168 22.6 (48.8 -> 21.6), Mixtral's down 128 x 4,096 x 14,336 38.8
(93.6 -> 35.9); Llama 3 8B's decode chain at M = 64-256 from +5-35 % to within 4 % on H100 and H200 but M = 128 on
H200 (-21 %: cuBLAS's 448 x 64 "coopB" kernel; tests/serving/test_llm_iteration.py,
tests/hardware/test_gemm_h200_measured.py).
Stream-K (`KernelEfficiency.matmul_stream_k`; built, set on no part): the tiles' K work balanced over the SMs, a
chunk never shallower than SPLIT_K_MIN_DEPTH: per_unit = max(tiles x K / units, min(K, 512)), t_compute = per_unit x
units x tile_m x tile_n x 2 / rate, plus the partial sums of K / per_unit - 1 splits where tiles < units (Osama et
al. sec. 4's hybrid); the smaller of that and whole waves. Against AIConfigurator 0.12.0's gemm/trtllm/1.3.0rc20
bf16 / fp8 tables (validation/calibration/aic_stream_k.py) whole waves put B200 bf16 at 1.41-1.50x the table at M
65-512, stream-K 0.96-1.14x (H100 / H200 alike); on the Blackwell parts with refitted fractions: Blackwell set 20.72
-> 20.69 %, frontier training 9.17 -> 9.07, MLPerf v5.1 24.37 -> 24.93 (validation/notes/serving_blackwell_tried.md,
round 11): not adopted. Grouped GEMMs (`grouped_gemm_time`) are not split: CUTLASS's grouped scheduler
(sm90_tile_scheduler_group.hpp) walks the groups' tiles persistently with no K decomposition.

Fused attention (FlashAttention-style) runs at `attention_max_fraction` of the bf16 peak at head dimension 128
(`ATTENTION_REFERENCE_HEAD_DIM`, where the catalog's figures were measured) and never materialises the s x s score
matrix. Per score a fused kernel does 4 d matmul FLOPs forward (QK^T, PV; 10 d backward) on the tensor cores and
one exponential each pass (softmax forward; P recomputed backward) on the special-function units (MUFU), whose
rate does not scale with d: FlashAttention-3 (Shah et al. 2024, arXiv:2407.08608, sec. 1/3): H100 SXM5 989
TFLOP/s of bf16 matmul but 3.9 T exponentials/s. The time per score is the sum of the two (NVIDIA AIConfigurator
0.12.0's context-FMHA tables on H100 / H200, FA3 and TensorRT-LLM, bf16, causal, isl 4,096-16,384: per-score
time = a d + b over d = 64 / 128 gives b = 1 / (3.9-4.1 T/s), the sourced exp rate: the exponentials do not hide
behind the matmuls; a max() of the two would leave d = 64 at the d = 128 rate, against the tables' 0.78-0.81), so
at head dim d the catalog rate's time gains (1 - d / 128) / `attention_exp_per_s` per exponential (`exp_seconds`):
slower below 128 (GPT-OSS's 64), faster above (MLA's (192 + 128) / 2 = 160: x1.05-1.10, the tables' TensorRT-LLM
context MLA over its d = 128 MHA 1.09), unchanged at 128; accelerators with no sourced exp rate keep one rate for
every d. Blackwell (B200 / GB200) keeps Hopper's 16 exp2 per clock per SM at its SM count and clock; there the
tables' b is 1 / (3.0-3.9 T/s), 0.7-0.8 of that, so its d = 64 attention stays faster than measured (rate(64) /
rate(128): 0.69-0.70 against 0.60-0.64; catalog `source`). Element-wise kernels are memory-bound.

Per-wave fixed time (`WAVE_FIXED`, on; hW53: MLPerf v5.1 24.37 -> 23.78): AIConfigurator 0.12.0's TensorRT-LLM 1.3.0rc20
nvfp4 Linear (b200 / gb200 / b300 / gb300 gemm_perf.parquet, M, N, K 1,024-16,384, the cast removed) is not one
fraction of peak: whole waves at B200's median put it at 0.77 / 0.90 / 1.01 / 1.15 / 1.22 of the table at K = 1,024
/ 2,048 / 4,096 / 8,192 / 16,384 (vLLM's, SGLang's nvfp4 alike; not bf16 / fp8). A wave pays a fixed time besides
its short fp4 K loop: t_compute = waves x (units x tile FLOPs / wave_flops_per_s + wave_fixed_s x tile_m / widest
tile) (catalog `plain_gemm_wave`; validation/calibration/aic_nvfp4_wave_fixed.py): B200 mean |error| 13.2 -> 7.5 %.

Speed (issue 18): each formula is written once against a small math namespace (`_NUMPY` or `_FLOATS`); a single
estimate runs it on Python floats with the same IEEE operations in the same order (`np.log2` for the logarithm),
bit-identical to the array path (tests/hardware/test_kernel_fast_path.py); the GEMMs' `*_seconds` entries, which
take and return Python floats, are `hardware.gemm_seconds`. Long 1-D arrays run the GEMM formulas once per run of
equal consecutive inputs (`scalar_path.price_runs`; `training.row_memo.RUN_ORDER`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from infraplan import scalar_path
from infraplan.catalog.kernel_fits import AttentionKernel
from infraplan.catalog.schemas import Accelerator

ArrayLike = np.ndarray | float | int

# The head dimension at which the catalog's `attention_max_fraction` figures were measured (h100-sxm.yaml: PyTorch
# SDPA d = 128; the Blackwell files: AIConfigurator's head_dim-128 context FMHA): the exponential term is relative
# to it (module docstring).
ATTENTION_REFERENCE_HEAD_DIM = 128.0
HEAD_DIM_EXPONENTIALS = True  # price the exponentials' share by head dimension (False: one rate for every d)
# Split-K (module docstring): fewer output tiles than half the SMs split K, a chunk >= 8 K-tiles of 64 (CUTLASS 4.2
# tile_scheduler_params.h:467 `min_iters_per_sk_unit_ = 8`; 64 cuBLAS's sm90 bf16 K depth, validation/data/
# h200_splitk_probe.json); fp32 partial sums written once and read back (4 + 4 bytes per element and split).
# Off (hK47): on, the decode steps shorten where the model was already short: MoE 14.91 -> 15.04 % (over its gate),
# MLPerf v5.1 24.57 -> 27.01 %, ten tests move (validation/notes/training_sets_tried.md, hK47 / hK51); the engines'
# small-M GEMMs agree with it (AIConfigurator 0.12.0 H100 / H200 / B200, 8 <= M <= 256, mean |error| off -> on: bf16
# 0.84-1.44 -> 0.13-0.22, fp8 less its cast 0.33-0.88 -> 0.13-0.25; validation/calibration/aic_small_m_split_k.py).
SPLIT_K = False
SPLIT_K_MIN_DEPTH = 512.0
PARTIAL_SUM_BYTES = 8.0
# plain GEMMs' fixed time per wave (`KernelRates.wave_fixed_s`; module docstring "Per-wave fixed time")
WAVE_FIXED = True

MathOps = scalar_path.MathOps
_NUMPY = scalar_path.NUMPY_OPS
_FLOATS = scalar_path.FLOAT_OPS
one_element = scalar_path.one_element
as_array = scalar_path.as_array


@dataclasses.dataclass(frozen=True)
class KernelRates:
    """The scalars of one accelerator that kernel times need, resolved for one dtype."""

    matmul_flops_per_s: float  # peak * matmul_max_fraction for the GEMM dtype
    attention_flops_per_s: float
    memory_bytes_per_s: float
    compute_units: int
    tile_m: int
    tile_n: int
    kernel_overhead_s: float
    attention_exp_per_s: float = math.inf  # special-function (MUFU) exponentials/s; inf: no head-dim dependence
    fp8_gemm_layouts: tuple[str, ...] = ("tn",)  # operand layouts its fp8 GEMMs take (`Accelerator`, ops.precision)
    stream_k: bool = False  # plain GEMMs' tiles balanced over the SMs (`KernelEfficiency.matmul_stream_k`; docstring)
    wave_fixed_s: float = 0.0  # plain GEMMs: s per wave of full tiles besides the K loop (`WAVE_FIXED`; docstring)
    wave_flops_per_s: float = 0.0  # plain GEMMs' K-loop rate with `wave_fixed_s` (0: the caller's rate)
    fp8_attention_ratio: float = 1.0  # fp8 fused attention's rate / attention_flops_per_s (measured; catalog)
    fp8_tensor_cores: bool = True  # the part lists an fp8 peak (catalog `peak_flops_per_s`): fp8 kernels run on it

    @classmethod
    def for_dtype(cls, accelerator: Accelerator, dtype: str, matmul_multiplier: float = 1.0,
                  attention_multiplier: float = 1.0, attention_kernel: AttentionKernel | None = None) -> KernelRates:
        """The rates of `dtype` GEMMs; a software stack's efficiency multipliers scale the GEMM and attention rates
        (`catalog.stacks`: applied after the accelerator's fraction, as `rate * multiplier`). `attention_kernel`
        (the stack's, `FrameworkRules.attention_kernel`) takes the part's `attention_kernel_fraction` of that kernel
        where it has one; else `attention_max_fraction` (the kernel the part was measured on)."""
        eff = accelerator.efficiency
        attention = eff.attention_max_fraction
        if attention_kernel and eff.attention_kernel_fraction:
            attention = eff.attention_kernel_fraction.get(attention_kernel, attention)
        return cls(
            matmul_flops_per_s=accelerator.peak(dtype) * accelerator.matmul_fraction(dtype) * matmul_multiplier,
            attention_flops_per_s=accelerator.peak("bf16") * attention * attention_multiplier,
            memory_bytes_per_s=accelerator.memory_bandwidth_bytes_per_s * eff.memory_bandwidth_fraction,
            compute_units=eff.compute_units,
            tile_m=eff.matmul_tile_m,
            tile_n=eff.matmul_tile_n,
            kernel_overhead_s=eff.kernel_overhead_s,
            attention_exp_per_s=(math.inf if eff.attention_exp_per_s is None or not HEAD_DIM_EXPONENTIALS
                                 else eff.attention_exp_per_s),
            fp8_gemm_layouts=accelerator.fp8_gemm_layouts,
            stream_k=eff.matmul_stream_k,
            fp8_attention_ratio=eff.fp8_kv_context_attention_ratio or 1.0,
            fp8_tensor_cores=accelerator.supports("fp8"),
        )


def weight_read_rates(rates: KernelRates, accelerator: Accelerator, engine: str, weight_dtype: str) -> KernelRates:
    """`rates` with the memory term of GEMMs at the accelerator's measured weight-read rate for the serving engine
    family's `weight_dtype` GEMMs (`KernelEfficiency.weight_read_fraction`: memory-bound small-M GEMMs, fitted
    t = a + bytes / rate on NVIDIA AIConfigurator's tables; the catalog's `source`) where its catalog gives one;
    else `rates` unchanged."""
    fractions = (accelerator.efficiency.weight_read_fraction or {}).get(engine, {})  # type: ignore[call-overload]
    if weight_dtype not in fractions:
        return rates
    bandwidth = accelerator.memory_bandwidth_bytes_per_s * fractions[weight_dtype]
    return dataclasses.replace(rates, memory_bytes_per_s=bandwidth)


def gemm_time(rates: KernelRates, m: ArrayLike, n: ArrayLike, k: ArrayLike, bytes_per_element: ArrayLike,
              matmul_flops_per_s: ArrayLike | None = None) -> np.ndarray:
    """Seconds for one (m x k) @ (k x n) GEMM; zero-sized GEMMs cost nothing.

    `matmul_flops_per_s` overrides the rate per element (plans mixing bf16 and fp8 in one array).
    """
    rate = rates.matmul_flops_per_s if matmul_flops_per_s is None else matmul_flops_per_s
    scalars = one_element(m, n, k, bytes_per_element, rate)
    if scalars is not None:
        (fm, fn, fk, fb, fr), ndim = scalars
        return as_array(_gemm(_FLOATS, rates, fm, fn, fk, None, fb, fr), ndim)
    m, n, k = np.asarray(m, dtype=np.float64), np.asarray(n, dtype=np.float64), np.asarray(k, dtype=np.float64)
    return np.asarray(scalar_path.price_runs(lambda fm, fn, fk, fb, fr: _gemm(_NUMPY, rates, fm, fn, fk, None, fb, fr),
                                             m, n, k, bytes_per_element, rate))


def _gemm(xp: MathOps, rates: KernelRates, m: Any, n: Any, k: Any, groups: Any, bytes_per_element: Any,
          rate: Any) -> Any:
    """`gemm_time` (groups None) or `grouped_gemm_time` in the namespace `xp` (numpy arrays or Python floats)."""
    # libraries pick a narrower tile for skinny GEMMs (decode, small batches): pad M to a power of two >= 16, the
    # smallest M of a tensor-core MMA (PTX ISA `mma.sync.aligned.m16n8k16`, the shape CUTLASS's sm80 tiles use)
    # (np.clip spelled as minimum(maximum()): the same values without the wrapper's per-call cost)
    tile_m = xp.minimum(xp.maximum(2.0 ** xp.ceil(xp.log2(xp.maximum(m, 1.0))), 16.0), float(rates.tile_m))
    tiles = xp.ceil(m / tile_m) * xp.ceil(n / rates.tile_n)
    units = rates.compute_units
    if groups is not None:  # a grouped kernel's persistent tile scheduler does not split K (module docstring)
        tiles = groups * tiles
        waves = xp.ceil(tiles / units)
        t_compute = waves * units * tile_m * rates.tile_n * 2.0 * k / rate
        t_memory = groups * (m * k + k * n + m * n) * bytes_per_element / rates.memory_bytes_per_s
        t = xp.maximum(t_compute, t_memory) + rates.kernel_overhead_s
        return xp.where(m * n * k * groups > 0, t, 0.0)
    t_memory = (m * k + k * n + m * n) * bytes_per_element / rates.memory_bytes_per_s
    waves = xp.ceil(tiles / units)
    if WAVE_FIXED and rates.wave_flops_per_s > 0.0:  # the K loop at its fitted rate + the fixed time of each wave
        t_compute = (waves * units * tile_m * rates.tile_n * 2.0 * k / rates.wave_flops_per_s
                     + waves * rates.wave_fixed_s * tile_m / float(rates.tile_m))  # a skinny tile's share
    else:
        t_compute = waves * units * tile_m * rates.tile_n * 2.0 * k / rate
    t = xp.maximum(t_compute, t_memory)
    if rates.stream_k:  # the tiles' K work balanced over the units, chunks >= SPLIT_K_MIN_DEPTH deep (docstring)
        per_unit = xp.maximum(tiles * k / units, xp.minimum(k, SPLIT_K_MIN_DEPTH))
        t_compute = per_unit * units * tile_m * rates.tile_n * 2.0 / rate
        # the splits past one a tile write fp32 partial sums, read back (grids of fewer tiles than units); a
        # library splits where that pays (the smaller of balanced and whole waves, as SPLIT_K)
        extra = xp.maximum(k / xp.maximum(per_unit, 1.0) - 1.0, 0.0)
        t_memory = t_memory + extra * PARTIAL_SUM_BYTES * m * n / rates.memory_bytes_per_s
        t = xp.minimum(t, xp.maximum(t_compute, t_memory))
        return xp.where(m * n * k > 0, t + rates.kernel_overhead_s, 0.0)
    if SPLIT_K:  # fewer tiles than half the SMs: K split into `splits` chunks, each >= SPLIT_K_MIN_DEPTH deep
        splits = xp.maximum(xp.minimum(xp.floor(k / SPLIT_K_MIN_DEPTH), xp.floor(units / xp.maximum(tiles, 1.0))),
                            1.0)
        t_compute = xp.ceil(tiles * splits / units) * units * tile_m * rates.tile_n * 2.0 * (k / splits) / rate
        # each split past the first writes its fp32 partial sums, read back by the reduction (PARTIAL_SUM_BYTES);
        # the library splits only where that pays (where it does not, cuBLAS runs narrower tiles, unsplit)
        t_memory = t_memory + (splits - 1.0) * PARTIAL_SUM_BYTES * m * n / rates.memory_bytes_per_s
        t = xp.minimum(t, xp.maximum(t_compute, t_memory))
    return xp.where(m * n * k > 0, t + rates.kernel_overhead_s, 0.0)


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
    rate = rates.matmul_flops_per_s if matmul_flops_per_s is None else matmul_flops_per_s
    scalars = one_element(m, n, k, groups, bytes_per_element, rate)
    if scalars is not None:
        (fm, fn, fk, fg, fb, fr), ndim = scalars
        return as_array(_gemm(_FLOATS, rates, fm, fn, fk, fg, fb, fr), ndim)
    m, n, k, g = (np.asarray(x, dtype=np.float64) for x in (m, n, k, groups))
    return np.asarray(scalar_path.price_runs(lambda *v: _gemm(_NUMPY, rates, *v), m, n, k, g, bytes_per_element,
                                             rate))


def exp_seconds(rates: KernelRates, exponentials: Any, head_dim: Any) -> Any:
    """Seconds that `exponentials` softmax exponentials at head dimension `head_dim` add to their fused-attention
    FLOPs at `attention_flops_per_s` (negative above `ATTENTION_REFERENCE_HEAD_DIM`, 0 at it; module docstring)."""
    return exponentials * (1.0 - head_dim / ATTENTION_REFERENCE_HEAD_DIM) / rates.attention_exp_per_s


def attention_time(rates: KernelRates, flops: ArrayLike, work_units: ArrayLike, kernels: ArrayLike = 1,
                   exponentials: ArrayLike = 0.0, head_dim: float = ATTENTION_REFERENCE_HEAD_DIM) -> np.ndarray:
    """Seconds for fused attention doing `flops` of score and value matmuls and `exponentials` softmax
    exponentials (one per score and pass) at head dimension `head_dim` ((d_qk + d_v) / 2: flops per score / 4).

    `work_units` is the number of (batch, head, 128-query block) programs the kernel launches; a partial
    last wave over `compute_units` idles the rest of the chip, as for GEMM tiles.
    """
    scalars = one_element(flops, work_units, kernels, exponentials)
    if scalars is not None:
        (f, u, kern, e), ndim = scalars
        return as_array(_attention(_FLOATS, rates, f, u, kern, e, float(head_dim)), ndim)
    flops = np.asarray(flops, dtype=np.float64)
    return np.asarray(_attention(_NUMPY, rates, flops, np.asarray(work_units, dtype=np.float64), kernels,
                                 exponentials, head_dim))


def attention_seconds(rates: KernelRates, flops: float, work_units: float, kernels: float = 1.0,
                      exponentials: float = 0.0, head_dim: float = ATTENTION_REFERENCE_HEAD_DIM) -> float:
    """`attention_time` of plain Python numbers, as a float (the same formula on `_FLOATS`)."""
    return float(_attention(_FLOATS, rates, float(flops), float(work_units), float(kernels), float(exponentials),
                            float(head_dim)))


def _attention(xp: MathOps, rates: KernelRates, flops: Any, work_units: Any, kernels: Any, exponentials: Any,
               head_dim: Any) -> Any:
    units = xp.maximum(work_units, 1.0)
    occupancy = units / (xp.ceil(units / rates.compute_units) * rates.compute_units)
    t = (flops / (rates.attention_flops_per_s * occupancy) + exp_seconds(rates, exponentials, head_dim) / occupancy
         + kernels * rates.kernel_overhead_s)
    return xp.where(flops > 0, t, 0.0)


def memory_bound_time(rates: KernelRates, bytes_moved: ArrayLike, kernels: ArrayLike = 1) -> np.ndarray:
    """Seconds for element-wise kernels that move `bytes_moved` through memory in `kernels` launches."""
    scalars = one_element(bytes_moved, kernels)
    if scalars is not None:
        (b, kern), ndim = scalars
        return as_array(_memory_bound(_FLOATS, rates, b, kern), ndim)
    return np.asarray(_memory_bound(_NUMPY, rates, np.asarray(bytes_moved, dtype=np.float64), kernels))


def memory_bound_seconds(rates: KernelRates, bytes_moved: float, kernels: float = 1.0) -> float:
    """`memory_bound_time` of plain Python numbers, as a float (the same formula on `_FLOATS`)."""
    return float(_memory_bound(_FLOATS, rates, float(bytes_moved), float(kernels)))


def _memory_bound(xp: MathOps, rates: KernelRates, bytes_moved: Any, kernels: Any) -> Any:
    return xp.where(bytes_moved > 0, bytes_moved / rates.memory_bytes_per_s + kernels * rates.kernel_overhead_s, 0.0)
