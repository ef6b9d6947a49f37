"""The attention core of one transformer layer per micro-batch on one GPU (scores, softmax, values): seconds
forward and backward, by the kernel the stack runs.

Fused (FlashAttention / cuDNN): causal FLOPs at the accelerator's fused-attention rate (of the kernel the stack
selects, `STACK_ATTENTION_KERNEL`) and the softmax exponentials' share by head dimension
(`hardware.kernels.exp_seconds`, FlashAttention-3), sliding-window layers over the key tiles the kernel visits
around their window (`flash_keys`). Unfused (Megatron-LM before 2023, and attention with learned
sinks where the stack runs it unfused): batched GEMMs over the full s x s scores plus the memory-bound softmax
passes, in Megatron's fused causal kernel or its eager fp32 fallback (`softmax_falls_back`), or Transformer Engine's
unfused sink path (`te_unfused`). DeepSeek Sparse Attention (DeepSeek-V3.2): the core over the selected keys
(`ops.layer.attention_keys`) and the lightning indexer of its sparse training stage (`indexer_times`). Sources are
with each constant. `training.layer_time` prices the rest of the layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.stacks import Stack
from infraplan.hardware.fp8_attention import fp8_attention_speedup
from infraplan.hardware.kernels import KernelRates, attention_seconds, attention_time, gemm_time, memory_bound_time
from infraplan.ops.layer import ArrayLike, attention_keys
from infraplan.ops.sparse_attention import (
    LOGIT_BYTES,
    indexer_score_flops_per_s,
    is_sparse,
    training_pair_flops,
)
from infraplan.scalar_path import is_plain, larger, negate, ops_of, pick, to_float
from infraplan.training.enums import Attention
from infraplan.training.fp8_dpa import fp8_attention_on
from infraplan.training.layer_kernels import result as _result
from infraplan.training.plan import PlanArrays

_UNFUSED = int(Attention.UNFUSED)

# The fused kernel is the stack's (`FrameworkRules.attention_kernel`), at the part's rate of that kernel
# (`KernelEfficiency.attention_kernel_fraction`, applied where `training.one_plan_memo` builds the stack's
# `KernelRates`). On Hopper the catalog's attention_max_fraction 0.50 is cuDNN's fused attention: the lent H100's
# default SDPA (torch 2.11) ran the 405B / 8B layer shapes at 489 / 492 TF/s forward + backward (validation/
# calibration/h100_layer_calibration.json), cuDNN's rate on the lent H200 (486-523 at 8-16k tokens, d 128,
# h200_attention_sdpa.jsonl), and Transformer Engine 2.14 prefers FusedAttention over FlashAttention on sm90+
# (pytorch/attention/dot_product_attention/utils.py:1168-1174). PyTorch's own flash backend is FlashAttention-2
# (torch 2.11 include/ATen/native/transformers/cuda/flash_attn/flash_api.h; FA3 only as an opt-in prototype,
# torch/nn/attention/_fa3.py): on the lent H200 it ran 0.55-0.61 of cuDNN's rate at d 128, 8-16k tokens, so a stack
# that selects it (torchtitan 0.1.0 pins SDPA's flash backend first below sm100; flash-attn 2.x) runs 0.29 of peak
# (h100-sxm.yaml). A100 has no entry: FlashAttention-2 is the kernel its 0.55 was measured on. False: every stack at
# attention_max_fraction (before hK56).
STACK_ATTENTION_KERNEL = True

# Megatron's FusedScaleMaskSoftmax runs eager PyTorch where its fused kernel refuses the shape
# (`softmax_falls_back`): per score, forward upcast (2+4 B), scale (4+4), in-place mask fill (4+1+4), softmax
# (4+4), downcast (4+2) = 37 B in 5 kernels; backward their gradients in reverse, 6 + 12 + 9 + 8 + 6 = 41 B in
# 5 kernels (megatron/model/fused_softmax.py `forward_torch_softmax`, softmax_in_fp32). It replaces the fused
# kernel's one launch and 3 / 4 B per score (the causal triangle, `attention_core_times`).
SOFTMAX_FALLBACK_BYTES = (37.0 - 3.0, 41.0 - 4.0)  # forward, backward: over the fused kernel's
SOFTMAX_FALLBACK_KERNELS = 4.0  # 5 eager launches for the fused kernel's 1, each way
# TE's UnfusedDotProductAttention with sinks (`te_unfused`; TE 2.14 pytorch/attention/dot_product_attention/
# backends.py:540-567) appends the sink column (cat: 2+2 B per score), so s_k + 1 = 4,097 fails the fused softmax's
# sk % 8 (softmax.py:198-201) and `forward_torch_softmax` (:248-273) runs: upcast (2+4), masked_fill (4+1+4),
# softmax (4+4), downcast (4+2) = 33 B per score in 5 kernels; backward their gradients (6 + 12 + 9 + 6) and the
# cat's (2+2 + the sink column's sum 2) = 40 B in 5. Over the full s x s (no causal or window skipping).
TE_SINK_SOFTMAX_BYTES = (33.0, 40.0)  # forward, backward
TE_SINK_SOFTMAX_KERNELS = 5.0  # each way


# A fused kernel walks whole tiles: cuDNN's runtime-compiled SDPA engine (FORT_NATIVE_SDPA; the kernel template in
# libcudnn_engines_runtime_compiled.so.9 of nvidia-cudnn-cu12 9.14.0.64 and 9.20.0.48, `compute_kv_loop_bounds` /
# `compute_qo_loop_bounds`) loops forward over key tiles [max(0, (r - L) / N), ceil((r + R) / N)) of a query tile at
# row r (R rows, N keys per tile, L the diagonal band's left bound) and backward over query tiles
# [k / N, ceil((k + R + L - 1) / N)) of a key tile at k; the engine folds the frontend's band mask into that bound
# (`combine_left_bound_mask_nodes`, `MHA_MASK_LEFT_BOUND_SCALAR`) and the sink into the softmax's initial max and
# sum (`softmax_sink`), so sink layers skip the tiles outside the window but compute every tile the band touches.
# ASSUMPTION: R = N = 128, the tile of the cuDNN-generated SDPA source that TE 2.14 bundles (libtransformer_engine.so,
# its sm100 prefill engine: TILE_M 128, BMM1_TILE_N 128); the engine's own tile is a heuristic knob, not readable.
FLASH_TILE_TOKENS = 128.0
# the fused kernel's backward FLOPs over its forward: dQ, dK, dV and the recomputed scores (FlashAttention-2,
# Dao 2023, arXiv:2307.08691 sec. 3.1.2: 5 matmuls backward against the forward's 2)
FLASH_BACKWARD_OVER_FORWARD = 2.5
# the fused backward's non-tensor-core work per score in exponentials' time (`hardware.kernels.exp_seconds`): P
# recomputed (one exponential), dS = P (dP - D) and the casts of P and dS on the FP32 units. Measured on a lent H200
# (validation/calibration/h200_attention_sdpa.jsonl; cuDNN's fused attention, the kernel Transformer Engine runs): at
# equal FLOPs, forward + backward at head dim 64 runs 0.802 / 0.762 / 0.820 of head dim 128's rate (2k / 8k / 16k
# tokens a sequence, mean 0.795); the model gives 0.89 at 1 + 1 exponentials, 0.84 at 1 + 2 and 0.79 at 1 + 3, so
# four in all (tests/catalog/test_h200_measured_lent_gpu.py). The data fixes the total only: cuDNN's forward alone
# (0.71-0.76) fits ~1.5, FA3 / TensorRT-LLM's context tables 1 (hardware/kernels.py's docstring), which forward-only
# pricing (serving's prefill) keeps; 1.5 + 2.5 would move only what splits forward from backward (pipeline bubbles).
FLASH_BACKWARD_EXPONENTIALS = 3.0
TILED_WINDOW = True  # price sliding layers over the visited tiles (False: the exact band, `ops.layer.attention_keys`)
# A fused kernel's program (one query tile forward, one key tile backward) pays fixed work besides its key tiles:
# loading its own tile, the masked diagonal tile, the softmax epilogue and its output writes. In key tiles' time it is
# c = 4.0, fitted on cuDNN's causal forward + backward on a lent H200 at head dim 64, 64 heads (validation/
# calibration/h200_attention_sdpa.jsonl, s = 2,048 / 8,192 / 16,384, and h200_gpt_oss_layer.json, s = 4,096 x 4):
# the rate rises with s as A / (A + c), A = (m + 1) / 2 the mean key tiles of a causal program (m = s / N query
# tiles): 306 / 364 / 398 / 425 TF/s against 306 / 362 / 401 / 424 at c = 4.0 (0.5 % rms; forward alone 3.5).
# The causal rate the catalog takes at a long s keeps that share; a sliding layer's programs pay the same fixed work
# over ~2 key tiles, so it costs (band + m c) / (causal + m c) of a causal layer (s = 4,096, W = 128: 0.29), not
# band / causal (0.12). The same probe's compiled flex_attention (PyTorch 2.11, h200_gpt_oss_layer_r2.json) runs
# window 128 at 0.24 of its causal layer forward + backward (0.28 forward) over 4 sequences of 4,096, i.e. c = 2.6
# (3.6): the same fixed work, measured directly on a window (one sequence: 0.45, its launches' fixed cost on top).
# `PROGRAM_TILES` False: tiles only.
FLASH_PROGRAM_TILES = 4.0
PROGRAM_TILES = True
# fp8 dot-product attention (`Fp8Recipe.dot_product_attention`: TE 2.14's `fp8_dpa`, Megatron-Core 0.16.1
# transformer_engine.py:2210 / fp8_utils.py:563 from `fp8_dot_product_attention`). TE runs it on cuDNN's FP8
# fused attention only (common/recipe/__init__.py:177-181; FlashAttention 2 and, in training, 3 are dropped:
# pytorch/attention/dot_product_attention/utils.py:473-479) and never on sinks (:731-737) or a sliding window
# (:888-892): those layers keep the bf16 pricing. Rate: the accelerator's measured fp8 / bf16 fused-attention
# ratio (`fp8_kv_context_attention_ratio`, AIConfigurator 0.12.0's TensorRT-LLM fp8 context FMHA, forward; at
# ISL 8,192 head dim 128 H100 1.33, H200 1.33, B200 1.22; SGLang's FA3 fp8 on H100 1.20) where it was measured,
# 128-wide heads without MLA, else 1 (`hardware.fp8_attention`, serving's prefill rule too: MLA's 192 / 128 heads,
# which TE runs on cuDNN's fp8 kernel, and other widths pay the casts at the bf16 rate), on the matmul FLOPs
# (the head-dimension exponential term stays); ASSUMPTION: cuDNN's fp8 forward gains as TensorRT-LLM's and its
# backward (NVTE_FP8_DPA_BWD=1 default, backends.py:1211) as its forward: no fp8 backward rate is readable here.
# Casts with fp8_mha off (the MHA's bf16 in and out; backends.py:1230-1296 / 1525-1609, sbhd layout: utils.py
# combine_and_quantize :2219-2228, torch.cat then the quantizer): per element forward Q K V cat 2+2 B + quantize
# 2+1 B, O dequantize 1+2 B; backward dO quantize 2+1 B, dQ dK dV cat 1+1 B + dequantize 1+2 B; three kernels
# each way. Delayed scaling's amax / scale update is once a step for all tensors (not priced here). Which plans run
# it, and what it saves for backward: `training.fp8_dpa` (`FP8_DPA`, `fp8_attention_on`).
FP8_DPA_CAST_BYTES = ((7.0, 3.0), (5.0, 3.0))  # (per Q/K/V element, per O element) forward, backward
FP8_DPA_CAST_KERNELS = 3.0  # each way
# The casts under current scaling (hA57; TE 2.14 backends.py, `_dpa_fp8_cs_o_in_f16` default on, :154): cuDNN's
# kernel writes O in bf16 and nothing quantises it (:1289-1297), dO is quantised after its amax read (:1531), dQ dK
# dV come out in bf16 (:1597-1609: no dequantize); the QKV quantize reads its amax first (the CS quantizer). Per
# element: forward Q K V cat 2+2 B + amax 2 B + quantize 2+1 B, O 0; backward Q K V 0, dO amax 2 + quantize 2+1 B.
# Each tensor at its own width (MLA: Q and K nope + rope, V and O v_head_dim; before hA57 all at their mean).
# False: the delayed-scaling bytes of `FP8_DPA_CAST_BYTES` for every recipe, at the mean head width.
FP8_DPA_RECIPE_CASTS = True
FP8_DPA_CS_CAST_BYTES = ((9.0, 0.0), (0.0, 5.0))  # current scaling, as `FP8_DPA_CAST_BYTES`


# DeepSeek Sparse Attention's lightning indexer in the sparse training stage (`ops.sparse_attention`): its scores on
# the fp8 tensor cores at the fused-attention fraction (`indexer_score_flops_per_s`: `INDEXER_FP8_SPEEDUP` x the bf16
# attention rate, 1x on a part without fp8), bound by the fp32 logits
# written and read for the top-k (`LOGIT_BYTES` a pair) where they bind, two launches each way (logits and top-k;
# dq / dk); the KL target's score pass over the selected keys at the bf16 fused rate on the local heads
INDEXER_KERNELS = 2.0


def indexer_times(shape: TransformerShape, rates: KernelRates, plan: PlanArrays, tokens: ArrayLike) -> tuple[Any, Any]:
    """(forward, backward) seconds of a DSA layer's indexer scores for `tokens` query tokens (0, 0 without one)."""
    if not is_sparse(shape):
        return 0.0, 0.0
    fwd, bwd, target = training_pair_flops(shape, plan.seq_len)
    scores = indexer_score_flops_per_s(rates.attention_flops_per_s, rates.fp8_tensor_cores)  # 1x without fp8
    launches = INDEXER_KERNELS * rates.kernel_overhead_s
    logits = LOGIT_BYTES * tokens * to_float(plan.seq_len) / 2.0 / rates.memory_bytes_per_s
    return (larger(tokens * fwd / scores, logits) + launches,
            tokens * bwd / scores + tokens * target / to_float(plan.tp) / rates.attention_flops_per_s + launches)


