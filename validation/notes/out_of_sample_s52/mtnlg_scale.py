"""MT-NLG 530B at DP 8 / 10 / 12 (hK, session 54): the model's step terms, what the published slope needs, and the
per-step collectives DeepSpeed 0.5.10 runs at the end of a step, priced with the model's own functions.

Run from the repository root: PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s52/mtnlg_scale.py
(The step table's figures in the notes are HEAD 6f42eaa's, dp_comm_exposed 0.295 s at DP 8; this session's
`grad_reduce_all_reduce` makes it 0.442 s.)
Published iteration times (60.1 / 50.2 / 44.4 s, 126 / 121 / 113 TFLOP/s) are RECALLED (arXiv:2201.11990), as in oos.py.
"""

from __future__ import annotations

from infraplan.cluster.cluster import Cluster
from infraplan.hardware.kernels import KernelRates, memory_bound_seconds
from infraplan.network.collective_formulas import all_reduce_time
from infraplan.network.collectives import collective_seconds
from infraplan.training.estimate import estimate_training

PUBLISHED = {8: (60.1, 126.0), 10: (50.2, 121.0), 12: (44.4, 113.0)}
PLAN = dict(tp=8, pp=35, micro_batch=1, seq_len=2048, global_batch=1920, zero=1, attention="unfused",
            sequence_parallel=False, dtype="bf16", recompute="full", vpp=1)
