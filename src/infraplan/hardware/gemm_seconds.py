"""One GEMM's seconds on plain Python floats: `hardware.kernels`' GEMM time (tiles, waves, roofline, per-wave fixed
time, stream-K, split-K; the formulas, their toggles and their sources are that module's docstring) spelled out on
floats with the same IEEE operations in the same order, bit-identical to the array path (issue 18: a single
estimate prices ~15 GEMMs, each skipping ~10 namespace calls; tests/hardware/test_kernel_fast_path.py,
tests/training/test_hot_path_hP12.py; `_gemm` below is `hardware.kernels`' array formula). The toggles are read from
`hardware.kernels` at each call, so a test or a calibration script that sets `kernels.SPLIT_K` / `kernels.WAVE_FIXED`
moves both paths. Split out of `hardware.kernels` (session 58) to keep it under the module cap.
"""

from __future__ import annotations

import math

import numpy as np

from infraplan.hardware import kernels
from infraplan.hardware.kernels import PARTIAL_SUM_BYTES, SPLIT_K_MIN_DEPTH, KernelRates


def gemm_seconds(rates: KernelRates, m: float, n: float, k: float, bytes_per_element: float, rate: float) -> float:
    """`gemm_time` of plain Python numbers, as a float (`_gemm_floats`: `_gemm`'s operations on floats)."""
    return _gemm_floats(rates, float(m), float(n), float(k), None, float(bytes_per_element), float(rate))


def gemm_fwd_bwd_seconds(rates: KernelRates, m: float, n: float, k: float, bytes_per_element: float,
                         rate: float, wgrad_bytes_per_element: float | None = None,
                         dgrad_bytes_per_element: float | None = None) -> tuple[float, float]:
    """A layer GEMM's forward `gemm_seconds(m, n, k)` and backward: its data-gradient (m, k, n) plus its
    weight-gradient (k, n, m) GEMM, in that order, on floats in one call (a single estimate prices ~6 of them),
    the rates read once (`_gemm_terms`). `wgrad_bytes_per_element` / `dgrad_bytes_per_element`: the weight- /
    data-gradient GEMM's own width (None: the forward's), as `gemm_seconds` of it would price it."""
    fm, fn, fk, width, fr = float(m), float(n), float(k), float(bytes_per_element), float(rate)
    w_grad = width if wgrad_bytes_per_element is None else float(wgrad_bytes_per_element)
    d_grad = width if dgrad_bytes_per_element is None else float(dgrad_bytes_per_element)
    global _KEPT_TERMS  # (one tuple, read and replaced whole)
    kept = _KEPT_TERMS
    if kept[0] is rates and kept[1] == kernels.WAVE_FIXED:
        terms = kept[2]
    else:
        terms = _rate_terms(rates)
        _KEPT_TERMS = (rates, kernels.WAVE_FIXED, terms)
    return (_gemm_terms(terms, fm, fn, fk, None, width, fr),
            _gemm_terms(terms, fm, fk, fn, None, d_grad, fr) + _gemm_terms(terms, fk, fn, fm, None, w_grad, fr))


def grouped_gemm_seconds(rates: KernelRates, m: float, n: float, k: float, groups: float, bytes_per_element: float,
                         rate: float) -> float:
    """`grouped_gemm_time` of plain Python numbers, as a float (`_gemm_floats`)."""
    return _gemm_floats(rates, float(m), float(n), float(k), float(groups), float(bytes_per_element), float(rate))


# (widest M tile as a float, N tile, compute units, memory bytes/s, kernel overhead s, stream-K, per-wave fixed s,
# its K-loop rate (0: off)) of a `KernelRates`
_RateTerms = tuple[float, int, int, float, float, bool, float, float]


# the rates a GEMM was last priced on, `kernels.WAVE_FIXED` then and their terms: a single estimate's layer and
# head GEMMs share one `KernelRates` (the rates are frozen and held here, so their id is not reused while kept)
_KEPT_TERMS: tuple[KernelRates | None, bool, _RateTerms] = (None, False, (0.0, 0, 0, 0.0, 0.0, False, 0.0, 0.0))


def _rate_terms(rates: KernelRates) -> _RateTerms:
    """The rates `_gemm_terms` reads, in one tuple (read once for several GEMMs)."""
    return (float(rates.tile_m), rates.tile_n, rates.compute_units, rates.memory_bytes_per_s,
            rates.kernel_overhead_s, rates.stream_k, rates.wave_fixed_s,
            rates.wave_flops_per_s if kernels.WAVE_FIXED else 0.0)


