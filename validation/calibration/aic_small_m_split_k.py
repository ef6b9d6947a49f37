"""Split-K against the serving engines' own small-M GEMMs: NVIDIA AIConfigurator 0.12.0's measured tables.

Reproduces validation/calibration/aic_small_m_split_k.json and the excerpt tests/hardware/test_gemm_aic_small_m.py
reads, aic_small_m_split_k_excerpt.csv (every `EXCERPT_EVERY`-th few-tile row of the H200 TensorRT-LLM and vLLM
tables, in (M, N, K) order; hK51, session 47). Input: the aiconfigurator-core 0.12.0
wheel (PyPI, Apache-2.0), unpacked; pass its `aiconfigurator_core/systems/data` folder:

    python validation/calibration/aic_small_m_split_k.py /path/to/aiconfigurator_core/systems/data

Tables: `{h100_sxm,h200_sxm,b200_sxm}/gemm/{trtllm/1.3.0rc20,vllm/0.24.0,sglang/0.5.14}/gemm_perf.parquet` (ms per GEMM;
kernel_source: TensorRT-LLM `torch_flow`, vLLM `torch.nn.functional.linear` (bf16, cuBLAS) and
`CutlassFP8ScaledMMLinearKernel` (fp8), SGLang `sglang_torch_linear` / `sglang_sgl_kernel_fp8_scaled_mm`). Rows: 8 <= M
<= 256 (decode and small prefill batches) with N x K >= 2^20. An fp8 row's timed op quantises its bf16 activation
(dynamic per-tensor / per-token scale): the same wheel's `quantize/<engine>/<version>/{computescale,scale_matrix}
_perf.parquet` at the row's (M, K) are subtracted, as AIC itself derives static fp8 (sdk/perf_database.py:2242-2249,
`fp8_static`); the engines fuse that cast into the previous kernel (`serving.decode_kernels`). SGLang's quantize
tables time a torch path (scale_matrix ~10x vLLM's at the same shape, exceeding its own GEMM at small M): its fp8
rows keep the cast (`QUANT_SUBTRACTED`).

Model: `hardware.kernels.gemm_time` at the serving path's rates (`serving.format_precision.serving_precision`,
`serving.decode_kernels.gemm_rates`: the engine's measured weight-read fraction), with `SPLIT_K` off (one full-K
tile per SM) and on. `few` = the rows split-K can change (tiles <= half the SMs, K >= 1,024). Per table: mean |error|
and median signed error of model / measured - 1, all rows and the few-tile rows.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from aic_tables import table

from infraplan.catalog.loader import load_accelerator
from infraplan.hardware import kernels
from infraplan.serving.decode_kernels import gemm_rates
from infraplan.serving.format_precision import serving_precision

HERE = Path(__file__).parent
SYSTEMS = {"h100_sxm": "h100-sxm", "h200_sxm": "h200", "b200_sxm": "b200"}
ENGINES = {"trtllm": "1.3.0rc20", "vllm": "0.24.0", "sglang": "0.5.14"}
DTYPES = {"bfloat16": "bf16", "fp8": "fp8"}
M_RANGE = (8, 256)
QUANT_SUBTRACTED = ("trtllm", "vllm")  # SGLang's quantize tables (a torch path, ~10x vLLM's at one shape): kept in
MIN_WEIGHT_ELEMENTS = 1 << 20
EXCERPT = ("h200_sxm/trtllm/bfloat16", "h200_sxm/trtllm/fp8", "h200_sxm/vllm/bfloat16", "h200_sxm/vllm/fp8")
EXCERPT_EVERY = 50


def _quant_s(root: Path, system: str, engine: str) -> dict[tuple[int, int], float]:
    """Seconds of the activation's dynamic fp8 quantisation at (M, K): compute_scale + scale_matrix."""
    out: dict[tuple[int, int], float] = {}
    for name in ("computescale", "scale_matrix"):
        t = table(root / system / "quantize" / engine / ENGINES[engine] / f"{name}_perf.parquet")
        for m, k, dtype, ms in zip(t["m"], t["k"], t["quant_dtype"], t["latency"], strict=True):
            if dtype == "fp8":
                out[(m, k)] = out.get((m, k), 0.0) + ms * 1e-3
    return out


