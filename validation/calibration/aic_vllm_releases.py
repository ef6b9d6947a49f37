"""vLLM 0.11.0 / 0.12.0 on Hopper from NVIDIA AIConfigurator's measured tables (hV, session 67).

Reproduces (1) the per-tensor fp8 GEMM fractions of validation/data/stacks/vllm-0.11.yaml (and, by the same procedure,
vllm-0.12.yaml's), and (2) the custom columns of catalog/nccl/aiconfigurator_{h100,h200}_vllm_0.12.0_all_reduce.csv.
Inputs: the aiconfigurator 0.4.0 wheel (vllm/0.11.0 tables) and 0.7.0 wheel (vllm/0.12.0; the same files in 0.5.0),
PyPI, Apache-2.0, unpacked; pass each one's `aiconfigurator/systems/data` folder:

    PYTHONPATH=src python validation/calibration/aic_vllm_releases.py <0.4.0>/systems/data <0.7.0>/systems/data

GEMM fit (vllm-0.12.yaml's, hA54): rows kernel_source vllm_default, gemm_dtype fp8, 1,024 <= M <= 16,384, 2,048 <=
N, K <= 32,768; t = `hardware.kernels.gemm_time` at fraction f of the fp8 peak + c x M x K, f on a 0.0025 grid, c >= 0
by least squares on the relative error, the pair of least mean |error|. Printed (f, c ps, mean |error|): 0.11.0 H200
0.830 / 0.6 / 3.8 %, H100 0.755 / 0.8 / 3.8 %; 0.12.0 H200 0.817 / 8.8 / 3.0 %, H100 0.715 / 10.5 / 3.6 %.

All-reduce: rows kernel_source vLLM_custom_graph (message_size in 2-byte elements, latency ms), 2 / 4 / 8 GPUs, at the
accelerator table's sizes (64 KiB - 512 MiB); printed as the CSV's custom columns (us).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates, gemm_time
from infraplan.validation.serving_row_rules import SYSTEMS

SIZES = [65536 * 2**i for i in range(14)]  # 64 KiB .. 512 MiB, the catalog tables' rows


def gemm_fit(table: Path, system: str) -> tuple[float, float, float]:
    """(f, c in seconds per M x K element, mean |error|) of one fp8 gemm_perf table."""
    accelerator = Cluster.resolve(SYSTEMS[system]).accelerator
    rates, peak = KernelRates.for_dtype(accelerator, "fp8"), accelerator.peak("fp8")
    rows = [r for r in csv.DictReader(table.open()) if r["kernel_source"] == "vllm_default" and r["gemm_dtype"] == "fp8"
            and 1024 <= int(r["m"]) <= 16384 and 2048 <= int(r["n"]) <= 32768 and 2048 <= int(r["k"]) <= 32768]
    m, n, k = (np.array([float(r[c]) for r in rows]) for c in ("m", "n", "k"))
    t = np.array([float(r["latency"]) for r in rows]) * 1e-3
    best = (np.inf, 0.0, 0.0)
    for f in np.arange(0.5, 1.0, 0.0025):
        g = gemm_time(rates, m, n, k, 1.0, matmul_flops_per_s=np.full_like(m, f * peak))
        x, r0 = m * k / t, g / t - 1.0
        c = max(0.0, float(-np.sum(x * r0) / np.sum(x * x)))
        err = float(np.mean(np.abs((g + c * m * k) / t - 1.0)))
        best = min(best, (err, float(f), c))
    return best[1], best[2], best[0]


def all_reduce_us(table: Path) -> dict[int, list[float]]:
    """size in bytes -> [2, 4, 8 GPUs] microseconds of vLLM's CUDA-graph all-reduce."""
    got = {(int(r["num_gpus"]), 2 * int(r["message_size"])): float(r["latency"]) * 1e3
           for r in csv.DictReader(table.open()) if r["kernel_source"] == "vLLM_custom_graph"}
    return {s: [got[(n, s)] for n in (2, 4, 8)] for s in SIZES}


def main(data_040: str, data_070: str) -> None:
    for system in ("h200_sxm", "h100_sxm"):
        for version, data in (("0.11.0", data_040), ("0.12.0", data_070)):
            f, c, err = gemm_fit(Path(data) / system / "vllm" / version / "gemm_perf.txt", system)
            print(f"{system} vllm {version} fp8 GEMM: f {f:.3f}, c {c * 1e12:.1f} ps, mean |error| {100 * err:.1f} %")
        table = Path(data_070) / system / "vllm" / "0.12.0" / "custom_allreduce_perf.txt"
        for size, us in all_reduce_us(table).items():
            print(f"{system} vllm 0.12.0 all-reduce {size}: " + ", ".join(f"{x:.2f}" for x in us))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