def sparse_attention_notes(shape: TransformerShape, accelerator: Accelerator) -> list[str]:
    """One line for a DeepSeek Sparse Attention model: which of its training stages is priced (`indexer_times`), and
    the indexer's scores at the bf16 rate on a part without fp8 tensor cores."""
    if not is_sparse(shape):
        return []
    return [f"DeepSeek Sparse Attention priced in its sparse training stage (DeepSeek-V3.2-Exp report, recalled): "
            f"the MLA core over the top {shape.index_topk} keys of each query, the lightning indexer's "
            f"{indexer_scores_words(accelerator)} over "
            "every causal key forward and, trained by its KL loss with its input detached, over the selected keys "
            "backward (ops/sparse_attention.py); the dense warm-up (the indexer alone over every key, the rest "
            "frozen) is `train --dsa-stage warmup` (training/dsa_warmup.py)"]


def indexer_scores_words(accelerator: Accelerator) -> str:
    """The indexer's scores as a note names their rate (`ops.sparse_attention.indexer_score_flops_per_s`): fp8, or the
    bf16 rate on a part that lists no fp8 peak (hI61); the sparse stage's note and the warm-up's (`dsa_warmup`)."""
    return ("fp8 scores" if accelerator.supports("fp8") else
            f"scores at its bf16 rate ({accelerator.catalog_name} lists no fp8 peak for the fp8 kernel)")


