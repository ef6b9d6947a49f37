"""The three training out-of-sample losses the session 59 closing note left open, decomposed on today's model (hH,
session 60). Figures RECALLED as in the scripts that hold the rows (out_of_sample_s52/oos.py, out_of_sample_s55/
mlperf_lora.py, out_of_sample_s56/moe_training.py); this script reads those rows and prints:

1. Megatron-DeepSpeed (BLOOM-176B, MT-NLG 530B x 3, GPT-NeoX-20B): each row's modelled step, the step the published
   figure implies (the model's step x predicted / published: the same FLOP count), the 1F1B bubble inside it, and two
   readings of the excess fitted on MT-NLG's three rows (a per-micro-batch factor k on the step less its bubble, with
   (a) the bubble x b or (b) the bubble + a fixed F seconds), carried to BLOOM and NeoX, which they were not fitted on.
2. Qwen2-57B-A14B (MoE Parallel Folding, 39.0 % MFU on H100): the model's MFU at the searched plan and at the folded
   plans the paper is about (attention TP, experts EP x expert TP 1), and the search with and without nemo-24.12's
   `model_parallel_zero_stages` (ZeRO-2 is NeMo 2.1's FSDPStrategy, which builds no model parallelism) and
   `ops.layer.ROUTED_GATHER_AT_EXPERT_TP` (the dispatcher's gather of the k routed copies over expert TP).
3. MLPerf v4.0 Llama 2 70B LoRA on 1,024 H100 (1.5 min): the step each plan would need for 1.5 min against the model's,
   eager (the stack) and under CUDA graphs (no host term).

Run from the repository root: PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s60/open_losses.py
(~20 s). Notes: validation/notes/out_of_sample_s60/README.md.
"""

from __future__ import annotations

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "out_of_sample_s52"))
sys.path.insert(0, os.path.join(HERE, "..", "out_of_sample_s55"))

import mlperf_lora  # noqa: E402
import oos  # noqa: E402

import infraplan.ops.layer as layer  # noqa: E402
from infraplan.catalog.stacks import load_stack  # noqa: E402
from infraplan.training import one_plan_memo  # noqa: E402
from infraplan.training.estimate import estimate_training  # noqa: E402
from infraplan.training.search import search_plans  # noqa: E402
from infraplan.validation.runner import run_case  # noqa: E402

DS_ROWS = ("mtnlg-530b-2240", "mtnlg-530b-2800", "mtnlg-530b-3360", "bloom-176b-384", "bloom-176b-384-bf16opt",
           "neox-20b-96", "neox-20b-96-mf")
QWEN = os.path.join(HERE, "..", "out_of_sample_s56", "qwen2-57b-a14b.json")


def deepspeed_family() -> None:
    rows = []
    for case in (dict(c) for c in oos.CASES if c["id"] in DS_ROWS):
        if case["model"] == "__neox20b__":
            case["model"] = oos.neox_config()
        case.setdefault("plan_source", "assumed")
        case.setdefault("source", "recalled")
        plan = dict(case["plan"], vpp=1)
        est = estimate_training(case["model"], case["system"], case["gpus"], stack=case["stack"], **plan)
        scored = run_case(case)
        bubble = est.breakdown_s.pp_bubble
        pub = est.step_time_s * scored.predicted / scored.published
        m = plan["global_batch"] // (plan["dp"] * plan["micro_batch"])
        rows.append((case["id"], m, plan["pp"], est.step_time_s, pub, bubble, scored.error))
    print("1. Megatron-DeepSpeed: step modelled / implied by the published figure (s), the model's 1F1B bubble")
    for rid, m, p, step, pub, bubble, err in rows:
        print(f"   {rid:24s} m {m:3d} p {p:2d}  model {step:6.2f}  published {pub:6.2f}  bubble {bubble:5.2f}"
              f"  excess {pub - step:5.2f} s ({err:+.1%})")
    mt = [r for r in rows if r[0].startswith("mtnlg")]
    # (a) pub = k (step - bubble) + b bubble; (b) pub = k (step - bubble) + bubble + F: least squares on MT-NLG
    a = np.array([[r[3] - r[5], r[5]] for r in mt])
    k_a, b_a = np.linalg.lstsq(a, np.array([r[4] for r in mt]), rcond=None)[0]
    bb = np.array([[r[3] - r[5], 1.0] for r in mt])
    k_b, f_b = np.linalg.lstsq(bb, np.array([r[4] - r[5] for r in mt]), rcond=None)[0]
    print(f"   fit on MT-NLG x 3: (a) k {k_a:.3f} per micro-batch, bubble x {b_a:.2f};"
          f" (b) k {k_b:.3f}, bubble + {f_b:.2f} s a step")
    for rid, _, _, step, pub, bubble, _ in rows:
        pa = k_a * (step - bubble) + b_a * bubble
        pb = k_b * (step - bubble) + bubble + f_b
        print(f"   {rid:24s} published {pub:6.2f}  (a) {pa:6.2f} ({pa / pub - 1:+.1%})"
              f"  (b) {pb:6.2f} ({pb / pub - 1:+.1%})")


