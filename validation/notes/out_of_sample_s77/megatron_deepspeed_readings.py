"""The Megatron-DeepSpeed out-of-sample family read row by row (hO2, session 77): what each source states, what
sessions 52-76 assumed, and what the era's reading of the plan and cluster does to the error, term by term.

Session 76 left the family (BLOOM, MT-NLG x 3, NeoX: out_of_sample_s52/oos.py) at 26.04 % against the gated
constant's 19.77 %; session 60 (out_of_sample_s60/README.md) fitted MT-NLG's published steps as 1.086 x the model's
work + 2.23 x its 1F1B bubble (or + 7 s a step) and found no mechanism. Readings tried here (no src change; every
published figure and setting RECALLED as in oos.py, confidence in the notes):
* MT-NLG 530B (arXiv:2201.11990: TP8 PP35, batch 1,920, seq 2,048, 280 / 350 / 420 DGX A100 on Selene, iteration
  60.1 / 50.2 / 44.4 s). The micro-batch is NOT stated; s52 took SC'21's 1 (examples/sc21/run_table_1.sh). The
  replicas' batches 240 / 192 / 160 admit 1, 2, 4, 8, 16; each is priced, and the published steps' shape (step =
  a x sequences a replica + b: the intercept b is the bubble and other per-step costs) picks one.
* BLOOM 176B (arXiv:2211.05100 Sec. 3.4.1; tr11-176B-ml launch script): TP4 PP12 DP8, micro-batch 2, batch 2,048,
  bf16 with ZeRO stage 0 in the DeepSpeed config ("bf16 must use z0! it implements its own zero stage 1
  equivalent": BF16_Optimizer, hV52's `deepspeed-bf16-optimizer.yaml`), on Jean Zay: "4 Omni-Path 100 Gbps links per
  node" (bloom-jeanzay.yaml here) where s52 ran it on the DGX A100 SuperPOD (8 x 200 Gb/s a node).
* GPT-NeoX-20B (low confidence figure): hN55's own-cluster row, hardware and model-FLOP readings (unchanged).
Also the same MT-NLG plan on Megatron-LM SC'21's gated row (megatron-sc21-529.6b: same shape, same Selene, +1.0 %),
and a what-if (`--softmax-fallback`, NOT adopted): MT-NLG's attention softmax in Megatron's eager fp32 fallback
(`attention_core.softmax_falls_back` forced on), what a Megatron fork whose fused kernel took fp16 scores only would
run under bf16; neither MT-NLG's dtype nor its fork's kernel constraint is readable here.
Run from the repository root (~10 s; the what-if in its own process, the memo keeps the first pricing):
    PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s77/megatron_deepspeed_readings.py
(add --softmax-fallback for the what-if)
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
S52 = os.path.join(HERE, "..", "out_of_sample_s52")
sys.path.insert(0, S52)

import oos  # noqa: E402  (s52's rows, stacks and the gated constant)

from infraplan.training.estimate import estimate_training  # noqa: E402
from infraplan.validation.runner import load_cases, run_case  # noqa: E402

JEAN_ZAY = os.path.join(HERE, "bloom-jeanzay.yaml")
BF16_OPT = os.path.join(S52, "deepspeed-bf16-optimizer.yaml")
TERMS = ("compute", "tp_comm", "pp_bubble", "pp_comm", "dp_comm_exposed", "optimizer", "other", "host_exposed")
MTNLG = {"mtnlg-530b-2240": 60.1, "mtnlg-530b-2800": 50.2, "mtnlg-530b-3360": 44.4}  # published iteration s
MTNLG_BATCH = 1920
CASES = {c["id"]: c for c in oos.CASES}


def priced(case: dict[str, Any], **over: Any) -> tuple[Any, dict[str, float], float]:
    """(run_case row, step terms in seconds, step seconds) of an oos.py row with plan / system / stack overrides."""
    plan_over = {k: v for k, v in over.items() if k not in ("system", "stack")}
    case = {**case, **{k: v for k, v in over.items() if k in ("system", "stack")},
            "plan": {**case["plan"], **plan_over}, "plan_source": "assumed", "source": "recalled"}
    if case["model"] == "__neox20b__":
        case["model"] = oos.neox_config()
    row = run_case(case)
    est = estimate_training(case["model"], case["system"], case["gpus"], stack=case["stack"], **case["plan"])
    return row, {k: float(v) for k, v in est.breakdown_s.model_dump().items()}, est.step_time_s


def const_error(row: Any) -> float:
    """The gated constant MFU (oos.C_GATED) read in the row's metric, against the published figure."""
    return oos.C_GATED * row.predicted / row.predicted_mfu / row.published - 1.0