def attention_kernel_notes(profile: Stack, accelerator: Accelerator) -> list[str]:
    """One line where the stack selects a kernel that a part with per-kernel rates has none for
    (`STACK_ATTENTION_KERNEL`; fa3 on H100): priced at the part's measured fused-attention rate instead, said, not
    silent. A part without per-kernel rates (A100: FlashAttention-2's; Blackwell: cuDNN's, which torchtitan 0.1.0
    selects on sm100) is priced at the kernel it was measured on, without a line."""
    kernel = profile.attention_kernel
    fractions = accelerator.efficiency.attention_kernel_fraction
    if not STACK_ATTENTION_KERNEL or kernel is None or not fractions or kernel in fractions:
        return []
    return [f"{profile.name} selects the {kernel} attention kernel ({profile.name}.attention_kernel); "
            f"{accelerator.name} has no measured rate for it (attention_kernel_fraction): priced at the part's "
            f"measured fused-attention rate, {accelerator.efficiency.attention_max_fraction:.2f} of its bf16 peak"]


def flash_keys(shape: TransformerShape, seq_len: ArrayLike, program_tiles: float = 0.0) -> np.ndarray:
    """Mean over layers of the keys per query at half weight that a fused kernel runs (`attention_keys`' units).

    Causal layers: s, the exact triangle (the FLOP count the fused-attention rate is taken on; its diagonal tiles
    stay in the rate). Sliding layers (window W):
    s times the kernel's visited tiles over those of the causal triangle (see `FLASH_TILE_TOKENS`): with m = s / N
    query tiles and b = W / N (rounded up), query tile i visits min(i + 1, b + 1) key tiles against the causal
    i + 1, i.e. (b + 1)(b + 2) / 2 + (m - b - 1)(b + 1) of m (m + 1) / 2 (s = 4096, W = 128: 63 of 528, 489 keys
    against the exact band's 252); backward the same count by symmetry. Model FLOPs stay exact (`training.flops`).
    `program_tiles` c > 0 (the time, `attention_core_times`): each of the m programs adds c tiles to both counts
    (`FLASH_PROGRAM_TILES`), so a sliding layer costs s (band + m c) / (causal + m c) keys' time.
    """
    if not shape.num_sliding_layers or not TILED_WINDOW:
        return attention_keys(shape, seq_len)
    s = to_float(seq_len)
    ceil = ops_of(s).ceil
    m = ceil(s / FLASH_TILE_TOKENS)
    b = ceil(float(shape.sliding_window) / FLASH_TILE_TOKENS)
    causal = m * (m + 1.0) / 2.0
    band = pick(m <= b + 1.0, causal, (b + 1.0) * (b + 2.0) / 2.0 + (m - b - 1.0) * (b + 1.0))
    if program_tiles:
        causal, band = causal + m * program_tiles, band + m * program_tiles
    frac = shape.sliding_fraction()
    return to_float((1.0 - frac) * s + frac * s * band / larger(causal, 1.0))  # type: ignore[no-any-return]


