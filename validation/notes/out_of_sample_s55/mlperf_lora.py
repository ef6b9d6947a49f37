"""Out-of-sample check of the frozen-base (LoRA) training model on MLPerf Training v4.0-v4.1 Llama 2 70B LoRA (hF55).

The benchmark (mlperf-logging 4.1.68, PyPI; /tmp/hM_pkgs/v41): Llama 2 70B, LoRA rank 16
(compliance_checker/training_4.0.0/closed_llama2_70b_lora.yaml: `lora_rank` CHECK v['value'] == 16; the same in
4.1.0 / 5.0.0 / 5.1.0), adapters on the attention projections (Q, K, V, O: the reference's and NeMo's
linear_qkv + linear_proj; RECALLED), 8,192-token samples of GovReport (RECALLED), fp8 in NVIDIA's submissions
(RECALLED). Samples to converge: rcp_checker/training_4.0.0/rcps_llama2_70b_lora.json (BS 8, 16, 32, 128; 4.1.0,
5.0.0 and 5.1.0 identical), the checker's olympic mean (rcp_checker.py:297-304) interpolated between batch sizes
(:425-434), as hT's mlperf_training.py. Evaluation: every 384 samples (hM: the gcd of every RCP entry), over
EVAL_SAMPLES samples: the compliance file checks no size; 173 (the GovReport validation split as MLPerf packs it)
is RECALLED, ASSUMPTION (OOS_LORA_EVAL_SAMPLES=n as a sensitivity), priced by `training.evaluation` (the base's
forward at the plan; the adapters' forward, ~1 % of it, left out).

Rows (closed division, every minutes figure RECALLED from NVIDIA's posts of the round; confidence per row). The
plan each submission ran is not recalled: every plan of TP in 1-8, CP in 1-8, PP 1, ZeRO-1, micro-batch 1 that
fits with the default 5 % memory margin (`train --memory-margin`, OOS_LORA_MARGIN) and every RCP batch the DP
width allows is priced; the row's figure is the plan the model trains to target
fastest (what a submitter tunes), the range over all plans beside it.

Error = published minutes / predicted minutes - 1 (+: the model too fast). Beside the model: "full" = the same plan
priced as full fine-tuning (the model without --lora-rank: every weight trained), and the constant C_GATED (oos.py) x
the peak of the run's precision, read (a) as the 6N-convention MFU of full training ("const 6N": a planner treating
fine-tuning as training) and (b) in the LoRA FLOP count (`frozen_base.FLOP_CONVENTION`, "const lora").

Run from the repository root: PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s55/mlperf_lora.py
(OOS_OUT=path.json writes the rows). Notes: validation/notes/training_sets_tried.md "hF (session 55)".
"""

from __future__ import annotations

import itertools
import json
import os

import numpy as np

from infraplan.catalog.stacks import Stack, load_stack
from infraplan.errors import InputError
from infraplan.training import estimate_training
from infraplan.training.estimate import resolve_training
from infraplan.training.evaluation import evaluation_s, with_evaluation_rate

C_GATED = 0.3561436458721242  # validation/notes/out_of_sample_s52/oos.py: constant MFU fitted on the gated set
SEQ = 8192
# rcps_llama2_70b_lora.json (training_4.0.0): olympic means of "samples to converge" (sorted, first and last dropped)
_RAW = {8: [2688] * 3 + [3072] * 9 + [3456] * 7 + [3840],
        16: [3456] + [3840] * 13 + [4224] * 2 + [4608] * 2 + [4992] * 2,
        32: [5376] + [5760] * 8 + [6144] * 7 + [6528] * 4,
        128: [9984] * 2 + [10752] * 5 + [11136] * 7 + [11520] * 2 + [12288, 12672, 13056, 13056]}
RCP = {bs: float(np.mean(sorted(v)[1:-1])) for bs, v in _RAW.items()}
INTERVAL = 384
EVAL_SAMPLES = int(os.environ.get("OOS_LORA_EVAL_SAMPLES", 173))
MARGIN = float(os.environ.get("OOS_LORA_MARGIN", 0.05))  # memory left free: `train --memory-margin`'s default
STACK: str | Stack = "nemo-24.12"  # NVIDIA's v4.0 / v4.1 submissions ran NeMo 24.x containers (RECALLED)
# OOS_LORA_FP8_DPA=1 (hP56): the same stack with the attention core in fp8 (`Fp8Recipe.dot_product_attention`, TE's
# fp8_dpa / NVTE_FP8_DPA=1), as NVIDIA's LoRA submissions are RECALLED to run it (medium: NVIDIA's v4.0 blog)
if os.environ.get("OOS_LORA_FP8_DPA") == "1":
    _base = load_stack(STACK)  # type: ignore[arg-type]
    STACK = _base.model_copy(update={"fp8": _base.fp8.model_copy(update={"dot_product_attention": True})})

ROWS = [
    dict(id="v4.0-nvidia-h100-8", who="NVIDIA DGX H100 (1 node)", system="dgx-h100-superpod", gpus=8, minutes=28.2,
         conf="medium (H200's 24.7 min as '14 % faster than H100')"),
    dict(id="v4.0-nvidia-h200-8", who="NVIDIA HGX H200 (1 node, 1000 W)", system="hgx-h200", gpus=8, minutes=24.7,
         conf="medium"),
    dict(id="v4.0-nvidia-eos-1024", who="NVIDIA Eos (DGX H100)", system="dgx-h100-superpod", gpus=1024,
         minutes=1.5, conf="medium", recalled_plan=(4, 8, 32)),  # TP4 PP1 CP8, GBS 32: RECALLED, low (hL56)
    dict(id="v4.1-nvidia-b200-8", who="NVIDIA DGX B200 (preview)", system="dgx-b200", gpus=8, minutes=12.8,
         conf="low (derived: '2.2x per GPU over Hopper' x the H100 row)"),
]


