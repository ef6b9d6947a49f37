"""MLPerf v4.0 Llama 2 70B LoRA at 1,024 H100 (+87.8 %, hL56 / hH60 / s76): the step's fixed costs at one micro-batch
a step, term by term, and what the published 1.5 min needs (hO2, session 77; no src change).

At 1,024 GPUs each DP rank trains one 8,192-token sequence a step (the model's best plan TP8 CP2 DP64, batch 64),
so whatever a step pays once (the adapters' DP reduction, the optimizer, fp8 scaling reductions, host syncs) weighs
as much as one micro-batch's work, where the 8-GPU rows amortise it over 8 micro-batches. Priced here, with
out_of_sample_s55/mlperf_lora.py's rows, plans and RCP samples (every published minute RECALLED, medium):
1. the model's own fixed cost a step: its step at 1, 2, 4, 8 micro-batches a step on each plan, fitted a + b m;
2. the frozen base: no weight gradient, no base reduction, no base optimizer step (`training.frozen_base` /
   `frozen_traffic`): the same plan as full fine-tuning beside it;
3. the adapters' DP reduction exposed WHOLE (a copy of the stack with `dp_overlap_fraction` 0: what one gradient
   bucket holding every adapter, reduced after the backward's last adapter gradient, would cost; Megatron-Core's
   default bucket of max(4e7, 1e6 x DP) elements is RECALLED, not read here, and the adapters are 44.6 M elements);
4. the recalled plan (TP4 CP8 DP32, batch 32: low) under eager host issue and under CUDA graphs (a stack copy);
5. what the 1.5 min needs, read three ways (a cost a step, an evaluation, a run), and what each does to the 8-GPU
   H100 row (28.2 min, model -10.8 %) that shares the stack and micro-batch.
Run from the repository root (~15 s):
    PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s77/lora_1024_step_costs.py
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "out_of_sample_s55"))

import mlperf_lora as lora  # noqa: E402

from infraplan.catalog.stacks import Stack, load_stack  # noqa: E402
from infraplan.training import estimate_training  # noqa: E402

ROWS = {r["id"]: r for r in lora.ROWS}
EOS = ROWS["v4.0-nvidia-eos-1024"]
H100_8 = ROWS["v4.0-nvidia-h100-8"]
PLANS = {"best (TP8 CP2, batch 64)": (8, 2, 64), "best at an RCP batch (TP4 CP2, 128)": (4, 2, 128),
         "recalled (TP4 CP8, 32; low)": (4, 8, 32)}
TERMS = ("compute", "tp_comm", "cp_comm", "dp_comm_exposed", "optimizer", "other", "host_exposed")


def lora_step(row: dict[str, Any], tp: int, cp: int, gbs: int, stack: str | Stack, lora_rank: int | None = 16
              ) -> Any:
    """`train --lora-rank 16` (or full fine-tuning, lora_rank None) on mlperf_lora.py's plan."""
    dp = row["gpus"] // (tp * cp)
    return estimate_training("llama2-70b", row["system"], row["gpus"], tp=tp, cp=cp, pp=1, dp=dp, seq_len=lora.SEQ,
                             global_batch=gbs, micro_batch=1, recompute="none", zero=1, dtype="fp8", stack=stack,
                             lora_rank=lora_rank)


def fixed_cost(row: dict[str, Any], tp: int, cp: int, stack: str | Stack) -> tuple[float, float]:
    """(seconds a micro-batch, seconds a step) of the model's step at 1, 2, 4, 8 micro-batches a step, fitted."""
    dp = row["gpus"] // (tp * cp)
    ms = [1, 2, 4, 8]
    steps = [lora_step(row, tp, cp, dp * m, stack).step_time_s for m in ms]
    a, b = np.polyfit(np.asarray(ms, dtype=float), np.asarray(steps), 1)
    return float(a), float(b)


def priced_on(stack: str | Stack, row: dict[str, Any], plan: tuple[int, int, int]) -> dict[str, Any]:
    """mlperf_lora.price of one plan on another stack (its module-level STACK swapped for the call)."""
    kept = lora.STACK
    lora.STACK = stack
    try:
        got = lora.price(row, *plan)
    finally:
        lora.STACK = kept
    assert got is not None, plan
    return got