def softmax_falls_back(shape: TransformerShape, plan: PlanArrays, stack: Stack | None = None) -> Any:
    """Where the unfused attention's softmax runs eager (`SOFTMAX_FALLBACK_BYTES`), per plan (one plan: a bool).

    Megatron-LM's `FusedScaleMaskSoftmax.is_kernel_available` (megatron/model/fused_softmax.py, v2.x-v3.0) takes
    the fused causal kernel only for 16-bit scores (every dtype here keeps them bf16), 16 < s_k <= 4096,
    s_q and s_k multiples of 4, and attention batches b x heads per GPU a multiple of 4 and of the kernel's
    batches per block (`get_batch_per_block`: 128 threads in warps of min(32, next power of 2 of s_k) threads,
    each warp 2 rows up to s_k = 128 and 1 above: 8 rows per block for s_k <= 128, 4 above). Learned-sink
    attention (a full-row softmax, `catalog.stacks` `sink_attention`) is not this kernel.
    """
    if type(plan.attention) is int and plan.attention != _UNFUSED:  # type: ignore[comparison-overlap]
        return False  # one plan on a fused kernel: the `&` below is False whatever the rest (nothing read)
    sinks = shape.attention_sinks and stack is not None and stack.sink_attention != "fused"
    sq, sk = plan.seq_len / plan.cp, to_float(plan.seq_len)
    batches = plan.micro_batch * shape.num_heads / plan.tp
    available = ((sk > 16.0) & (sk <= 4096.0) & (sq % 4.0 == 0.0) & (sk % 4.0 == 0.0) & (batches % 4.0 == 0.0)
                 & (batches % pick(sk > 128.0, 4.0, 8.0) == 0.0))
    return (plan.attention == _UNFUSED) & negate(available) & (not sinks)


