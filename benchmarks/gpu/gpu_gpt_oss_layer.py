"""Where one GPT-OSS 120B training layer's time goes on one GPU: router, permute, experts, attention, the dense rest.

The question (validation/notes/training_sets_tried.md, rounds 9-15b, "GPT-OSS"): the model prices NeMo 26.04's GPT-OSS
rows H022 (B200, 16,384 tokens a micro-batch) and H023 (H100, 4,096) ~52 / 32 % too fast, ~12 / 4.6 ms per layer and
micro-batch that no priced op explains. This probe times each piece of one layer, forward and forward + backward, at
both token counts, in plain PyTorch (no TE, no Megatron: the rows ran TE's GroupedLinear, fused permute and cuDNN
sink attention, so each item here is the torch analogue, named in its row).

Shapes: the catalog's preset (catalog/models/gpt-oss-120b.json): hidden 2,880, 64 query heads x 64, 8 KV heads,
128 experts top-4, expert FFN 2,880 (fc1 2 x 2,880, quick-GeGLU alpha 1.702, offset 1, clamp 7, biases), window 128 on
alternate layers, learned sinks. EP8 under Megatron's alltoall dispatcher (megatron-core 0.16.1 token_dispatcher.py
MoEAlltoAllTokenDispatcher): each rank permutes its T x 4 routed rows by global expert (moe_utils.py:289-377), the
all-to-all sends each rank's 16 experts their rows, and the receiver regroups the 8 source ranks' chunks by local
expert (sort_chunks_by_idxs, moe_utils.py:470-506). Under forced balance (RandomSTE, moe_utils.py:1110-1157) every
rank sends T x 4 / 8 rows to each rank, so each GPU's 16 experts get T x 4 rows in all (T / 4 per expert: 1,024 at
T = 4,096, 4,096 at T = 16,384). One GPU emulates that with the all-to-all as the identity: global expert e is
source rank e // 16 and local expert e % 16, so the regroup is the receiver's real (rank, expert) -> (expert, rank)
chunk sort over T x 4 rows.

Items (each in its own try, so one failure loses only its row): router (bf16 linear + bias, RandomSTE clone +
normal_, top-4, softmax over the 4, dense probs / routing map); permute, chunk sort, unpermute (megatron's unfused
path: masked_select + index_select, split + cat, scatter_add_); expert GEMMs one cuBLAS call per local expert (as
TE GroupedLinear's te_general_grouped_gemm) and torch._grouped_mm, each with the biased clamped quick-GeGLU x probs
and fc2's per-expert bias loop (experts.py:609-626); the activation alone eager and compiled; attention core (SDPA
flash / cuDNN / default, causal, no sinks; flex_attention causal and window 128 with the sink as a softmax column by
the LSE trick, out x sigmoid(lse - sink)); the dense rest (RMSNorm, QKV + bias, YaRN-style eager RoPE, proj + bias,
residuals); the whole layer chained, forward + backward. Seconds are medians of device-event timings (eager launches:
a host-bound item shows host_s near its seconds). FLOPs: GEMMs 2 m n k (forward + backward 3x), attention 4 s_q s_k
h d over visited keys (forward + backward 3.5x, as gpu_attention_probe.py); elementwise items report bytes moved.
Writes $OUT/gpt_oss_layer.json (one object: device, torch, rows) and prints a table.
Forwards free of host syncs are also replayed as a CUDA graph (fwd_graph_s: kernels only). Items start only while
--budget-s (default 80 s) lasts, and the JSON is rewritten after each item, so a timeout keeps what was measured.
usage: python benchmarks/gpu/gpu_gpt_oss_layer.py [--tiny] [--device cpu] [--budget-s 80] [--no-flex]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from _gpt_oss_layer_ops import (
    act,
    act_megatron,
    attn_flops,
    bwd,
    chunk_order,
    dense_rest,
    experts_grouped,
    experts_loop,
    experts_megatron,
    flex_items,
    make_weights,
    megatron_weights,
    moe,
    permute,
    route,
    sdpa_items,
    sort_chunks,
    unpermute,
    weighted_geglu,
)
from _timing import graph_seconds

FULL = {"hidden": 2880, "heads": 64, "kv_heads": 8, "head_dim": 64, "experts": 128, "topk": 4, "ffn": 2880,
        "window": 128, "ep": 8, "seq": 4096, "tokens": (4096, 16384)}
TINY = {"hidden": 64, "heads": 4, "kv_heads": 2, "head_dim": 16, "experts": 16, "topk": 4, "ffn": 64,
        "window": 8, "ep": 8, "seq": 64, "tokens": (64, 128)}


class Probe:
    """Timing context: device, dtype, wall-clock budget, collected rows."""

    def __init__(self, torch: Any, device: str, budget_s: float, runs: int) -> None:
        self.torch, self.device, self.runs = torch, device, runs
        self.dtype = torch.bfloat16
        self.started = time.perf_counter()
        self.deadline = self.started + budget_s
        self.rows: list[dict] = []
        self.info: dict = {}
        self.path = os.path.join(os.environ.get("OUT", "."), "gpt_oss_layer.json")

    def save(self) -> None:
        """Write everything measured so far (after each item, so a run killed by its timeout keeps its rows)."""
        with open(self.path, "w") as handle:
            json.dump({**self.info, "wall_s": time.perf_counter() - self.started, "rows": self.rows}, handle, indent=1)

    def seconds(self, fn: Callable[[], object]) -> tuple[float, float]:
        """(median device seconds, mean host seconds to issue) of one call after three warm-ups."""
        torch = self.torch
        for _ in range(3):
            fn()
        if self.device != "cuda":
            times = []
            for _ in range(self.runs):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
            return statistics.median(times), statistics.mean(times)
        times, host = [], []
        for _ in range(self.runs):
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            begin.record()
            start = time.perf_counter()
            fn()
            host.append(time.perf_counter() - start)
            end.record()
            end.synchronize()
            times.append(begin.elapsed_time(end) / 1e3)
        return statistics.median(times), statistics.mean(host)

    def item(self, name: str, tokens: int, fwd: Callable[[], object] | None, both: Callable[[], object] | None,
             flops: float = 0.0, nbytes: float = 0.0, bwd_factor: float = 3.0, graph: bool = False,
             **extra: Any) -> None:
        """Time fwd and fwd + bwd of one item; record a row (errors recorded, never raised)."""
        row: dict = {"item": name, "tokens": tokens, **extra}
        for label, fn, factor in (("fwd", fwd, 1.0), ("fwd_bwd", both, bwd_factor)):
            if fn is None:
                continue
            if time.perf_counter() > self.deadline:
                row[f"{label}_error"] = "skipped: wall-clock budget spent"
                continue
            try:
                seconds, host = self.seconds(fn)
            except Exception as error:  # noqa: BLE001 - one failed item must not lose the others
                text = str(error).splitlines()[0][:300] if str(error) else ""
                row[f"{label}_error"] = f"{type(error).__name__}: {text}"
                continue
            row[f"{label}_s"], row[f"{label}_host_s"] = seconds, host
            if flops:
                row[f"{label}_tflops"] = factor * flops / seconds / 1e12
            if nbytes:
                row[f"{label}_gbps"] = factor * nbytes / seconds / 1e9
        if graph and fwd is not None and self.device == "cuda" and time.perf_counter() < self.deadline:
            try:  # the forward replayed as a CUDA graph: kernels only, the host's launch cost out
                row["fwd_graph_s"] = graph_seconds(self.torch, fwd, iters=10)
                if flops:
                    row["fwd_graph_tflops"] = flops / row["fwd_graph_s"] / 1e12
            except Exception as error:  # noqa: BLE001
                row["fwd_graph_error"] = f"{type(error).__name__}: {str(error)[:200]}"
        if flops:
            row["flops_fwd"] = flops
        if nbytes:
            row["bytes_fwd"] = nbytes
        self.rows.append(row)
        self.save()
        print(json.dumps(row), flush=True)
        if self.device == "cuda":
            self.torch.cuda.empty_cache()


def moe_items(p: Probe, c: dict, wt: dict, t: int) -> None:
    """Items 1-3: router, permute / chunk sort / unpermute, experts (loop and grouped), the activation."""
    torch, f, dev, dt = p.torch, p.torch.nn.functional, p.device, p.dtype
    hid, lx, r = c["hidden"], c["experts"] // c["ep"], t * c["topk"]  # r: rows this GPU's experts get (docstring)
    tag = {"rows": r, "local_experts": lx, "rows_per_expert": r // lx}
    hx = torch.randn(t, hid, device=dev, dtype=dt, requires_grad=True)
    p.item("router", t, lambda: route(p, c, hx, wt), bwd(p, lambda: route(p, c, hx, wt)[0] ** 2,
           [hx, wt["router"], wt["router_b"]]), flops=2.0 * t * hid * c["experts"])
    probs, rmap = (v.detach() for v in route(p, c, hx, wt))
    sizes = rmap.sum(0).tolist()
    forward, _ = chunk_order(c)
    moved = 2 * r * hid * 2  # rows read + written, bf16
    p.item("permute", t, lambda: permute(p, hx, probs, rmap), bwd(p, lambda: permute(p, hx, probs, rmap)[0], [hx]),
           nbytes=moved, bwd_factor=2.0, path="masked_select + index_select (the rows ran TE fused_permute)")
    rows = torch.randn(r, hid, device=dev, dtype=dt, requires_grad=True)
    p.item("sort_chunks", t, lambda: sort_chunks(p, rows, sizes, forward),
           bwd(p, lambda: sort_chunks(p, rows, sizes, forward), [rows]), nbytes=moved, bwd_factor=2.0)
    idx = permute(p, hx, probs, rmap)[2]
    p.item("unpermute", t, lambda: unpermute(p, rows, idx, (t, hid)),
           bwd(p, lambda: unpermute(p, rows, idx, (t, hid)), [rows]), nbytes=r * hid * 2 + 2 * t * hid * 2,
           bwd_factor=2.0, path="zeros + scatter_add_")
    local = [sum(sizes[rank * lx + e] for rank in range(c["ep"])) for e in range(lx)]
    rp = torch.rand(r, 1, device=dev, dtype=dt)
    ex_w = [rows, wt["fc1"], wt["fc1_b"], wt["fc2"], wt["fc2_b"]]
    ex_flops = 2.0 * r * hid * 2 * c["ffn"] + 2.0 * r * c["ffn"] * hid
    for label, split in (("even", [r // lx] * lx), ("routed", local)):
        extra = {**tag, "split": label, "min_rows": min(split), "max_rows": max(split)}
        for kind, fn in (("loop", experts_loop), ("grouped_mm", experts_grouped)):
            def call(fn: Callable = fn, s: list = split) -> Any:
                return fn(p, wt, rows, rp, s, act)
            p.item(f"experts_{kind}", t, call, bwd(p, call, ex_w), flops=ex_flops, graph=label == "even", **extra)
    xs = torch.split(rows.detach(), [r // lx] * lx)
    p.item("fc1_gemms_loop", t, lambda: [f.linear(xe, wt["fc1"][e], wt["fc1_b"][e]) for e, xe in enumerate(xs)],
           None, flops=2.0 * r * hid * 2 * c["ffn"], graph=True, **tag)
    mids = [torch.randn(r // lx, c["ffn"], device=dev, dtype=dt) for _ in range(lx)]
    p.item("fc2_gemms_loop", t, lambda: [f.linear(m, wt["fc2"][e]) for e, m in enumerate(mids)], None,
           flops=2.0 * r * c["ffn"] * hid, graph=True, **tag)
    y = torch.randn(r, 2 * c["ffn"], device=dev, dtype=dt, requires_grad=True)
    act_bytes = r * 2 * c["ffn"] * 2 + r * c["ffn"] * 2
    p.item("act_eager", t, lambda: act(torch, y, rp), bwd(p, lambda: act(torch, y, rp), [y]), nbytes=act_bytes,
           bwd_factor=2.0, graph=True)
    if dev == "cuda":
        compiled = torch.compile(lambda y, pr: act(torch, y, pr), dynamic=False)
        p.item("act_compiled", t, lambda: compiled(y, rp), bwd(p, lambda: compiled(y, rp), [y]),
               nbytes=act_bytes, bwd_factor=2.0)


def dense_items(p: Probe, c: dict, wt: dict, t: int, cos: Any, sin: Any) -> None:
    """Items 5-6: QKV and proj GEMMs, the dense rest, the whole layer (SDPA core, no sinks) loop and grouped."""
    torch, f, dev, dt = p.torch, p.torch.nn.functional, p.device, p.dtype
    hid, d, lx = c["hidden"], c["head_dim"], c["experts"] // c["ep"]
    qkv_n, attn_n = (c["heads"] + 2 * c["kv_heads"]) * d, c["heads"] * d
    x = torch.randn(t, hid, device=dev, dtype=dt, requires_grad=True)
    o = torch.randn(t, attn_n, device=dev, dtype=dt, requires_grad=True)
    p.item("qkv_gemm", t, lambda: f.linear(x, wt["qkv"], wt["qkv_b"]),
           bwd(p, lambda: f.linear(x, wt["qkv"], wt["qkv_b"]), [x, wt["qkv"], wt["qkv_b"]]),
           flops=2.0 * t * hid * qkv_n, graph=True)
    p.item("proj_gemm", t, lambda: f.linear(o, wt["proj"], wt["proj_b"]),
           bwd(p, lambda: f.linear(o, wt["proj"], wt["proj_b"]), [o, wt["proj"], wt["proj_b"]]),
           flops=2.0 * t * attn_n * hid, graph=True)
    dense_flops = 2.0 * t * hid * qkv_n + 2.0 * t * attn_n * hid
    dense_w = [x] + [wt[key] for key in ("norm1", "norm2", "qkv", "qkv_b", "proj", "proj_b")]
    p.item("dense_rest", t, lambda: dense_rest(p, c, x, wt, cos, sin, None),
           bwd(p, lambda: sum(part.float().sum() for part in dense_rest(p, c, x, wt, cos, sin, None)), dense_w),
           flops=dense_flops, note="core skipped: q stands in for its output")

    def core(q: Any, k2: Any, v2: Any) -> Any:
        return f.scaled_dot_product_attention(q, k2, v2, is_causal=True, enable_gqa=True)

    layer_flops = (dense_flops + 3.0 * 2.0 * t * c["topk"] * hid * c["ffn"] + attn_flops(c, t // c["seq"], None)
                   + 2.0 * t * hid * c["experts"])
    layer_w = [x] + [value for key, value in wt.items() if key != "sink"]
    for grouped in (False, True):
        def layer(grouped: bool = grouped) -> Any:
            xr, h2 = dense_rest(p, c, x, wt, cos, sin, core)
            return moe(p, c, xr, h2, wt, grouped)
        p.item("layer_grouped_mm" if grouped else "layer_loop", t, layer, bwd(p, layer, layer_w), flops=layer_flops,
               attention="sdpa causal, no sinks", rows=t * c["topk"], rows_per_expert=t * c["topk"] // lx)


def faithful_items(p: Probe, c: dict, wt: dict, t: int, cos: Any, sin: Any) -> None:
    """Items 3b / 6b, closer to what Megatron-Core + TE run (round 2): the experts' backward GEMMs alone (dgrad / wgrad,
    one cuBLAS call per local expert, graph-replayed); the megatron activation (eager clamp, compiled weighted
    quick-GeGLU); experts with fc1's bias inside its grouped GEMM (no per-row gather, no stacked-weight select: the
    first run's loop paid SelectBackward's full-size zero + add per expert, its grouped variant an index_put);
    the whole layer with them and cuDNN's causal core."""
    torch, f_, dev, dt = p.torch, p.torch.nn.functional, p.device, p.dtype
    hid, ffn, lx, r = c["hidden"], c["ffn"], c["experts"] // c["ep"], t * c["topk"]
    m = r // lx
    tag = {"rows": r, "local_experts": lx, "rows_per_expert": m}

    def rand(*shape: int) -> Any:
        return torch.randn(*shape, device=dev, dtype=dt)

    backward_gemms(p, c, t, rand, tag)
    geglu = weighted_geglu(torch)
    geglu = torch.compile(geglu, dynamic=False) if dev == "cuda" else geglu
    y = rand(r, 2 * ffn).requires_grad_()
    rp = torch.rand(r, 1, device=dev, dtype=dt)
    p.item("act_megatron", t, lambda: act_megatron(p, y, rp, geglu), bwd(p, lambda: act_megatron(p, y, rp, geglu), [y]),
           nbytes=r * 2 * ffn * 2 + r * ffn * 2, bwd_factor=2.0, path="eager clamp + cat, compiled weighted GeGLU")
    mw = megatron_weights(p, c)
    rows = rand(r, hid).requires_grad_()
    ex_w = [rows, mw["w1"], mw["w2"], *mw["b2"]]
    ex_flops = 2.0 * r * hid * 2 * ffn + 2.0 * r * ffn * hid

    def experts() -> Any:
        return experts_megatron(p, mw, rows, rp, [m] * lx, geglu)
    p.item("experts_megatron", t, experts, bwd(p, experts, ex_w), flops=ex_flops, split="even", **tag)
    x = rand(t, hid).requires_grad_()

    def core(q: Any, k2: Any, v2: Any) -> Any:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        if dev != "cuda":
            return f_.scaled_dot_product_attention(q, k2, v2, is_causal=True, enable_gqa=True)
        with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
            return f_.scaled_dot_product_attention(q, k2, v2, is_causal=True, enable_gqa=True)

    def layer() -> Any:
        xr, h2 = dense_rest(p, c, x, wt, cos, sin, core)
        return moe(p, c, xr, h2, wt, lambda rw, pr, sizes: experts_megatron(p, mw, rw, pr, sizes, geglu))
    layer_w = [x] + [wt[key] for key in ("norm1", "norm2", "qkv", "qkv_b", "proj", "proj_b", "router", "router_b")]
    layer_flops = (ex_flops + 2.0 * t * hid * ((c["heads"] + 2 * c["kv_heads"]) * c["head_dim"])
                   + 2.0 * t * c["heads"] * c["head_dim"] * hid + attn_flops(c, t // c["seq"], None)
                   + 2.0 * t * hid * c["experts"])
    p.item("layer_megatron", t, layer, bwd(p, layer, layer_w + [mw["w1"], mw["w2"], *mw["b2"]]), flops=layer_flops,
           attention="cudnn causal, no sinks", path="unfused router / permute as megatron without TE", **tag)


def backward_gemms(p: Probe, c: dict, t: int, rand: Callable, tag: dict) -> None:
    """The experts' dgrad and wgrad GEMMs alone, one cuBLAS call per local expert (as TE's grouped GEMM loop)."""
    torch, hid, ffn, lx = p.torch, c["hidden"], c["ffn"], c["experts"] // c["ep"]
    r = t * c["topk"]
    m = r // lx
    w1, w2 = [rand(2 * ffn, hid) for _ in range(lx)], [rand(hid, ffn) for _ in range(lx)]
    x1, g1, x2, g2 = ([rand(m, n) for _ in range(lx)] for n in (hid, 2 * ffn, ffn, hid))
    up, down = 2.0 * r * 2 * ffn * hid, 2.0 * r * ffn * hid
    for name, fn, flops in (
            ("fc1_dgrad_loop", lambda: [torch.mm(g, w) for g, w in zip(g1, w1, strict=True)], up),
            ("fc1_wgrad_loop", lambda: [torch.mm(g.t(), x) for g, x in zip(g1, x1, strict=True)], up),
            ("fc2_dgrad_loop", lambda: [torch.mm(g, w) for g, w in zip(g2, w2, strict=True)], down),
            ("fc2_wgrad_loop", lambda: [torch.mm(g.t(), x) for g, x in zip(g2, x2, strict=True)], down)):
        p.item(name, t, fn, None, flops=flops, graph=True, **tag)


GROUPS = ("moe", "sdpa", "dense", "faithful", "flex")


def run(p: Probe, c: dict, groups: tuple[str, ...]) -> None:
    torch, d = p.torch, c["head_dim"]
    if p.device == "cuda":  # flex at two masks x two batches x (no-grad, grad): past dynamo's default 8 recompiles
        for name in ("cache_size_limit", "recompile_limit", "accumulated_cache_size_limit",
                     "accumulated_recompile_limit"):
            if hasattr(torch._dynamo.config, name):
                setattr(torch._dynamo.config, name, 256)
    wt = make_weights(p, c)
    pos = torch.arange(c["seq"], device=p.device, dtype=torch.float32)
    ang = pos[:, None] * (150000.0 ** (-torch.arange(0, d, 2, device=p.device, dtype=torch.float32) / d))[None]
    cos, sin = (torch.cat((a, a), -1).to(p.dtype) for a in (ang.cos(), ang.sin()))
    for t in c["tokens"]:
        if "moe" in groups:
            moe_items(p, c, wt, t)
        if "sdpa" in groups:
            sdpa_items(p, c, t)
        if "dense" in groups:
            dense_items(p, c, wt, t, cos, sin)
        if "faithful" in groups:
            faithful_items(p, c, wt, t, cos, sin)
    if "flex" in groups:
        for t in c["tokens"]:
            flex_items(p, c, t)


def table(rows: list[dict]) -> None:
    print(f"{'item':28} {'tokens':>6} {'fwd ms':>9} {'f+b ms':>9} {'TF/s f+b':>9} {'GB/s f+b':>9}  note")
    for row in rows:
        ms = [f"{row[key] * 1e3:9.3f}" if key in row else f"{'-':>9}" for key in ("fwd_s", "fwd_bwd_s")]
        tf = f"{row['fwd_bwd_tflops']:9.1f}" if "fwd_bwd_tflops" in row else f"{'-':>9}"
        gb = f"{row['fwd_bwd_gbps']:9.0f}" if "fwd_bwd_gbps" in row else f"{'-':>9}"
        note = row.get("fwd_error", row.get("fwd_bwd_error", row.get("split", row.get("backend", ""))))
        print(f"{row['item']:28} {row['tokens']:>6} {ms[0]} {ms[1]} {tf} {gb}  {note}"[:160])


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--tiny", action="store_true", help="tiny shapes (a CPU dry run)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--budget-s", type=float, default=80.0, help="skip items once this much wall has passed")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-flex", action="store_true", help="skip the compiled flex_attention items")
    parser.add_argument("--groups", default=",".join(GROUPS), help=f"item groups to run, of {','.join(GROUPS)}")
    args = parser.parse_args()
    torch.manual_seed(0)
    c = TINY if args.tiny else FULL
    p = Probe(torch, args.device, args.budget_s, args.runs)
    p.info = {"torch": torch.__version__, "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
              "shapes": dict(c), "tiny": args.tiny, "timing": "median of device-event timings, eager launches",
              "backward_seed": "a fixed random output gradient per shape"}
    try:
        groups = tuple(g for g in args.groups.split(",") if g and not (args.no_flex and g == "flex"))
        run(p, c, groups)
    except Exception as error:  # noqa: BLE001 - keep what was measured
        p.info["error"] = f"{type(error).__name__}: {str(error)[:300]}"
    p.save()
    table(p.rows)
    print(f"wrote {p.path} ({len(p.rows)} rows, {time.perf_counter() - p.started:.1f} s)")

if __name__ == "__main__":
    import sys

    if "--device" not in sys.argv:
        from _guard import require_cuda

        require_cuda(__file__)
    main()
