"""The layout of one transformer layer on one GPU under a training plan (`ops.layer.Layout`, the input of
`ops.layer_ops`, shared with serving): tokens per GPU T = micro_batch * seq_len / CP, TP / SP / CP / EP (EP the inner
factor of DP) and the expert TP, and the precision's terms the layer's element-wise work reads.

Casts: the recipe's bytes per cast element on the layers it quantises (not the ones kept in bf16,
`layer_recipe.bf16_layer_share`), on the accelerator's fp8 GEMM layouts (`layer_recipe.cast_bytes_per_element`);
the amax and transposed-copy terms of the recipe (`ops.precision.shard_cast_terms`, Transformer Engine's
quantizers). MoE: the stack's routing imbalance / capacity factor, dispatcher and grouped-GEMM fusion
(`catalog.stacks`). Priced by `training.layer_time`; `frozen_base` and the adapters read the same GEMM table.
Moved out of `layer_time` unchanged (hO, session 60).
"""

from __future__ import annotations

from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.ops.layer import ArrayLike, Layout
from infraplan.ops.precision import shard_cast_terms, skips_transposed_copy
from infraplan.scalar_path import to_float
from infraplan.training.enums import Dtype
from infraplan.training.layer_recipe import bf16_layer_share, cast_bytes_per_element, one_plan_terms, recipe_column
from infraplan.training.plan import PlanArrays


def layer_layout(plan: PlanArrays, fp8: ArrayLike, stack: Stack | None = None,
                 fp8_gemm_layouts: tuple[str, ...] = ("tn",)) -> Layout:
    """The plan's layer layout: tokens per GPU = micro_batch * seq_len / CP, EP as the inner factor of DP.

    Casts: the recipe's bytes per cast element on the layers it quantises (not the ones kept in bf16), on the
    accelerator's fp8 GEMM layouts (`cast_bytes_per_element`).
    MoE: the stack's routing imbalance / capacity factor and dispatch overlap (`catalog.stacks`).
    """
    tokens = plan.micro_batch * plan.seq_len / to_float(plan.cp)
    if stack is not None and type(fp8) is bool and type(plan.dtype) is int:  # type: ignore[comparison-overlap]
        # a `one_row` plan: the terms of its precision and stack as kept (`one_plan_terms`)
        (_, cast_bytes, amax, norm_amax, transpose, load_factor, dispatcher, padding, fused,
         qkv_copies), _ = one_plan_terms(plan, fp8, stack, fp8_gemm_layouts)
        return Layout(tokens=tokens, tp=plan.tp, ep=plan.ep, cp=plan.cp,
                      sequence_parallel=plan.sequence_parallel == 1, seq_len=plan.seq_len, batch=plan.micro_batch,
                      ep_stride=plan.ep_stride, fp8_casts=fp8, etp=plan.expert_tp, folded=plan.folded,
                      cast_bytes=cast_bytes, amax_bytes=amax, norm_amax_bytes=norm_amax,
                      gathered_transpose_bytes=transpose, expert_load_factor=load_factor, moe_dispatcher=dispatcher,
                      quantization_padding=padding, fused_grouped_mlp=fused, qkv_split_copies=qkv_copies,
                      unfused_elementwise=stack.unfused_elementwise,
                      routed_gather_at_expert_tp=stack.stack_class == "megatron" and dispatcher == "alltoall",
                      shared_expert_overlap=stack.moe.shared_expert_overlap)
    profile = stack or resolve_stack(None, "training")
    share = bf16_layer_share(plan, profile)
    # on the layers the recipe quantises
    cast_bytes = cast_bytes_per_element(plan, profile, fp8_gemm_layouts) * (1.0 - share)
    moe = profile.moe
    amax, norm_amax, transpose = shard_cast_terms(
        plan.dtype == int(Dtype.FP8), profile.fp8.recipe, profile.fp8.amax_read_passes,
        recipe_column(plan, "amax_read_passes"), share, skips_transposed_copy(fp8_gemm_layouts, profile.fp8.recipe))
    return Layout(tokens=tokens, tp=plan.tp, ep=plan.ep, cp=plan.cp, sequence_parallel=plan.sequence_parallel == 1,
                  seq_len=plan.seq_len, batch=plan.micro_batch, ep_stride=plan.ep_stride, fp8_casts=fp8,
                  etp=plan.expert_tp, folded=plan.folded, cast_bytes=cast_bytes, amax_bytes=amax,
                  norm_amax_bytes=norm_amax, gathered_transpose_bytes=transpose, expert_load_factor=moe.load_factor,
                  moe_dispatcher=moe.flex_backend or moe.dispatcher,
                  quantization_padding=(profile.stack_class == "megatron" and moe.expert_gemm == "per_expert"
                                        and moe.flex_backend != "hybridep"),
                  fused_grouped_mlp=(plan.dtype == int(Dtype.MXFP8)) & moe.fused_grouped_mlp
                  if moe.fused_grouped_mlp else False, qkv_split_copies=profile.qkv_split_copies,
                  unfused_elementwise=profile.unfused_elementwise,
                  routed_gather_at_expert_tp=(profile.stack_class == "megatron"
                                              and (moe.flex_backend or moe.dispatcher) == "alltoall"),
                  shared_expert_overlap=moe.shared_expert_overlap)