def line(name: str, row: Any, bd: dict[str, float], step: float) -> str:
    return (f"{name:34s} {row.predicted:7.1f} ({row.error:+6.1%}) step {step:6.2f} | "
            + " ".join(f"{bd[t]:7.3f}" for t in TERMS))


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares y = a x + b."""
    a, b = np.polyfit(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float), 1)
    return float(a), float(b)


def mtnlg_reading(micro_batch: int) -> dict[str, Any]:
    """MT-NLG's three rows at one micro-batch: errors, published / model step ratios, the per-GPU slope DP 8 -> 12,
    and the step line in sequences a replica (a s, b s) for the model."""
    rows, steps, terms = [], [], []
    for i in MTNLG:
        row, bd, step = priced(CASES[i], micro_batch=micro_batch)
        rows.append(row)
        steps.append(step)
        terms.append(bd)
    seqs = [MTNLG_BATCH // (int(i.rsplit("-", 1)[1]) // 280) for i in MTNLG]
    ratios = [t / s for t, s in zip(MTNLG.values(), steps, strict=True)]
    return dict(micro_batch=micro_batch, rows=rows, steps=steps, terms=terms, ratios=ratios,
                spread=max(ratios) - min(ratios), slope=rows[-1].predicted / rows[0].predicted - 1.0,
                line=fit(seqs, steps), seqs=seqs)


def bloom_readings() -> dict[str, tuple[Any, dict[str, float], float]]:
    """BLOOM on (stack, cluster): s52's (deepspeed, DGX SuperPOD), hV52's optimizer, and both on Jean Zay."""
    case = CASES["bloom-176b-384"]
    return {"deepspeed, DGX A100 SuperPOD (s52)": priced(case),
            "BF16_Optimizer, DGX A100 SuperPOD (hV52)": priced(case, stack=BF16_OPT),
            "deepspeed, Jean Zay 4 x 100 Gb/s": priced(case, system=JEAN_ZAY),
            "BF16_Optimizer, Jean Zay (era reading)": priced(case, stack=BF16_OPT, system=JEAN_ZAY)}


def family(errors: list[float]) -> float:
    return float(np.mean(np.abs(errors)))


def best_constant(rows: list[Any]) -> float:
    """The mean abs error of the best constant MFU fitted on these rows themselves (the optimum sits on a row)."""
    mfu_pub = [r.published * r.predicted_mfu / r.predicted for r in rows]  # each row's published MFU
    return min(float(np.mean([abs(c / v - 1.0) for v in mfu_pub])) for c in mfu_pub)


def main() -> None:
    if "--softmax-fallback" in sys.argv:  # what-if: Megatron's eager fp32 softmax on every unfused plan
        import infraplan.training.attention_core as core
        import infraplan.training.layer_time as layer_time

        def falls_back(shape: Any, plan: Any, stack: Any = None) -> Any:
            return plan.attention == core._UNFUSED

        core.softmax_falls_back = falls_back  # type: ignore[assignment]
        layer_time.softmax_falls_back = falls_back  # type: ignore[assignment]
        print("WHAT-IF (not adopted): MT-NLG's softmax on Megatron's eager fp32 fallback (the gated SC'21 row, fp16 on"
              " the fused kernel, is shown under it too: it is not that row's reading)")
    head = f"{'':34s} {'model':>7s} {'(error)':>8s} {'step':>11s} | " + " ".join(f"{t[:7]:>7s}" for t in TERMS)
    print("=== MT-NLG 530B: the micro-batch the paper does not state (published steps 60.1 / 50.2 / 44.4 s)")
    readings = {}
    for mb in (1, 2, 4):
        got = mtnlg_reading(mb)
        readings[mb] = got
        print(head)
        for i, row, bd, step in zip(MTNLG, got["rows"], got["terms"], got["steps"], strict=True):
            print(line(f"{i} mbs {mb}", row, bd, step))
        a, b = got["line"]
        print(f"  published / model step {' '.join(f'{r:.3f}' for r in got['ratios'])} (spread"
              f" {got['spread']:.3f}); per-GPU slope DP 8 -> 12 {got['slope']:+.1%} (published"
              f" {113 / 126 - 1:+.1%}); model step = {a:.4f} s x sequences + {b:.2f} s")
    a_pub, b_pub = fit(readings[1]["seqs"], list(MTNLG.values()))
    print(f"  published step = {a_pub:.4f} s x sequences + {b_pub:.2f} s (intercept {b_pub / a_pub:.1f} sequences'"
          f" time; mbs 1's 1F1B bubble is 34, mbs 2's 68, mbs 4's 136)")
    gated = {c["id"]: c for c in load_cases()}["megatron-sc21-529.6b"]
    g_row = run_case(gated)
    g_est = estimate_training(gated["model"], gated["system"], gated["gpus"], stack=gated["stack"], **gated["plan"])
    print(f"  same shape, Megatron-LM SC'21 (gated megatron-sc21-529.6b, m 280, mbs 1): published {g_row.published}"
          f" model {g_row.predicted:.1f} ({g_row.error:+.1%}), step {g_est.step_time_s:.2f} s; MT-NLG at mbs 2 needs"
          f" {a_pub / readings[2]['line'][0] - 1:+.1%} a sequence over the model's work")
    if "--softmax-fallback" in sys.argv:
        return  # the what-if is MT-NLG's alone: BLOOM ran with --abort-on-unmet-fused-kernel-constraints, NeoX fp16
    print("=== BLOOM 176B (published 150 hardware TFLOP/s)")
    print(head)
    blooms = bloom_readings()
    for name, (row, bd, step) in blooms.items():
        print(line(name, row, bd, step))
    print("=== GPT-NeoX-20B (published 117, low confidence; hN55's own cluster)")
    neox_hw = priced(CASES["neox-20b-96"])
    neox_mf = priced(CASES["neox-20b-96-mf"])
    print(head)
    print(line("neox-20b-96 hardware FLOPs", *neox_hw))
    print(line("neox-20b-96 model FLOPs", *neox_mf))
    print("=== family (bloom, mtnlg x 3, neox): mean abs error")
    s76 = [blooms["deepspeed, DGX A100 SuperPOD (s52)"][0], *readings[1]["rows"], neox_hw[0]]
    era = [blooms["BF16_Optimizer, Jean Zay (era reading)"][0], *readings[2]["rows"], neox_hw[0]]
    era_mf = [*era[:-1], neox_mf[0]]
    for name, rows in (("s76 rows (hN55)", s76), ("era reading", era), ("era reading, NeoX as model FLOPs", era_mf)):
        print(f"  {name:34s} model {family([r.error for r in rows]):.2%} ({' '.join(f'{r.error:+.1%}' for r in rows)});"
              f" gated constant {family([const_error(r) for r in rows]):.2%}; best constant on these rows"
              f" {best_constant(rows):.2%}")


if __name__ == "__main__":
    main()