def _gemm_floats(rates: KernelRates, m: float, n: float, k: float, groups: float | None, bytes_per_element: float,
                 rate: float) -> float:
    """`_gemm(_FLOATS, ...)` spelled out on floats (`_gemm_terms` of the rates' terms)."""
    return _gemm_terms(_rate_terms(rates), m, n, k, groups, bytes_per_element, rate)


def _gemm_terms(terms: _RateTerms, m: float, n: float, k: float, groups: float | None, bytes_per_element: float,
                rate: float) -> float:
    """`_gemm(_FLOATS, ...)` spelled out: the same IEEE operations in the same order, with `_FLOATS`'s max, min,
    ceiling and where written inline (`max(a, b)` is `b if b > a else a`), so a single estimate's ~15 GEMMs skip
    ~10 namespace calls each (issue 18); tests/hardware/test_kernel_fast_path.py holds it to the array path's bits."""
    widest, tile_n, units, bandwidth, overhead, stream_k, wave_fixed, wave_rate = terms
    if m >= widest:  # 2 ** ceil(log2(m)) >= widest: np.log2 is exact at powers of two and within an ulp elsewhere
        tile_m = widest
    else:
        low = 1.0 if m < 1.0 else m  # xp.maximum(m, 1.0)
        padded_m = 2.0 ** float(math.ceil(float(np.log2(low))))
        padded_m = 16.0 if padded_m < 16.0 else padded_m
        tile_m = widest if widest < padded_m else padded_m
    # the tile and wave counts as exact ints (< 2 ** 53): an int product converted once rounds the exact product, as
    # the product of the two counts as floats does, so every later float is the array path's (no float() calls)
    tiles: float = math.ceil(m / tile_m) * math.ceil(n / tile_n)
    if groups is not None:
        tiles = groups * tiles
        waves: float = math.ceil(tiles / units)
        t_compute = waves * units * tile_m * tile_n * 2.0 * k / rate
        t_memory = groups * (m * k + k * n + m * n) * bytes_per_element / bandwidth
        t = (t_memory if t_memory > t_compute else t_compute) + overhead
        return t if m * n * k * groups > 0 else 0.0
    t_memory = (m * k + k * n + m * n) * bytes_per_element / bandwidth
    # ceil(tiles / units) of two ints as an int floor division: the exact ceiling, which the float quotient's
    # ceiling is too (two ints below 2 ** 53 whose quotient is no integer lie >= 1 / units from one, far above an ulp)
    waves = -(-tiles // units)
    if wave_rate > 0.0:  # `_gemm`'s per-wave fixed time, its operations in its order
        t_compute = waves * units * tile_m * tile_n * 2.0 * k / wave_rate + waves * wave_fixed * tile_m / widest
    else:
        t_compute = waves * units * tile_m * tile_n * 2.0 * k / rate
    t = t_memory if t_memory > t_compute else t_compute
    if stream_k:  # `_gemm`'s balanced tiles, its operations in its order
        depth = SPLIT_K_MIN_DEPTH if k > SPLIT_K_MIN_DEPTH else k
        share = tiles * k / units
        per_unit = depth if depth > share else share
        t_compute = per_unit * units * tile_m * tile_n * 2.0 / rate
        extra = k / (1.0 if per_unit < 1.0 else per_unit) - 1.0
        t_memory = t_memory + (0.0 if extra < 0.0 else extra) * PARTIAL_SUM_BYTES * m * n / bandwidth
        balanced = t_memory if t_memory > t_compute else t_compute
        t = balanced if balanced < t else t
        t = t + overhead
        return t if m * n * k > 0 else 0.0
    # `_gemm`'s split count where it is >= 2 (one split: the array path's split time is `t`, bit for bit); the
    # floor divisions are its floors of quotients (k / 512 is exact; units / tiles of small ints is not within an
    # ulp of an integer unless it is one)
    if kernels.SPLIT_K and tiles > 0 and tiles + tiles <= units and k >= SPLIT_K_MIN_DEPTH + SPLIT_K_MIN_DEPTH:
        per_unit = units // tiles
        deep = k // SPLIT_K_MIN_DEPTH
        splits = deep if deep < per_unit else per_unit
        t_compute = math.ceil(tiles * splits / units) * units * tile_m * tile_n * 2.0 * (k / splits) / rate
        t_memory = t_memory + (splits - 1) * PARTIAL_SUM_BYTES * m * n / bandwidth
        split = t_memory if t_memory > t_compute else t_compute
        t = split if split < t else t
    t = t + overhead
    return t if m * n * k > 0 else 0.0
