"""Out-of-sample check of the training model on MLPerf Training v3.1-v5.1 time to train (hT, session 55).

The repo's MLPerf rows are v3.0 GPT-3 only (validation/cases/training.yaml, mlperf-v3.0-*). Here: the closed-division
results of later rounds recalled with at least medium confidence (every published figure RECALLED: not readable on the
dev VM; confidence per row), each priced as time to train = tokens to converge / the model's rate, the in-run
evaluations included (hM, session 55: `training.evaluation`, the runner's `_training_share`) and left out.

Tokens: a run's own converged count is in its MLLOG (not here); used instead, the reference convergence points of
mlperf-logging 4.1.68 (PyPI wheel) rcp_checker/training_<round>/rcps_<bench>.json at the run's global batch: the
checker's olympic mean (rcp_checker.py:297-304: sorted, the fastest and slowest run dropped) and its linear
interpolation between the surrounding batch sizes (rcp_checker.py:425-434). A submission converging faster than that
mean beyond the checker's allowance is normalised up to it, so the mean is what a time to train is scored against.
The global batch each submission used is not recalled: every batch the plan's data-parallel width allows inside the
RCP range is priced; the row's figure is at the batch the model finds fastest to train (what a submitter tuning time to
train would pick), the range over all of them printed beside it.

Error convention: rate error = published time / predicted time - 1 (as the v3.0 rows' tokens/s/GPU error: + is the
model too fast). The constant is C_GATED (oos.py, the constant MFU fitted on the gated set) x the peak: of the run's
own precision ("own") and of bf16 ("bf16"; for an fp8 / nvfp4 run, the constant read as a fraction of the bf16 peak);
the constant prices no evaluation (a guess of the rate, as in oos.py).

Run from the repository root: PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s55/mlperf_training.py
(OOS_OUT=path.json writes the rows). Notes: validation/notes/training_sets_tried.md "hT (session 55)".
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training import estimate_training
from infraplan.training.search import search_plans
from infraplan.validation.runner import _training_share

C_GATED = 0.3561436458721242  # validation/notes/out_of_sample_s52/oos.py: constant MFU fitted on the gated set
HERE = os.path.dirname(os.path.abspath(__file__))
GB200_BIG = os.path.join(HERE, "gb200-nvl72-5184.yaml")  # the catalog SuperPOD grown to 72 racks (ASSUMPTION)
GB300_BIG = os.path.join(HERE, "gb300-nvl72-5184.yaml")

# RCP olympic means (rcp_checker.py:301-304) of mlperf-logging 4.1.68 rcp_checker/ files, batch -> converged count.
# GPT-3: tokens (2,048 a sequence); Llama 3.1 405B: samples of 8,192 tokens.
RCP = {
    # training_3.1.0/rcps_gpt3.json:3,18,33,48,63 (training_4.0.0/rcps_gpt3.json identical)
    "gpt3-3.1": {1536: 1195376640.0, 2048: 1182793728.0, 3072: 1207959552.0, 4096: 1258291200.0,
                 8192: 1623195648.0},
    # training_4.1.0/rcps_gpt3.json:3,18,33,48,63,78 (BS 3072 gains a 13.79 B-token run the olympic mean drops)
    "gpt3-4.1": {1536: 1195376640.0, 2048: 1177760563.2, 3072: 1218025881.6, 4096: 1258291200.0,
                 6144: 1409286144.0, 8192: 1623195648.0},
    # training_5.0.0/rcps_llama31_405b.json:2,19,37,54,71,88 (samples)
    "405b-5.0": {1008: 324576.0, 1152: 322560.0, 2304: 380160.0, 4608: 495360.0, 6912: 604800.0, 9216: 691200.0},
    # training_5.1.0/rcps_llama31_405b.json:2,21,40 (samples)
    "405b-5.1": {1152: 313344.0, 2304: 368640.0, 4608: 493056.0},
}
SEQ = {"gpt3": 2048, "405b": 8192}
TOKENS_PER_UNIT = {"gpt3": 1, "405b": 8192}  # GPT-3's RCPs count tokens, 405B's samples

# Evaluations (hM, session 55, training_sets_tried.md): GPT-3 every 24,576 sequences (the rcps_gpt3.json multiples),
# 11,590 sequences an evaluation (RECALLED, ASSUMPTION: closed_gpt3.yaml:64-67 of 3.1.0 / 4.0.0 / 4.1.0 checks no
# value); Llama 3.1 405B 5,760 samples (compliance_checker/training_5.0.0/closed_llama31_405b.yaml:70-72, 5.1.0
# :73-75) every 46,080 samples in 5.0 and 18,432 in 5.1 (the RCPs' multiples, hM). OOS_GPT3_EVAL_SAMPLES=n: GPT-3's
# recalled size as a sensitivity.
EVAL = {"gpt3": {"interval_samples": 24576, "eval_samples": int(os.environ.get("OOS_GPT3_EVAL_SAMPLES", 11590))},
        "405b-5.0": {"interval_samples": 46080, "eval_samples": 5760},
        "405b-5.1": {"interval_samples": 18432, "eval_samples": 5760}}

# NeMo's GPT-3 175B H100 recipe as the v3.0 rows run it (training.yaml mlperf-v3.0-*: Megatron-Bridge 0.6.0
# recipes/gpt/h100/gpt3_175b.py:46-51,69-70,95,115-117,132; micro-batch 1)
GPT3_H100 = dict(tp=4, cp=1, pp=8, vpp=6, micro_batch=1, recompute="none", zero=1, dtype="fp8", attention="flash",
                 sequence_parallel=True)
# Megatron-Bridge 0.6.0 perf_recipes/llama/gb200/llama31.py: 405B on GB200, TP4 PP16 CP1 SP micro-batch 1; fp8
# current scaling VP4 (:80-86), nvfp4 VP8 (:166-172); the GB300 file has its own (same TP / PP, read below)
L405_FP8 = dict(tp=4, cp=1, pp=16, vpp=4, micro_batch=1, recompute="none", zero=1, dtype="fp8", attention="flash",
                sequence_parallel=True)
L405_FP4 = {**L405_FP8, "vpp": 8, "dtype": "nvfp4"}

# Rows: (id, round, submitter / system, accelerators, minutes, confidence, family, rcp key, model, system, stack,
# alt stack, plan (None: the search under the guard), dtype, micro-batch counts allowed per step (the GBS candidates)).
# Every minutes figure and precision is RECALLED (the MLCommons results tables / vendor posts of the round).
ROWS: list[dict] = [
    dict(id="v3.1-nvidia-eos-10752", round="v3.1", who="NVIDIA Eos (DGX H100)", gpus=10752, minutes=3.92,
         conf="high", family="gpt3-h100", rcp="gpt3-3.1", model="gpt3-175b", system="dgx-h100-superpod",
         stack="nemo-23.05", alt_stack="nemo-24.12", plan=GPT3_H100),
    dict(id="v3.1-azure-10752", round="v3.1", who="Microsoft Azure ND H100 v5", gpus=10752, minutes=4.01,
         conf="medium-high", family="gpt3-h100", rcp="gpt3-3.1", model="gpt3-175b", system="dgx-h100-superpod",
         stack="nemo-23.05", alt_stack="nemo-24.12", plan=GPT3_H100),
    dict(id="v4.0-nvidia-eos-11616", round="v4.0", who="NVIDIA Eos (DGX H100)", gpus=11616, minutes=3.44,
         conf="high", family="gpt3-h100", rcp="gpt3-3.1", model="gpt3-175b", system="dgx-h100-superpod",
         stack="nemo-23.05", alt_stack="nemo-24.12", plan=GPT3_H100),
    dict(id="v3.1-intel-gaudi2-384", round="v3.1", who="Intel Gaudi 2 (fp8)", gpus=384, minutes=153.58,
         conf="medium", family="gpt3-other", rcp="gpt3-3.1", model="gpt3-175b", system="gaudi2-cluster",
         stack="deepspeed", alt_stack=None, plan=None, dtype="fp8"),
    dict(id="v4.1-nvidia-dgxb200-64", round="v4.1", who="NVIDIA DGX B200 (preview)", gpus=64, minutes=193.7,
         conf="medium", family="gpt3-other", rcp="gpt3-4.1", model="gpt3-175b", system="dgx-b200",
         stack="nemo-24.12", alt_stack="nemo-26.04", plan=None, dtype="fp8"),
    dict(id="v5.0-nvidia-gb200-2496", round="v5.0", who="NVIDIA (+CoreWeave, IBM) GB200 NVL72", gpus=2496,
         minutes=27.3, conf="medium-high", family="405b", rcp="405b-5.0", model="llama3.1-405b", system=GB200_BIG,
         stack="nemo-26.04", alt_stack="nemo-24.12", plan=L405_FP8),
    dict(id="v5.1-nvidia-gb200-5120", round="v5.1", who="NVIDIA GB200 NVL72 (nvfp4)", gpus=5120, minutes=10.0,
         conf="medium (count / minutes); low (GB200 vs GB300)", family="405b", rcp="405b-5.1",
         model="llama3.1-405b", system=GB200_BIG, stack="nemo-26.04", alt_stack=None, plan=L405_FP4,
         band_system=GB300_BIG),
]


def rcp_tokens(key: str, gbs: int) -> float | None:
    """Tokens to converge at `gbs`: the RCP olympic mean, linearly interpolated between the surrounding batch sizes
    (rcp_checker.py:425-434); None outside the RCP range (the checker has no point there)."""
    table = RCP[key]
    sizes = sorted(table)
    if not sizes[0] <= gbs <= sizes[-1]:
        return None
    family = key.split("-")[0]
    return float(np.interp(gbs, sizes, [table[b] for b in sizes])) * TOKENS_PER_UNIT[family]


def candidates(row: dict) -> list[int]:
    """Global batches inside the RCP range: DP x micro-batch x m, m a multiple of PP (Megatron's interleaved schedule)
    for a recipe plan; for a searched row every RCP batch size itself (the search picks the plan)."""
    sizes = sorted(RCP[row["rcp"]])
    if "gbs_list" in row:
        return list(row["gbs_list"])
    if row["plan"] is None:
        return sizes
    p = row["plan"]
    dp = row["gpus"] // (p["tp"] * p["pp"] * p["cp"])
    out, m = [], p["pp"]
    while dp * m * p["micro_batch"] <= sizes[-1]:
        if dp * m * p["micro_batch"] >= sizes[0]:
            out.append(dp * m * p["micro_batch"])
        m += p["pp"]
    return out


def price(row: dict, gbs: int, stack: str, system: str) -> dict | None:
    family = row["rcp"].split("-")[0]
    seq = SEQ[family]
    evaluation = EVAL["gpt3"] if family == "gpt3" else EVAL[row["rcp"]]
    case = dict(id=row["id"], model=row["model"], system=system, stack=stack, gpus=row["gpus"],
                evaluation=evaluation)
    if row["plan"] is None:
        found = search_plans(row["model"], system, row["gpus"], seq, gbs, dtype=row["dtype"], top=1, stack=stack)
        result = found.best
        if result is None:
            return None
    else:
        p = row["plan"]
        dp = row["gpus"] // (p["tp"] * p["pp"] * p["cp"])
        try:
            result = estimate_training(row["model"], system, row["gpus"], dp=dp, seq_len=seq, global_batch=gbs, **p,
                                       stack=stack)
        except InputError:  # a plan the stack refuses (nemo-24.12's even split: 126 layers over PP 16)
            return None
        if not result.fits:
            return None
    share = _training_share(case, result)
    steps = float(result.tokens_per_s_per_gpu)
    peak = Cluster.resolve(system).accelerator
    own, bf16 = peak.peak(result.config.dtype), peak.peak("bf16")
    tokens = rcp_tokens(row["rcp"], gbs)
    published = tokens / (row["minutes"] * 60.0) / row["gpus"]  # tokens/s/GPU the recalled minutes imply
    unit = steps / result.mfu  # tokens/s/GPU at MFU 1 of the plan's own precision
    c = result.config
    return dict(gbs=gbs, tokens=tokens, published=published, steps=steps, with_eval=steps * share, share=share,
                mfu=float(result.mfu), const_own=C_GATED * unit, const_bf16=C_GATED * unit * bf16 / own,
                err_steps=steps / published - 1, err_eval=steps * share / published - 1,
                err_const_own=C_GATED * unit / published - 1,
                err_const_bf16=C_GATED * unit * bf16 / own / published - 1,
                ttt_min=tokens / (steps * share * row["gpus"]) / 60.0,
                plan=f"TP{c.tp} PP{c.pp} VP{c.vpp} CP{c.cp} DP{c.dp} mb{c.micro_batch} {c.recompute} Z{c.zero}"
                     f" {c.dtype}", beyond=bool(result.beyond_published_mfu))


def run_row(row: dict, stack: str | None = None, system: str | None = None) -> dict | None:
    stack, system = stack or row["stack"], system or row["system"]
    priced = [q for q in (price(row, g, stack, system) for g in candidates(row)) if q]
    if not priced:
        print(f"{row['id']:30s} no plan fits or the stack refuses each ({stack}, {os.path.basename(system)})")
        return None
    best = min(priced, key=lambda q: q["ttt_min"])  # the batch the model trains to target fastest
    lo = min(q["err_eval"] for q in priced)
    hi = max(q["err_eval"] for q in priced)
    return dict(best, id=row["id"], family=row["family"], stack=stack, system=os.path.basename(system),
                range_eval=(lo, hi), n_gbs=len(priced), smallest=min(priced, key=lambda q: q["gbs"]),
                all=[(q["gbs"], round(q["err_eval"], 4), round(q["ttt_min"], 2)) for q in priced])


def show(r: dict, row: dict, tag: str = "") -> None:
    print(f"{r['id'] + tag:30s} {row['round']} {row['gpus']:6d} {row['minutes']:7.2f} min | GBS {r['gbs']:5d}"
          f" tok {r['tokens'] / 1e9:6.3f} B pub {r['published']:7.1f} | steps {r['steps']:7.1f} ({r['err_steps']:+.1%})"
          f" eval {r['with_eval']:7.1f} ({r['err_eval']:+.1%}, share {r['share']:.3f}) ttt {r['ttt_min']:6.2f} |"
          f" const own {r['err_const_own']:+.1%} bf16 {r['err_const_bf16']:+.1%} | mfu {r['mfu']:.3f}"
          f"{' BEYOND' if r['beyond'] else ''} [{r['range_eval'][0]:+.1%} .. {r['range_eval'][1]:+.1%} over"
          f" {r['n_gbs']} GBS]", flush=True)
    print(f"    {r['plan']} ({r['stack']}, {r['system']}); per GBS (gbs, err, ttt min): {r['all'][:6]}"
          f"{' ...' if len(r['all']) > 6 else ''}")


def summary(rows: list[dict], title: str = "at the batch the model trains fastest") -> None:
    def mean_abs(xs: list[float]) -> str:
        return f"{sum(map(abs, xs)) / len(xs):6.2%} ({sum(xs) / len(xs):+.2%})"

    groups = {"all": rows}
    for r in rows:
        groups.setdefault(r["family"], []).append(r)
    print(f"\n{title}: mean |error| (signed mean): model steps only | model with evaluation | const own peak |"
          " const bf16 peak")
    for name, rs in groups.items():
        print(f"  {name:11s} n={len(rs)}: {mean_abs([r['err_steps'] for r in rs])} | "
              f"{mean_abs([r['err_eval'] for r in rs])} | {mean_abs([r['err_const_own'] for r in rs])} | "
              f"{mean_abs([r['err_const_bf16'] for r in rs])}")


def main() -> None:
    want = set(sys.argv[1:])
    rows, extra, searched = [], [], []
    for row in ROWS:
        if want and row["id"] not in want:
            continue
        r = run_row(row)
        if r is None:
            continue
        show(r, row)
        rows.append(r)
        if row.get("alt_stack"):
            a = run_row(row, stack=row["alt_stack"])
            if a:
                show(a, row, " [alt stack]")
                extra.append(a)
        if row["family"] == "gpt3-h100":  # the recipe's layout is not NVIDIA's MLPerf one (unpublished): the search
            sr = run_row({**row, "plan": None, "dtype": "fp8", "gbs_list": candidates(row)})  # the recipe's batches
            if sr:
                show(sr, row, " [search]")
                searched.append(sr)
        if row.get("band_system"):
            b = run_row(row, system=row["band_system"])
            if b:
                show(b, row, " [GB300]")
                extra.append(b)
    summary(rows)
    summary([{**r["smallest"], "family": r["family"]} for r in rows], "at the smallest batch of each row's candidates")
    alt = {r["id"]: r for r in extra}
    summary([alt.get(r["id"], r) for r in rows], "with each row's alternative (alt stack; the 5,120 row on GB300)")
    found = {r["id"]: r for r in searched}
    summary([found.get(r["id"], r) for r in rows], "with the H100 rows on the search's plan (nemo-23.05, the guard)")
    with open(os.environ.get("OOS_OUT", os.devnull), "w") as out:
        json.dump(dict(rows=rows, sensitivity=extra, searched=searched), out, indent=1)


if __name__ == "__main__":
    main()
