"""MoE expert GEMMs on a real GPU: bf16 against fp8 (per-tensor, row-wise, 128-block) at the shapes MoE models run.

The open question this settles (validation/notes/training_sets_tried.md, "A TE GroupedLinear fp8 probe at these
shapes on a lent H100 would settle it"): at small expert widths (Qwen3-30B-A3B's 768, Qwen3-235B's 1,536) the
serving engines' kernel tables run fp8 only 1.06-1.3x faster than bf16, where the catalog's sustained 8192 x 12288 x
12288 rates give 1.76x. Transformer Engine's GroupedLinear runs one cuBLASLt GEMM per local expert; so does this
probe (`torch._scaled_mm`, cuBLASLt), over 8 local experts with distinct weights (the weights leave L2 as they do in
a step), plus `torch._grouped_mm` (bf16, one launch for the 8) where the build has it.

For each model's expert shapes and tokens per expert M it times the forward gate/up GEMM (M x H -> 2I), the down
GEMM (M x I -> H) and the weight-gradient GEMM of gate/up (2I x H over K = M), each as the mean over 8 experts.
Prints one JSON line per (model, M, GEMM) with seconds per expert GEMM and TFLOP/s per dtype; writes
moe_expert_gemm.jsonl into $OUT.
usage: python benchmarks/gpu/gpu_moe_expert_gemm.py [--quick] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import time

from _timing import graph_seconds

MODELS = {  # name: (hidden H, expert intermediate I), from the shipped config.json presets
    "qwen3-30b-a3b": (2048, 768),
    "qwen3-235b-a22b": (4096, 1536),
    "gpt-oss-120b": (2880, 2880),
    "deepseek-v3": (7168, 2048),
    "mixtral-8x7b": (4096, 14336),
}
TOKENS_PER_EXPERT = (128, 512, 1024, 2048, 4096, 8192, 16384)
LOCAL_EXPERTS = 8


def timed(torch, device: str, fn, iters: int) -> float:
    """Mean seconds of one call of fn (which runs all local experts) after warm-up.

    On a GPU the call is captured once as a CUDA graph and its replays are timed with device events, so the host's
    per-launch Python cost (~20-30 us per `torch._scaled_mm` call, which bounded the small shapes of the first run)
    is out of the figure, as it is in an engine or a training step that launches from C++ or from graphs.
    """
    if device != "cuda":
        for _ in range(3):
            fn()
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        return (time.perf_counter() - start) / iters
    return graph_seconds(torch, fn, iters)


def fp8(torch, x):
    return x.to(torch.float8_e4m3fn)


def variants(torch, device: str, m: int, n: int, k: int) -> dict:
    """Callables running one (m x k) @ (k x n) GEMM per local expert in each precision / scaling; name -> fn."""
    bf = torch.bfloat16
    acts = [torch.randn(m, k, device=device, dtype=bf) for _ in range(LOCAL_EXPERTS)]
    weights = [torch.randn(n, k, device=device, dtype=bf) * 0.05 for _ in range(LOCAL_EXPERTS)]  # (N, K) row-major
    acts8 = [fp8(torch, a) for a in acts]
    weights8 = [fp8(torch, w) for w in weights]
    one = torch.tensor(1.0, device=device)
    rows = torch.ones(m, 1, device=device)
    cols = torch.ones(1, n, device=device)
    out: dict = {
        "bf16": lambda: [a @ w.t() for a, w in zip(acts, weights, strict=True)],
        "fp8_tensor": lambda: [torch._scaled_mm(a, w.t(), scale_a=one, scale_b=one, out_dtype=bf)
                               for a, w in zip(acts8, weights8, strict=True)],
        "fp8_tensor_fast_accum": lambda: [torch._scaled_mm(a, w.t(), scale_a=one, scale_b=one, out_dtype=bf,
                                                           use_fast_accum=True)
                                          for a, w in zip(acts8, weights8, strict=True)],
        "fp8_row": lambda: [torch._scaled_mm(a, w.t(), scale_a=rows, scale_b=cols, out_dtype=bf)
                            for a, w in zip(acts8, weights8, strict=True)],
    }
    functional = torch.nn.functional
    if hasattr(functional, "scaled_mm") and k % 128 == 0 and n % 128 == 0:
        # DeepSeek-V3's recipe: 1 x 128 activation blocks, 128 x 128 weight blocks. The scale layouts cuBLASLt takes
        # differ across builds; the first that runs is kept and named in the row (`block_layout`).
        k_blocks = k // 128
        padded = -(-k_blocks // 4) * 4  # cuBLASLt asks the weight's K-block count padded to a multiple of 4
        outer_major_a = torch.ones(k_blocks, m, device=device).t()
        row_major_a = torch.ones(m, k_blocks, device=device)
        weight_blocks = torch.ones(n // 128, k_blocks, device=device)
        layouts = {"a_outer_major,b_nk": (outer_major_a, weight_blocks),
                   "a_outer_major,b_kn": (outer_major_a, weight_blocks.t()),
                   "a_row_major,b_nk": (row_major_a, weight_blocks),
                   "a_row_major,b_kn": (row_major_a, weight_blocks.t()),
                   "a_outer_major,b_kn_padded": (outer_major_a, torch.ones(padded, n // 128, device=device)),
                   "a_outer_major_padded,b_kn_padded": (torch.ones(padded, m, device=device).t(),
                                                        torch.ones(padded, n // 128, device=device))}
        kinds = functional.ScalingType
        chosen: list = []

        def blockwise() -> list:
            if not chosen:
                failures = []
                for label, (scale_a, scale_b) in layouts.items():
                    try:
                        functional.scaled_mm(acts8[0], weights8[0].t(), scale_a, kinds.BlockWise1x128, scale_b,
                                             kinds.BlockWise128x128, output_dtype=bf)
                    except (RuntimeError, TypeError, ValueError) as error:
                        failures.append(f"{label}: {str(error).splitlines()[0][:80]}")
                        continue
                    chosen.append((label, scale_a, scale_b))
                    break
                if not chosen:
                    raise RuntimeError("; ".join(failures))
            _, scale_a, scale_b = chosen[0]
            return [functional.scaled_mm(a, w.t(), scale_a, kinds.BlockWise1x128, scale_b, kinds.BlockWise128x128,
                                         output_dtype=bf) for a, w in zip(acts8, weights8, strict=True)]

        blockwise.layout = chosen  # type: ignore[attr-defined]
        out["fp8_block128"] = blockwise
    if hasattr(torch, "_scaled_grouped_mm"):  # one launch for the 8 experts, fp8 with row-wise scales
        stacked8 = fp8(torch, torch.cat(acts))
        weights8_kn = fp8(torch, torch.stack(weights)).transpose(-2, -1)  # (8, k, n), column-major per expert
        offsets8 = torch.arange(1, LOCAL_EXPERTS + 1, device=device, dtype=torch.int32) * m
        row_scales = torch.ones(LOCAL_EXPERTS * m, device=device)
        col_scales = torch.ones(LOCAL_EXPERTS, n, device=device)
        out["fp8_row_grouped"] = lambda: torch._scaled_grouped_mm(stacked8, weights8_kn, row_scales, col_scales,
                                                                  offs=offsets8, out_dtype=bf)
    if hasattr(torch, "_grouped_mm"):
        stacked_a = torch.cat(acts)  # (8m, k)
        stacked_w = torch.stack(weights).transpose(-2, -1)  # (8, k, n), column-major per expert
        offsets = torch.arange(1, LOCAL_EXPERTS + 1, device=device, dtype=torch.int32) * m
        out["bf16_grouped"] = lambda: torch._grouped_mm(stacked_a, stacked_w, offs=offsets)
    return out


def probe(torch, device: str, quick: bool, max_tokens: int) -> list[dict]:
    rows: list[dict] = []
    models = dict(list(MODELS.items())[:2]) if quick else MODELS
    tokens = (128, 1024) if quick else tuple(t for t in TOKENS_PER_EXPERT if t <= max_tokens)
    for name, (h, inter) in models.items():
        for m in tokens:
            gemms = {"fc1_fwd": (m, 2 * inter, h), "fc2_fwd": (m, h, inter), "fc1_wgrad": (2 * inter, h, m)}
            for gemm, (gm, gn, gk) in gemms.items():
                flops = 2.0 * gm * gn * gk
                iters = max(2, min(30, int(4e12 / (flops * LOCAL_EXPERTS)) + 1))
                row: dict = {"model": name, "tokens_per_expert": m, "gemm": gemm, "m": gm, "n": gn, "k": gk,
                             "timing": "cuda_graph" if device == "cuda" else "host_loop",
                             "local_experts": LOCAL_EXPERTS, "seconds_per_gemm": {}, "tflops": {}, "errors": {}}
                for kind, fn in variants(torch, device, gm, gn, gk).items():
                    try:
                        seconds = timed(torch, device, fn, iters) / LOCAL_EXPERTS
                    except (RuntimeError, TypeError, ValueError) as error:  # a scaling this build lacks
                        row["errors"][kind] = str(error).splitlines()[0][:400]
                        continue
                    row["seconds_per_gemm"][kind] = seconds
                    row["tflops"][kind] = flops / seconds / 1e12
                    if getattr(fn, "layout", None):
                        row["block_layout"] = fn.layout[0][0]
                print(json.dumps(row), flush=True)
                rows.append(row)
                if device == "cuda":
                    torch.cuda.empty_cache()
    return rows


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="two models, two token counts (a dry run)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--max-tokens", type=int, default=max(TOKENS_PER_EXPERT), help="largest tokens per expert")
    parser.add_argument("--skip", default="", help="comma-separated models to leave out")
    args = parser.parse_args()
    torch.manual_seed(0)
    for name in filter(None, args.skip.split(",")):
        MODELS.pop(name)
    rows = probe(torch, args.device, args.quick, args.max_tokens)
    path = os.path.join(os.environ.get("OUT", "."), "moe_expert_gemm.jsonl")
    with open(path, "w") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)


if __name__ == "__main__":
    import sys

    if "--device" not in sys.argv:
        from _guard import require_cuda

        require_cuda(__file__)
    main()
