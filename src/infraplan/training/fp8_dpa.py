"""fp8 dot-product attention in training: which plans run it, and what the fused attention saves for backward.

Which plans (`fp8_attention_on`): a stack with `Fp8Recipe.dot_product_attention` (Transformer Engine 2.14's
`fp8_dpa`, Megatron's `fp8_dot_product_attention`) runs the core on cuDNN's FP8 fused attention, never on sinks or a
sliding window (TE pytorch/attention/dot_product_attention/utils.py:731-737, :888-892), and only under a per-tensor
recipe: Megatron-Core 0.16.1 hands `fp8_dot_product_attention` to TE in its delayed recipe (TEDelayedScaling,
extensions/transformer_engine.py:2209-2211) and its tensorwise / current one (fp8_utils.py:562-563); its blockwise
(:565-567), MXFP8 (:569-571) and NVFP4 (fp4_utils.py:99) recipes are built without it, and TE runs DPA in fp8 only
under DS / CS (dot_product_attention.py:676-680): MXFP8, NVFP4 and blockwise plans keep bf16 attention
(`FP8_DPA_PER_TENSOR_ONLY`, hA57). Its time and casts: `training.attention_core`.

What the fused attention saves (`attention_saved_terms`, the stored activations of `training.activation_memory`).
TE 2.14 `FusedAttnFunc.forward` (backends.py:1316-1335): in bf16 it saves q, k, v and its output O
(`qkvo_tensors`); in fp8 with the fp8 backward (`NVTE_FP8_DPA_BWD` 1, :1211) q_fp8, k_fp8, v_fp8 (1 B) and, under
delayed scaling, out_fp8 (1 B, the kernel's own fp8 output, a tensor apart from the bf16 O it returns: :1289-1291),
under current scaling the bf16 O (`NVTE_DPA_FP8CS_O_in_F16` default 1, :154, :1318-1320). The bf16 Q, K and V are
then freed (nothing else keeps them), so the model's `qkv` term takes 1 B per element (`FP8_DPA_SAVED`). O is also
the output projection's input: where the projection saves its own quantised copy (`Stack.quantized_gemm_inputs`,
TE's `saved_inputmat`, the `attn_out` term narrowed to the recipe's operand bytes), the attention's saved O is a
second tensor beside it: 2 B per element in bf16 attention and under current scaling, 1 B (out_fp8) under delayed
scaling; where the projection saves the bf16 O itself (no narrowing) the attention shares it, except under delayed
scaling, whose out_fp8 is apart (+1 B). `ATTENTION_SAVES_OUTPUT`: the bf16 attention's O beside a narrowed
projection input (every TE fp8-family plan on a fused kernel; before hA57 the narrowed copy alone). Neither holds
where selective recompute re-runs the core attention (`core_attn`: the checkpoint keeps the bf16 Q, K, V inputs,
already counted, and no output) or on the unfused kernel (its backward reads the probabilities and V, not O).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.ops.params import ACT_BYTES
from infraplan.scalar_path import pick
from infraplan.training.enums import Attention, Dtype, Recompute
from infraplan.training.plan import PlanArrays

FP8_DPA = True  # False: an fp8_dpa stack is priced as bf16 attention
FP8_DPA_PER_TENSOR_ONLY = True  # False: every fp8-family plan (fp8, MXFP8, NVFP4) runs fp8 attention (hP56)
FP8_DPA_SAVED = True  # False: fp8 attention saves what bf16 attention does (before hA57)
ATTENTION_SAVES_OUTPUT = True  # False: a narrowed projection input stands for the attention's saved O too
# the casts' host launches (`attention_core.FP8_DPA_CAST_KERNELS` each way, eager issue: `training.layer_time`), again
# in backward where recompute re-runs the core; False: their GPU time only (before hA57)
FP8_DPA_HOST_LAUNCHES = True
_PER_TENSOR = ("delayed", "current")
_FP8, _BF16, _UNFUSED, _SELECTIVE = int(Dtype.FP8), int(Dtype.BF16), int(Attention.UNFUSED), int(Recompute.SELECTIVE)


def fp8_attention_on(shape: TransformerShape, plan: PlanArrays, stack: Stack | None) -> Any:
    """Where the attention core runs in fp8 (module docstring), per plan (one plan: a bool)."""
    if (stack is None or not FP8_DPA or not stack.fp8.dot_product_attention or shape.attention_sinks
            or shape.num_sliding_layers):
        return False
    if FP8_DPA_PER_TENSOR_ONLY:  # Megatron-Core passes fp8_dpa to its delayed / current recipes only
        return plan.dtype == _FP8 if stack.fp8.recipe in _PER_TENSOR else False
    return plan.dtype != _BF16  # fp8, MXFP8, NVFP4 plans (hP56)


def attention_saved_terms(shape: TransformerShape, plan: PlanArrays, stack: Stack, terms: dict[str, Any],
                          stored: dict[str, Any]) -> dict[str, Any]:
    """`stored` (bytes per token and layer by tensor, after recompute drops and narrowing) with the fused
    attention's own saved tensors (module docstring); `terms`: the bf16 terms before narrowing."""
    fp8 = fp8_attention_on(shape, plan, stack) if FP8_DPA_SAVED else False
    if fp8 is False and not ATTENTION_SAVES_OUTPUT:
        return stored
    held = plan.attention != _UNFUSED
    if "core_attn" in stack.recompute_modules:  # the checkpointed core keeps its inputs only
        held = held & (plan.recompute != _SELECTIVE)
    narrowed = (stack.quantized_gemm_inputs and "attn_out" not in stack.fp8_activation_cache) & (plan.dtype != _BF16)
    # the attention's O beside the projection's saved input, in bytes per element
    bf16_o = pick(narrowed, ACT_BYTES, 0.0) if ATTENTION_SAVES_OUTPUT else 0.0
    if fp8 is not False:
        fp8_o = 1.0 if stack.fp8.recipe == "delayed" else pick(narrowed, ACT_BYTES, 0.0)
        bf16_o = pick(fp8, fp8_o, bf16_o)
    out = dict(stored)
    out["attn_out"] = stored["attn_out"] + pick(held, terms["attn_out"] * bf16_o / ACT_BYTES, 0.0)
    if fp8 is not False:  # q_fp8, k_fp8, v_fp8 (1 B), held even where the up projections' bf16 output is dropped
        out["qkv"] = pick(fp8 & held, terms["qkv"] / ACT_BYTES, stored["qkv"])
    return out


def unrun_dpa_notes(stack: Stack, dtype: str) -> list[str]:
    """What `train` says of a plan whose stack asks fp8 attention (`Fp8Recipe.dot_product_attention`) in a precision
    or recipe that does not run it (`FP8_DPA_PER_TENSOR_ONLY`; hH57: priced in bf16 without a word before)."""
    if not (FP8_DPA and FP8_DPA_PER_TENSOR_ONLY and stack.fp8.dot_product_attention) or dtype == "bf16":
        return []
    if dtype == "fp8" and stack.fp8.recipe in _PER_TENSOR:
        return []
    under = f"fp8 under the {stack.fp8.recipe} recipe" if dtype == "fp8" else dtype
    return [f"fp8 dot-product attention (the stack's fp8.dot_product_attention) not run under {under}: "
            "Megatron-Core 0.16.1 passes it to its delayed and current (tensorwise) fp8 recipes only (fp8_utils.py:"
            "555-571) and Transformer Engine 2.14 runs DPA in fp8 under those only (dot_product_attention.py:676-680); "
            "the attention priced in bf16"]
