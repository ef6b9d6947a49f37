"""The absorbed-MLA decode kernel on Blackwell: NVIDIA AIConfigurator 0.12.0's measured tables fitted.

Reproduces validation/calibration/aic_blackwell_mla_decode.json, the figures of the Blackwell accelerator files'
`mla_decode_attention` (`serving.mla_decode`, "Measured kernel"; hB, session 56). Input: the aiconfigurator-core
0.12.0 wheel (PyPI, Apache-2.0), unpacked; pass its `aiconfigurator_core/systems/data` folder:

    PYTHONPATH=src python validation/calibration/aic_blackwell_mla_decode.py /path/to/aiconfigurator_core/systems/data

Tables: `<system>/mla/{trtllm/1.3.0rc20,sglang/0.5.14}/generation_mla_perf.parquet` (TensorRT-LLM's absorbed-MLA
generation kernel; SGLang's `trtllm_mla` backend, kernel_source trtllm_mla, the backend SGLang picks for DeepSeek-V3
on sm100: sglang 0.5.6.post2 / 0.5.9 srt/server_args.py "Use trtllm_mla as attention backend on sm100"), DeepSeek-V3's
576-wide latent, 1-128 local heads, batch 1-1,024, context 2-131,072, `kv_cache_dtype` bfloat16 / fp8. Model and fit as
the H100 / H200 fits of the catalog (validation/notes/trtllm_deepseek_tried.md, "Adopted: the measured MLA decode
kernel"; this script reproduces H200 TensorRT-LLM's 15.0 us / 1.52 ns / 0.63 / 718 TF/s and 15.5 / 1.25 / 0.89 / 635):
per layer
    t = fixed_s + query_head_s x batch x local heads + max(latent bytes / (kv_read_fraction x HBM),
                                                        2,176 FLOPs per cached token and local head / flops_per_s),
latent bytes 576 (fp8) / 1,152 (bf16) per cached token, HBM the catalog's bandwidth; relative least squares on the 16-
and 128-head rows with context >= 128; scored on every row. Finding: with an fp8 cache the kernel's compute-bound rate
is ~2x its bf16 one (SGLang 0.5.9 trtllm_mla_backend.py:765-772 quantises the query to fp8 when the cache is fp8:
both MMAs in fp8), where the roofline it replaces runs both at attention_max_fraction x the bf16 peak.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
from aic_tables import fit_systems, table
from scipy.optimize import least_squares

from infraplan.catalog.loader import load_accelerator

SYSTEMS = {"b200_sxm": "b200", "gb200": "gb200", "b300_sxm": "b300", "h200_sxm": "h200"}  # h200: the check
RELEASES = {"trtllm": "1.3.0rc20", "sglang": "0.5.14"}
LATENT_BYTES = {"fp8": 576.0, "bfloat16": 1152.0}
FLOPS_PER_HEAD = 2.0 * (2 * 512 + 64)  # score 2 (kv_lora + rope) + value 2 kv_lora per cached token and head


def kernel_s(p: np.ndarray, heads: np.ndarray, batch: np.ndarray, context: np.ndarray, latent: float,
             hbm: float) -> np.ndarray:
    fixed_us, q_h_ns, fraction, tflops = p
    return (fixed_us * 1e-6 + q_h_ns * 1e-9 * batch * heads
            + np.maximum(latent * batch * context / (fraction * hbm), FLOPS_PER_HEAD * heads * batch * context
                         / (tflops * 1e12)))


def relative(p: np.ndarray, heads: np.ndarray, batch: np.ndarray, context: np.ndarray, latent: float, hbm: float,
             measured: np.ndarray) -> np.ndarray:
    return kernel_s(p, heads, batch, context, latent, hbm) / measured - 1.0


def fit(data: Path, system: str) -> dict[str, Any]:
    return fit_releases(data, system, SYSTEMS[system], RELEASES)


def fit_releases(data: Path, system: str, part: str, releases: dict[str, str]) -> dict[str, Any]:
    """Each `releases` engine's table of `system` fitted per latent dtype, HBM the catalog `part`'s (also used by
    aic_hopper_sglang_mla_decode.py)."""
    acc = load_accelerator(part)
    hbm = acc.memory_bandwidth_bytes_per_s
    roof_rate = acc.peak("bf16") * acc.efficiency.attention_max_fraction
    out: dict[str, Any] = {}
    for engine, release in releases.items():
        t = table(data / system / "mla" / engine / release / "generation_mla_perf.parquet")
        for kv, latent in LATENT_BYTES.items():
            idx = [i for i, d in enumerate(t["kv_cache_dtype"]) if d == kv]
            heads = np.array([t["num_heads"][i] for i in idx], dtype=float)
            batch = np.array([t["batch_size"][i] for i in idx], dtype=float)
            context = np.array([t["isl"][i] + t["step"][i] for i in idx], dtype=float)
            measured = np.array([t["latency"][i] for i in idx], dtype=float) * 1e-3
            sel = ((heads == 16) | (heads == 128)) & (context >= 128)
            res = least_squares(relative, x0=[15.0, 1.5, 0.7, 700.0], bounds=([0.0, 0.0, 0.05, 10.0],
                                [200.0, 100.0, 1.5, 5000.0]), args=(heads[sel], batch[sel], context[sel], latent, hbm,
                                                                    measured[sel]))
            err = np.abs(kernel_s(res.x, heads, batch, context, latent, hbm) / measured - 1.0)
            roof = 4e-6 + np.maximum(latent * batch * context / (acc.efficiency.memory_bandwidth_fraction * hbm),
                                     FLOPS_PER_HEAD * heads * batch * context / roof_rate)
            out[f"{engine} {'bf16' if kv == 'bfloat16' else kv}"] = {
                "fixed_s": round(float(res.x[0]), 1) * 1e-6, "query_head_s": round(float(res.x[1]), 2) * 1e-9,
                "kv_read_fraction": round(float(res.x[2]), 2), "flops_per_s": round(float(res.x[3])) * 1e12,
                "rows": len(idx), "mean_abs_error_fit_rows": float(err[sel].mean()),
                "mean_abs_error_128_heads": float(err[heads == 128].mean()), "mean_abs_error_all": float(err.mean()),
                "roofline_mean_abs_error_all": float(np.abs(roof / measured - 1.0).mean()),
                "roofline_flops_per_s": roof_rate}
    return out


def print_fits(result: dict[str, Any]) -> None:
    """One line per fitted (system, engine / dtype) kernel: its terms and errors (this script's and the Hopper
    SGLang one's output)."""
    for system, fits in result.items():
        for key, f in fits.items():
            print(f"{system:9s} {key:12s} fixed {f['fixed_s'] * 1e6:5.1f} us  q_h {f['query_head_s'] * 1e9:.2f} ns  "
                  f"f {f['kv_read_fraction']:.2f}  R {f['flops_per_s'] / 1e12:5.0f} TF/s  |err| fit rows "
                  f"{f['mean_abs_error_fit_rows']:.1%}  128 heads {f['mean_abs_error_128_heads']:.1%}  all "
                  f"{f['mean_abs_error_all']:.1%} (roofline {f['roofline_mean_abs_error_all']:.1%})")


if __name__ == "__main__":
    result = fit_systems(sys.argv[1:], "aic_blackwell_mla_decode", SYSTEMS, fit)
    if result is None:
        sys.exit(2)
    print_fits(result)
