"""GPU probe behind `hardware.kernels`' split-K / stream-K term: bf16 GEMMs with fewer output tiles than SMs.

Three sweeps, each GEMM timed as the mean over 8 (or 32) distinct weight matrices replayed as one CUDA graph (the
weights leave L2 as in a step; the host's launch cost is out of the figure):
  * chain: Llama 3 8B's four decode GEMMs (QKV, output, gate/up, down) one at a time over its 32 layers, at the
    token counts M where the chain measurement (gpu_decode_probe.py) is off the model (64-256);
  * tiles: M = 128, K = 4,096 and 14,336, N from 4 to 264 tiles of 128 (where does cuBLAS stop splitting K?);
  * depth: M = 128, N = 4,096 (32 tiles), K from 512 to 16,384 (from what K does it split?).
For each shape it also names the kernel cuBLAS ran (torch.profiler), which says split-K / stream-K where the library
chose one. Writes splitk_probe.json into $OUT.
usage: python benchmarks/gpu/gpu_splitk_probe.py
"""

from __future__ import annotations

import json
import os

from _timing import graph_seconds

H, F, Q, KV, LAYERS = 4096, 14336, 32 * 128, 2 * 8 * 128, 32


def timed(torch, fn, iters: int = 20) -> float:
    """Mean seconds of one CUDA-graph replay of fn (`_timing.graph_seconds`)."""
    return graph_seconds(torch, fn, iters)


def kernel_names(torch, fn) -> list[str]:
    from torch.profiler import ProfilerActivity, profile

    try:
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            fn()
            torch.cuda.synchronize()
        return sorted({e.name[:160] for e in prof.events() if str(e.device_type).endswith("CUDA")})
    except Exception as error:  # noqa: BLE001  # a build without CUPTI: the times still count
        return [f"profiler failed: {str(error)[:120]}"]


def one(torch, m: int, n: int, k: int, copies: int = 8) -> dict:
    bf = torch.bfloat16
    x = torch.randn(m, k, device="cuda", dtype=bf)
    weights = [torch.randn(k, n, device="cuda", dtype=bf) * 0.01 for _ in range(copies)]

    def run() -> None:
        for w in weights:
            _ = x @ w

    seconds = timed(torch, run) / copies
    names = kernel_names(torch, lambda: x @ weights[0])
    torch.cuda.empty_cache()
    return {"m": m, "n": n, "k": k, "s": seconds, "tflops": 2.0 * m * n * k / seconds / 1e12, "kernels": names}


def main() -> None:
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    out: dict = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "chain": [], "tiles": [],
                 "depth": []}
    for m in (64, 96, 128, 192, 256):
        for name, (n, k) in {"qkv": (Q + KV, H), "o": (H, Q), "up": (2 * F, H), "down": (H, F)}.items():
            row = one(torch, m, n, k, copies=LAYERS)
            row["gemm"] = name
            out["chain"].append(row)
            print(json.dumps(row), flush=True)
    for k in (4096, 14336):
        for tiles in (4, 8, 16, 24, 32, 48, 64, 66, 80, 100, 120, 132, 160, 200, 264):
            row = one(torch, 128, 128 * tiles, k)
            out["tiles"].append(row)
            print(json.dumps(row), flush=True)
    for k in (512, 1024, 2048, 4096, 8192, 16384):
        row = one(torch, 128, 4096, k)
        out["depth"].append(row)
        print(json.dumps(row), flush=True)
    with open(os.path.join(os.environ.get("OUT", "."), "splitk_probe.json"), "w") as handle:
        json.dump(out, handle, indent=1)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _guard import require_cuda

    require_cuda("gpu_splitk_probe.py")
    main()
