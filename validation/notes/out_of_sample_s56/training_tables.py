"""Out-of-sample check of the training model on published throughput TABLES readable here (hE, session 56).

Source: modalities' README "Scaling Experiments" (PyPI sdists modalities 0.2.2 / 0.3.2 / 0.4.0 / 0.5.0, identical
rows; cited as 0.5.0 README.md:<line>): samples/s, MBS, GBS, sequence length, BF_16, FULL_SHARD / HYBRID_SHARD, AC
and MFU per run, on CINECA Leonardo Booster (4 x A100 64GB a node) and BSC MareNostrum 5 ACC (4 x H100 64GB a node).
No row is in src/infraplan/validation/cases, ../shared/reference/data/*.csv or the s52 / s55 scripts.
Model shape: the table's MFU column is modalities 0.2.2 src/modalities/utils/mfu.py:79-103 (6 N + 12 L T H over
mfu.py:15-18's 312 / 989 TF peaks). Solving it per row gives F = 6N + 12LTH = 1.9126e10 (2.7B, T 4096), 2.3149e10
(2.7B, T 8192), 4.5095e10 (6.7B, T 4096) FLOPs a token (every row within 0.04 %): the two 2.7B lengths give L H =
81,844 (32 x 2560 = 81,920, GPT-3 2.7B's layers, RECALLED) and N = 2.5166e9 = 12 x 32 x 2560^2 exactly; 6.7B: N =
6.4421e9 = 12 x 32 x 4096^2. So the layers are GPT-3's 2.7B / 6.7B (MHA, GELU MLP at 4H: gpt2_model.py:604-640; a
SwiGLU MLP at gpt2 model.py:109-118's 6,912 would give N = 2.537e9, off by 0.8 %), the counted N leaving out the
(tied, gpt2_model.py:823-827) embedding. Heads (32 / 32), vocab (50,304, GPT-2's padded) ASSUMPTION. The 28B rows
(README.md:375-383) are left out: one sequence length, so L and H are not separable from their F = 1.9986e11, and
12 L H^2 = N has no integer solution there (not GPT-3-like).
Plan per row: TP 1, PP 1, DP = #GPUs, FSDP1 = ZeRO-3 (FULL_SHARD: over all ranks; HYBRID_SHARD: over the 4 GPUs of a
node, replicated across nodes: util.py:79-87's "shard intra-node and replicate inter-node", `zero_shard=4`), MBS and
GBS as the table (GradAccm 1), recompute none (AC False), bf16, flash attention (SDPA `pytorch_flash`, ASSUMPTION: the
attention_implementation is a config choice, gpt2_model.py:196-208). Stacks (beside this file, `extends:
torchtitan`, the closest catalog stack: PyTorch FSDP, eager): modalities-fsdp1.yaml (the reading scored: bf16
gradient reduction, mfu.py:54-57; FSDP1's in-place flat-parameter collectives, no FSDP2 copies; eager RMSNorm +
RoPE + split q / k / v, the norm / positions RECALLED), modalities-fsdp1-layernorm.yaml (nn.LayerNorm, no rotary:
the other reading), torchtitan-bf16-reduce.yaml (only the reduce dtype changed), and the catalog `torchtitan` as is.
Systems:
leonardo-booster.yaml / marenostrum5-acc.yaml beside this file (4 GPUs and 4 NICs a node; parts a100-64gb.yaml /
h100-64gb.yaml, HBM bandwidth DERIVED, see the files), and the H100 part's HBM3 band end (marenostrum5-acc-hbm3.yaml).
Second source (`megatron_rows`): Megatron-LM's strong-scaling statement, megatron-core 0.16.1 wheel METADATA:179-208
(its README): GPT-3 175B "(our version has slightly more than 175 billion parameters due to larger vocabulary size)"
at vocabulary 131,072 and sequence 4,096 (:183-186), batch 1,152 sequences, 96 -> 4,608 H100, MFU 47 % -> 42 % (:206),
with --overlap-grad-reduce, --overlap-param-gather and --tp-comm-overlap (:188), end to end (:194). The plan is in an
image (images/strong_scaling.png, not shipped): every fitting Megatron plan is priced (TP 2 / 4 / 8 with SP, PP 4-24,
VP dividing 96 / PP, micro-batch 1 / 2, recompute none / selective, distributed optimizer = ZeRO-1) on the catalog's
dgx-h100-superpod under nemo-24.12 (TP overlap on: the closest catalog stack to the flags) and megatron-core-0.8 (TP
overlap off), bf16 (ASSUMPTION: the README states no precision); the row's figure is the search rule's (oos.py
`paper_rows`: plans within the published-MFU guard first, then the fastest), the range beside it.
Constant: oos.py's C_GATED x the row's bf16 peak (the constant MFU guesser), error = predicted / published - 1.
Run from the repository root (~2 s):
    PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s56/training_tables.py
OOS_OUT=rows.json writes the rows.
"""

