"""Host-side cost per GPU kernel in eager PyTorch: the floor under layers whose kernels are tiny.

Runs a GPT-style layer (layernorm, QKV, unfused attention with softmax and dropout, projection, GeLU MLP,
residuals) forward + backward at tiny shapes, so the GPU finishes each kernel before the host can issue
the next; wall time divided by the number of kernels launched (counted with the PyTorch profiler) is the
host dispatch cost per kernel. Runs only on a CUDA machine with PyTorch (the lent GPU, not CI).
usage: python benchmarks/gpu/gpu_host_dispatch.py
"""

from __future__ import annotations

import json
import time


def main() -> None:
    import torch
    import torch.nn.functional as F
    from torch.profiler import ProfilerActivity, profile

    h, heads, tokens = 256, 4, 128
    d = h // heads
    params = [torch.randn(*s, device="cuda", requires_grad=True) for s in
              ((h, 3 * h), (3 * h,), (h, h), (h,), (h, 4 * h), (4 * h,), (4 * h, h), (h,))]
    x = torch.randn(tokens, h, device="cuda", requires_grad=True)

    def layer(inp):
        w_qkv, b_qkv, w_o, b_o, w_1, b_1, w_2, b_2 = params
        y = F.layer_norm(inp, (h,))
        q, k, v = (y @ w_qkv + b_qkv).split(h, dim=-1)
        q, k, v = (t.view(tokens, heads, d).transpose(0, 1) for t in (q, k, v))
        scores = torch.baddbmm(torch.empty(heads, tokens, tokens, device="cuda"), q, k.transpose(1, 2),
                               beta=0.0, alpha=d**-0.5)
        probs = F.dropout(torch.softmax(scores, dim=-1), 0.1)
        o = (probs @ v).transpose(0, 1).reshape(tokens, h)
        inp = inp + F.dropout(o @ w_o + b_o, 0.1)
        y = F.layer_norm(inp, (h,))
        return inp + F.dropout(F.gelu(y @ w_1 + b_1) @ w_2 + b_2, 0.1)

    def step():
        layer(x).sum().backward()

    for _ in range(20):
        step()
    torch.cuda.synchronize()
    iters = 200
    start = time.perf_counter()
    for _ in range(iters):
        step()
    torch.cuda.synchronize()
    per_step = (time.perf_counter() - start) / iters
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        step()
        torch.cuda.synchronize()
    kernels = sum(1 for e in prof.events() if e.device_type.name == "CUDA")
    print(json.dumps({"layer_fwd_bwd_s": per_step, "cuda_kernels_per_step": kernels,
                      "host_dispatch_s_per_kernel": per_step / max(kernels, 1),
                      "device": torch.cuda.get_device_name(), "torch": torch.__version__}))


if __name__ == "__main__":
    from _guard import require_cuda

    require_cuda(__file__)
    main()