def qwen_plans() -> None:
    print("2. Qwen2-57B-A14B, 128 H100, seq 4,096, batch 256, bf16, nemo-24.12 (published MFU 0.390)")
    for kw in (dict(tp=4, pp=1, ep=1, etp=4, micro_batch=4, zero=2), dict(tp=4, pp=2, ep=2, etp=4, micro_batch=4,
                                                                            zero=1, vpp=14, schedule="interleaved"),
               dict(tp=2, pp=2, ep=8, etp=1, micro_batch=1, zero=1), dict(tp=2, pp=2, ep=4, etp=1, micro_batch=1,
                                                                           zero=1),
               dict(tp=1, pp=4, ep=8, etp=1, micro_batch=1, zero=1), dict(tp=4, pp=1, ep=8, etp=1, micro_batch=2,
                                                                           zero=1)):
        kw = {"vpp": 1, **kw}
        r = estimate_training(QWEN, "dgx-h100-superpod", 128, stack="nemo-24.12", seq_len=4096, global_batch=256,
                              dtype="bf16", recompute="none", **kw)
        b = r.breakdown_s
        note = any(n.startswith("ZeRO outside the stack") for n in r.notes)
        print(f"   {str(kw):88s} MFU {r.mfu:.3f} ({r.mfu / 0.390 - 1:+.1%}) fits {r.fits!s:5s} ep {b.ep_comm:.3f}"
              f" dp {b.dp_comm_exposed:.3f} s{'  [refused: ZeRO-2 with TP > 1]' if note else ''}")
    nemo = load_stack("nemo-24.12")
    free = nemo.model_copy(update={"model_parallel_zero_stages": None})
    for label, stack, gather in (("search, both rules (this tree)", nemo, True),
                                 ("search, model_parallel_zero_stages off", free, True),
                                 ("search, ROUTED_GATHER_AT_EXPERT_TP off", nemo, False),
                                 ("search, both off (session 59)", free, False)):
        layer.ROUTED_GATHER_AT_EXPERT_TP = gather
        one_plan_memo.clear_one_plan_memo()
        best = search_plans(QWEN, "dgx-h100-superpod", 128, 4096, 256, dtype="bf16", top=1, stack=stack).best
        assert best is not None
        c = best.config
        print(f"   {label:40s} MFU {best.mfu:.3f} ({best.mfu / 0.390 - 1:+.1%}) TP{c.tp} PP{c.pp}x{c.vpp} EP{c.ep}"
              f" ETP{c.etp} mb {c.micro_batch} ZeRO-{c.zero}")
    layer.ROUTED_GATHER_AT_EXPERT_TP = True
    one_plan_memo.clear_one_plan_memo()


def lora_row() -> None:
    print("3. MLPerf v4.0 Llama 2 70B LoRA, 1,024 H100, published 1.5 min: step needed vs modelled (s)")
    base = load_stack(mlperf_lora.STACK)  # type: ignore[arg-type]
    graphs = base.model_copy(update={"cuda_graphs": True})
    for tp, cp, gbs in ((4, 8, 32), (8, 2, 64), (4, 2, 128)):
        samples = mlperf_lora.rcp_samples(gbs)
        assert samples is not None
        steps = samples / gbs
        out = []
        for stack in (base, graphs):
            r = estimate_training("llama2-70b", "dgx-h100-superpod", 1024, lora_rank=16, tp=tp, cp=cp, pp=1,
                                  dp=1024 // (tp * cp), micro_batch=1, global_batch=gbs, seq_len=8192, zero=1,
                                  dtype="fp8", stack=stack, recompute="none", vpp=1)
            out.append(r)
        # the minutes the model prices at the eager step, evaluation included (mlperf_lora.price)
        priced = mlperf_lora.price(mlperf_lora.ROWS[2], tp, cp, gbs)
        minutes = priced["ttt"] if priced else float("nan")
        need = 90.0 * out[0].step_time_s / (minutes * 60.0)  # the eager step scaled to 1.5 min
        print(f"   TP{tp} CP{cp} GBS {gbs:3d} ({steps:5.1f} steps): model eager {out[0].step_time_s:.3f}"
              f" (host {out[0].breakdown_s.host_exposed:.3f}), graphs {out[1].step_time_s:.3f}; 1.5 min needs"
              f" ~{need:.3f} a step (model {minutes:.2f} min)")


def main() -> None:
    deepspeed_family()
    qwen_plans()
    lora_row()


if __name__ == "__main__":
    main()