FABRIC = Cluster.resolve("dgx-a100-superpod").fabric
STAGE_PARAMS = 529.6e9 / (8 * 35)  # weights a GPU (TP8 PP35; the end stages' tables aside)


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares step = a m + b."""
    n = len(points)
    mx = sum(m for m, _ in points) / n
    my = sum(t for _, t in points) / n
    a = sum((m - mx) * (t - my) for m, t in points) / sum((m - mx) ** 2 for m, _ in points)
    return a, my - a * mx


def main() -> None:
    model, pub = [], []
    print("DP   m  step   compute  tp_comm  pp_bubble  pp_comm  dp_exp  optimizer  other | published")
    for dp, (t_pub, _) in PUBLISHED.items():
        r = estimate_training("megatron-529.6b", "dgx-a100-superpod", 280 * dp, dp=dp, **PLAN, stack="deepspeed")
        b, m = r.breakdown_s.model_dump(), 1920 // dp
        model.append((m, r.step_time_s))
        pub.append((m, t_pub))
        print(f"{dp:2d} {m:4d} {r.step_time_s:6.2f} {b['compute']:8.3f} {b['tp_comm']:8.3f} {b['pp_bubble']:9.3f} "
              f"{b['pp_comm']:8.3f} {b['dp_comm_exposed']:7.3f} {b['optimizer']:9.4f} {b['other']:6.3f} | {t_pub}")
    (am, bm), (ap, bp) = fit(model), fit(pub)
    print(f"model:     step = {am:.4f} m + {bm:.2f} s")
    print(f"published: step = {ap:.4f} m + {bp:.2f} s  (residuals "
          + ", ".join(f"{t - (ap * m + bp):+.2f}" for m, t in pub) + " s)")
    # per-GPU throughput at fixed batch is m / step: the 8 -> 12 ratio is (a + b / 240) / (a + b / 160)
    for name, (a, b) in (("model", (am, bm)), ("published fit", (ap, bp))):
        print(f"{name}: per-GPU slope DP 8 -> 12 {((a + b / 240) / (a + b / 160) - 1) * 100:+.1f} %")
    print(f"published TFLOP/s 126 -> 113: {113 / 126 * 100 - 100:+.1f} %; step times: "
          f"{(60.1 / 240) / (44.4 / 160) * 100 - 100:+.1f} %")
    ratio = 113 / 126
    x = (1 - ratio) / (ratio / 160 - 1 / 240)  # b / a for the published TFLOP/s ratio
    print(f"fixed cost the published slope needs: b = {x:.1f} a -> at the model's a {x * am:.2f} s "
          f"(model {bm:.2f} s: +{x * am - bm:.2f} s); at the published a {x * ap:.2f} s")
    for dp, (t_pub, _) in PUBLISHED.items():
        m = 1920 // dp
        print(f"  DP {dp}: published - model's a x m = {t_pub - am * m:.2f} s; published - published a x m = "
              f"{t_pub - ap * m:.2f} s")

    print("\nPer-step collectives (collective_seconds on dgx-a100-superpod; DP group stride TP x PP = 280):")
    grads = STAGE_PARAMS * 2.0  # fp16 / bf16 gradients a GPU
    for dp in PUBLISHED:
        rs = collective_seconds(FABRIC, "reduce_scatter", grads, dp, 280)
        ag = collective_seconds(FABRIC, "all_gather", grads, dp, 280)
        ar = collective_seconds(FABRIC, "all_reduce", grads, dp, 280)
        ar8 = collective_seconds(FABRIC, "all_reduce", grads, dp, 8)
        print(f"  DP {dp:2d}: {grads / 1e9:.2f} GB: reduce-scatter {rs:.3f} s, all-gather {ag:.3f} s (RS + AG "
              f"{rs + ag:.3f}); all-reduce {ar:.3f} s (+{ar - rs:.3f} s over RS; at stride 8, DeepSpeed's "
              f"pipe-data-model order: {ar8:.3f} s)")
        ring, tree = (float(all_reduce_time(FABRIC, 1e9, dp, 280, algorithm=a, sized=True)) for a in ("ring", "tree"))
        print(f"         one 1 GB bucket (DeepSpeed's 5e8 fp16 elements): ring {ring:.4f} s, tree {tree:.4f} s "
              f"(the model takes the faster; tree for all {grads / 1e9:.2f} GB: +{(tree - ring) * grads / 1e9:.3f} s)")
    for ranks, stride, what in ((280, 1, "model-parallel group (TP x PP)"), (8, 280, "DP 8"), (12, 280, "DP 12"),
                                (3360, 1, "all 3,360 ranks")):
        seconds = collective_seconds(FABRIC, "all_reduce", 4.0, ranks, stride)
        print(f"  scalar all-reduce over {what}: {seconds * 1e3:.3f} ms")

    # DeepSpeed 0.5.10 ZeRO-1 under the pipeline engine (stage_1_and_2.py, read in the PyPI sdist): contiguous
    # gradients forced off at stage 1 (engine.py:1337-1341); pipe/engine.py:246-250 -> engine.allreduce_gradients
    # -> optimizer.reduce_gradients (:582-600) -> reduce_ipg_grads (:1189-1201) -> buffered_reduce_fallback ->
    # allreduce_bucket (:1319-1349): flatten (2 + 2 B), div_ (2 + 2), dist.all_reduce of the whole stage gradient,
    # unflatten copy (2 + 2); step() (:1624-1790) on the 1 / DP partition: overflow check x.float().sum() (2 + 4 + 4),
    # norm g.double().norm(2) (2 + 8 + 8), flatten + .to(fp32) (2 + 2 + 2 + 4), unscale / clip mul_ (4 + 4), fp32 ->
    # fp16 copy (4 + 2); the Adam step and the all-gather are priced by the model already.
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-a100-superpod").accelerator, "bf16")
    print("\nDeepSpeed 0.5.10 ZeRO-1 end of step beyond RS + AG (HEAD 6f42eaa's pricing; hK54 prices the all-reduce):")
    for dp in PUBLISHED:
        extra_ar = (collective_seconds(FABRIC, "all_reduce", grads, dp, 280)
                    - collective_seconds(FABRIC, "reduce_scatter", grads, dp, 280))
        copies = memory_bound_seconds(rates, STAGE_PARAMS * 12.0, 3)
        partition = memory_bound_seconds(rates, STAGE_PARAMS / dp * (10 + 18 + 10 + 8 + 6), 6)
        print(f"  DP {dp:2d}: all-reduce over RS +{extra_ar:.3f} s, bucket copies {copies * 1e3:.1f} ms, partition "
              f"passes {partition * 1e3:.1f} ms: +{extra_ar + copies + partition:.3f} s a step")

    # the same shape at scale on Megatron-LM (the gated stacks): Korthikanti et al. abstract (V, measurements.md:132):
    # 530B on 2,240 A100, full recompute, MFU 42.1 %; batch ASSUMED 2,240 (one sequence a GPU, as the README's DP 1
    # runs: 280 on 280) and 1,920 (MT-NLG's)
    print("\nKorthikanti 530B, 2,240 A100, full recompute, published MFU 0.421:")
    for stack in ("megatron-lm-2022", "megatron-lm-2021"):
        for batch in (2240, 1920):
            r = estimate_training("megatron-529.6b", "dgx-a100-superpod", 2240, dp=8, **{**PLAN, "zero": 0,
                                  "global_batch": batch}, order="tp-cp-dp-pp", stack=stack)
            late = r.mfu * r.step_time_s / (r.step_time_s + 6.72)
            print(f"  {stack} batch {batch}: model MFU {r.mfu:.4f} ({r.mfu / 0.421 - 1:+.1%}); with +6.72 s a step "
                  f"{late:.4f} ({late / 0.421 - 1:+.1%})")


if __name__ == "__main__":
    main()
