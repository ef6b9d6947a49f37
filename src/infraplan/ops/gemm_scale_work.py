"""The scale-factor kernels Transformer Engine 2.14 runs inside its fp8 GEMM calls on Blackwell, per layer.

Read in the transformer-engine-torch 2.14.0 sdist (csrc/) and the transformer-engine 2.14.0 wheel (pytorch/); the
bytes these kernels move are the scales alone (under 1/16 B per operand element, against the 3-4 B of the operand's
cast that `ops.precision` prices), so only their launches are priced, each a kernel on the GPU's stream at the
accelerator's per-kernel cost (`KernelRates.kernel_overhead_s`), launched from C++ inside the GEMM call (no Python
dispatch: `training.host_time` does not count them, as `ops.nvfp4_recipe` treats its swizzles).

* Blockwise fp8 (`Float8BlockScaling`, the `blockwise` scaling recipe of a stack's `fp8`) runs as an MXFP8 GEMM
  from compute capability 10.0 on: cuBLASLt has no 1x128 / 128x128 block-scaled fp8 GEMM there, so `gemm()`
  "emulate[s] the FP8 block scaling recipe with MXFP8 on Blackwell and newer" (csrc/extensions/gemm.cpp:288-299):
  `convert_block_scaling_to_mxfp8_tensor` (extensions/swizzle.cpp:272-334) re-writes each operand's block scales as
  GEMM-swizzled E8M0 MXFP8 scales, one `nvte_swizzle_block_scaling_to_mxfp8_scaling_factors` kernel per operand,
  and the GEMM runs TN in MXFP8. The grouped GEMM (experts, `general_grouped_gemm`) converts every expert's tensor
  (gemm.cpp:549-579). Priced: the GEMM at the part's MXFP8 rate (`ops.precision.scaling_rate_ratio`), which is
  also the rate of DeepGEMM's SM100 block-scaled kernel, the catalog's MXFP8 source. Not priced: the conversions,
  2 kernels per GEMM (per expert tensor in a grouped GEMM) in each of fprop, dgrad and wgrad, because they are
  Transformer Engine's and the one blockwise stack shipped (deepseek-v3, DeepSeek's HAI-LLM) is not built on it;
  measured on a TE-like DeepSeek-V3 plan (`BLOCKWISE_CONVERSIONS`, validation/notes/training_sets_tried.md).
* MXFP8 weights: TE 2.14's linear modules make their activation and gradient quantizers write GEMM-swizzled scales
  (`optimize_for_gemm`, module/linear.py:1486-1495, layernorm_linear.py:1622-1631, grouped_linear.py:1229-1239) but
  not the weight quantizer (`_get_weight_quantizers`, linear.py:1663-1669: default False, quantized_tensor.py:229),
  so a weight, cached or kept as an MXFP8 parameter (`fp8_param_gather`), has plain-layout scales and every GEMM
  that reads it swizzles them into a fresh buffer first (`swizzle_scales_for_gemm`, swizzle.cpp:47-142, called at
  gemm.cpp:280-282; grouped GEMMs one `multi_tensor_swizzle_scales_for_gemm` per operand list, gemm.cpp:543-547):
  1 kernel per quantised GEMM call forward (fprop reads W row-wise) and 1 backward (dgrad reads W column-wise; wgrad
  reads none). Not counted: the sequence-parallel all-gathered operands, whose quantizers write plain scales
  (linear.py:1486, :1494) and are swizzled at their GEMMs too; TE 2.14's fused MXFP8 grouped MLP (`ops.layer`'s
  `fused_grouped_mlp`) swizzles inside its own kernels.

Where: TE's condition is the device (`sm_arch() >= 100`); the catalog marks it by the accelerator's non-TN fp8 GEMM
layouts (`Accelerator.fp8_gemm_layouts`, compute capability 10.x / 11.x: `ops.precision.emulates_block_scaling`),
so Rubin (its compute capability in no source here, [tn]) is left out, as for the transposed copy. Per-tensor fp8
(delayed, current) needs no scale work at the GEMM (one fp32 scale per operand); NVFP4's per-GEMM work is
`ops.nvfp4_recipe`'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from infraplan.ops.layer_records import Gemm
from infraplan.ops.nvfp4_recipe import UNQUANTISED_ROLES
from infraplan.ops.precision import NON_TN_LAYOUTS, emulates_block_scaling

GEMM_SCALE_KERNELS = True  # price the MXFP8 weight swizzles (False: as before; measured in the notes)
BLOCKWISE_CONVERSION_KERNELS = False  # TE's blockwise -> MXFP8 scale conversions: no shipped stack runs them (above)
# blockwise emulated as MXFP8: one scale conversion per operand (2) in each GEMM; forward fprop, backward dgrad + wgrad
BLOCKWISE_CONVERSIONS = (2.0, 4.0)
# MXFP8: the weight's scale swizzle, in fprop forward and in dgrad backward
MXFP8_WEIGHT_SWIZZLES = (1.0, 1.0)


def scale_kernels(gemms: Iterable[Gemm], label: str, fp8_recipe: str,
                  fp8_gemm_layouts: tuple[str, ...]) -> tuple[float, float]:
    """(forward, backward) kernels per (mean) layer and micro-batch that a plan in training dtype `label` (the
    stack's `fp8_recipe` for fp8) runs inside its quantised GEMM calls on an accelerator whose fp8 GEMMs take
    `fp8_gemm_layouts` (module docstring), before the share of layers kept in bf16; zeros elsewhere or with the
    toggle off."""
    if not GEMM_SCALE_KERNELS or not NON_TN_LAYOUTS.issubset(fp8_gemm_layouts):
        return 0.0, 0.0
    if label == "mxfp8":  # one swizzle per GEMM call (a grouped call swizzles its list in one kernel)
        calls: Any = sum((g.kernels() for g in gemms if g.role not in UNQUANTISED_ROLES), 0.0)
        return MXFP8_WEIGHT_SWIZZLES[0] * calls, MXFP8_WEIGHT_SWIZZLES[1] * calls
    if label == "fp8" and BLOCKWISE_CONVERSION_KERNELS and emulates_block_scaling(fp8_gemm_layouts, fp8_recipe):
        # every tensor, each expert's too
        tensors: Any = sum((g.count * g.share for g in gemms if g.role not in UNQUANTISED_ROLES), 0.0)
        return BLOCKWISE_CONVERSIONS[0] * tensors, BLOCKWISE_CONVERSIONS[1] * tensors
    return 0.0, 0.0
