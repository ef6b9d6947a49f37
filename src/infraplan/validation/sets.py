"""Validation sets, each scored next to the best constant baseline fitted to the set itself (issue 12).

A planner trusts the model only where it beats the naive answer. For every set `infraplan validate` prints the
model's mean and max |error| next to the best *constant* predictor fitted to the same set: a constant MFU for
training (predicted metric = c x the metric at MFU 1 for the case's own plan and FLOP convention), a roofline
with one fitted efficiency for serving (the serving set supplies its roofline times). Both are
`predicted_i = c * unit_i`; `fit_constant` finds the c minimising the mean |c unit_i / published_i - 1| (a
convex piecewise-linear function of c whose minimum lies on a breakpoint c = published_i / unit_i).

Sets:
* gated training cases (`cases/training.yaml`, the ones without a known gap);
* vTrain single-node A100 (1,440 measured Megatron-LM iteration times, Bang et al. MICRO'24, run as vTrain ran them:
  full activation recompute, unfused attention, 800 Gb/s of scale-out per node, half the DGX A100's 8 x 200 Gb/s);
* frontier training rows (`data/frontier_training.csv`, with sources): those on catalog hardware run, the rest await.
Each case also yields a residual record (accelerator family, stack class, kind) for `catalog/error_bands.yaml`.

Each set's rounds (what was adopted, with its effect, and what was tried and rejected; the vTrain TP8 analysis and
the round summaries 7-13h stood here until session 58): validation/notes/training_sets_tried.md.
"""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from infraplan.catalog import shape_from_hf_config
from infraplan.catalog.data_files import validation_rows
from infraplan.catalog.error_bands import Residual, accelerator_family, stack_class
from infraplan.catalog.model_recipes import stack_for_model
from infraplan.catalog.stacks import Fp8Recipe, Stack, load_stack
from infraplan.cluster import Cluster
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.plan import PlanArrays
from infraplan.training.results import TrainingEstimate
from infraplan.validation.perf_config_moe import ROW_PIPELINE_LAYERS, moe_perf_settings
from infraplan.validation.results import TrainingCase, ValidationSet

GATE_TRAINING_MEAN = 0.08  # issue 12: mean |error| <= 8 % on training sets
GATE_FRONTIER_TRAINING_MEAN = 0.12  # issue 13: mean |error| <= 12 % on the frontier training rows
GATE_SERVING_MEAN = 0.12  # ... <= 12 % on serving sets
GATE_VTRAIN_MEDIAN = (0.9, 1.1)  # median predicted / measured on vTrain single-node
GATE_VTRAIN_SPEARMAN = 0.95
VTRAIN_SCALE_OUT = 0.5  # 800 Gb/s per node, as vTrain ran it, on the 1,600 Gb/s DGX A100 node
VTRAIN_STACK = "megatron-lm-2022"  # vTrain profiled Megatron-LM (2022 code base, eager, no overlap)
GPT2_BPE_TOKENS = 50257  # GPT-2 BPE vocabulary, Megatron's GPT2BPETokenizer
MEGATRON_VOCAB_DIVISIBLE_BY = 128  # Megatron-LM --make-vocab-size-divisible-by default