from __future__ import annotations

import itertools
import json
import os
import pathlib
import sys
import tempfile

from infraplan.training import estimate_training

HERE = pathlib.Path(__file__).resolve().parent
C_GATED = 0.3561436458721242  # oos.py (s52): the constant MFU fitted on the gated set

# modalities 0.5.0 README.md: (line, params B, GPUs, samples/s, MBS, GBS, seq, sharding, GPU, MFU); GradAccm 1,
# BF_16, AC False on every row kept
ROWS = [
    (329, 2.7, 8, 18.63, 2, 16, 4096, "FULL", "A100", 0.5847),
    (330, 2.7, 8, 18.43, 2, 16, 4096, "HYBRID", "A100", 0.5786),
    (331, 2.7, 16, 36.68, 2, 32, 4096, "HYBRID", "A100", 0.5757),
    (332, 2.7, 16, 36.96, 2, 32, 4096, "FULL", "A100", 0.58),
    (333, 2.7, 32, 72.63, 2, 64, 4096, "HYBRID", "A100", 0.5699),
    (334, 2.7, 32, 73.76, 2, 64, 4096, "FULL", "A100", 0.5788),
    (335, 2.7, 64, 146.12, 2, 128, 4096, "FULL", "A100", 0.5733),
    (336, 2.7, 64, 145.31, 2, 128, 4096, "HYBRID", "A100", 0.5701),
    (337, 2.7, 128, 285.64, 2, 256, 4096, "HYBRID", "A100", 0.5603),
    (338, 2.7, 128, 205.96, 2, 256, 4096, "FULL", "A100", 0.404),
    (339, 2.7, 256, 495.44, 2, 512, 4096, "HYBRID", "A100", 0.4859),
    (340, 2.7, 256, 303.17, 2, 512, 4096, "FULL", "A100", 0.2974),
    (341, 2.7, 8, 19.94, 4, 32, 4096, "FULL", "A100", 0.626),
    (342, 2.7, 16, 39.68, 4, 64, 4096, "FULL", "A100", 0.6227),
    (343, 2.7, 32, 78.3, 4, 128, 4096, "FULL", "A100", 0.6144),
    (344, 2.7, 64, 155.21, 4, 256, 4096, "FULL", "A100", 0.6089),
    (345, 2.7, 128, 303.76, 4, 512, 4096, "FULL", "A100", 0.5959),
    (346, 2.7, 256, 506.08, 4, 1024, 4096, "FULL", "A100", 0.4964),
    (347, 6.7, 8, 9.28, 2, 16, 4096, "FULL", "A100", 0.6867),
    (348, 6.7, 16, 18.35, 2, 32, 4096, "FULL", "A100", 0.6789),
    (349, 6.7, 32, 36.65, 2, 64, 4096, "FULL", "A100", 0.6782),
    (350, 6.7, 64, 72.72, 2, 128, 4096, "FULL", "A100", 0.6727),
    (351, 6.7, 128, 131.59, 2, 256, 4096, "FULL", "A100", 0.6086),
    (352, 6.7, 256, 225.24, 2, 512, 4096, "FULL", "A100", 0.5209),
    (359, 2.7, 4, 15.06, 2, 8, 4096, "FULL", "H100", 0.2983),
    (360, 2.7, 4, 15.14, 2, 8, 4096, "HYBRID", "H100", 0.2998),
    (361, 2.7, 8, 29.6, 2, 16, 4096, "HYBRID", "H100", 0.2931),
    (362, 2.7, 8, 29.75, 2, 16, 4096, "FULL", "H100", 0.2946),
    (363, 2.7, 16, 58.7, 2, 32, 4096, "HYBRID", "H100", 0.2906),
    (364, 2.7, 16, 59.61, 2, 32, 4096, "FULL", "H100", 0.2951),
    (365, 2.7, 32, 117.07, 2, 64, 4096, "HYBRID", "H100", 0.2898),
    (366, 2.7, 32, 117.62, 2, 64, 4096, "FULL", "H100", 0.2912),
    (367, 2.7, 64, 235.96, 2, 128, 4096, "FULL", "H100", 0.292),
    (368, 2.7, 64, 234.65, 2, 128, 4096, "HYBRID", "H100", 0.2904),
    (369, 2.7, 128, 455.87, 2, 256, 4096, "FULL", "H100", 0.2821),
    (370, 2.7, 256, 883.07, 2, 512, 4096, "FULL", "H100", 0.2732),
    (371, 2.7, 512, 1831.71, 2, 1024, 4096, "HYBRID", "H100", 0.2834),
    (372, 2.7, 512, 1365.31, 2, 1024, 4096, "FULL", "H100", 0.2112),
    (373, 2.7, 1024, 1105.99, 2, 2048, 8192, "FULL", "H100", 0.2071),
    (374, 2.7, 1024, 3618.0, 2, 2048, 4096, "HYBRID", "H100", 0.2799),
]
PEAK = {"A100": 312e12, "H100": 989e12}  # mfu.py:15-18
SHAPE = {2.7: (32, 2560, 32), 6.7: (32, 4096, 32)}  # (layers, hidden, heads): GPT-3 2.7B / 6.7B (see the docstring)
SYSTEMS = {"A100": ("leonardo-booster.yaml",), "H100": ("marenostrum5-acc.yaml", "marenostrum5-acc-hbm3.yaml")}
STACKS = ("torchtitan", str(HERE / "torchtitan-bf16-reduce.yaml"), str(HERE / "modalities-fsdp1.yaml"),
          str(HERE / "modalities-fsdp1-layernorm.yaml"))


