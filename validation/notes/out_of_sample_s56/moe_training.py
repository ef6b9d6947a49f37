"""Out-of-sample check of the MoE training model (hA, session 56): published MoE training throughputs NOT in the repo.

No row here is a frontier row (src/infraplan/validation/data/frontier_training.csv, ../shared/reference/data/
frontier_measured.csv): DeepSeek-V3's 180K H800 GPU-hours per trillion tokens is H075 there and left out. Every
published figure is RECALLED (no readable copy on the dev VM: the Megatron-Core 0.12.2 / 0.16.1 sdists, the
Megatron-Bridge 0.3.1 sdist and the NeMo 2.3.0 sdist ship no performance table; the NeMo 2.3.0 sdist ships the
performance scripts, no results); confidence per row. Notes: validation/notes/training_sets_tried.md "hA (session 56)".

Families: `hai-llm` (DeepSeek's own framework on H800, whole-run GPU-hours per trillion tokens: DeepSeek-V2 and its
dense control DeepSeek LLM 67B from the same report), `mcore-paper` (Megatron-Core on H100, MFU from the MoE
Parallel Folding paper). Plans: the plan the source states, its unstated dims enumerated (`free`), ranked as the
search ranks (plans within the published-MFU guard first, then tokens/s/GPU); or the search under its guard where the
source states no plan (`plan_source` search).

Constant baselines (the frontier set's, as `validate` fits it: `sets.fit_constant` on the in-repo frontier rows'
tokens/s/GPU at MFU 1 in the model's FLOP count at the row's precision peak, `score_set`'s `unit`), applied here to
each row's tokens/s/GPU at MFU 1 in the same FLOP count (active-parameter matmuls + attention + LM head):
  const      c (15 frontier rows, row-precision peak) x unit at the row's precision peak (validate's definition)
  const@bf16 the same c x unit at the bf16 peak (identical for bf16 rows: every row here is bf16)
  constB     c_bf16, refit on the 15 frontier rows with their unit at the bf16 peak, x unit at the bf16 peak
  constMoE   c refit on the 10 MoE frontier rows only (row-precision peak)
Run from the repository root: PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s56/moe_training.py
"""

from __future__ import annotations

import itertools
import sys
import time

import numpy as np

HERE = "validation/notes/out_of_sample_s56/"
H800, H100 = "h800", "dgx-h100-superpod"