# TE 2.14 drops FusedAttention for fp8 dot-product attention with unequal q/k and v heads (MLA) under context
# parallelism (utils.py:832-837), and fp8_dpa had already dropped FlashAttention 2/3 and the unfused path (:473-487):
# no backend is left and DotProductAttention raises "No dot product attention backend is available"
# (dot_product_attention.py:1431). Such a plan does not run: `train` refuses it, `search` prunes it (hW, session 56).
# False: priced as `fp8_attention_on` says (fp8 attention at CP > 1, before hW56).
FP8_DPA_MLA_CP_REFUSED = True
FP8_MLA_CP_REASON = ("fp8 dot-product attention (the stack's fp8.dot_product_attention) on MLA's unequal q/k and v "
                     "heads does not run with context parallelism: Transformer Engine 2.14 has no backend for it "
                     "(attention/dot_product_attention/utils.py:832-837; dot_product_attention.py:1431 raises)")
# what each command's user can do about it (`plan_rules.framework_refusals`): `search` has no --cp to name
FP8_MLA_CP_FIX = {"train": "use CP 1, --dtype bf16 or a stack without fp8 attention",
                  "search": "search keeps CP 1 for this stack's fp8, MXFP8 and NVFP4 plans (bf16 plans, or a "
                            "stack without fp8 attention, keep CP > 1)"}


