"""Measure, on a real GPU, what the kernel model predicts: one TP shard of a transformer layer.

Runs only where PyTorch and a CUDA GPU exist (the lent H100/H200 machine, not CI). For each case it
times, sustained over many iterations (so power/clock limits show): every GEMM of the layer forward and
backward, causal SDPA attention forward+backward, and the whole layer (norms, RoPE-free attention,
SwiGLU or GeLU MLP, residuals) forward+backward in eager PyTorch. It prints one JSON object per case,
with achieved TFLOP/s, so catalog efficiency figures can be compared with measurement.

usage: python benchmarks/gpu/gpu_layer_calibration.py [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json

from _timing import synced_seconds

CASES = [  # name, tokens, hidden, heads_local, kv_heads_local, head_dim, ffn_local, gated
    ("llama3-405b-tp8-s8192", 8192, 16384, 16, 1, 128, 6656, True),
    ("gpt3-175b-tp8-s2048", 2048, 12288, 12, 12, 128, 6144, False),
    ("gpt3-175b-tp4-s2048", 2048, 12288, 24, 24, 128, 12288, False),
    ("llama3-8b-tp1-s8192", 8192, 4096, 32, 8, 128, 14336, True),
]


def timed(torch, fn, iters: int = 20, warmup: int = 5) -> float:
    """Mean seconds of one eager call of `fn` (`_timing.synced_seconds`: host clock, launch cost included)."""
    return synced_seconds(torch, fn, iters, warmup)


def run_case(torch, name, tokens, h, heads, kv_heads, d, f, gated) -> dict:
    import torch.nn.functional as F

    dev, dt = "cuda", torch.bfloat16
    q_out, kv_out = heads * d, 2 * kv_heads * d
    w_qkv = (torch.randn(h, q_out + kv_out, device=dev, dtype=dt) * 0.01).requires_grad_()
    w_o = (torch.randn(q_out, h, device=dev, dtype=dt) * 0.01).requires_grad_()
    w_1 = (torch.randn(h, (2 if gated else 1) * f, device=dev, dtype=dt) * 0.01).requires_grad_()
    w_2 = (torch.randn(f, h, device=dev, dtype=dt) * 0.01).requires_grad_()
    x = torch.randn(tokens, h, device=dev, dtype=dt, requires_grad=True)

    def layer(inp):
        y = F.rms_norm(inp, (h,)) if gated else F.layer_norm(inp, (h,))
        qkv = y @ w_qkv
        q, k, v = qkv.split([q_out, kv_out // 2, kv_out // 2], dim=-1)
        q = q.view(1, tokens, heads, d).transpose(1, 2)
        k = k.view(1, tokens, kv_heads, d).transpose(1, 2)
        v = v.view(1, tokens, kv_heads, d).transpose(1, 2)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=kv_heads != heads)
        inp = inp + o.transpose(1, 2).reshape(tokens, q_out) @ w_o
        y = F.rms_norm(inp, (h,)) if gated else F.layer_norm(inp, (h,))
        a = y @ w_1
        a = F.silu(a[:, :f]) * a[:, f:] if gated else F.gelu(a, approximate="tanh")
        return inp + a @ w_2

    grad = torch.randn(tokens, h, device=dev, dtype=dt)
    t_layer = timed(torch, lambda: layer(x).backward(grad))
    t_fwd = timed(torch, lambda: layer(x.detach()))

    gemms = {"qkv": (tokens, q_out + kv_out, h), "proj": (tokens, h, q_out),
             "fc1": (tokens, (2 if gated else 1) * f, h), "fc2": (tokens, h, f)}
    gemm_rates = {}
    gemm_total = 0.0
    for key, (m, n, k) in gemms.items():
        a_ = torch.randn(m, k, device=dev, dtype=dt)
        b_ = torch.randn(k, n, device=dev, dtype=dt)
        t = timed(torch, lambda a_=a_, b_=b_: a_ @ b_, iters=50)
        gemm_rates[key] = 2 * m * n * k / t / 1e12
        # forward + data grad + weight grad have the same FLOPs
        gemm_total += 3 * t
    q = torch.randn(1, heads, tokens, d, device=dev, dtype=dt, requires_grad=True)
    k = torch.randn(1, heads, tokens, d, device=dev, dtype=dt, requires_grad=True)
    v = torch.randn(1, heads, tokens, d, device=dev, dtype=dt, requires_grad=True)
    go = torch.randn(1, heads, tokens, d, device=dev, dtype=dt)
    t_attn = timed(torch, lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(go))
    t_attn_fwd = timed(torch, lambda: F.scaled_dot_product_attention(q.detach(), k.detach(), v.detach(),
                                                                      is_causal=True))
    attn_flops_causal = 4 * tokens * tokens * heads * d * 0.5
    layer_flops = 3 * 2 * tokens * sum(n * k for (_, n, k) in gemms.values()) + 3 * attn_flops_causal
    return {
        "case": name, "device": torch.cuda.get_device_name(),
        "layer_fwd_bwd_s": t_layer, "layer_fwd_s": t_fwd,
        "layer_tflops_causal": layer_flops / t_layer / 1e12,
        "gemm_tflops": gemm_rates, "gemms_fwd_bwd_s_isolated": gemm_total,
        "attention_fwd_bwd_s": t_attn, "attention_fwd_s": t_attn_fwd,
        "attention_fwd_bwd_tflops_causal": 3.5 * attn_flops_causal / t_attn / 1e12,
        "attention_fwd_tflops_causal": attn_flops_causal / t_attn_fwd / 1e12,
    }


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    results = []
    for case in CASES:
        result = run_case(torch, *case)
        print(json.dumps(result))
        results.append(result)
        torch.cuda.empty_cache()
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    from _guard import require_cuda

    require_cuda(__file__)
    main()
