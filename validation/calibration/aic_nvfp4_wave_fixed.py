"""The per-wave fixed time of the Blackwell nvfp4 Linear: NVIDIA AIConfigurator 0.12.0's measured tables fitted.

Reproduces validation/calibration/aic_nvfp4_wave_fixed.json, the figures of the Blackwell accelerator files'
`plain_gemm_wave` (`hardware.kernels` "Per-wave fixed time"; hW, session 53). Input: the aiconfigurator-core 0.12.0
wheel (PyPI, Apache-2.0), unpacked; pass its `aiconfigurator_core/systems/data` folder:

    python validation/calibration/aic_nvfp4_wave_fixed.py /path/to/aiconfigurator_core/systems/data

Tables: `{b200_sxm,gb200,b300_sxm,gb300}/gemm/trtllm/1.3.0rc20/gemm_perf.parquet`, gemm_dtype nvfp4 (TensorRT-LLM's
W4A4 NVFP4 Linear), rows with 1,024 <= M, N, K <= 16,384 (the compute-bound region; 5,880 shapes per part), less the
activation cast: the same wheel's `quantize/trtllm/1.3.0rc20/scale_matrix_perf.parquet` at (M, K) (ASSUMPTION, as in
blackwell_aic_fractions.py: the nvfp4 cast costs the measured fp8 cast pass). Model: whole waves of 128 x 128 tiles
over the part's SMs, the catalog's launch cost (4 us):
    t = waves x units x 128 x 128 x 2 K / (fraction x dense fp4 peak) + waves x wave_fixed_s + 4 us,
fitted by least squares on the relative error; against one fraction (the median, wave_fixed_s = 0). Per K: the
median of model / measured. Finding: with one fraction the table runs 0.77 / 1.22 of it at K = 1,024 / 16,384.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from aic_tables import fit_systems, table

from infraplan.catalog.loader import load_accelerator

SYSTEMS = {"b200_sxm": "b200", "gb200": "gb200", "b300_sxm": "b300", "gb300": "gb300"}
VERSION = "1.3.0rc20"
LAUNCH_S = 4e-6
SIDES = (1024, 16384)
K_COLUMNS = (1024, 2048, 4096, 8192, 16384)


def _rows(root: Path, system: str) -> tuple[np.ndarray, ...]:
    t = table(root / system / "gemm" / "trtllm" / VERSION / "gemm_perf.parquet")
    q = table(root / system / "quantize" / "trtllm" / VERSION / "scale_matrix_perf.parquet")
    cast = {(m, k): ms * 1e-3 for m, k, ms in zip(q["m"], q["k"], q["latency"], strict=True)}
    lo, hi = SIDES
    rows = [(m, n, k, ms * 1e-3 - cast[(m, k)]) for m, n, k, d, ms in
            zip(t["m"], t["n"], t["k"], t["gemm_dtype"], t["latency"], strict=True)
            if d == "nvfp4" and lo <= m <= hi and lo <= n <= hi and lo <= k <= hi and (m, k) in cast]
    return tuple(np.array(c, dtype=np.float64) for c in zip(*rows, strict=True))


def fit(root: Path, system: str) -> dict[str, object]:
    """One part: the one-fraction and the per-wave fits, their mean |error| and median ratio per K."""
    accelerator = load_accelerator(SYSTEMS[system])
    units = accelerator.efficiency.compute_units
    peak = accelerator.peak("fp4")
    m, n, k, measured = _rows(root, system)
    waves = np.ceil(np.ceil(m / 128.0) * np.ceil(n / 128.0) / units)
    ideal = waves * units * 128.0 * 128.0 * 2.0 * k / peak  # the K loop at the dense peak
    busy = measured - LAUNCH_S
    one = float(np.median(ideal / busy))
    weights = 1.0 / busy
    (inv_fraction, wave_fixed_s), *_ = np.linalg.lstsq(np.stack([ideal * weights, waves * weights], 1),
                                                        np.ones_like(busy), rcond=None)
    out: dict[str, object] = {"rows": len(m), "compute_units": units, "fp4_peak_flops_per_s": peak}
    for name, predicted in (("one_fraction", ideal / one + LAUNCH_S),
                            ("per_wave", ideal * inv_fraction + waves * wave_fixed_s + LAUNCH_S)):
        ratio = predicted / measured
        out[name] = {"mean_abs_error": round(float(np.mean(np.abs(ratio - 1.0))), 4)} | {
            f"median_ratio_k_{c}": round(float(np.median(ratio[k == c])), 3) for c in K_COLUMNS}
    out["one_fraction"]["fraction"] = round(one, 3)  # type: ignore[index]
    out["per_wave"] |= {"fraction": round(1.0 / float(inv_fraction), 3),  # type: ignore[operator]
                        "wave_fixed_s": float(f"{wave_fixed_s:.3g}")}
    return out


def main(argv: list[str]) -> int:
    out = fit_systems(argv, "aic_nvfp4_wave_fixed", SYSTEMS, fit)
    if out is None:
        return 2
    for system, r in out.items():
        print(system, r["one_fraction"], r["per_wave"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
