"""GPU probe behind the decode calibration check: Llama 3 8B GEMM chain and decode attention, CUDA graphs.

Runs on a machine with an NVIDIA GPU and torch (not an infraplan dependency). For M tokens it times the 32
layers' QKV, output, fused gate/up and down GEMMs (bf16, distinct weights per layer so nothing stays in L2),
replayed as one CUDA graph; and fused decode attention (SDPA, one query per sequence, GQA) over a KV cache,
reporting bytes/s. Writes decode_probe.json into $OUT. Raw result of a lent H100 SXM (torch 2.11, cu130):
src/infraplan/validation/data/h100_llama3_8b_decode_probe.json.
"""

from __future__ import annotations

import json
import os

try:
    import torch
except ImportError:  # the __main__ guard below says why and exits 0
    torch = None

from _timing import graph_seconds

H, F, NQ, NKV, D, LAYERS = 4096, 14336, 32, 8, 128, 32  # Llama 3 8B


def bench(fn, iters: int = 30) -> float:
    """Mean seconds of one CUDA-graph replay of fn (`_timing.graph_seconds`)."""
    return graph_seconds(torch, fn, iters)


def main() -> None:
    torch.backends.cuda.matmul.allow_tf32 = False
    bf = torch.bfloat16

    def w(k: int, n: int) -> torch.Tensor:
        return torch.randn(k, n, device="cuda", dtype=bf) * 0.01

    layers = [(w(H, (NQ + 2 * NKV) * D), w(NQ * D, H), w(H, 2 * F), w(F, H)) for _ in range(LAYERS)]
    out: dict = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "gemm_chain_s": {},
                 "decode_attention": []}
    for m in (1, 8, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192):
        x = torch.randn(m, H, device="cuda", dtype=bf)

        def chain(x: torch.Tensor = x) -> None:
            for qkv, o, up, down in layers:
                y = x @ qkv
                z = y[:, : NQ * D] @ o
                u = z @ up
                _ = u[:, :F] @ down

        out["gemm_chain_s"][m] = bench(chain)
    for batch, context in ((16, 1024), (64, 1024), (64, 4096), (256, 1024), (128, 4096)):
        q = torch.randn(batch, NQ, 1, D, device="cuda", dtype=bf)
        k = torch.randn(batch, NKV, context, D, device="cuda", dtype=bf)
        v = torch.randn_like(k)

        def attend(q: torch.Tensor = q, k: torch.Tensor = k, v: torch.Tensor = v) -> None:
            torch.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)

        seconds = bench(attend, 50)
        moved = 2 * k.numel() * 2
        out["decode_attention"].append({"batch": batch, "context": context, "s": seconds, "bytes": moved,
                                        "bytes_per_s": moved / seconds})
    path = os.path.join(os.environ.get("OUT", "."), "decode_probe.json")
    with open(path, "w") as handle:
        json.dump(out, handle, indent=1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    from _guard import require_cuda

    require_cuda(__file__)
    main()
