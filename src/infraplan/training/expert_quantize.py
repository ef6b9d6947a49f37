"""The GPU kernels that quantise the routed experts' GEMM operands one local expert at a time.

Transformer Engine 2.14's GroupedLinear (Megatron-Core 0.16.1 `TEGroupedMLP`, fc1 and fc2) quantises its input
forward with `tex.split_quantize(inp_view, m_splits, input_quantizers)` (transformer_engine/pytorch/module/
grouped_linear.py:151-156) and its output gradient backward the same way (:356-366): one quantizer per local
expert. `split_quantize` (transformer_engine_torch 2.14 csrc/extensions/cast.cpp:1317-1471) fuses the experts'
casts into one `nvte_multi_cast_transpose` only for delayed scaling (`Float8Quantizer`s, `multi_tensor_quantize_
impl`, cast.cpp:316-361); every other recipe quantises expert by expert, and fp8 current scaling runs three
kernels for each (`Float8CurrentScalingQuantizer::quantize_impl`, csrc/quantizer.cpp:857-896: the amax
`nvte_compute_amax_with_config`, the scale `nvte_compute_scale_from_amax`, the cast `nvte_quantize_v2`), MXFP8 /
blockwise one (the scales are found inside the cast). These are the launches `training.host_time` prices on the host
(`expert_quantize_launches`, `EXPERT_QUANTIZED_TENSORS`: two tensors forward, two backward per expert); here the
GPU's side of them: each is a kernel on the GPU's stream, priced at the accelerator's per-kernel cost
(`KernelRates.kernel_overhead_s`). Their bytes (the cast and the amax read of every element) are priced already
by the layer's element-wise passes (`ops.layer`, `fp8_cast`), whose kernel count holds, per quantised GEMM operand,
one cast and the recipe's extra kernels per GEMM (`Fp8Recipe.extra_kernels_per_gemm`: forward once, backward
twice, `training.layer_time`): `expert_quantize_kernels` is what the per-expert launches add beyond that, on
stacks that run the experts' GEMMs expert by expert (`MoeRouting.expert_gemm` per_expert, TE's GroupedLinear).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.stacks import Stack
from infraplan.ops.layer import LayerOps
from infraplan.scalar_path import larger, pick
from infraplan.training.host_time import EXPERT_QUANTIZED_TENSORS, expert_quantize_launches

PER_EXPERT_QUANTIZE_KERNELS = True  # price the per-expert quantisation kernels on the GPU (False: as before)


def expert_quantize_kernels(ops: LayerOps, dtype: Any, stack: Stack, per_gemm: Any) -> tuple[Any, Any]:
    """GPU kernels per (mean) layer and micro-batch, (forward, backward), that the local experts' per-expert
    quantisation launches beyond the layer's count (module docstring): per quantised operand, L local experts x
    q kernels each (`expert_quantize_launches`: 3 for fp8 current scaling, 1 for MXFP8 / blockwise / NVFP4, 0 in
    bf16 and for delayed scaling's fused multi-tensor cast) less the one cast and `per_gemm` extra kernels the
    layer counts forward (2 `per_gemm` backward), never below zero; times the quantised operands (2 each way)
    and the MoE share of the layers. Zeros without routed experts, on grouped-kernel stacks, or with the toggle off."""
    up = [g for g in ops.gemms if g.role == "expert_up"]
    if not up or stack.moe.expert_gemm != "per_expert" or not PER_EXPERT_QUANTIZE_KERNELS:
        return 0.0, 0.0
    local, share = up[0].count, up[0].share
    q = expert_quantize_launches(dtype, stack.fp8.recipe)
    launched = local * q
    fwd = pick(q > 0.0, larger(launched - 1.0 - per_gemm, 0.0), 0.0)
    bwd = pick(q > 0.0, larger(launched - 1.0 - 2.0 * per_gemm, 0.0), 0.0)
    return share * EXPERT_QUANTIZED_TENSORS[0] * fwd, share * EXPERT_QUANTIZED_TENSORS[1] * bwd
