"""The pieces of one GPT-OSS 120B layer as megatron-core 0.16.1 runs them without TE, in plain PyTorch, for the probe
gpu_gpt_oss_layer.py (sources at each function: megatron/core/transformer/moe/moe_utils.py, experts.py,
fusions/fused_bias_geglu.py). `p` is the probe's context (its .torch, .device, .dtype); `c` the shape dict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ALPHA, OFFSET, CLAMP = 1.702, 1.0, 7.0  # GPT-OSS quick-GeGLU (megatron-core fused_bias_geglu.py:185-202, :410-441)


def make_weights(p: Any, c: dict) -> dict:
    torch, dev, dt = p.torch, p.device, p.dtype
    h, d, lx = c["hidden"], c["head_dim"], c["experts"] // c["ep"]
    qkv = (c["heads"] + 2 * c["kv_heads"]) * d

    def w(*shape: int, scale: float = 0.02) -> Any:
        return (torch.randn(*shape, device=dev, dtype=dt) * scale).requires_grad_()

    return {"norm1": w(h, scale=1.0), "norm2": w(h, scale=1.0), "qkv": w(qkv, h), "qkv_b": w(qkv),
            "proj": w(h, c["heads"] * d), "proj_b": w(h), "router": w(c["experts"], h), "router_b": w(c["experts"]),
            "fc1": w(lx, 2 * c["ffn"], h), "fc1_b": w(lx, 2 * c["ffn"]), "fc2": w(lx, h, c["ffn"]),
            "fc2_b": w(lx, h), "sink": w(c["heads"], scale=1.0)}


def route(p: Any, c: dict, x: Any, wt: dict) -> tuple[Any, Any]:
    """Router: bf16 linear + bias, RandomSTE (forward clone().normal_(), backward identity), top-k, softmax over k."""
    torch = p.torch
    logits = torch.nn.functional.linear(x, wt["router"], wt["router_b"])
    noise = logits.detach().clone().normal_()
    rand = logits + (noise - logits).detach()  # the straight-through estimator
    top, idx = torch.topk(rand, c["topk"], dim=-1)
    probs_k = torch.softmax(top.float(), dim=-1).to(x.dtype)
    probs = torch.zeros_like(rand).scatter(1, idx, probs_k)
    routing_map = torch.zeros(rand.shape, dtype=torch.bool, device=x.device).scatter(1, idx, True)
    return probs, routing_map


def permute(p: Any, tokens: Any, probs: Any, routing_map: Any) -> tuple[Any, Any, Any]:
    """megatron-core 0.16.1 moe_utils.permute, unfused branch (:352-377)."""
    torch = p.torch
    num_tokens = tokens.shape[0]
    rmap = routing_map.T.contiguous()
    token_indices = torch.arange(num_tokens, device=tokens.device).unsqueeze(0).expand(rmap.shape[0], -1)
    sorted_indices = token_indices.masked_select(rmap)
    permuted_probs = probs.T.contiguous().masked_select(rmap)
    return tokens.index_select(0, sorted_indices), permuted_probs, sorted_indices


def chunk_order(c: dict) -> tuple[list[int], list[int]]:
    """(rank, local expert) chunks -> (local expert, rank), and back (moe_utils.sort_chunks_by_idxs, :499-506)."""
    lx, ep = c["experts"] // c["ep"], c["ep"]
    forward = [r * lx + e for e in range(lx) for r in range(ep)]
    backward = [forward.index(i) for i in range(len(forward))]
    return forward, backward


def sort_chunks(p: Any, rows: Any, sizes: list[int], order: list[int]) -> Any:
    parts = p.torch.split(rows, sizes, dim=0)
    return p.torch.cat([parts[i] for i in order], dim=0)


def unpermute(p: Any, rows: Any, sorted_indices: Any, shape: tuple) -> Any:
    """moe_utils.unpermute without probs (the alltoall path weights inside the activation), :448-467."""
    out = p.torch.zeros(shape, dtype=rows.dtype, device=rows.device)
    return out.scatter_add(0, sorted_indices.unsqueeze(1).expand(-1, shape[1]), rows)


def act(torch: Any, y: Any, probs: Any) -> Any:
    """weighted_bias_quick_geglu_impl with clamp 7, offset 1 (fused_bias_geglu.py:410-441), probs per row."""
    glu, lin = torch.chunk(y, 2, dim=-1)
    glu, lin = glu.clamp(max=CLAMP), lin.clamp(min=-CLAMP, max=CLAMP)
    return (glu * torch.sigmoid(ALPHA * glu) * (lin + OFFSET) * probs).to(y.dtype)


def experts_loop(p: Any, wt: dict, rows: Any, probs: Any, sizes: list[int], act_fn: Callable) -> Any:
    """One cuBLAS GEMM per local expert with the bias in the epilogue (fc1), fc2 without, then its bias loop."""
    f = p.torch.nn.functional
    xs, ps = p.torch.split(rows, sizes), p.torch.split(probs, sizes)
    mids = [act_fn(p.torch, f.linear(xs[e], wt["fc1"][e], wt["fc1_b"][e]), ps[e]) for e in range(len(sizes))]
    outs = [f.linear(mids[e], wt["fc2"][e]) + wt["fc2_b"][e] * ps[e] for e in range(len(sizes))]
    return p.torch.cat(outs)


def experts_grouped(p: Any, wt: dict, rows: Any, probs: Any, sizes: list[int], act_fn: Callable) -> Any:
    """torch._grouped_mm over the local experts (one launch per GEMM), biases gathered per row."""
    torch = p.torch
    offs = torch.tensor(sizes, device=rows.device).cumsum(0).to(torch.int32)
    counts = torch.tensor(sizes, device=rows.device)
    which = torch.repeat_interleave(torch.arange(len(sizes), device=rows.device), counts)
    y = torch._grouped_mm(rows, wt["fc1"].transpose(-2, -1), offs=offs) + wt["fc1_b"][which]
    mid = act_fn(torch, y, probs)
    return torch._grouped_mm(mid, wt["fc2"].transpose(-2, -1), offs=offs) + wt["fc2_b"][which] * probs


def rope(torch: Any, x: Any, cos: Any, sin: Any) -> Any:
    """Eager rotate-half RoPE (Megatron's unfused path for YaRN, mscale folded into cos / sin)."""
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


def attention_inputs(p: Any, c: dict, batch: int) -> tuple:
    torch = p.torch
    shape_q, shape_kv = (batch, c["heads"], c["seq"], c["head_dim"]), (batch, c["kv_heads"], c["seq"], c["head_dim"])
    q = torch.randn(shape_q, device=p.device, dtype=p.dtype, requires_grad=True)
    k, v = (torch.randn(shape_kv, device=p.device, dtype=p.dtype, requires_grad=True) for _ in range(2))
    return q, k, v


def attn_flops(c: dict, batch: int, window: int | None) -> float:
    s = c["seq"]
    keys = s * (s + 1) / 2 if window is None else sum(min(i + 1, window) for i in range(s))
    return 4.0 * batch * c["heads"] * c["head_dim"] * keys


def dense_rest(p: Any, c: dict, x: Any, wt: dict, cos: Any, sin: Any, core: Callable | None) -> Any:
    """Norm, QKV + bias, RoPE, (core or q as its stand-in), proj + bias, residual, pre-MLP norm."""
    torch, f = p.torch, p.torch.nn.functional
    t, d = x.shape[0], c["head_dim"]
    h = f.rms_norm(x, (c["hidden"],), wt["norm1"], 1e-5)
    qkv = f.linear(h, wt["qkv"], wt["qkv_b"])
    q, k, v = torch.split(qkv, [c["heads"] * d, c["kv_heads"] * d, c["kv_heads"] * d], dim=-1)
    b = t // c["seq"]
    q = rope(torch, q.view(b, c["seq"], c["heads"], d).transpose(1, 2), cos, sin)
    k = rope(torch, k.view(b, c["seq"], c["kv_heads"], d).transpose(1, 2), cos, sin)
    v = v.view(b, c["seq"], c["kv_heads"], d).transpose(1, 2)
    o = core(q, k, v) if core is not None else q
    o = o.transpose(1, 2).reshape(t, c["heads"] * d)
    x = x + f.linear(o, wt["proj"], wt["proj_b"])
    return x, f.rms_norm(x, (c["hidden"],), wt["norm2"], 1e-5)


def moe(p: Any, c: dict, x: Any, h: Any, wt: dict, grouped: bool | Callable) -> Any:
    """Router, permute, chunk sort, experts (`grouped`: grouped_mm, False: the per-expert loop, or a callable taking
    (rows, probs, local counts)), unsort, unpermute, residual."""
    probs, rmap = route(p, c, h, wt)
    rows, row_probs, idx = permute(p, h, probs, rmap)
    sizes = rmap.sum(0).tolist()  # the dispatcher's host copy of the counts (token_dispatcher.py:564)
    forward, backward = chunk_order(c)
    rows, row_probs = sort_chunks(p, rows, sizes, forward), sort_chunks(p, row_probs, sizes, forward)
    lx = c["experts"] // c["ep"]
    local = [sum(sizes[r * lx + e] for r in range(c["ep"])) for e in range(lx)]
    if callable(grouped):
        out = grouped(rows, row_probs.unsqueeze(-1), local)
    else:
        out = (experts_grouped if grouped else experts_loop)(p, wt, rows, row_probs.unsqueeze(-1), local, act)
    out = sort_chunks(p, out, [sizes[i] for i in forward], backward)
    return x + unpermute(p, out, idx, tuple(h.shape))


def megatron_weights(p: Any, c: dict) -> dict:
    """Expert weights as TE's GroupedLinear holds them for the faithful variant: fc1 stacked with its bias as an extra
    K column (K padded to a multiple of 16: the bias gradient then comes out of the wgrad GEMM, as TE's bf16 bgrad
    epilogue gives it), fc2 stacked, fc2's bias one tensor per local expert (experts.py:609-626 takes a list)."""
    torch, lx, h, f = p.torch, c["experts"] // c["ep"], c["hidden"], c["ffn"]
    k_pad = -(-(h + 1) // 16) * 16
    w1 = torch.randn(lx, 2 * f, k_pad, device=p.device, dtype=p.dtype) * 0.02
    w1[:, :, h + 1:] = 0.0
    return {"w1": w1.requires_grad_(), "w2": (torch.randn(lx, h, f, device=p.device, dtype=p.dtype) * 0.02)
            .requires_grad_(), "b2": [(torch.randn(h, device=p.device, dtype=p.dtype) * 0.02).requires_grad_()
                                      for _ in range(lx)], "k_pad": k_pad}


def act_megatron(p: Any, y: Any, probs: Any, geglu: Callable) -> Any:
    """weighted_bias_quick_geglu_impl as it runs: eager chunk + clamp x 2 + cat (fused_bias_geglu.py:424-432), then the
    fused weighted quick-GeGLU (`geglu`: torch.compile'd like megatron's jit_fuser, one kernel each way)."""
    glu, lin = p.torch.chunk(y, 2, dim=-1)
    return geglu(p.torch.cat((glu.clamp(max=CLAMP), lin.clamp(min=-CLAMP, max=CLAMP)), -1), probs)


def weighted_geglu(torch: Any) -> Callable:
    def fn(y: Any, w: Any) -> Any:
        a, b = torch.chunk(y, 2, dim=-1)
        return (a * torch.sigmoid(ALPHA * a) * (b + OFFSET) * w).to(y.dtype)
    return fn


def experts_megatron(p: Any, mw: dict, rows: Any, probs: Any, sizes: list[int], geglu: Callable) -> Any:
    """fc1 one grouped GEMM with the bias inside it (ones column), the megatron activation, fc2 one grouped GEMM, then
    megatron's fc2 bias loop `t + b * p` per local expert and its cat (experts.py:609-626)."""
    torch, h = p.torch, rows.shape[1]
    offs = torch.tensor(sizes, device=rows.device).cumsum(0).to(torch.int32)
    pad = torch.zeros(rows.shape[0], mw["k_pad"] - h, device=rows.device, dtype=rows.dtype)
    pad[:, 0] = 1.0
    y = torch._grouped_mm(torch.cat((rows, pad), 1), mw["w1"].transpose(-2, -1), offs=offs)
    out = torch._grouped_mm(act_megatron(p, y, probs, geglu), mw["w2"].transpose(-2, -1), offs=offs)
    parts, ps = torch.split(out, sizes), torch.split(probs, sizes)
    return torch.cat([parts[e] + mw["b2"][e] * ps[e] for e in range(len(sizes))])


SEEDS: dict = {}  # one fixed output gradient per (shape, dtype)


def bwd(p: Any, fn: Callable[[], Any], inputs: list) -> Callable[[], Any]:
    """Forward + backward of fn's output against inputs, seeded with a fixed random output gradient of its shape (no
    fp32 sum and its backward in the timing; the first run, 17:49 UTC, summed in fp32: +~3 passes of the output)."""
    def run() -> Any:
        out = fn()
        key = (tuple(out.shape), out.dtype)
        if key not in SEEDS:
            SEEDS[key] = p.torch.randn_like(out) if out.dim() else p.torch.ones_like(out)
        return p.torch.autograd.grad(out, inputs, SEEDS[key])
    return run


def sdpa_items(p: Any, c: dict, t: int) -> None:
    """Item 4a: causal SDPA per backend, GQA native and with K / V expanded to the query heads (no sinks)."""
    f = p.torch.nn.functional
    batch, group = t // c["seq"], c["heads"] // c["kv_heads"]
    q, kk, v = attention_inputs(p, c, batch)
    backends: dict = {"default": None}
    if p.device == "cuda":
        from torch.nn.attention import SDPBackend
        backends = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION,
                    "efficient": SDPBackend.EFFICIENT_ATTENTION, "default": None}
    for name, backend in backends.items():
        for native in (True, False):
            def sdpa(backend: Any = backend, native: bool = native) -> Any:
                k2, v2 = (kk, v) if native else (kk.repeat_interleave(group, 1), v.repeat_interleave(group, 1))
                if backend is None:
                    return f.scaled_dot_product_attention(q, k2, v2, is_causal=True, enable_gqa=native)
                from torch.nn.attention import sdpa_kernel
                with sdpa_kernel([backend]):
                    return f.scaled_dot_product_attention(q, k2, v2, is_causal=True, enable_gqa=native)
            p.item(f"attn_sdpa_{name}{'' if native else '_kvx'}", t, sdpa, bwd(p, sdpa, [q, kk, v]),
                   flops=attn_flops(c, batch, None), bwd_factor=3.5, window="causal", sinks=False,
                   backend=f"{name} {'gqa' if native else 'kv expanded'}")


def flex_items(p: Any, c: dict, t: int) -> None:
    """Item 4b: compiled flex_attention causal and window 128, with and without the sink column (LSE trick)."""
    torch = p.torch
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    compiled = torch.compile(flex_attention, dynamic=False) if p.device == "cuda" else flex_attention
    window, batch = c["window"], t // c["seq"]

    def causal(b: Any, h: Any, q_idx: Any, kv_idx: Any) -> Any:
        return q_idx >= kv_idx

    def sliding(b: Any, h: Any, q_idx: Any, kv_idx: Any) -> Any:
        return (q_idx >= kv_idx) & (q_idx - kv_idx < window)

    sink = torch.randn(c["heads"], device=p.device, dtype=torch.float32).requires_grad_()
    q, k, v = attention_inputs(p, c, batch)
    for label, mask_mod, win in (("causal", causal, None), ("window", sliding, window)):
        try:
            block = create_block_mask(mask_mod, None, None, c["seq"], c["seq"], device=p.device)
        except Exception as error:  # noqa: BLE001
            p.rows.append({"item": f"attn_flex_{label}", "tokens": t, "fwd_error": str(error)[:300]})
            continue
        for sinks in (False, True):
            def fx(sinks: bool = sinks, block: Any = block, grad: bool = True) -> Any:
                qkv = (q, k, v, sink) if grad else (q.detach(), k.detach(), v.detach(), sink.detach())
                out, lse = compiled(*qkv[:3], block_mask=block, enable_gqa=True, return_lse=True)
                if not sinks:
                    return out
                return (out * torch.sigmoid(lse - qkv[3][None, :, None]).unsqueeze(-1)).to(out.dtype)  # sum/(sum+e^s)

            def fx_fwd(fx: Callable = fx) -> Any:
                return fx(grad=False)
            inputs = [q, k, v] + ([sink] if sinks else [])
            p.item(f"attn_flex_{label}{'_sink' if sinks else ''}", t, fx_fwd, bwd(p, fx, inputs),
                   flops=attn_flops(c, batch, win), bwd_factor=3.5, window=label, sinks=sinks)