def fp8_mla_cp_refused(shape: TransformerShape, plan: PlanArrays, stack: Stack | None) -> Any:
    """Where a plan runs fp8 attention on MLA heads (d_qk != d_v) at CP > 1, which TE refuses
    (`FP8_DPA_MLA_CP_REFUSED`), per plan (one plan: a bool)."""
    if not FP8_DPA_MLA_CP_REFUSED or not shape.is_mla or shape.head_dim == shape.v_head_dim:
        return False
    return fp8_attention_on(shape, plan, stack) & (plan.cp > 1)


def fp8_cast_times(shape: TransformerShape, rates: KernelRates, plan: PlanArrays, tokens: ArrayLike,
                   recipe: str = "delayed") -> tuple[Any, Any]:
    """Forward and backward seconds of the fp8 attention's casts around cuDNN's kernel, one layer, under the
    stack's fp8 `recipe` (`FP8_DPA_RECIPE_CASTS`)."""
    d_qk = d_v = float(shape.attention_head_dim)
    if FP8_DPA_RECIPE_CASTS:  # each tensor at its width: MLA's Q / K nope + rope, V / O v_head_dim
        d_qk, d_v = float(shape.head_dim), float(shape.v_head_dim)
    heads = tokens * shape.num_heads / plan.tp
    o = heads * d_v
    kv = tokens * larger(shape.num_kv_heads / to_float(plan.tp), 1.0)  # KV heads replicated below TP
    qkv = heads * d_qk + kv * (d_qk + d_v)
    table = FP8_DPA_CS_CAST_BYTES if FP8_DPA_RECIPE_CASTS and recipe == "current" else FP8_DPA_CAST_BYTES
    return tuple(memory_bound_time(rates, b_qkv * qkv + b_o * o, kernels=FP8_DPA_CAST_KERNELS)  # type: ignore[return-value]
                 for b_qkv, b_o in table)


