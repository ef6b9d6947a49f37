"""GPU probe: one TP8 rank's decode step of Llama 3.1 70B (fp8 weights) on one GPU, item by item, at M sequences.

The open gap (validation/notes/training_sets_tried.md, hK51 / hA52 / hT57): NVIDIA AIConfigurator's measured
TensorRT-LLM Llama 3.1 70B H200 fp8 TP8 rows at 1024 / 1024 go from TPOT 13.5 ms at 64 clients to 21.6 ms at 128,
where the model's step goes 14.0 -> 19.8 ms. This probe times, for one TP8 rank (hidden 8,192; 8 q heads and 1 KV
head of 128; FFN 28,672 / 8 = 3,584; 80 layers) at M = 1 ... 256 decode sequences:
  1. gemm: the rank's four GEMMs a layer (QKV 8192 -> 1280, output 1024 -> 8192, gate/up 8192 -> 7168, down 3584 ->
     8192), fp8 e4m3 (torch._scaled_mm, per-tensor scales, bf16 out) and bf16, chained over 80 layers with distinct
     weights (no L2 reuse), one CUDA graph; also each GEMM alone (80 copies) in fp8;
  2. attention: decode attention (one query per sequence) over a bf16 KV cache of context 1,024 / 1,536 / 2,048
     (the 1024 / 1024 run's mean is ~1,536), 80 layers' distinct caches, SDPA per backend (flash, cuDNN, efficient,
     math) in two layouts: `gqa` (q M x 8 x 1 x 128, enable_gqa) and `packed` (the 8 q heads of the one KV head as 8
     query rows, as TensorRT-LLM's XQA kernel packs them); the KV bytes read and bytes/s;
  3. step: the whole rank step less the all-reduce (RMSNorm, fp8 casts, the four fp8 GEMMs, the attention at context
     1,536 on the fastest backend, SiLU-mul, residual adds; 80 layers, one graph) against gemm + attention.
Times are CUDA-graph replays on device events (`_timing.graph_seconds`). Each item runs in its own try/except; an
error is recorded, not raised. Writes tp8_decode_shard.json into $OUT and prints a table. Raw result of a lent H200
(torch 2.11, cu130; 27 s): validation/calibration/h200_tp8_decode_shard.json (analysis: validation/notes/
training_sets_tried.md, hT57; the GEMM chain against the model: tests/hardware/test_tp8_decode_shard_h200.py).
usage: python benchmarks/gpu/gpu_tp8_decode_shard.py [--tiny] [--budget-s 50]
  --tiny: CPU-sized shapes and 2 layers (a syntax and logic check on a machine without a GPU; times mean nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

FULL: dict[str, Any] = {"hidden": 8192, "q_heads": 8, "kv_heads": 1, "head_dim": 128, "ffn": 3584, "layers": 80,
        "m": (1, 8, 32, 64, 96, 128, 192, 256), "contexts": (1024, 1536, 2048), "step_context": 1536}
TINY: dict[str, Any] = {"hidden": 256, "q_heads": 8, "kv_heads": 1, "head_dim": 32, "ffn": 128, "layers": 2,
        "m": (1, 8), "contexts": (64,), "step_context": 64}


def timer(torch: Any, device: str) -> Callable[[Callable[[], object], int], float]:
    """Seconds of one call: CUDA-graph replay mean on a GPU, wall-clock mean on CPU (tiny check only)."""
    if device == "cuda":
        from _timing import graph_seconds

        return lambda fn, iters: graph_seconds(torch, fn, iters)

    def cpu(fn: Callable[[], object], iters: int) -> float:
        fn()
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        return (time.perf_counter() - start) / iters

    return cpu


def err(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--budget-s", type=float, default=45.0, help="skip what is left past this many seconds")
    args = parser.parse_args()
    import torch
    import torch.nn.functional as F

    warnings.filterwarnings("ignore", category=UserWarning)  # SDPA's per-backend "not used because" lines
    started = time.perf_counter()
    shape = TINY if args.tiny else FULL
    device = "cuda" if torch.cuda.is_available() and not args.tiny else "cpu"
    bench = timer(torch, device)
    h, nq, nkv, d, f, layers = (shape[k] for k in ("hidden", "q_heads", "kv_heads", "head_dim", "ffn", "layers"))
    qkv_n, o_k = (nq + 2 * nkv) * d, nq * d
    gemms = {"qkv": (qkv_n, h), "o": (h, o_k), "gate_up": (2 * f, h), "down": (h, f)}  # name: (N, K)
    bf, f8 = torch.bfloat16, torch.float8_e4m3fn
    torch.manual_seed(0)
    out: dict = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "torch": torch.__version__,
                 "shape": {k: v for k, v in shape.items()}, "gemm": [], "gemm_each": [], "attention": [],
                 "step": [], "errors": []}

    def over() -> bool:
        return time.perf_counter() - started > args.budget_s

    # weights (N, K) row-major, one set a layer; fp8 from bf16 (the values do not matter for time)
    weights: dict[str, list] = {name: [] for name in gemms}
    weights8: dict[str, list] = {name: [] for name in gemms}
    for _ in range(layers):
        for name, (n, k) in gemms.items():
            w = torch.randn(n, k, device=device, dtype=bf) * 0.02
            weights[name].append(w)
            weights8[name].append(w.to(f8))
    one = torch.tensor(1.0, device=device)
    per_layer_bytes = sum(n * k for n, k in gemms.values())
    out["weight_bytes_fp8"] = per_layer_bytes * layers

    def mm8(a: Any, w: Any) -> Any:
        return torch._scaled_mm(a, w.t(), scale_a=one, scale_b=one, out_dtype=bf)

    # 1. GEMM chains
    for m in shape["m"]:
        if over():
            out["errors"].append(f"gemm m={m}: skipped, past the budget")
            continue
        acts = {name: torch.randn(m, k, device=device, dtype=bf) for name, (_, k) in gemms.items()}
        acts8 = {name: a.to(f8) for name, a in acts.items()}
        row: dict = {"m": m}
        for dtype, ws, xs, op in (("fp8", weights8, acts8, mm8), ("bf16", weights, acts, lambda a, w: a @ w.t())):
            def chain(ws: dict = ws, xs: dict = xs, op: Callable = op) -> None:
                for i in range(layers):
                    for name in gemms:
                        op(xs[name], ws[name][i])

            try:
                row[f"{dtype}_s"] = bench(chain, 20)
                moved = per_layer_bytes * layers * (1 if dtype == "fp8" else 2)
                row[f"{dtype}_bytes_per_s"] = moved / row[f"{dtype}_s"]
            except Exception as error:  # noqa: BLE001  # recorded, the probe goes on
                row[f"{dtype}_error"] = err(error)
        out["gemm"].append(row)
        if m in (1, 64, 128, 256) and not over():
            each: dict = {"m": m}
            for name in gemms:
                def single(name: str = name, x: Any = acts8[name]) -> None:
                    for i in range(layers):
                        mm8(x, weights8[name][i])

                try:
                    each[f"{name}_s"] = bench(single, 20) / layers
                except Exception as error:  # noqa: BLE001
                    each[f"{name}_error"] = err(error)
            out["gemm_each"].append(each)
    del weights, acts, acts8, chain
    if device == "cuda":
        torch.cuda.empty_cache()

    # 2. decode attention over 80 layers' distinct bf16 caches
    from torch.nn.attention import SDPBackend, sdpa_kernel

    backends = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION,
                "efficient": SDPBackend.EFFICIENT_ATTENTION, "math": SDPBackend.MATH}
    best: dict[tuple[int, int], tuple[str, str, float]] = {}
    for context in shape["contexts"]:
        for m in shape["m"]:
            if over():
                out["errors"].append(f"attention m={m} context={context}: skipped, past the budget")
                continue
            try:
                k_cache = torch.randn(layers, m, nkv, context, d, device=device, dtype=bf)
                v_cache = torch.randn_like(k_cache)
            except Exception as error:  # noqa: BLE001
                out["errors"].append(f"attention m={m} context={context}: {err(error)}")
                continue
            kv_bytes = 2 * k_cache.numel() * 2
            queries = {"gqa": torch.randn(m, nq, 1, d, device=device, dtype=bf),
                       "packed": torch.randn(m, nkv, nq // nkv, d, device=device, dtype=bf)}
            row = {"m": m, "context": context, "kv_bytes_bf16": kv_bytes, "s": {}, "bytes_per_s": {}, "errors": {}}
            for layout, q in queries.items():
                for name, backend in backends.items():
                    if name == "math" and m > 64:
                        continue  # materialises the scores; only a reference at small M

                    def attend(q: Any = q, layout: str = layout, backend: Any = backend, kc: Any = k_cache,
                               vc: Any = v_cache) -> None:
                        with sdpa_kernel([backend]):
                            for i in range(layers):
                                F.scaled_dot_product_attention(q, kc[i], vc[i], enable_gqa=layout == "gqa")

                    key = f"{layout}/{name}"
                    try:
                        seconds = bench(attend, 10)
                    except Exception as error:  # noqa: BLE001
                        row["errors"][key] = err(error)
                        continue
                    row["s"][key] = seconds
                    row["bytes_per_s"][key] = kv_bytes / seconds
                    if (m, context) not in best or seconds < best[(m, context)][2]:
                        best[(m, context)] = (layout, name, seconds)
            if (m, context) in best:
                row["best"] = best[(m, context)][0] + "/" + best[(m, context)][1]
            out["attention"].append(row)
            del k_cache, v_cache, queries, attend
            if device == "cuda":
                torch.cuda.empty_cache()

    # 3. the whole rank step less the all-reduce, fp8 GEMMs, attention at step_context on its fastest backend
    context = shape["step_context"]
    norm_w = torch.ones(h, device=device, dtype=bf)
    for m in shape["m"]:
        if over():
            out["errors"].append(f"step m={m}: skipped, past the budget")
            continue
        if (m, context) not in best:
            out["errors"].append(f"step m={m}: no attention backend ran at context {context}")
            continue
        layout, name, attention_s = best[(m, context)]
        try:
            k_cache = torch.randn(layers, m, nkv, context, d, device=device, dtype=bf)
            v_cache = torch.randn_like(k_cache)
            x0 = torch.randn(m, h, device=device, dtype=bf)

            def step(x0: Any = x0, layout: str = layout, backend: Any = backends[name], m: int = m, kc: Any = k_cache,
                     vc: Any = v_cache) -> None:
                x = x0
                with sdpa_kernel([backend]):
                    for i in range(layers):
                        y = F.rms_norm(x, (h,), norm_w).to(f8)
                        qkv = mm8(y, weights8["qkv"][i])
                        if layout == "gqa":
                            q = qkv[:, : nq * d].reshape(m, nq, 1, d)
                        else:
                            q = qkv[:, : nq * d].reshape(m, nkv, nq // nkv, d)
                        a = F.scaled_dot_product_attention(q, kc[i], vc[i], enable_gqa=layout == "gqa")
                        x = x + mm8(a.reshape(m, nq * d).to(f8), weights8["o"][i])
                        g = mm8(F.rms_norm(x, (h,), norm_w).to(f8), weights8["gate_up"][i])
                        u = (F.silu(g[:, :f]) * g[:, f:]).to(f8)
                        x = x + mm8(u, weights8["down"][i])

            step_s = bench(step, 10)
            gemm_s = next((r.get("fp8_s") for r in out["gemm"] if r["m"] == m), None)
            out["step"].append({"m": m, "context": context, "attention": f"{layout}/{name}", "step_s": step_s,
                                "gemm_fp8_s": gemm_s, "attention_s": attention_s,
                                "rest_s": step_s - (gemm_s or 0.0) - attention_s})
            del k_cache, v_cache, step
        except Exception as error:  # noqa: BLE001
            out["errors"].append(f"step m={m}: {err(error)}")
        if device == "cuda":
            torch.cuda.empty_cache()
    out["wall_s"] = time.perf_counter() - started
    path = os.path.join(os.environ.get("OUT", "."), "tp8_decode_shard.json")
    with open(path, "w") as handle:
        json.dump(out, handle, indent=1)
    print_table(out)


def print_table(out: dict) -> None:
    ms = 1e3
    print(f"{out['device']}  torch {out['torch']}  wall {out['wall_s']:.1f} s")
    print("M     fp8 chain ms  bf16 chain ms  fp8 GB/s")
    for row in out["gemm"]:
        fp8, bf16 = row.get("fp8_s"), row.get("bf16_s")
        print(f"{row['m']:<5} {fp8 * ms if fp8 else float('nan'):12.3f}  {bf16 * ms if bf16 else float('nan'):13.3f}"
              f"  {row.get('fp8_bytes_per_s', float('nan')) / 1e9:8.0f}")
    for row in out["gemm_each"]:
        print("each", row)
    print("M     context  best            ms(80 layers)  GB/s")
    for row in out["attention"]:
        if "best" in row:
            key = row["best"]
            print(f"{row['m']:<5} {row['context']:<8} {key:<15} {row['s'][key] * ms:13.3f}"
                  f"  {row['bytes_per_s'][key] / 1e9:5.0f}")
    print("M     step ms  gemm ms  attention ms  rest ms")
    for row in out["step"]:
        print(f"{row['m']:<5} {row['step_s'] * ms:7.3f}  {(row['gemm_fp8_s'] or 0) * ms:7.3f}  "
              f"{row['attention_s'] * ms:12.3f}  {row['rest_s'] * ms:7.3f}")
    for line in out["errors"]:
        print("error:", line)


if __name__ == "__main__":
    if "--tiny" not in sys.argv:
        from _guard import require_cuda

        require_cuda(__file__)
    main()