def model_file(params: float, seq: int) -> str:
    layers, hidden, heads = SHAPE[params]
    path = pathlib.Path(tempfile.gettempdir()) / f"oos-modalities-{params}b-{seq}.json"
    path.write_text(json.dumps({
        "source": f"modalities' GPT2LLM at GPT-3 {params}B's layers (training_tables.py docstring: shape from the"
                  " README's MFU column through mfu.py:79-103)",
        "model_type": "gpt2", "n_embd": hidden, "n_layer": layers, "n_head": heads, "n_inner": 4 * hidden,
        "vocab_size": 50304, "n_positions": seq, "activation_function": "gelu_new", "tie_word_embeddings": True}))
    return str(path)


def run(row: tuple, system: str, stack: str) -> dict:
    line, params, gpus, sps, mbs, gbs, seq, shard, gpu, mfu_pub = row
    pub = sps * seq / gpus  # tokens/s/GPU
    r = estimate_training(model_file(params, seq), str(HERE / system), gpus, tp=1, pp=1, dp=gpus, micro_batch=mbs,
                          global_batch=gbs, seq_len=seq, zero=3, recompute="none", dtype="bf16", attention="flash",
                          stack=stack, zero_shard=4 if shard == "HYBRID" and gpus > 4 else None)
    const = C_GATED * r.tokens_per_s_per_gpu / r.mfu
    return dict(line=line, params=params, gpus=gpus, shard=shard, gpu=gpu, mbs=mbs, seq=seq, published=pub,
                mfu_published=mfu_pub, system=system, stack=os.path.basename(stack), predicted=r.tokens_per_s_per_gpu,
                error=r.tokens_per_s_per_gpu / pub - 1, mfu=r.mfu, const_error=const / pub - 1, fits=r.fits)


GPT3_V131K = dict(published={96: 0.47, 4608: 0.42}, line={96: "METADATA:179/206", 4608: "METADATA:206"})