# --- rows -----------------------------------------------------------------------------------------------------------
# DeepSeek-V2 (arXiv:2405.04434), RECALLED, high confidence: Sec. 3.1.3 "During our practical training on the H800
# cluster, for training on each trillion tokens, DeepSeek 67B requires 300.6K GPU hours, while DeepSeek-V2 needs only
# 172.8K GPU hours, i.e., sparse DeepSeek-V2 can save 42.5% of training costs compared with dense DeepSeek 67B."
# Recipe (Sec. 3.1.3, RECALLED): 16-way zero-bubble PP, 8-way EP, ZeRO-1 DP, no TP, partial recompute; sequence 4K;
# batch ramped 2,304 -> 9,216 sequences over the first 225B tokens, then 9,216 (Sec. 3.1.2, RECALLED, moderate);
# bf16; device-level token dropping at capacity factor 1.0 in training (Sec. 2.2.4, RECALLED, moderate): no
# imbalance beyond the balanced mean reaches the expert GEMMs. GPU count not stated: enumerated.
# DeepSeek LLM 67B (arXiv:2401.02954, dense control from the same sentence): batch 4,608 sequences of 4,096
# (Table: 67B batch 4608, RECALLED, high), plan not stated (DP + TP + SP + 1F1B PP, ZeRO-1): searched.
# MoE Parallel Folding (Liu et al., NVIDIA, arXiv:2504.14960, abstract; RECALLED, moderate confidence on the two
# figures, low on their setup): "49.3% MFU for the Mixtral 8x22B model and 39.0% MFU for the Qwen2-57B-A14B model on
# H100 GPUs" with Megatron-Core. Setup NOT recalled: bf16, sequence 4,096, 128 GPUs, global batch 256 sequences are
# ASSUMPTIONS (the range over 128 / 256 GPUs and batch 256 / 1,024 is printed); stack nemo-24.12 (the Megatron-Core
# release nearest the paper's date), plan searched.
ROWS: list[dict] = [
    dict(id="dsv2-h800", family="hai-llm", moe=True, model=HERE + "deepseek-v2.json", system=H800,
         stack=HERE + "hai-llm-v2.yaml", source="DeepSeek-V2 arXiv:2405.04434 Sec. 3.1.3 (RECALLED, high)",
         metric="tokens_per_s_per_gpu", published=1e12 / (172_800 * 3600), gpu_hours_per_t=172_800,
         precision="bf16", plan_source="stated",
         plan=dict(tp=1, pp=16, ep=8, cp=1, seq_len=4096, global_batch=9216, zero=1, recompute="selective",
                   dtype="bf16", order="tp-cp-dp-pp"),
         free=dict(gpus=(512, 1024, 2048), micro_batch=(1, 2), schedule=("zb-h1", "zb-v")),
         # the EP all-to-all's overlap window: the stack file's (the shared experts' GEMMs, as the report states:
         # `MoeRouting.shared_expert_overlap`), DeepSeek-V3's whole-layer window (its stack's 1.0, DualPipe era),
         # none
         variants={"whole-layer window (V3 stack)": dict(shared_expert_overlap=False, dispatch_overlap_fraction=1.0),
                   "no overlap": dict(shared_expert_overlap=False, dispatch_overlap_fraction=0.0)}),
    dict(id="ds67b-h800", family="hai-llm", moe=False, model=HERE + "deepseek-llm-67b.json", system=H800,
         stack=HERE + "hai-llm-67b.yaml", source="DeepSeek-V2 arXiv:2405.04434 Sec. 3.1.3 (RECALLED, high); dense",
         metric="tokens_per_s_per_gpu", published=1e12 / (300_600 * 3600), gpu_hours_per_t=300_600,
         precision="bf16", plan_source="search", gpus=(512, 1024, 2048),
         plan=dict(seq_len=4096, global_batch=4608, dtype="bf16")),
    dict(id="mixtral-8x22b-h100", family="mcore-paper", moe=True, model="mixtral-8x22b", system=H100,
         stack="nemo-24.12", source="MoE Parallel Folding arXiv:2504.14960 abstract (RECALLED, moderate)",
         metric="mfu", published=0.493, precision="bf16", plan_source="search", gpus=(128, 256),
         plan=dict(seq_len=4096, global_batch=256, dtype="bf16"), batches=(256, 1024)),
    dict(id="qwen2-57b-a14b-h100", family="mcore-paper", moe=True, model=HERE + "qwen2-57b-a14b.json", system=H100,
         stack="nemo-24.12", source="MoE Parallel Folding arXiv:2504.14960 abstract (RECALLED, moderate)",
         metric="mfu", published=0.390, precision="bf16", plan_source="search", gpus=(128, 256),
         plan=dict(seq_len=4096, global_batch=256, dtype="bf16"), batches=(256, 1024)),
]


def peaks(accelerator: str, dtype: str) -> tuple[float, float]:
    """(peak FLOP/s of the dtype's GEMM format, bf16 peak) on the accelerator (`plan_outputs._peak_table`'s rule)."""
    from infraplan.catalog.loader import load_accelerator
    from infraplan.ops.precision import RECIPES

    acc = load_accelerator(accelerator)
    return acc.peak(RECIPES[dtype].peak_dtype), acc.peak(RECIPES["bf16"].peak_dtype)


def frontier_constants() -> dict[str, float]:
    """The frontier set's constants (see the module docstring), from the in-repo rows on this tree."""
    from infraplan.validation import sets

    unit, unit_bf16, pub, moe = [], [], [], []
    for r in sets.load_frontier_rows():
        if r["awaiting_issue_13"]:
            continue
        e = sets.frontier_row_estimate(r, sets.frontier_row_stack(r))
        p_dtype, p_bf16 = peaks(e.accelerator, r["precision"])
        unit.append(e.tokens_per_s_per_gpu / e.mfu)
        unit_bf16.append(e.tokens_per_s_per_gpu / e.mfu * p_bf16 / p_dtype)
        pub.append(float(r["value"]))
        moe.append("(MoE)" in r["model"])
    u, ub, p, m = np.array(unit), np.array(unit_bf16), np.array(pub), np.array(moe)
    return {"c": sets.fit_constant(u, p)[0], "c_bf16": sets.fit_constant(ub, p)[0],
            "c_moe": sets.fit_constant(u[m], p[m])[0]}