def needs(row: dict[str, Any], got: dict[str, Any]) -> dict[str, float]:
    """What the published minutes need beyond the model's time to train, as one cost a run, an evaluation, a step."""
    extra_s = (row["minutes"] - got["ttt"]) * 60.0
    steps = got["samples"] / got["gbs"]
    evals = got["samples"] / lora.INTERVAL
    return dict(run=extra_s, evaluation=extra_s / evals, step=extra_s / steps, steps=steps, evals=evals)


def with_extra(got: dict[str, Any], row: dict[str, Any], per_run: float = 0.0, per_eval: float = 0.0,
               per_step: float = 0.0) -> float:
    """The row's error (published / model - 1) with the extra seconds added to its time to train."""
    steps = got["samples"] / got["gbs"]
    evals = got["samples"] / lora.INTERVAL
    ttt = got["ttt"] + (per_run + per_eval * evals + per_step * steps) / 60.0
    return row["minutes"] / ttt - 1.0


def main() -> None:
    base = load_stack(lora.STACK)  # type: ignore[arg-type]
    exposed = base.model_copy(update={"dp_overlap_fraction": 0.0})
    graphs = base.model_copy(update={"cuda_graphs": True})
    h100 = lora.run_row(H100_8)
    assert h100 is not None
    h100_plan = (h100["tp"], h100["cp"], h100["gbs"])
    print(f"8 H100 row: {H100_8['minutes']} min, model {h100['ttt']:.2f} min ({h100['err']:+.1%}) on TP{h100['tp']}"
          f" CP{h100['cp']} batch {h100['gbs']}")
    for name, (tp, cp, gbs) in PLANS.items():
        est = lora_step(EOS, tp, cp, gbs, base)
        full = lora_step(EOS, tp, cp, gbs, base, lora_rank=None)
        bd = est.breakdown_s.model_dump()
        per_mb, per_step = fixed_cost(EOS, tp, cp, base)
        got = priced_on(base, EOS, (tp, cp, gbs))
        got_exposed = priced_on(exposed, EOS, (tp, cp, gbs))
        got_graphs = priced_on(graphs, EOS, (tp, cp, gbs))
        need = needs(EOS, got)
        print(f"=== 1,024 H100, {name}: {got['samples']:.0f} samples, {need['steps']:.0f} steps, {need['evals']:.1f}"
              f" evaluations; published 1.5 min, model {got['ttt']:.2f} min ({got['err']:+.1%})")
        print("  step " + " ".join(f"{t} {bd[t] * 1e3:.1f}" for t in TERMS) + f" = {est.step_time_s * 1e3:.1f} ms;"
              f" as full fine-tuning {full.step_time_s * 1e3:.0f} ms (dp exposed"
              f" {full.breakdown_s.dp_comm_exposed * 1e3:.0f} ms)")
        print(f"  fit over 1-8 micro-batches a step: {per_mb * 1e3:.1f} ms a micro-batch + {per_step * 1e3:.2f} ms a"
              f" step")
        print(f"  adapters' DP reduction exposed whole: step {got_exposed['step_s'] * 1e3:.1f} ms"
              f" ({(got_exposed['step_s'] - got['step_s']) * 1e3:+.1f}), error {got_exposed['err']:+.1%};"
              f" CUDA graphs: step {got_graphs['step_s'] * 1e3:.1f} ms, error {got_graphs['err']:+.1%}")
        on_h100 = priced_on(base, H100_8, h100_plan)
        print(f"  1.5 min needs {need['run']:.1f} s a run, or {need['evaluation']:.2f} s an evaluation, or"
              f" {need['step'] * 1e3:.0f} ms a step; the 8-GPU row under each:"
              f" {with_extra(on_h100, H100_8, per_run=need['run']):+.1%}"
              f" / {with_extra(on_h100, H100_8, per_eval=need['evaluation']):+.1%}"
              f" / {with_extra(on_h100, H100_8, per_step=need['step']):+.1%} (now {on_h100['err']:+.1%})")
    print(f"(evaluations: every {lora.INTERVAL} samples of {lora.EVAL_SAMPLES}; ceil steps between:"
          f" {math.ceil(lora.INTERVAL / 64)} at batch 64)")


if __name__ == "__main__":
    main()