def gpt3_v131k() -> str:
    with open(HERE.parents[2] / "src" / "infraplan" / "catalog" / "models" / "gpt3-175b.json") as fh:
        cfg = json.load(fh)
    cfg.update(vocab_size=131072, n_positions=4096,
               source="catalog gpt3-175b.json at megatron-core 0.16.1 METADATA:183-186's vocabulary and sequence")
    path = pathlib.Path(tempfile.gettempdir()) / "oos-gpt3-175b-v131k.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def megatron_plans(gpus: int) -> list[tuple[bool, float, dict]]:
    """Every fitting plan (guard flag, MFU, plan) of the strong-scaling row at `gpus`, best first by the search rule."""
    model, out = gpt3_v131k(), []
    for tp, pp, vp, mbs, rc, stack in itertools.product((2, 4, 8), (4, 6, 8, 12, 16, 24), (1, 2, 3, 4, 6, 8, 12),
                                                         (1, 2), ("none", "selective"),
                                                         ("nemo-24.12", "megatron-core-0.8")):
        dp = gpus // (tp * pp)
        if gpus % (tp * pp) or 96 % (pp * vp) or 1152 % (dp * mbs) or (vp > 1 and (1152 // (dp * mbs)) % pp):
            continue
        r = estimate_training(model, "dgx-h100-superpod", gpus, tp=tp, pp=pp, dp=dp, vpp=vp, micro_batch=mbs,
                              global_batch=1152, seq_len=4096, zero=1, recompute=rc, dtype="bf16", attention="flash",
                              sequence_parallel=True, stack=stack)
        if r.fits and not r.low_memory_headroom:
            out.append((r.beyond_published_mfu, r.mfu, dict(tp=tp, pp=pp, dp=dp, vp=vp, mbs=mbs, recompute=rc,
                                                              stack=stack)))
    return sorted(out, key=lambda t: (t[0], -t[1]))


def megatron_rows() -> list[dict]:
    print("\n== Megatron-LM strong scaling (megatron-core 0.16.1 METADATA:206), GPT-3 175B v131k, GBS 1152, H100")
    rows = []
    for gpus, pub in GPT3_V131K["published"].items():
        plans = megatron_plans(gpus)
        guard, mfu, plan = plans[0]
        for stack in ("nemo-24.12", "megatron-core-0.8"):
            own = [t[1] for t in plans if t[2]["stack"] == stack]
            print(f"  {gpus:5d} GPUs {stack:18s} {len(own):3d} fitting plans: MFU {min(own):.3f} .. {max(own):.3f}"
                  f" ({min(own) / pub - 1:+.1%} .. {max(own) / pub - 1:+.1%})")
        rows.append(dict(line=GPT3_V131K["line"][gpus], gpus=gpus, published=pub, predicted=mfu, error=mfu / pub - 1,
                         const_error=C_GATED / pub - 1, plan=plan, beyond_guard=guard))
        print(f"  {gpus:5d} GPUs pub MFU {pub:.2f} search rule {mfu:.3f} ({mfu / pub - 1:+.1%}) {plan}"
              f"{' (beyond the guard)' if guard else ''}  constant {C_GATED:.3f} ({C_GATED / pub - 1:+.1%})")
    print(f"  strong-scaling ratio 4608 / 96: published {0.42 / 0.47:.3f}, model (search rule)"
          f" {rows[1]['predicted'] / rows[0]['predicted']:.3f}; mean |error| model"
          f" {mean_abs([r['error'] for r in rows]):.2%}, constant {mean_abs([r['const_error'] for r in rows]):.2%}")
    return rows


def mean_abs(xs: list[float]) -> float:
    return sum(map(abs, xs)) / len(xs) if xs else float("nan")


def main() -> None:
    out = []
    for stack in STACKS:
        for gpu in ("A100", "H100"):
            for system in SYSTEMS[gpu]:
                rows = [run(row, system, stack) for row in ROWS if row[8] == gpu]
                out += rows
                print(f"\n== {gpu} on {system}, stack {os.path.basename(stack)}")
                for r in rows:
                    print(f"  README:{r['line']} {r['params']}B {r['gpus']:5d} {r['shard']:6s} mbs {r['mbs']}"
                          f" T {r['seq']}"
                          f" pub {r['published']:7.0f} model {r['predicted']:7.0f} ({r['error']:+6.1%}) mfu"
                          f" {r['mfu']:.3f} vs {r['mfu_published']:.3f} const ({r['const_error']:+6.1%})"
                          f"{'' if r['fits'] else ' DOES NOT FIT'}")
                for name, sel in (("all", rows), ("FULL", [r for r in rows if r["shard"] == "FULL"]),
                                  ("HYBRID", [r for r in rows if r["shard"] == "HYBRID"]),
                                  ("<= 64 GPUs", [r for r in rows if r["gpus"] <= 64])):
                    e = [r["error"] for r in sel]
                    print(f"  {name:10s} n={len(sel):2d} model {mean_abs(e):6.2%} (signed {sum(e) / len(e):+6.2%})"
                          f"  constant {mean_abs([r['const_error'] for r in sel]):6.2%}")
    print("\n== the source's 40 rows (A100 on leonardo-booster + H100 on each H100 part), per stack; and the same"
          " software's H100 / A100 rate at README:362 / :329 (2.7B, 8 GPUs, FULL, mbs 2)")
    pub_ratio = ROWS[27][3] / ROWS[0][3]  # same GPUs and tokens a step: the samples/s ratio
    for stack in STACKS:
        name = os.path.basename(stack)
        a100 = [r for r in out if r["stack"] == name and r["gpu"] == "A100"]
        for h_sys in SYSTEMS["H100"]:
            h100 = [r for r in out if r["stack"] == name and r["system"] == h_sys]
            both = a100 + h100
            ratio = next(r["predicted"] for r in h100 if r["line"] == 362) / next(
                r["predicted"] for r in a100 if r["line"] == 329)
            print(f"  {name:32s} {h_sys:28s} model {mean_abs([r['error'] for r in both]):6.2%}  constant"
                  f" {mean_abs([r['const_error'] for r in both]):6.2%}  H100/A100 {ratio:.3f}"
                  f" (published {pub_ratio:.3f})")
    out += megatron_rows()
    with open(os.environ.get("OOS_OUT", os.devnull), "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    sys.exit(main())