def attention_core_times(shape: TransformerShape, rates: KernelRates, plan: PlanArrays,
                         tokens: ArrayLike, stack: Stack | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward seconds of the attention core (scores, softmax, values) for one layer.

    Flash: causal, 4 T s (a/TP) d / 2 FLOPs forward and 2.5x that backward (scores recomputed), at the
    accelerator's fused-attention rate, plus one softmax exponential per score each way by head dimension
    (`hardware.kernels.exp_seconds`: slower at d = 64, faster above 128; MLA's d is (d_qk + d_v) / 2), three
    exponentials' time backward (`FLASH_BACKWARD_EXPONENTIALS`: four in all, measured).
    Unfused (Megatron-LM before 2023): batched GEMMs Q K^T and P V
    over the full s x s scores, plus memory-bound scale-mask-softmax and dropout passes over them
    (forward 4 B/score, backward 6 B/score; +5 B forward, +5 B backward with attention dropout). Megatron's
    causal fused kernel (`scaled_upper_triang_masked_softmax_warp_forward` / `_backward`, Megatron-LM
    megatron/fused_kernels/scaled_upper_triang_masked_softmax.h, v2.x-v3.0) loads only the first row+1 elements
    of each score row (the unmasked lower triangle, half the scores) and writes the zeros above: forward 1 + 2 B,
    backward 2 + 2 B per score; the sink path (a full-row softmax) reads every score. Where that kernel refuses
    the shape (`softmax_falls_back`), the eager fp32 passes of `SOFTMAX_FALLBACK_BYTES` run instead.
    Learned sinks (GPT-OSS), `catalog.stacks` `sink_attention`: fused (cuDNN, what Transformer Engine 2.8-2.14
    selects on every layer with cuDNN >= 9.13.1) is the flash pricing above, the sliding layers over the tiles
    around their window (`flash_keys`); te_unfused (TE's UnfusedDotProductAttention) and unfused run every layer
    over the full scores, the sliding window a mask, not skipped work; te_unfused's eager fp32 softmax with the sink
    column moves `TE_SINK_SOFTMAX_BYTES`, unfused (a stand-in) 4 / 6 B per score.
    """
    heads = shape.num_heads / plan.tp
    d = float(shape.attention_head_dim)  # (d_qk + d_v) / 2: MLA's nope + rope and v widths
    sink_mode = stack.sink_attention if shape.attention_sinks and stack is not None else "fused"
    sinks_unfused = sink_mode != "fused"
    unfused = (plan.attention == int(Attention.UNFUSED)) | sinks_unfused
    one = is_plain(unfused)  # one plan (`PlanArrays.one_row`): only the kernel it runs is priced
    # sliding layers: fewer keys, each program's fixed work kept (`FLASH_PROGRAM_TILES`)
    time_keys = flash_keys(shape, plan.seq_len, FLASH_PROGRAM_TILES if PROGRAM_TILES else 0.0)
    flash_flops = 4.0 * tokens * time_keys * heads * d * 0.5
    programs = plan.micro_batch * heads * ops_of(plan.tp).ceil(tokens / 128.0)
    exps = flash_flops / (4.0 * d)  # one softmax exponential per score forward (`FLASH_BACKWARD_EXPONENTIALS` back)
    bwd_exps = FLASH_BACKWARD_EXPONENTIALS * exps
    fp8 = fp8_attention_on(shape, plan, stack)
    cast_fwd = cast_bwd = 0.0
    if fp8 is not False:  # the fp8 kernel's tensor-core time at the measured ratio, plus its casts
        flash_flops = flash_flops / pick(fp8, fp8_attention_speedup(rates.fp8_attention_ratio, shape), 1.0)
        cast_fwd, cast_bwd = (pick(fp8, t, 0.0)
                              for t in fp8_cast_times(shape, rates, plan, tokens, stack.fp8.recipe))  # type: ignore[union-attr]
    bwd_flops = FLASH_BACKWARD_OVER_FORWARD * flash_flops
    index_fwd, index_bwd = indexer_times(shape, rates, plan, tokens)  # DSA's indexer (0 without one)
    if one and not unfused:
        return (attention_seconds(rates, flash_flops, programs, 1.0, exps, d) + float(cast_fwd) + float(index_fwd),  # type: ignore
                attention_seconds(rates, bwd_flops, programs, 3.0, bwd_exps, d) + float(cast_bwd) + float(index_bwd))  # type: ignore
    flash_fwd = attention_time(rates, flash_flops, programs, 1, exps, d) + cast_fwd + index_fwd
    flash_bwd = attention_time(rates, bwd_flops, programs, 3, bwd_exps, d) + cast_bwd + index_bwd

    rows = plan.micro_batch * heads * plan.seq_len / plan.cp  # query rows over all local heads
    keys = to_float(plan.seq_len)
    bf16 = rates.matmul_flops_per_s

    def bmm(m: ArrayLike, n: ArrayLike, k: ArrayLike) -> np.ndarray:
        return gemm_time(rates, m, n, k, 2.0, bf16)

    scores = rows * keys
    fwd_bytes, bwd_bytes = (9.0, 11.0) if shape.uses_dropout else (4.0, 6.0)
    softmax_kernels = 2.0
    if not sinks_unfused:  # the causal kernel reads half the scores (see above)
        fwd_bytes, bwd_bytes = fwd_bytes - 1.0, bwd_bytes - 2.0
    elif sink_mode == "te_unfused":  # TE's eager fp32 softmax over the scores and the sink column
        fwd_bytes, bwd_bytes = (TE_SINK_SOFTMAX_BYTES[0] + fwd_bytes - 4.0, TE_SINK_SOFTMAX_BYTES[1] + bwd_bytes - 6.0)
        softmax_kernels = TE_SINK_SOFTMAX_KERNELS
    eager = softmax_falls_back(shape, plan, stack)
    eager_fwd, eager_bwd = (pick(eager, memory_bound_time(rates, extra * scores, kernels=SOFTMAX_FALLBACK_KERNELS),
                                 0.0) for extra in SOFTMAX_FALLBACK_BYTES)
    unfused_fwd = (bmm(rows, keys, d) + bmm(rows, d, keys)
                   + memory_bound_time(rates, fwd_bytes * scores, kernels=softmax_kernels) + eager_fwd + index_fwd)
    key_rows = plan.micro_batch * heads * keys
    unfused_bwd = (bmm(rows, d, keys) + bmm(key_rows, d, plan.seq_len / plan.cp)  # dQ, dK
                   + bmm(rows, keys, d) + bmm(key_rows, d, plan.seq_len / plan.cp)  # dP, dV
                   + memory_bound_time(rates, bwd_bytes * scores, kernels=softmax_kernels) + eager_bwd + index_bwd)
    return _result(pick(unfused, unfused_fwd, flash_fwd)), _result(pick(unfused, unfused_bwd, flash_bwd))


