"""Sustained GEMM throughput under the power limit: bf16 and fp8, 25 s each, with clock and power samples.

Short GEMM benchmarks run at boost clock; a training step keeps the GPU busy for minutes, so the power
limit (700 W on H100 SXM) sets the clock. Runs only on a CUDA GPU with PyTorch (the lent machine).
Prints one JSON line per dtype: TFLOP/s in each 5 s window, SM clock (MHz) and power (W) samples.
usage: python benchmarks/gpu/gpu_sustained_gemm.py [--seconds 25]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time


def sample_gpu() -> tuple[float, float]:
    out = subprocess.run(["nvidia-smi", "--query-gpu=clocks.sm,power.draw", "--format=csv,noheader,nounits"],
                         capture_output=True, text=True, check=False).stdout.strip().split(",")
    return float(out[0]), float(out[1])


def run(torch, dtype: str, seconds: float) -> dict:
    m, n, k = 8192, 12288, 12288  # GPT-3/Llama-70B-class FFN shard
    a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
    if dtype == "fp8":
        a, b = a.to(torch.float8_e4m3fn), b.to(torch.float8_e4m3fn)
        one = torch.tensor(1.0, device="cuda")

        def step():
            return torch._scaled_mm(a, b.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
    else:
        def step():
            return a @ b.t()
    flops = 2.0 * m * n * k
    windows, clocks, powers = [], [], []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0, count = time.perf_counter(), 0
        while time.perf_counter() - t0 < 5.0:
            for _ in range(20):
                step()
            count += 20
            torch.cuda.synchronize()
        windows.append(round(flops * count / (time.perf_counter() - t0) / 1e12, 1))
        clock, power = sample_gpu()
        clocks.append(clock)
        powers.append(power)
    return {"dtype": dtype, "shape": [m, n, k], "tflops_per_5s_window": windows, "sm_clock_mhz": clocks,
            "power_w": powers, "device": torch.cuda.get_device_name()}


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=25.0)
    args = parser.parse_args()
    for dtype in ("bf16", "fp8"):
        print(json.dumps(run(torch, dtype, args.seconds)), flush=True)


if __name__ == "__main__":
    from _guard import require_cuda

    require_cuda(__file__)
    main()
