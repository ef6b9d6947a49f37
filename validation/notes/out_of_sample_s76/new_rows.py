"""New out-of-sample training rows (hO, session 76): published runs in no validation set, the reference files or an
earlier out-of-sample script. Every published figure is RECALLED (nothing readable on the dev VM states it); each row
names its primary source and a confidence, and the settings its source does not state are ASSUMPTIONS (`assumed`).

Each row runs through `validation.runner.run_case` (the gated cases' metric conventions). `const` is the constant-MFU
baseline fitted on the gated set (`baseline_constant` 0.35614 of /tmp/lead76/base.json's gated set). `band` is the
`error_band` of the very result the row is priced from (the `estimate_training` / `search_plans` answer that
`train --json` / `search --json` print), captured by out_of_sample_s55/band_coverage.py's wrappers of those calls
(loaded by rerun.py); covered = the row's error (predicted / published - 1) inside [low, high].
Run from the repository root (~10 s): PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s76/new_rows.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

import infraplan.validation.runner as runner

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rerun  # noqa: E402

# s55's band_coverage: importing it wraps runner's estimate / search calls, each answer's band in its CAPTURED
CAPTURED: dict[str, Any] = rerun.load("band_coverage").CAPTURED

C_GATED = 0.3561436458721242  # /tmp/lead76/base.json, set 'training cases (gated)' baseline_constant (b6048478)
HERE = os.path.dirname(os.path.abspath(__file__))


def mpt7b_config() -> str:
    """MPT-7B as a GPT-NeoX-shaped config (HF mosaicml/mpt-7b config.json, RECALLED: d_model 4096, 32 layers, 32 heads,
    expansion_ratio 4, vocab 50,432, max_seq_len 2,048, ALiBi (no rotary: rotary_pct 0), no biases, LayerNorm, GELU)."""
    path = os.path.join(tempfile.gettempdir(), "oos-s76-mpt-7b.json")
    with open(path, "w") as f:
        json.dump({"source": "MPT-7B (HF mosaicml/mpt-7b config.json, RECALLED): a GPT-NeoX-shaped stand-in",
                   "model_type": "gpt_neox", "hidden_size": 4096, "num_attention_heads": 32, "num_hidden_layers": 32,
                   "intermediate_size": 16384, "vocab_size": 50432, "max_position_embeddings": 2048,
                   "rotary_pct": 0.0, "use_parallel_residual": False, "hidden_act": "gelu",
                   "tie_word_embeddings": True}, f)
    return path


def llama3_128k() -> dict[str, Any]:
    """Llama 3 paper (arXiv:2407.21783) Table 4 row 3 (RECALLED, high; the gated case file's comment on its row 1
    quotes it too): 16,384 H100, TP8 CP16 PP16 DP8, seq 131,072, 16M tokens a batch, 380 TFLOPs/GPU, 38 % BF16 MFU.
    Everything else as the gated row 2 (llama3-405b-16k-gpus: same GPUs, tokens a GPU and micro-batch)."""
    row2 = next(c for c in runner.load_cases() if c["id"] == "llama3-405b-16k-gpus")
    return {**row2, "id": "llama3-405b-128k-cp16", "published": 380, "conf": "high",
            "source": "Llama 3 paper Table 4 row 3: 16,384 H100, TP8 CP16 PP16 DP8, seq 131,072: 380 TFLOPs/GPU",
            "plan": {**row2["plan"], "cp": 16, "dp": 8, "seq_len": 131072, "global_batch": 128}}


MEGASCALE = os.path.join(HERE, "megascale-a100-12288.yaml")
MEGA_PLAN = dict(tp=8, pp=8, micro_batch=1, seq_len=2048, zero=1, recompute="selective", dtype="bf16",
                 attention="flash", sequence_parallel=True, schedule="interleaved")
MOSAIC = os.path.join(HERE, "mosaic-a100-40gb-440.yaml")
FSDP1 = os.path.join(HERE, "..", "out_of_sample_s56", "modalities-fsdp1.yaml")  # FSDP1, eager (hE56's probe stack)

ROWS: list[dict[str, Any]] = [
    llama3_128k(),
    # MegaScale (Jiang et al., NSDI'24, arXiv:2402.15627) abstract (RECALLED, high): "55.2 % MFU when training a 175B
    # LLM model on 12,288 GPUs, improving the MFU by 1.34x compared to Megatron-LM": Megatron-LM's own run there at
    # 55.2 / 1.34 = 41.2 %. Table 2's setup (RECALLED, low): GPT-3 175B shape, seq 2,048, batch 6,144 at 12,288 GPUs;
    # TP 8, PP 8 interleaved (ASSUMED: the paper's 3D layout not recalled per row), micro-batch 1, ZeRO-1
    # (distributed optimizer), SP + selective recompute (Megatron-LM 2023's defaults for 175B).
    *[dict(id=f"megascale-megatron-175b-12288-{tag}", model="gpt3-175b", system=MEGASCALE, gpus=12288,
           stack="megatron-lm-2022", metric="mfu", published=0.552 / 1.34, conf="medium (figure), low (setup)",
           source="MegaScale abstract: Megatron-LM 175B on 12,288 GPUs at 55.2 / 1.34 = 41.2 % MFU",
           plan_source=ps, plan=plan)
      for tag, ps, plan in (
          ("tp8pp8v6", "assumed", {**MEGA_PLAN, "dp": 192, "vpp": 6, "global_batch": 6144}),
          ("tp8pp8v1", "assumed", {**MEGA_PLAN, "dp": 192, "vpp": 1, "schedule": "1f1b", "global_batch": 6144}),
          ("search", "search", dict(seq_len=2048, global_batch=6144, dtype="bf16")))],
    # MPT-7B (MosaicML blog "Introducing MPT-7B", 2023-05-05, RECALLED, high): 1T tokens in 9.5 days on 440
    # A100-40GB, end to end (the blog: no human intervention, restarts automatic): 1e12 / (440 x 9.5 x 86,400 s) =
    # 2,769 tokens/s a GPU. LLM Foundry: FSDP FULL_SHARD (ZeRO-3), bf16, Triton flash attention, seq 2,048;
    # global batch 1,760 (ASSUMED: 440 x 4, recalled low), activation checkpointing on (ASSUMED, mpt-7b.yaml recalled
    # low); the steady-state model rate against an end-to-end figure (the goodput of `facility.reliability` apart).
    *[dict(id=f"mpt-7b-440-{rc}", model="__mpt7b__", system=MOSAIC, gpus=440, stack=FSDP1,
           metric="tokens_per_s_per_gpu", published=1e12 / (440 * 9.5 * 86400), conf="high (figure), low (setup)",
           source="MPT-7B blog: 1T tokens, 9.5 days, 440 A100-40GB (end to end)", plan_source="assumed",
           plan=dict(tp=1, pp=1, dp=440, micro_batch=4, seq_len=2048, global_batch=1760, zero=3, recompute=rc,
                     dtype="bf16", attention="flash"))
      for rc in ("full", "selective")],
]


def main() -> None:
    want = set(sys.argv[1:])
    rows = []
    for case in ROWS:
        if want and case["id"] not in want:
            continue
        case = dict(case, model=mpt7b_config() if case["model"] == "__mpt7b__" else case["model"])
        CAPTURED.clear()
        try:
            r = runner.run_case(case)
        except Exception as exc:  # noqa: BLE001
            print(f"{case['id']:34s} ERROR {str(exc)[:300]}")
            continue
        const = C_GATED * r.predicted / r.predicted_mfu
        band = CAPTURED.get("band")
        lo, hi = (band.low, band.high) if band is not None else (None, None)
        covered = None if band is None else lo <= r.error <= hi
        rows.append(dict(id=r.id, error=r.error, const_error=const / r.published - 1, covered=covered))
        bands = "no band" if band is None else f"band {lo:+.1%}..{hi:+.1%} {'in' if covered else 'OUT'}"
        print(f"{r.id:34s} pub {r.published:9.3f} model {r.predicted:9.3f} ({r.error:+.1%}) mfu {r.predicted_mfu:.3f}"
              f" const ({const / r.published - 1:+.1%}) {bands}", flush=True)
        print(f"    {case['conf']}; {case['source']}; plan ({r.plan_source}): {r.plan}")
    scored = [r for r in rows if not r["id"].endswith(("-tp8pp8v1", "-selective"))]  # one reading a source
    if scored:
        n = len(scored)
        print(f"scored rows ({n}: llama3 128k, megascale tp8pp8v6 + search, mpt-7b full): model"
              f" {sum(abs(r['error']) for r in scored) / n:.2%}, constant"
              f" {sum(abs(r['const_error']) for r in scored) / n:.2%}; band covers"
              f" {sum(bool(r['covered']) for r in scored)} / {sum(r['covered'] is not None for r in scored)}")


if __name__ == "__main__":
    main()
