"""What Transformer Engine 2.14's NVFP4 training recipe runs per layer beyond the operand casts.

`ops.precision` prices the casts of the NVFP4 recipe (`NVFP4BlockScaling`, transformer_engine/common/recipe/
__init__.py:394-487, the recipe Megatron-Core 0.16.1 builds with its defaults, fp4_utils.py:90-104): per GEMM input
and output gradient one amax read (`nvte_hadamard_transform_amax`: the row-wise amax and the post-RHT column-wise
amax in one pass) and one fused cast (`nvte_quantize_with_hadamard_transform`: one `row_col_rht_gemm_ntt_w_sfc`
kernel writes the row-wise copy and, through the 16-point random Hadamard transform on the tensor cores, the
column-wise copy for the wgrad GEMM; csrc/quantizer.cpp:2214-2400, for bf16 operands with rows % 64 == 0 and
columns % 128 == 0, which every training shape here meets). Stochastic rounding runs inside that cast on the
gradients (recipe :471-475). Weights are quantised once per step, not per micro-batch: Megatron-Core sets
`is_first_microbatch` on the first micro-batch only (transformer/module.py:105-121, pipeline_parallel/schedules.py:
404-405) and TE caches the quantised weight in between; Megatron-Bridge's NVFP4 preset keeps them quantised anyway
(`fp4_param_gather` True, training/mixed_precision.py:405-417 in 0.6.0). Neither is priced per micro-batch.

Beyond that, per layer and micro-batch (the transformer-engine-torch 2.14 sdist and the disassembly of the
transformer-engine-cu12 2.14.0 wheel's libtransformer_engine.so; training only: the serving stacks' W4A4 GEMMs run
without this recipe):
* Kernels per NVFP4 GEMM: an NVFP4 tensor is created with its block scales in the plain layout (`NVFP4Quantizer::
  create_tensor`, quantizer.cpp:1731 `with_gemm_swizzled_scales = false; /// TODO`), and every GEMM re-lays the
  scales of both operands into cuBLAS's block-scaling layout first (csrc/extensions/gemm.cpp:276-286 ->
  `swizzle_scales_for_gemm`, swizzle.cpp:47-142: one `nvte_swizzle_scaling_factors` kernel per operand into a
  fresh buffer, the tensor's own scales left unswizzled, so a cached weight is swizzled again at every GEMM; grouped
  GEMMs: one multi-tensor swizzle per operand, gemm.cpp:540-547), each reading and writing the operand's e4m3 scales
  (1 B per 16 elements): fprop X (m x k) and W (n x k); dgrad dY (m x n) and W^T; wgrad dY^T and X^T. Then
  `transformer_engine::cublas_gemm` launches `nvte_nvfp4_compute_per_tensor_scale` (the GEMM's alpha from the two
  per-tensor amaxes, a device scalar) before `cublasLtMatmul` (libtransformer_engine.so, call at 0x109d990). 3 kernels.
* Kernels per RHT-quantised tensor beyond the cast and the amax kernel: `hadamard_transform_amax` zeroes the amaxes
  with its own `ZeroAmaxKernel` before the amax kernel (libtransformer_engine.so 0xb59ce0-0xb5aa00); a gradient's
  stochastic rounding asks for a Philox seed, `philox_unpack` -> `nvte_extract_seed_and_offset`, one kernel
  (quantizer.cpp:2262-2271, csrc/common.cpp:312-318). The layer's count (`training.layer_time`: the recipe's
  extra kernels per GEMM, once forward, twice backward: 1 per quantised linear forward, 2 backward) holds the amax
  kernel and the seed; the zeroing adds 1 each way.
* Column-wise all-gathers (sequence parallelism, the stack's `quantized_tp_all_gather`): gathering the column-wise
  copy along the token dimension interleaves the ranks' transposed blocks, and `_post_process_nvfp4_gather`
  (pytorch/distributed.py:1274-1291) fixes it with `tex.swap_first_dims` on the data and on the scales and
  re-pads the scales (`pad_columnwise_scale_inv`, pytorch/triton/pad.py:13-40): 3 kernels and, per gathered
  element, 0.5 B read + 0.5 B written of data and 2 x (1 + 1) / 16 B of scales. Backward gathers the column-wise
  copy of each row-parallel GEMM's output gradient (module/base.py:1186-1234, both usages) and re-gathers it for
  each column-parallel GEMM's input (layernorm_linear.py:664-690, linear.py: column-wise only), so each forward
  TE all-gather record (`training.tp_quantised_collectives.te_gather_records`) stands for two column-wise gathers.
Every kernel above runs at the accelerator's per-kernel cost (`KernelRates.kernel_overhead_s`) and its bytes at the
memory rate, on the GPU only: the swizzles, the alpha and zeroing kernels are launched from C++ inside one quantise or
GEMM call; the gather fixes are three Python-level calls per gather, left out of the host's dispatch count
(`training.host_time`; ASSUMPTION: 12 per layer and micro-batch, which the layer's queued GPU work covers).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from infraplan.ops.layer_records import ArrayLike, Collective, Gemm
from infraplan.scalar_path import pick, to_bool, to_float

NVFP4_RECIPE_WORK = True  # price the per-GEMM kernels and the gather fixes (False: as before; measured in the notes)

SCALE_BYTES_PER_ELEMENT = 1.0 / 16.0  # one e4m3 scale per 16 values
# per NVFP4 GEMM: a scale swizzle per operand and the alpha kernel; per quantised tensor: the amax zeroing
KERNELS_PER_GEMM = 2.0 + 1.0
KERNELS_PER_QUANTISED_TENSOR = 1.0
GATHER_FIX_KERNELS = 3.0  # swap_first_dims on data and on scales, the scale pad
# per gathered element: the packed 4-bit data read and written (0.5 + 0.5 B), the scales swapped and padded
GATHER_FIX_BYTES_PER_ELEMENT = 2.0 * 0.5 + 2.0 * 2.0 * SCALE_BYTES_PER_ELEMENT
COLUMNWISE_GATHERS_PER_FORWARD_GATHER = 2.0  # the output gradient's and the input's re-gather, backward
# GEMMs outside Transformer Engine's linear modules (Megatron-Core's router, the MLA absorbed batched GEMMs)
UNQUANTISED_ROLES = ("router", "q_absorb", "v_absorb")


def gemm_work(gemms: Iterable[Gemm]) -> tuple[Any, Any, Any, Any]:
    """(bytes forward, bytes backward, kernels forward, kernels backward) of the scale swizzles, the alpha kernels
    and the amax zeroing of the layer's quantised GEMMs (module docstring; one quantised input per GEMM forward, one
    output gradient backward), per layer and micro-batch."""
    fwd_elements: Any = 0.0
    bwd_elements: Any = 0.0
    kernels: Any = 0.0
    for g in gemms:
        if g.role in UNQUANTISED_ROLES:
            continue
        weight = g.count * g.share
        mk, nk, mn = g.m * g.k * weight, g.n * g.k * weight, g.m * g.n * weight
        fwd_elements = fwd_elements + mk + nk
        bwd_elements = bwd_elements + 2.0 * mn + nk + mk
        kernels = kernels + g.kernels()
    per_element = 2.0 * SCALE_BYTES_PER_ELEMENT  # read + write
    return (per_element * fwd_elements, per_element * bwd_elements,
            (KERNELS_PER_GEMM + KERNELS_PER_QUANTISED_TENSOR) * kernels,
            (2.0 * KERNELS_PER_GEMM + KERNELS_PER_QUANTISED_TENSOR) * kernels)


def gather_fix_work(gathers: Iterable[Collective], act_bytes: float) -> tuple[Any, Any]:
    """(bytes, kernels) backward of fixing the column-wise all-gathers (module docstring), from the forward TE
    all-gather records (bf16 payloads of `act_bytes` per element; none where the group is one rank)."""
    elements: Any = 0.0
    count: Any = 0.0
    for c in gathers:
        runs = pick(to_bool(c.mask) & (to_float(c.group) > 1.0), c.count * COLUMNWISE_GATHERS_PER_FORWARD_GATHER, 0.0)
        elements = elements + runs * c.bytes / act_bytes
        count = count + runs
    return GATHER_FIX_BYTES_PER_ELEMENT * elements, GATHER_FIX_KERNELS * count


def nvfp4_recipe_seconds(gemms: Iterable[Gemm], gathers: Iterable[Collective], act_bytes: float,
                         memory_bytes_per_s: float, kernel_s: float) -> tuple[ArrayLike, ArrayLike]:
    """(forward, backward) seconds per layer and micro-batch of the NVFP4 recipe's per-GEMM kernels and column-wise
    gather fixes on the layers it quantises (`gathers`: the TE all-gather records, empty without quantised gathers)."""
    s_fwd, s_bwd, k_fwd, k_bwd = gemm_work(gemms)
    g_bytes, g_kernels = gather_fix_work(gathers, act_bytes)
    fwd = s_fwd / memory_bytes_per_s + k_fwd * kernel_s
    bwd = (s_bwd + g_bytes) / memory_bytes_per_s + (k_bwd + g_kernels) * kernel_s
    return fwd, bwd
