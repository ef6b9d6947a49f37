"""Fused causal attention on a real GPU by head dimension and SDPA backend: what `attention_max_fraction` and the
exponential term (`attention_exp_per_s`, hardware.kernels.exp_seconds) predict.

hardware.kernels prices a score at a d + b (the tensor-core FLOPs plus one exponential on the MUFU), so the rate at
head dim 64 over the rate at 128 is ~0.80 on Hopper. This probe times causal SDPA forward and forward + backward at
d = 64 and 128 (heads x d fixed at 4,096 and at 8,192; 16k tokens per call as batch x sequence), per backend PyTorch
offers (flash, cuDNN, memory-efficient), median of device-event timings. Causal FLOPs: 4 s^2 h d / 2 forward,
x 3.5 forward + backward (backward 2.5x forward, recompute included), as gpu_layer_calibration.py counts them.
usage: python benchmarks/gpu/gpu_attention_probe.py
"""

from __future__ import annotations

import json

from _timing import median_event_seconds

CASES = [  # (sequence, batch, heads, head_dim)
    (2048, 8, 32, 128), (8192, 2, 32, 128), (16384, 1, 32, 128),
    (2048, 8, 64, 64), (8192, 2, 64, 64), (16384, 1, 64, 64),
    (8192, 2, 64, 128), (8192, 2, 128, 64),
]


def main() -> None:
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    backends = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION,
                "efficient": SDPBackend.EFFICIENT_ATTENTION}
    for seq, batch, heads, d in CASES:
        shape = (batch, heads, seq, d)
        q, k, v = (torch.randn(shape, device="cuda", dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
        grad = torch.randn(shape, device="cuda", dtype=torch.bfloat16)
        fwd_flops = 4.0 * batch * seq * seq * heads * d / 2
        row: dict = {"seq": seq, "batch": batch, "heads": heads, "head_dim": d, "fwd_tflops": {},
                     "fwd_bwd_tflops": {}, "errors": {}, "device": torch.cuda.get_device_name()}
        for name, backend in backends.items():
            try:
                with sdpa_kernel([backend]):
                    fwd = median_event_seconds(torch, lambda q=q, k=k, v=v: F.scaled_dot_product_attention(
                        q.detach(), k.detach(), v.detach(), is_causal=True))
                    both = median_event_seconds(torch, lambda q=q, k=k, v=v, g=grad: F.scaled_dot_product_attention(
                        q, k, v, is_causal=True).backward(g))
            except RuntimeError as error:
                row["errors"][name] = str(error).splitlines()[0][:200]
                continue
            row["fwd_tflops"][name] = fwd_flops / fwd / 1e12
            row["fwd_bwd_tflops"][name] = 3.5 * fwd_flops / both / 1e12
        print(json.dumps(row), flush=True)
        torch.cuda.empty_cache()


if __name__ == "__main__":
    from _guard import require_cuda

    require_cuda(__file__)
    main()
