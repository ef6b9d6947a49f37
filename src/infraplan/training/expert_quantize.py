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

Where the MoE block is issued eagerly after its host-device sync (`training.host_time.add_dropless_moe_terms`), the
GPU runs these kernels, and the casts of the routed copies they belong to (`ops.moe_routing.routed_copy_casts`: cast,
amax and quantisation-padding bytes), inside the block, while the host issues the rest of it: they are block GPU work
that hides host issue time as the experts' GEMMs and the all-to-all do (`expert_block_quantize_s`; the interval
model of `training.host_time.host_exposed_time`, one queue on one stream). Pricing them on the GPU and leaving them
out of what hides the block's host time counted the same launches twice where the host binds (`QUANTIZE_IN_BLOCK`).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.layer import LayerOps, Layout
from infraplan.ops.moe_routing import routed_copy_casts
from infraplan.scalar_path import larger, pick
from infraplan.training.host_time import EXPERT_QUANTIZED_TENSORS, expert_quantize_launches

PER_EXPERT_QUANTIZE_KERNELS = True  # price the per-expert quantisation kernels on the GPU (False: as before)
QUANTIZE_IN_BLOCK = True  # they and the routed casts hide the eager MoE block's host issue (module docstring)


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


def expert_block_quantize_s(shape: TransformerShape, ops: LayerOps, lay: Layout, rates: KernelRates,
                            quantize_fwd: Any) -> Any:
    """GPU seconds per (mean) layer and micro-batch forward of the routed experts' quantisation inside the eager MoE
    block (module docstring): the `quantize_fwd` kernels of `expert_quantize_kernels` at the per-kernel cost and the
    routed copies' cast, amax and padding bytes (`routed_copy_casts`, the share of the layers with experts) at the
    memory rate, where the plan casts (`Layout.fp8_casts`). Zero without routed experts or with the toggle off."""
    up = [g for g in ops.gemms if g.role == "expert_up"]
    if not up or not QUANTIZE_IN_BLOCK:
        return 0.0
    rows = up[0].m * up[0].count
    routed, _ = routed_copy_casts(shape, rows, lay.cast_bytes, lay.amax_bytes, lay.quantization_padding)
    cast_s = up[0].share * routed / rates.memory_bytes_per_s
    return quantize_fwd * rates.kernel_overhead_s + pick(lay.fp8_casts, cast_s, 0.0)