def stated_plans(row: dict, moe: dict | None = None) -> list[tuple[float, dict, float, bool, float]]:
    """Every fitting plan of the stated recipe over the free dims, best first as the search ranks them:
    (tokens/s/GPU, plan, MFU, beyond the guard, parameters). `moe`: the stack's `MoeRouting` updated so."""
    from infraplan.catalog.stacks import load_stack
    from infraplan.training import estimate_training

    stack = load_stack(row["stack"])
    if moe:
        stack = stack.model_copy(update={"moe": stack.moe.model_copy(update=moe)})
    out = []
    free = row["free"]
    for g, mb, sch in itertools.product(free["gpus"], free["micro_batch"], free["schedule"]):
        plan = dict(row["plan"], micro_batch=mb, schedule=sch, vpp=2 if sch == "zb-v" else 1)
        dp = g // (plan["tp"] * plan["pp"])
        if plan["global_batch"] % (dp * mb):
            continue
        r = estimate_training(row["model"], row["system"], g, stack=stack, **plan)
        if r.fits and not r.low_memory_headroom:
            out.append((r.tokens_per_s_per_gpu, dict(plan, gpus=g), r.mfu, bool(r.beyond_published_mfu),
                        float(r.parameters)))
    return sorted(out, key=lambda t: (t[3], -t[0]))


def searched_plans(row: dict) -> list[tuple[float, dict, float, bool, float]]:
    """The search's best plan (under its guard) at each GPU count and batch, best first."""
    from infraplan.training.search import search_plans

    out = []
    for g, gb in itertools.product(row["gpus"], row.get("batches", (row["plan"]["global_batch"],))):
        found = search_plans(row["model"], row["system"], g, row["plan"]["seq_len"], gb, dtype=row["plan"]["dtype"],
                             top=1, stack=row["stack"])
        b = found.best
        if b is None:
            continue
        c = b.config
        plan = dict(gpus=g, global_batch=gb, tp=c.tp, pp=c.pp, vpp=c.vpp, ep=c.ep, micro_batch=c.micro_batch,
                    recompute=str(c.recompute), zero=c.zero, schedule=str(c.schedule))
        out.append((b.tokens_per_s_per_gpu, plan, b.mfu, bool(b.beyond_published_mfu), 0.0))
    # the row's own setup first (its stated / assumed GPUs and batch), the rest for the range
    first = [o for o in out if o[1]["gpus"] == row["gpus"][0] and o[1]["global_batch"] == row["plan"]["global_batch"]]
    return first + [o for o in out if o not in first]