def rcp_samples(gbs: int) -> float | None:
    sizes = sorted(RCP)
    if not sizes[0] <= gbs <= sizes[-1]:
        return None
    return float(np.interp(gbs, sizes, [RCP[b] for b in sizes]))


def price(row: dict, tp: int, cp: int, gbs: int) -> dict | None:
    dp = row["gpus"] // (tp * cp)
    plan = dict(tp=tp, cp=cp, pp=1, dp=dp, seq_len=SEQ, global_batch=gbs, micro_batch=1, recompute="none", zero=1,
                dtype="fp8", stack=STACK)
    try:
        lora = estimate_training("llama2-70b", row["system"], row["gpus"], lora_rank=16, **plan)
        full = estimate_training("llama2-70b", row["system"], row["gpus"], **plan)
    except InputError:
        return None
    if lora.memory_per_gpu_bytes > (1.0 - MARGIN) * lora.memory_capacity_bytes:  # as `train --memory-margin`
        return None
    point = resolve_training("llama2-70b", row["system"], row["gpus"], **plan)
    share = with_evaluation_rate(lora.step_time_s, gbs, evaluation_s(point, EVAL_SAMPLES), INTERVAL)
    samples = rcp_samples(gbs)
    if samples is None:
        return None
    steps = samples / gbs

    def minutes(step_s: float) -> float:
        return steps * step_s / 60.0

    ttt = minutes(lora.step_time_s) / share
    # the constant: tokens/s/GPU = C x peak / FLOPs per token, in each FLOP count (`mfu` = rate x FLOPs / peak)
    const_lora = minutes(lora.step_time_s * lora.mfu / C_GATED)
    const_6n = minutes(full.step_time_s * full.mfu / C_GATED)
    pub = row["minutes"]
    return dict(tp=tp, cp=cp, dp=dp, gbs=gbs, samples=samples, step_s=lora.step_time_s, share=share, ttt=ttt,
                err=pub / ttt - 1, err_steps=pub / minutes(lora.step_time_s) - 1,
                err_full=pub / (minutes(full.step_time_s) / share) - 1, err_const_lora=pub / const_lora - 1,
                err_const_6n=pub / const_6n - 1, mfu=lora.mfu, full_step_s=full.step_time_s,
                mem_gib=lora.memory_per_gpu_bytes / 2**30, full_fits=full.fits)


def run_row(row: dict) -> dict | None:
    priced = []
    for tp, cp in itertools.product((1, 2, 4, 8), (1, 2, 4, 8)):
        if row["gpus"] % (tp * cp) or tp * cp > row["gpus"]:
            continue
        dp = row["gpus"] // (tp * cp)
        for gbs in sorted({max(dp, 8) * k for k in (1, 2, 4, 8, 16)}):
            got = price(row, tp, cp, gbs)
            if got:
                priced.append(got)
    if not priced:
        return None
    best = min(priced, key=lambda q: q["ttt"])
    at_rcp = [q for q in priced if q["gbs"] in RCP]  # batches with an RCP of their own (no interpolation; hL56)
    rcp_best = min(at_rcp, key=lambda q: q["ttt"]) if at_rcp else None
    plan = row.get("recalled_plan")
    recalled = price(row, *plan) if plan else None
    return dict(best, id=row["id"], minutes=row["minutes"], conf=row["conf"],
                range=(min(q["err"] for q in priced), max(q["err"] for q in priced)), n=len(priced),
                rcp_best=rcp_best, recalled=recalled)


def main() -> None:
    out = []
    for row in ROWS:
        r = run_row(row)
        if r is None:
            print(f"{row['id']:24s} no plan fits")
            continue
        out.append(r)
        print(f"{r['id']:24s} {r['minutes']:5.1f} min | TP{r['tp']} CP{r['cp']} DP{r['dp']} GBS {r['gbs']:4d}"
              f" samples {r['samples']:7.0f} step {r['step_s']:.3f} s (full {r['full_step_s']:.3f}) share"
              f" {r['share']:.3f} mfu {r['mfu']:.3f} mem {r['mem_gib']:.0f} GiB | ttt {r['ttt']:6.2f} min"
              f" err {r['err']:+.1%} (steps {r['err_steps']:+.1%}, as full FT {r['err_full']:+.1%},"
              f" const lora {r['err_const_lora']:+.1%}, const 6N {r['err_const_6n']:+.1%})"
              f" range {r['range'][0]:+.1%}..{r['range'][1]:+.1%} over {r['n']} plans", flush=True)
        for label in ("rcp_best", "recalled"):  # the fastest plan at an RCP batch; the recalled plan (hL56)
            q = r[label]
            if q and (label == "recalled" or q["gbs"] != r["gbs"]):
                print(f"{'':24s} {label:8s} TP{q['tp']} CP{q['cp']} DP{q['dp']} GBS {q['gbs']:4d} step"
                      f" {q['step_s']:.3f} s share {q['share']:.3f} | ttt {q['ttt']:6.2f} min err {q['err']:+.1%}")
    head = [r for r in out if not r["conf"].startswith("low")]
    for key in ("err", "err_steps", "err_full", "err_const_lora", "err_const_6n"):
        print(f"mean |{key}| (medium rows, {len(head)}): {np.mean([abs(r[key]) for r in head]):.2%}"
              f"  signed {np.mean([r[key] for r in head]):+.2%}; all {len(out)}: "
              f"{np.mean([abs(r[key]) for r in out]):.2%}")
    if os.environ.get("OOS_OUT"):
        with open(os.environ["OOS_OUT"], "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