def _summary(error: np.ndarray, few: np.ndarray) -> dict[str, float]:
    return {"mean_abs_error": round(float(np.mean(np.abs(error))), 4),
            "median_error": round(float(np.median(error)), 4),
            "few_tile_mean_abs_error": round(float(np.mean(np.abs(error[few]))), 4),
            "few_tile_median_error": round(float(np.median(error[few])), 4)}


def compare(root: Path, system: str, engine: str, aic_dtype: str,
            excerpt: list[tuple[float, float, float, float]] | None = None) -> dict[str, Any]:
    """One table against the model with split-K off and on (module docstring); `excerpt` gets every
    `EXCERPT_EVERY`-th few-tile row (M, N, K, measured s) in (M, N, K) order."""
    accelerator = load_accelerator(SYSTEMS[system])
    dtype = DTYPES[aic_dtype]
    t = table(root / system / "gemm" / engine / ENGINES[engine] / "gemm_perf.parquet")
    quant = _quant_s(root, system, engine) if dtype == "fp8" and engine in QUANT_SUBTRACTED else {}
    rows = [(m, n, k, ms * 1e-3 - quant.get((m, k), 0.0)) for m, n, k, d, ms in
            zip(t["m"], t["n"], t["k"], t["gemm_dtype"], t["latency"], strict=True)
            if d == aic_dtype and M_RANGE[0] <= m <= M_RANGE[1] and n * k >= MIN_WEIGHT_ELEMENTS
            and (not quant or (m, k) in quant)]
    m, n, k, measured = (np.array(c, dtype=np.float64) for c in zip(*rows, strict=True))
    rates = kernels.KernelRates.for_dtype(accelerator, "bf16")
    precision = serving_precision(accelerator, dtype, None)
    g_rates = gemm_rates(accelerator, rates, engine, dtype)
    width = precision.bytes_per_element(m, n, k)
    tile_m = np.minimum(np.maximum(2.0 ** np.ceil(np.log2(m)), 16.0), g_rates.tile_m)
    few = (2.0 * np.ceil(m / tile_m) * np.ceil(n / g_rates.tile_n) <= g_rates.compute_units) & (k >= 1024)
    if excerpt is not None:
        chosen = sorted((a, b, c, t) for a, b, c, t, f in zip(m, n, k, measured, few, strict=True) if f)
        excerpt.extend(chosen[::EXCERPT_EVERY])
    result: dict[str, Any] = {"rows": len(m), "few_tile_rows": int(few.sum())}
    saved = kernels.SPLIT_K
    try:
        for name, flag in (("split_off", False), ("split_on", True)):
            kernels.SPLIT_K = flag
            model = np.array([float(kernels.gemm_time(g_rates, a, b, c, w, precision.rate))
                              for a, b, c, w in zip(m, n, k, width, strict=True)])
            result[name] = _summary(model / measured - 1.0, few)
    finally:
        kernels.SPLIT_K = saved
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: aic_small_m_split_k.py AIC_SYSTEMS_DATA_FOLDER", file=sys.stderr)
        return 2
    root = Path(argv[0])
    out: dict[str, dict[str, Any]] = {}
    lines = ["table,m,n,k,seconds"]
    for system in SYSTEMS:
        for engine in ENGINES:
            for dtype in DTYPES:
                key = f"{system}/{engine}/{dtype}"
                rows: list[tuple[float, float, float, float]] = []
                out[key] = compare(root, system, engine, dtype, rows)
                if key in EXCERPT:
                    lines += [f"{key},{a:.0f},{b:.0f},{c:.0f},{t:.6e}" for a, b, c, t in rows]
    (HERE / "aic_small_m_split_k.json").write_text(json.dumps(out, indent=1) + "\n")
    (HERE / "aic_small_m_split_k_excerpt.csv").write_text("\n".join(lines) + "\n")
    for key, r in out.items():
        off, on = r["split_off"], r["split_on"]
        print(f"{key:28s} {r['rows']:6d} rows ({r['few_tile_rows']:5d} few-tile): "
              f"off {off['mean_abs_error']:.3f} med {off['median_error']:+.3f} few {off['few_tile_mean_abs_error']:.3f}"
              f" | on {on['mean_abs_error']:.3f} med {on['median_error']:+.3f} few {on['few_tile_mean_abs_error']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