def run_row(row: dict, k: dict[str, float]) -> dict:
    plans = stated_plans(row) if row["plan_source"] == "stated" else searched_plans(row)
    tps, plan, mfu, beyond, params = plans[0]
    unit = tps / mfu  # tokens/s/GPU at MFU 1 (the model's FLOP count, the row's precision peak)
    from infraplan.catalog.loader import load_system

    p_dtype, p_bf16 = peaks(load_system(row["system"]).accelerator if row["system"] != H800 else H800,
                            row["precision"])
    unit_bf16 = unit * p_bf16 / p_dtype
    if row["metric"] == "mfu":  # compare utilisations: the constant's prediction is its MFU
        pred, pub = mfu, row["published"]
        consts = {"const": k["c"], "const@bf16": k["c"] * unit_bf16 / unit, "constB": k["c_bf16"] * unit_bf16 / unit,
                  "constMoE": k["c_moe"]}
        lo, hi = min(p[2] for p in plans), max(p[2] for p in plans)
    else:
        pred, pub = tps, row["published"]
        consts = {"const": k["c"] * unit, "const@bf16": k["c"] * unit_bf16, "constB": k["c_bf16"] * unit_bf16,
                  "constMoE": k["c_moe"] * unit}
        lo, hi = min(p[0] for p in plans), max(p[0] for p in plans)
    line = dict(id=row["id"], family=row["family"], moe=row["moe"], published=pub, predicted=pred,
                error=pred / pub - 1.0, plan=plan, beyond_guard=beyond, mfu=mfu, n_plans=len(plans),
                low=lo / pub - 1.0, high=hi / pub - 1.0, **{n: v / pub - 1.0 for n, v in consts.items()})
    if row["plan_source"] == "search":  # the search without its published-MFU guard, at the row's own setup
        from infraplan.training.search import search_plans

        free = search_plans(row["model"], row["system"], row["gpus"][0], row["plan"]["seq_len"],
                            row["plan"]["global_batch"], dtype=row["plan"]["dtype"], top=1, stack=row["stack"],
                            mfu_guard=False).best
        value = free.mfu if row["metric"] == "mfu" else free.tokens_per_s_per_gpu
        c = free.config
        line.setdefault("variants", {})[f"search unguarded (tp{c.tp} pp{c.pp} vpp{c.vpp} ep{c.ep} "
                                        f"mb{c.micro_batch} z{c.zero} {c.recompute})"] = value / pub - 1.0
    for name, moe in row.get("variants", {}).items():  # the same row on another MoE setting (the best plan)
        line.setdefault("variants", {})[name] = stated_plans(row, moe)[0][0] / pub - 1.0
    if row.get("gpu_hours_per_t"):  # the figure is "practical training": the run's goodput (`facility.reliability`)
        from infraplan.facility.reliability import job_reliability

        params = params or 67.4e9
        gp = job_reliability(H800, plan["gpus"], params)["goodput"]
        line["goodput"], line["error_goodput"] = gp, pred * gp / pub - 1.0
    return line


def main() -> None:
    t0 = time.time()
    k = frontier_constants()
    print(f"frontier constants: c {k['c']:.4f} (validate's), c_bf16 {k['c_bf16']:.4f}, c_moe {k['c_moe']:.4f}")
    lines = []
    for row in ROWS:
        if len(sys.argv) > 1 and row["id"] not in sys.argv[1:]:
            continue
        ln = run_row(row, k)
        lines.append(ln)
        unit = "MFU" if row["metric"] == "mfu" else "tok/s/GPU"
        print(f"{ln['id']:20s} {row['family']:11s} {row['system']:17s} {row['precision']:5s} {unit:9s}"
              f" pub {ln['published']:9.3f} model {ln['predicted']:9.3f} ({ln['error']:+.1%})"
              f" [{ln['n_plans']} plans {ln['low']:+.1%}..{ln['high']:+.1%}]"
              f" const {ln['const']:+.1%} const@bf16 {ln['const@bf16']:+.1%} constB {ln['constB']:+.1%}"
              f" constMoE {ln['constMoE']:+.1%}"
              + (f" | x goodput {ln['goodput']:.3f}: {ln['error_goodput']:+.1%}" if "goodput" in ln else ""))
        print(f"    {row['source']}; plan ({row['plan_source']}): {ln['plan']} mfu {ln['mfu']:.3f}"
              f"{' BEYOND GUARD' if ln['beyond_guard'] else ''}")
        for name, err in ln.get("variants", {}).items():
            print(f"    variant {name}: model {err:+.1%}")
    print()
    groups = {"MoE rows (all)": [ln for ln in lines if ln["moe"]]}
    for fam in sorted({ln["family"] for ln in lines}):
        groups[f"family {fam} (MoE)"] = [ln for ln in lines if ln["family"] == fam and ln["moe"]]
    groups["dense control"] = [ln for ln in lines if not ln["moe"]]
    groups["all rows"] = lines
    print(f"{'mean |error|':28s} {'n':>2s} {'model':>7s} {'const':>7s} {'c@bf16':>7s} {'constB':>7s} {'constMoE':>8s}")
    for name, grp in groups.items():
        if not grp:
            continue
        m = {key: float(np.mean([abs(ln[key]) for ln in grp]))
             for key in ("error", "const", "const@bf16", "constB", "constMoE")}
        print(f"{name:28s} {len(grp):2d} {m['error']:7.1%} {m['const']:7.1%} {m['const@bf16']:7.1%}"
              f" {m['constB']:7.1%} {m['constMoE']:8.1%}")
    print(f"({time.time() - t0:.1f} s)")


if __name__ == "__main__":
    main()
