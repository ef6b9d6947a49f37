"""Whole waves against stream-K: the model's plain GEMMs over NVIDIA AIConfigurator 0.12.0's measured tables by M.

Reproduces validation/calibration/aic_stream_k.json, the figures `hardware.kernels`' docstring and the Blackwell
accelerator files quote for `KernelEfficiency.matmul_stream_k` (hB86, session 50). Input: the aiconfigurator-core
0.12.0 wheel (PyPI, Apache-2.0), unpacked; pass its `aiconfigurator_core/systems/data` folder:

    python validation/calibration/aic_stream_k.py /path/to/aiconfigurator_core/systems/data

Tables: `{h100_sxm,h200_sxm,b200_sxm,gb200,b300_sxm,gb300}/gemm/trtllm/1.3.0rc20/gemm_perf.parquet`, bf16 and
per-tensor fp8 (the fp8 op's activation cast subtracted, as `aic_small_m_split_k.py` does), rows with N, K >= 1,024
and N x K >= 2^22, M 1-8,192. Model:
`hardware.kernels.gemm_time` at the serving path's rates (`serving.decode_kernels.gemm_rates`, TensorRT-LLM's
measured weight reads) and the catalog's fractions, with `KernelRates.stream_k` False (whole waves of full-K 128 x
128 tiles) and True (the tiles' K work balanced over the SMs). Per M bucket: median of model / measured and mean
|model / measured - 1|.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
from aic_small_m_split_k import _quant_s
from aic_tables import table

from infraplan.catalog.loader import load_accelerator
from infraplan.hardware import kernels
from infraplan.serving.decode_kernels import gemm_rates
from infraplan.serving.format_precision import serving_precision

HERE = Path(__file__).parent
SYSTEMS = {"h100_sxm": "h100-sxm", "h200_sxm": "h200", "b200_sxm": "b200", "gb200": "gb200", "b300_sxm": "b300",
           "gb300": "gb300"}
VERSION = "1.3.0rc20"
DTYPES = {"bfloat16": "bf16", "fp8": "fp8"}
BUCKETS = ((1, 16), (17, 64), (65, 128), (129, 256), (257, 512), (513, 1024), (1025, 2048), (2049, 4352),
           (8192, 8192))
MIN_SIDE = 1024
MIN_WEIGHT_ELEMENTS = 1 << 22


def compare(root: Path, system: str, aic_dtype: str) -> dict[str, object]:
    """One table: per M bucket, (median ratio, mean |error|) with whole waves and with stream-K."""
    accelerator = load_accelerator(SYSTEMS[system])
    dtype = DTYPES[aic_dtype]
    t = table(root / system / "gemm" / "trtllm" / VERSION / "gemm_perf.parquet")
    quant = _quant_s(root, system, "trtllm") if dtype == "fp8" else {}
    rows = [(m, n, k, ms * 1e-3 - quant.get((m, k), 0.0)) for m, n, k, d, ms in
            zip(t["m"], t["n"], t["k"], t["gemm_dtype"], t["latency"], strict=True)
            if d == aic_dtype and m <= 8192 and n >= MIN_SIDE and k >= MIN_SIDE and n * k >= MIN_WEIGHT_ELEMENTS
            and (not quant or (m, k) in quant)]
    m, n, k, measured = (np.array(c, dtype=np.float64) for c in zip(*rows, strict=True))
    precision = serving_precision(accelerator, dtype, None)
    rates = gemm_rates(accelerator, kernels.KernelRates.for_dtype(accelerator, "bf16"), "trtllm", dtype)
    width = precision.bytes_per_element(m, n, k)
    out: dict[str, object] = {"rows": len(m), "catalog_stream_k": rates.stream_k}
    for name, flag in (("whole_waves", False), ("stream_k", True)):
        chosen = dataclasses.replace(rates, stream_k=flag)
        ratio = np.array([float(kernels.gemm_time(chosen, a, b, c, w, precision.rate))
                          for a, b, c, w in zip(m, n, k, width, strict=True)]) / measured
        out[name] = {"mean_abs_error": round(float(np.mean(np.abs(ratio - 1.0))), 3)} | {
            f"m_{lo}_{hi}": [round(float(np.median(ratio[(m >= lo) & (m <= hi)])), 3),
                             round(float(np.mean(np.abs(ratio[(m >= lo) & (m <= hi)] - 1.0))), 3)]
            for lo, hi in BUCKETS}
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: aic_stream_k.py AIC_SYSTEMS_DATA_FOLDER", file=sys.stderr)
        return 2
    root = Path(argv[0])
    out = {f"{system}/{dtype}": compare(root, system, dtype) for system in SYSTEMS for dtype in DTYPES}
    (HERE / "aic_stream_k.json").write_text(json.dumps(out, indent=1) + "\n")
    for key, r in out.items():
        cells = " ".join(f"{r['whole_waves'][f'm_{lo}_{hi}'][0]:.2f}>{r['stream_k'][f'm_{lo}_{hi}'][0]:.2f}"  # type: ignore[index]
                         for lo, hi in BUCKETS)
        print(f"{key:18s} {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
