"""Measure fp8 (e4m3) and bf16 GEMM rates on a real GPU for training-shaped GEMMs.

Runs only where PyTorch and a CUDA GPU with fp8 exist (the lent H100/H200 machine, not CI). Prints one
JSON line per shape: TFLOP/s in bf16 and fp8 (torch._scaled_mm, per-tensor scales).
usage: python benchmarks/gpu/gpu_fp8_gemm_calibration.py
"""

from __future__ import annotations

import json

from _timing import synced_seconds

SHAPES = [  # (m, n, k): GPT-3 175B at TP4 / TP8 with 2,048-token micro-batches, and square references
    (2048, 9216, 12288), (2048, 12288, 3072), (2048, 12288, 12288), (2048, 12288, 6144),
    (4096, 4608, 12288), (4096, 12288, 1536), (4096, 6144, 12288), (4096, 12288, 6144),
    (8192, 8192, 8192), (4096, 4096, 4096),
]


def rate(torch, fn, flops: float, iters: int = 50) -> float:
    """TFLOP/s of `fn` doing `flops` (`_timing.synced_seconds`: host clock, launch cost included)."""
    return flops / synced_seconds(torch, fn, iters) / 1e12


def main() -> None:
    import torch

    for m, n, k in SHAPES:
        a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
        b = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
        bf16 = rate(torch, lambda a=a, b=b: a @ b.t(), 2.0 * m * n * k)
        a8, b8 = a.to(torch.float8_e4m3fn), b.to(torch.float8_e4m3fn)
        one = torch.tensor(1.0, device="cuda")
        fp8 = rate(torch, lambda a8=a8, b8=b8, one=one: torch._scaled_mm(a8, b8.t(), scale_a=one, scale_b=one,
                                                                   out_dtype=torch.bfloat16), 2.0 * m * n * k)
        print(json.dumps({"m": m, "n": n, "k": k, "bf16_tflops": round(bf16, 1), "fp8_tflops": round(fp8, 1),
                          "device": torch.cuda.get_device_name()}))


if __name__ == "__main__":
    from _guard import require_cuda

    require_cuda(__file__)
    main()