def megatron_padded_vocab(tp: int, tokens: int = GPT2_BPE_TOKENS) -> int:
    """The embedding rows Megatron-LM builds: the tokenizer's vocabulary padded to a multiple of 128 x TP
    (megatron/tokenizer/tokenizer.py `_vocab_size_with_padding`, v2.x-v3.0): GPT-2 BPE gives 50,304 rows at TP1,
    50,432 at TP2, 50,688 at TP4 and 51,200 at TP8, so the LM head and loss widen with TP."""
    multiple = MEGATRON_VOCAB_DIVISIBLE_BY * tp
    return -(-tokens // multiple) * multiple


def fit_constant(unit: np.ndarray, published: np.ndarray) -> tuple[float, np.ndarray]:
    """(c, relative errors c unit / published - 1) of the constant c with the least mean |error|."""
    ratio = np.asarray(unit, dtype=np.float64) / np.asarray(published, dtype=np.float64)
    candidates = 1.0 / ratio
    objective = np.array([np.mean(np.abs(c * ratio - 1.0)) for c in candidates])
    c = float(candidates[int(np.argmin(objective))])
    return c, c * ratio - 1.0


def score_set(name: str, kind: str, ids: list[str], published: np.ndarray, predicted: np.ndarray,
              unit: np.ndarray, baseline: str, gate_mean: float, awaiting: list[str] | None = None,
              extra: dict[str, Any] | None = None) -> ValidationSet:
    """One set's model errors next to the best constant baseline (`baseline` names it, e.g. 'constant MFU')."""
    errors = np.asarray(predicted, dtype=np.float64) / np.asarray(published, dtype=np.float64) - 1.0
    constant, base_errors = fit_constant(unit, published)
    mean, base_mean = float(np.mean(np.abs(errors))), float(np.mean(np.abs(base_errors)))
    return ValidationSet(
        name=name, kind=kind, cases=len(ids), mean_abs_error=mean, max_abs_error=float(np.max(np.abs(errors))),
        baseline=baseline, baseline_constant=constant, baseline_mean_abs_error=base_mean,
        baseline_max_abs_error=float(np.max(np.abs(base_errors))), gate_mean_abs_error=gate_mean,
        beats_baseline=mean < base_mean, passes_gate=mean <= gate_mean and mean < base_mean,
        awaiting=awaiting or [], **(extra or {}))


def training_case_set(rows: list[TrainingCase], cases: list[dict[str, Any]]) -> tuple[ValidationSet, list[Residual]]:
    """The gated training cases; the constant-MFU baseline predicts c x (the case's metric at MFU 1)."""
    by_id = {c["id"]: c for c in cases}
    gated = [r for r in rows if r.gated]
    unit = np.array([r.predicted / r.predicted_mfu for r in gated])
    result = score_set("training cases (gated)", "training", [r.id for r in gated],
                       np.array([r.published for r in gated]), np.array([r.predicted for r in gated]), unit,
                       "constant MFU", GATE_TRAINING_MEAN)
    residuals = [Residual(id=r.id, family=accelerator_family(Cluster.resolve(by_id[r.id]["system"]).accelerator.name),
                          stack=stack_class(by_id[r.id].get("stack")), kind="training", residual=r.error)
                 for r in gated]
    return result, residuals


def load_vtrain_rows() -> list[list[float]]:
    """The vTrain data rows: GPUs, global batch, micro-batch, hidden, heads, layers, sequence, TP, DP, PP and
    the measured iteration time in ms."""
    text = (resources.files("infraplan.validation") / "data" / "vtrain_single_node.csv").read_text("utf-8-sig")
    return [[float(x) for x in r] for r in list(csv.reader(text.splitlines()))[1:]]


def vtrain_predictions(as_vtrain_ran: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(predicted step s, measured step s, model FLOPs / (peak x GPUs) s) of the 1,440 vTrain plans.

    `as_vtrain_ran`: full recompute and 800 Gb/s per node (False: no recompute on the full DGX A100 node,
    how the set was run before issue 12). Rows in the data file's order (residual `vtrain-i` is data row i).
    """
    rows = load_vtrain_rows()
    cluster = Cluster.resolve("dgx-a100-superpod")
    if as_vtrain_ran:
        cluster = cluster.scaled(1.0, VTRAIN_SCALE_OUT)
    recompute = Recompute.FULL if as_vtrain_ran else Recompute.NONE
    stack = VTRAIN_STACK if as_vtrain_ran else None
    predicted, unit = np.zeros(len(rows)), np.zeros(len(rows))
    measured = np.array([r[10] for r in rows]) / 1e3
    by_shape: dict[tuple[int, int, int, int], list[int]] = {}
    for i, r in enumerate(rows):
        by_shape.setdefault((int(r[3]), int(r[4]), int(r[5]), int(r[7])), []).append(i)
    for (hidden, heads, layers, tp), idx in by_shape.items():
        shape = shape_from_hf_config({"model_type": "gpt2", "n_embd": hidden, "n_head": heads, "n_layer": layers,
                                      "vocab_size": megatron_padded_vocab(tp), "n_positions": 2048},
                                     f"vtrain-h{hidden}")
        sel = np.array([rows[i] for i in idx])
        plans = PlanArrays.build(tp=sel[:, 7], pp=sel[:, 9], dp=sel[:, 8], cp=1, ep=1, vpp=1,
                                 micro_batch=sel[:, 2], global_batch=sel[:, 1], seq_len=sel[:, 6],
                                 recompute=recompute, zero=0, dtype=Dtype.BF16, attention=Attention.UNFUSED,
                                 order=RankOrder.TP_CP_DP_PP)
        out = evaluate_plans(shape, cluster, plans, stack)
        predicted[idx] = out["step_time_s"]
        unit[idx] = out["step_time_s"] * out["mfu"]  # model FLOPs / (peak x GPUs): the time at MFU 1
    return predicted, measured, unit


def vtrain_set(as_vtrain_ran: bool = True) -> tuple[ValidationSet, list[Residual]]:
    """vTrain single-node A100 step times; the constant-MFU baseline predicts (time at MFU 1) / c."""
    predicted, measured, unit = vtrain_predictions(as_vtrain_ran)
    ids = [f"vtrain-{i}" for i in range(len(measured))]
    ratio = predicted / measured
    extra = {"median_predicted_over_measured": float(np.median(ratio)),
             "spearman": float(spearmanr(predicted, measured).statistic)}
    result = score_set("vTrain single-node A100 (step time)", "training", ids, measured, predicted, unit,
                       "constant MFU", GATE_TRAINING_MEAN, extra=extra)
    passes = (result.passes_gate and GATE_VTRAIN_MEDIAN[0] <= extra["median_predicted_over_measured"]
              <= GATE_VTRAIN_MEDIAN[1] and extra["spearman"] >= GATE_VTRAIN_SPEARMAN)
    residuals = [Residual(id=i, family="ampere", stack=stack_class(VTRAIN_STACK), kind="training",
                          residual=float(measured[k] / predicted[k] - 1.0))  # throughput error = time error^-1
                 for k, i in enumerate(ids)]
    return result.model_copy(update={"passes_gate": passes}), residuals


def load_frontier_rows() -> list[dict[str, str]]:
    """The frontier rows (`data/frontier_training.csv`; its `#` lines are the source and caveat notes)."""
    return validation_rows("frontier_training.csv")


# Recompute note: a row with its own performance configuration runs that configuration's recompute (round 10, csv
# `settings_basis` perf_config), every other row `auto` (the least recompute that fits). Its Megatron-Bridge 0.3.1
# recipe's setting is recorded (`recompute_recipe`, file:line in `recompute_source`) but the rows were not run from
# those recipes (no row runs its recipe's TP / PP / CP / EP / micro-batch), so it is a reference, not the rows'
# setting. Measured before round 10 (the rows then all on `auto`), on one tree: every row on its recipe where that fits
# (H010 / H022's "none" needs 320 / 228 GB per GPU of 186 / 180 GB) 8.50 -> 10.16 % (DeepSeek-V3 selective core_attn:
# H015 / H017 / H018 -8.0 / +10.7 / +3.4 -> -11.8 / +7.2 / +0.4 %; Qwen3-30B-A3B full, qwen3_moe.py:83-88: H029 -7.3 ->
# -34.8 %, the re-run forward repeating its EP all-to-all); every row on its recipe, fitting or not, 11.25 %;
# DeepSeek-V3's 256-GPU variant (`deepseek_v3_pretrain_config_32nodes`, full, :288-290, a TP2 PP8 EP32 layout neither
# row runs) on H015 / H017: -31.3 / -12.5 %.


# Megatron-Bridge 0.3.1 `deepseek_v3_pretrain_config` (recipes/deepseek/deepseek_v3.py:146-187): precision-aware
# optimizer with bf16 main grads and bf16 exp_avg / exp_avg_sq (fp32 master weights), `grad_reduce_in_fp32=False`
# (the DDP gradient buffer in bf16, `training.memory.grad_buffer_bytes`); the other models' recipes keep the fp32
# defaults (qwen/qwen3_moe.py:101-103, gpt_oss/gpt_oss.py:113-115, llama/llama3.py:132).
# `qwen3_235b_a22b_pretrain_config` counts the embedding and the loss as pipeline layers
# (`account_for_embedding_in_pipeline_split` / `account_for_loss_in_pipeline_split`, recipes/qwen/qwen3_moe.py:
# 165-167; its docstring :137-138): 94 + 2 = 96 layers split evenly, which the rows' PP8 x VP3 = 24 (H025) and
# PP8 x VP4 = 32 (H026) model chunks divide and 94 layers do not (Megatron-Core's even split needs the chunks to
# divide the layers it splits): 12 layers on each middle stage, 11 + the LM head and loss on the last.
# Checked, NOT applied (issue 13 round 7): what the DeepSeek-V3 recipe sets beside, `DEEPSEEK_V3_RECIPE_TRAINING`:
# MTP trained (`mtp_num_layers = 1`, recipes/deepseek/deepseek_v3.py:83-84; the rows' published model TFLOP/s per
# token, 260.0 / 260.0 / 260.6 GFLOP for H015 / H017 / H018, is Megatron-Bridge's count with the MTP layer,
# training/utils/flop_utils.py:261-265 and :398-406, 249.8 without) and its layouts keyed by PP x VP chunks
# (:37-49; PP8 x VP4, H018, is not among them). Toggled on one tree: H015 / H017 / H018 +0.9 / +26.9 / +4.9 ->
# +3.2 / +34.1 / -15.5 %, 15 rows 12.16 -> 13.50 % (MTP alone: -12.2 / -12.7 / -15.5 %, 12.67 %): no per-layer
# DeepSeek-V3 cost was found that the even split hid (H015 and H018 stay close once laid out, H017 alone is off).
DEEPSEEK_V3_RECIPE_TRAINING: dict[str, Any] = {
    "mtp_num_layers": 1,
    "pipeline_layouts": ("Et*16|t*16|t*16|t*13mL", "Et*8|(t*8|)*6t*5mL", "Et*4|(t*4|)*14tmL")}
# The loss's `cross_entropy_fusion_impl` (`Stack.cross_entropy_impl`): GPT-OSS sets "native" (recipes/gpt_oss/
# gpt_oss.py:95/:213), the Qwen3 MoE pretrain recipes set "te" (recipes/qwen/qwen3_moe.py:80/:194, after their
# providers' default, Megatron-Core's "native", model_parallel_config.py:246), as Llama 3 / 3.1 and DeepSeek-V3 do
# (recipes/llama/llama3.py:703/:1154, recipes/deepseek/deepseek_v3.py:135), the stack's default.
# These recipes live in the stack since hG (2026-12-03): `Stack.model_recipes` (catalog/stacks/nemo-26.04.yaml, with
# Llama 3.1 405B's pipeline flags and CUDA graphs off), so a user of the stack training the model gets them too.
MODEL_RECIPE_STACK: dict[str, dict[str, Any]] = {r.model: r.settings() for r in load_stack("nemo-26.04").model_recipes}
# The flex dispatcher backend each model's Megatron-Bridge 0.3.1 recipe asks for (`moe_flex_dispatcher_backend`,
# passed to `apply_flex_dispatcher_backend`: recipes/qwen/qwen3_moe.py:59/:128, :172/:241; recipes/deepseek/
# deepseek_v3.py:106/:196; GPT-OSS sets "deepep" but never applies it, recipes/gpt_oss/gpt_oss.py:66-67: alltoall,
# not listed). Applied per GPU by the stack's rule (`MoeRouting.flex_backend`); NOT used by the rows (issue 13
# round 7, toggled on one tree, DeepEP / HybridEP priced as their kernels send: 15 rows 12.16 -> 19.64 %, H029
# -4.8 -> +73.7 %, H026 -10.7 -> +35.5 %, H017 +26.9 -> +37.5 %): `frontier_row_stack(row, flex=True)`.
MODEL_RECIPE_FLEX_BACKEND: dict[str, str] = {
    "deepseek-v3": "hybridep", "qwen3-30b-a3b": "deepep", "qwen3-235b-a22b": "deepep"}


PERF_CONFIGS = True  # round 10: rows with a performance config run its settings and recompute (False: as before)


def frontier_row_stack(row: dict[str, str], flex: bool = False, perf_config: bool | None = None) -> Stack:
    """`FRONTIER_STACK` with the row's MoE token dispatcher (`moe_dispatcher` column; empty: the stack's).

    H018: NeMo's DeepSeek-V3 performance script switches H100 runs to DeepEP (`moe_token_dispatcher_type:
    flex`, `moe_enable_deepep`; NVIDIA-NeMo/NeMo scripts/performance/llm/pretrain_deepseek_v3.py, 25.04-25.09:
    "Use DeepEP for H100"), an assumption carried from the script, not stated on the performance page.

    `pipeline_layers` "embedding+loss": the recipe's even split counts the embedding and the loss as pipeline
    layers (Megatron-Core `account_for_embedding/loss_in_pipeline_split`). H004/H005, Llama 3.1 405B: Megatron's
    even split needs PP x VP to divide the layers it splits; 126 layers divide neither 64 (PP16 x VP4) nor 128
    (PP16 x VP8) chunks, 126 + 2 = 128 divides both, so the published layouts imply both flags (NeMo's
    llama31_405b recipe sets them; Megatron-Bridge 0.6.0's base recipe of the rows' perf configs sets both,
    recipes/llama/h100/llama3.py:1229-1230). "layout": a plan the even split refuses, run on its own layout (H017/H018).

    `fp8_recipe`: the fp8 scaling the row's dtype column states where it is not the stack's (H018: "FP8 (128x128 /
    1x128 blockwise)", Transformer Engine's Float8BlockScaling: scales found inside the cast kernel, no amax pass
    or kernel, `catalog.stacks.Fp8Recipe`).

    `MODEL_RECIPE_STACK`: what the Megatron-Bridge recipe of the row's model sets beside the stack, for every row
    of that model (DeepSeek-V3: bf16 gradient buffer and reduce, bf16 Adam moments), the stack's own
    `model_recipes` (`catalog.model_recipes.stack_for_model`, as a user of the stack gets them). `flex`: with the
    recipe's flex dispatcher backend (`MODEL_RECIPE_FLEX_BACKEND`), off for the rows. `perf_config`: the row's own
    performance configuration's settings on top (`perf_config_stack`; False: the stack as before round 10; None:
    `PERF_CONFIGS`).
    """
    stack = stack_for_model(load_stack(FRONTIER_STACK), row.get("infraplan_model") or "")  # MODEL_RECIPE_STACK
    if flex and row.get("infraplan_model") in MODEL_RECIPE_FLEX_BACKEND:
        backend = MODEL_RECIPE_FLEX_BACKEND[row["infraplan_model"]]
        stack = stack.model_copy(update={"moe": stack.moe.model_copy(update={"flex_backend": backend})})
    if row.get("fp8_recipe"):
        stack = stack.model_copy(update={"fp8": Fp8Recipe(recipe=row["fp8_recipe"])})
    if row.get("pipeline_layers"):  # "embedding+loss" or "layout" (`perf_config_moe.ROW_PIPELINE_LAYERS`)
        stack = stack.model_copy(update=ROW_PIPELINE_LAYERS[row["pipeline_layers"]])
    if row.get("moe_dispatcher"):
        stack = stack.model_copy(update={"moe": stack.moe.model_copy(update={"dispatcher": row["moe_dispatcher"]})})
    return perf_config_stack(stack, row) if (PERF_CONFIGS if perf_config is None else perf_config) else stack


def row_recompute(row: dict[str, str]) -> str:
    """The recompute the row runs: its `recompute` column (its performance configuration's, else `auto`) under
    `PERF_CONFIGS`, else `auto` for every row (before round 10)."""
    return row["recompute"] if PERF_CONFIGS else "auto"


def perf_config_stack(stack: Stack, row: dict[str, str]) -> Stack:
    """`stack` with the settings of the row's own performance configuration (`settings_basis` perf_config: the
    csv's columns, each with its file:line in Megatron-Bridge 0.6.0's perf_recipes, `perf_settings_source`); an
    empty column keeps the stack's. TP overlap off: nothing hidden, no SMs taken; EP overlap: Megatron-Core's
    combined 1F1B (`MoeRouting.overlap_ep_comm`), with `delay_wgrad` its deferred wgrads
    (`MoeRouting.delay_wgrad_compute`); `flex_backend`: the flex dispatcher's backend."""
    if row.get("settings_basis") != "perf_config":
        return stack
    update: dict[str, Any] = {}
    moe: dict[str, Any] = {}
    if row.get("recompute_modules"):
        update["recompute_modules"] = tuple(row["recompute_modules"].split("+"))
    for key in ("grad_reduce_dtype", "cross_entropy_impl"):
        if row.get(key):
            update[key] = row[key]
    if row.get("tp_comm_overlap") == "off":
        update |= {"tp_comm_overlap_fraction": 0.0, "tp_overlap_sm_fraction": 0.0}
    if row.get("cuda_graphs"):
        update["cuda_graphs"] = row["cuda_graphs"] == "on"
    if row.get("offload_layers"):  # CPU activation offloading (round 13j, `training.activation_offload`)
        update["cpu_offload_layers"] = int(row["offload_layers"])
    if row.get("wgrad_fusion"):  # the config's `gradient_accumulation_fusion` (round 14, `main_grad_accumulation`)
        update["gradient_accumulation_fusion"] = row["wgrad_fusion"] == "on"
    if row.get("ep_overlap"):
        moe["overlap_ep_comm"] = row["ep_overlap"] == "on"
    if row.get("delay_wgrad"):  # Megatron-Core `delay_wgrad_compute` (hM65, `MoeRouting.delay_wgrad_compute`)
        moe["delay_wgrad_compute"] = row["delay_wgrad"] == "on"
    if row.get("flex_backend"):
        moe["flex_backend"] = row["flex_backend"]
    more, more_moe = moe_perf_settings(row, {"deepseek-v3": DEEPSEEK_V3_RECIPE_TRAINING})  # round 13c columns
    update, moe = update | more, moe | more_moe
    if moe:
        update["moe"] = stack.moe.model_copy(update=moe)
    return stack.model_copy(update=update)


def frontier_row_estimate(r: dict[str, str], stack: Stack | None) -> TrainingEstimate:
    """The row's plan on `stack` (its validated one, `frontier_row_stack`; None: the default stack, as `train` without
    `--stack`). Empty `vpp`: 1, Megatron's default (virtual_pipeline_model_parallel_size None, Megatron-LM megatron/
    training/arguments.py), not `train`'s interleave (hV); empty `order`: the stack's (Megatron-Bridge 0.3.1 training/
    initialize.py:630, config.py:158: tp-cp-ep-dp-pp unless use_tp_pp_dp_mapping), as a user's `train` (hG)."""
    return estimate_training(r["infraplan_model"], r["infraplan_system"], int(r["n_accel"]), tp=int(r["tp"]),
                             pp=int(r["pp"]), cp=int(r["cp"]), vpp=int(r["vpp"] or 1), seq_len=int(r["seq_len"]),
                             global_batch=int(r["global_batch"]), micro_batch=int(r["micro_batch"]),
                             zero=int(r["zero"]), recompute=row_recompute(r), dtype=r["precision"], stack=stack,
                             ep=int(r.get("ep") or 1), order=r.get("order") or None,
                             etp=int(r["etp"]) if r.get("etp") else None)


def frontier_set() -> tuple[ValidationSet, list[Residual]]:
    """The frontier training rows the model can express (tokens/s/GPU); the rest are listed as awaiting."""
    rows = load_frontier_rows()
    awaiting = [f"{r['id']} {r['model']} ({r['dtype']}): awaiting issue 13 ({r['awaiting_issue_13']})"
                for r in rows if r["awaiting_issue_13"]]
    ids: list[str] = []
    published, predicted, unit = [], [], []
    residuals: list[Residual] = []
    for r in rows:
        if r["awaiting_issue_13"]:
            continue
        result = frontier_row_estimate(r, frontier_row_stack(r))
        ids.append(r["id"])
        published.append(float(r["value"]))
        predicted.append(result.tokens_per_s_per_gpu)
        unit.append(result.tokens_per_s_per_gpu / result.mfu)
        residuals.append(Residual(id=r["id"], family=accelerator_family(result.accelerator),
                                  stack=stack_class(FRONTIER_STACK), kind="training",
                                  residual=result.tokens_per_s_per_gpu / float(r["value"]) - 1.0))
    scored = score_set("frontier training rows (NeMo/Megatron-Bridge)", "training", ids, np.array(published),
                       np.array(predicted), np.array(unit), "constant MFU", GATE_TRAINING_MEAN, awaiting)
    return scored, residuals


FRONTIER_STACK = "nemo-26.04"  # the rows' source: NeMo 25.11-26.06 containers (Megatron-Bridge)

# sets other layers score with `score_set`: (module, function) returning (ValidationSet, list[Residual]).
# The dense serving hopper rows are a section of the report (runner.SECTIONS), not a scored set.
EXTRA_SETS = (("infraplan.validation.serving_hopper_moe", "serving_moe_set"),
              ("infraplan.validation.serving_hopper_disagg", "serving_disagg_set"),
              ("infraplan.validation.serving_blackwell", "serving_blackwell_set"),
              ("infraplan.validation.recsys_mlperf", "recsys_mlperf_set"))


def extra_sets() -> list[tuple[ValidationSet, list[Residual]]]:
    """Every EXTRA_SETS scorer's set; a listed scorer that does not exist is an error, never skipped."""
    import importlib

    found = []
    for module, function in EXTRA_SETS:
        scorer = getattr(importlib.import_module(module), function, None)
        if scorer is None:
            raise LookupError(f"validation.sets.EXTRA_SETS: {module} has no scorer {function!r}")
        found.append(scorer())
    return found
