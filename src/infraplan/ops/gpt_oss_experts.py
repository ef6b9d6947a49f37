"""GPT-OSS's experts in training as Megatron-Core 0.16 runs them: the eager passes around the grouped GEMMs and
what the clamp stores for backward.

GPT-OSS (model card 2025; HF `GptOssExperts`) clamps its gated activation (`swiglu_limit` 7.0, alpha 1.702, +1 on
the linear half) and puts biases on both expert projections. Megatron-Core 0.16.1's `TEGroupedMLP`
(megatron/core/transformer/moe/experts.py), which Megatron-Bridge 0.3.1's GPT-OSS recipes run
(`bias_activation_fusion`, quick_gelu with `glu_linear_offset` 1.0 and `activation_func_clamp_value` 7.0,
models/gpt_oss/gpt_oss_provider.py:44-84), over the `rows` routed token copies one GPU computes:

* fc1's bias runs inside Transformer Engine's `GroupedLinear` (`skip_bias_add=False`, experts.py:541-552): the
  cuBLAS bias epilogue forward; backward the wgrad GEMM's bias-gradient epilogue in bf16, or the fused
  `bgrad_quantize` under fp8 / MXFP8 (transformer_engine/pytorch/module/grouped_linear.py:340-355 and 466-475,
  TE 2.14). No pass of its own.
* The clamp runs eagerly before the fused quick-GeGLU (`weighted_bias_quick_geglu_impl`,
  megatron/core/fusions/fused_bias_geglu.py:424-432): `chunk`, a `clamp` of each half (read + write) and a `cat`
  (read + write): 8 B per element of the fc1 output (`up_width` = 2 f wide) in 3 kernels. Backward: autograd's
  `clamp_backward` rebuilds each half's mask from the saved input, `where((x >= min).logical_and_(x <= max), g, 0)`
  (the linear half: 2 + 1, 2 + 1, 1 + 1 + 1, 1 + 2 + 2 = 14 B per element, 5 kernels with its zero scalar) and
  `where(x <= max, g, 0)` (the gate half: 2 + 1, 1 + 2 + 2 = 8 B, 3 kernels), and the chunk's gradient `cat`
  (4 B): 15 B per element of the fc1 output in 9 kernels.
* fc2's bias (`skip_bias_add=True`, experts.py:560-573) is added in `_apply_bias` (experts.py:609-626), a Python
  loop over the local experts: `t + b * p` (the bias times the routing probability, bf16 like the router's
  probabilities: write 2 B; the add: read 2 + 2, write 2) and a `cat` of the pieces (read + write): 12 B per
  element of the h-wide output, 2 kernels per local expert + 1. Backward: per expert the bias gradient (the
  gradient times p, summed over rows: 6 B) and the probability gradient (times b, summed over h: 6 B), and the
  split's gradient `cat` (4 B): 16 B, 4 kernels per local expert + 2 (the probabilities' split `cat` too).
* Both expert biases are parameters of their own per local expert (`bias0` .. `bias{E/EP-1}` of each
  GroupedLinear), and neither gradient is accumulated into the fp32 main gradient by a GEMM: TE's fused wgrad
  accumulation marks only the weights (`grad_added_to_main_grad`, grouped_linear.py:497-507), so Megatron-Core's DDP
  hook adds each bias gradient per micro-batch, `param.main_grad.add_(param.grad.data)` (megatron/core/distributed/
  distributed_data_parallel.py:437-441): one kernel per bias each backward, reading the bf16 gradient and the fp32
  main gradient and writing it (10 B per bias element), 2 kernels per local expert.

The clamp's passes run at ATen's strided-loop rate, not the streaming rate (`STRIDED_PASS_SHARE`): PyTorch runs an
elementwise op vectorized only when every operand is contiguous (aten/src/ATen/native/cuda/CUDALoops.cuh,
`gpu_kernel_impl_nocast` / `gpu_kernel_impl`: `if (contiguous) return launch_vectorized_kernel(...)`, else
`launch_legacy_kernel` with a per-element offset calculator and scalar loads; torch 2.13's installed headers, :649-676
and :965-1136). The clamp reads the two `chunk` halves of the fc1 output (views with the full row stride) and its
backward runs on their strided gradients, so every clamp pass takes that path. Measured on a lent H200
(validation/calibration/h200_gpt_oss_layer.json, benchmarks/gpu/gpu_gpt_oss_layer.py, PyTorch 2.11): Megatron's
activation (`act_megatron`: the eager clamp + cat, then the compiled weighted quick-GeGLU) less the compiled GeGLU alone
(`act_compiled`, the same bytes in and out) runs the clamp's 8 B per fc1-output element in 0.340 / 1.361 ms at 16,384 /
65,536 rows: 2.22 TB/s at both sizes, 0.526 of the 4.22 TB/s the catalog's H200 streams (`memory_bandwidth_fraction`
x datasheet). Priced as streaming-equivalent bytes (the bytes / 0.526), forward, backward (ASSUMPTION: the same share
for autograd's strided `where` / mask passes; the activation's measured forward + backward is consistent with it) and
the recompute's re-run; ASSUMPTION: the same share of the streaming rate on every GPU (measured on H200 only).

Broadcast operands take the same legacy loop (`BROADCAST_PASSES`, hG session 51): `is_contiguous()` of a
TensorIterator holds only where every operand coalesces to one contiguous dimension, which an operand broadcast
along a dimension (stride 0) never does, so such ops launch `launch_legacy_kernel` too (the CUDALoops.cuh branch
above). In the fc2 bias loop that is the outer product `b * p` (bias [h] by probability [rows, 1]: its 2 B write of
the 12 B forward) and backward the two products autograd forms before its sums, `grad * p` and `grad * b` (4 B each,
8 of the 16 B); the add and the `cat`s are contiguous (vectorized or CatArray kernels). Priced as the clamp: the
bytes of those passes at `STRIDED_PASS_SHARE` of the streaming rate (`broadcast_pass_extra`); ASSUMPTION: the
strided-read share measured on the clamp holds for broadcast operands (not measured apart). `ops.rotary` applies
it to YaRN's eager RoPE (cos / sin broadcast over batch and heads).

Re-run under `moe_act` recompute (`clamp_rerun_bytes`): the checkpointed function is `bias_act_func` (experts.py:
738-744), so backward re-runs the clamp with the GeGLU: the clamp's forward bytes once more per fc1-output element.

Host-device syncs (`geglu_offset_syncs`): `weighted_bias_quick_geglu_impl` builds its linear offset as a device
scalar on every call, `torch.tensor(linear_offset, dtype=input.dtype, device=input.device)` (fused_bias_geglu.py:434;
unchanged in Megatron-Core 0.19.2). PyTorch copies a new CPU tensor to the GPU with non_blocking False, which its CUDA
copy runs as `memcpy_and_sync`: cudaMemcpyAsync, then cudaStreamSynchronize on the current stream
(c10/cuda/CUDAFunctions.h:79-109 in the torch 2.11.0 wheel; the path from `torch.tensor` to that branch, tensor_new.cpp
and native/cuda/Copy.cu, is recalled, not read here: no PyTorch source is on PyPI). The host waits there for the
queue to drain, once per MoE layer forward after fc1's GEMMs, and once more in backward where the activation re-runs:
`moe_act` recompute (`CheckpointWithoutOutput._recompute`, the grad hook on fc2's output,
megatron/core/tensor_parallel/random.py:664-704; experts.py:738-744) or full recompute. Each sync leaves the GPU
idle until the host issues the next kernel.

Bytes are bf16 activations; a shape without the clamp or the expert biases moves none of their bytes, a dense
layer kind none at all. Serving engines fuse both (not priced here). The clamp's and the bias loop's counts are
PyTorch's dispatcher's: the code above, copied from Megatron-Core, run forward and backward under a
`TorchDispatchMode` (torch 2.13, CPU) lists these kernels and bytes (the bias loop: 12 / 16 B in 2 E/EP + 1 /
4 E/EP + 2 kernels; the clamp: 8 / 15 B in 3 / 9).

Stored for backward (`clamp_saved_elements`): the clamp keeps a second copy of the fc1 output. Each half's
`clamp` saves its input for `clamp_backward` (PyTorch tools/autograd/derivatives.yaml, `clamp`: `self:
clamp_backward(grad, self, min, max)`), and those inputs are `chunk` views of the fc1 output, so the whole fc1 output
stays alive; the clamped `cat` is a new tensor that `WeightedQuickGeGLUFunction` saves as its input
(megatron/core/fusions/fused_bias_geglu.py:424-432; `ctx.save_for_backward(input_for_backward, ...)`, :327;
`fp8_input_store` off in the GPT-OSS recipes). The layer's activation table (`ops.params`) counts one fc1 output
(`expert_fc1_out`); the clamp adds k x 2f bf16 elements per token (`expert_clamped_fc1_out`), which Megatron's
`moe_act` recompute drops with the activation (`CheckpointWithoutOutput` runs the clamp under it: experts.py:738-744).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.scalar_path import pick, to_float

ArrayLike = np.ndarray | float | int
# bytes per element of the fc1 output (clamp) and of the fc2 output (bias loop), forward and backward
CLAMP_BYTES = (8.0, 15.0)
FC2_BIAS_BYTES = (12.0, 16.0)
CLAMP_KERNELS = (3.0, 9.0)
FC2_BIAS_KERNELS_PER_EXPERT = (2.0, 4.0)
FC2_BIAS_CAT_KERNELS = (1.0, 2.0)
MAIN_GRAD_ADD_BYTES = 10.0  # per bias element per backward: read 2 + 4, write 4 (the DDP hook's add)
MAIN_GRAD_ADD_KERNELS_PER_EXPERT = 2.0  # fc1 and fc2 biases
STRIDED_PASS_SHARE = 0.526  # the clamp's strided passes: measured share of the streaming rate (module docstring)
STRIDED_PASSES = True  # False: the clamp at the streaming rate (before hO55)
# passes with a broadcast operand at the legacy loop's share too (module docstring); False: at the streaming rate
BROADCAST_PASSES = True
FC2_BIAS_BROADCAST_BYTES = (2.0, 8.0)  # of FC2_BIAS_BYTES, forward and backward: the b x p, grad x p, grad x b products


def strided_pass_factor() -> float:
    """Streaming-equivalent bytes per byte of a clamp pass (1 / `STRIDED_PASS_SHARE`; 1.0 with the toggle off)."""
    return 1.0 / STRIDED_PASS_SHARE if STRIDED_PASSES else 1.0


def broadcast_pass_extra() -> float:
    """Streaming-equivalent bytes a byte of a pass with a broadcast operand adds over the streaming price (1 /
    `STRIDED_PASS_SHARE` - 1; 0.0 with `BROADCAST_PASSES` off): its whole price is (1 + this) x its bytes."""
    return 1.0 / STRIDED_PASS_SHARE - 1.0 if BROADCAST_PASSES else 0.0


def clamp_saved_elements(shape: TransformerShape) -> float:
    """Elements per routed token copy that the clamp stores for backward beside the fc1 output the layer table
    already counts: the clamped copy of the fc1 output, 2 f wide (gated), none without the clamp (module
    docstring)."""
    if not (shape.is_moe and shape.clamped_swiglu):
        return 0.0
    return (2.0 if shape.gated_mlp else 1.0) * float(shape.ffn_hidden_size)


def gpt_oss_expert_passes(shape: TransformerShape, rows: ArrayLike, up_width: ArrayLike,
                          ep: ArrayLike, fused: ArrayLike = False
                          ) -> tuple[tuple[ArrayLike, Any], tuple[ArrayLike, Any]]:
    """(bytes, kernels) forward and backward of the clamp (streaming-equivalent bytes: `strided_pass_factor`) and the
    fc2 bias loop over `rows` routed copies, with
    `up_width` the fc1 output width on this GPU and E / `ep` local experts (see the module docstring); kernels
    are a float, or an array over plans where `ep` is one. `fused` (`Layout.fused_grouped_mlp`): megatron-core's
    fused GroupedMLP (TE op fuser, 0.19.2 experts.py:286-290, :753-762) replaces TEGroupedMLP's eager path; TE 2.16's
    fused grouped MLP runs the clamped quick-GeGLU, the fc1 bias and the probability-scaled fc2 bias in its grouped
    GEMMs (ops/fused/forward_grouped_mlp.py:92-102, :287-297, :390-403): no clamp or bias-loop pass; the DDP
    hook's main-gradient adds of the biases stay."""
    clamp = shape.is_moe and shape.clamped_swiglu
    bias = shape.is_moe and shape.linear_biases
    eager = pick(fused, 0.0, 1.0)
    up = rows * up_width * eager * strided_pass_factor() if clamp else 0.0 * rows  # (streaming-equivalent)
    down = rows * shape.hidden_size * eager if bias else 0.0 * rows
    local = shape.num_experts / to_float(ep) if bias else 0.0
    out: list[tuple[ArrayLike, Any]] = []
    for phase in (0, 1):
        kernels = ((CLAMP_KERNELS[phase] if clamp else 0.0)
                   + (FC2_BIAS_KERNELS_PER_EXPERT[phase] * local + FC2_BIAS_CAT_KERNELS[phase] if bias else 0.0))
        bias_bytes = FC2_BIAS_BYTES[phase] + FC2_BIAS_BROADCAST_BYTES[phase] * broadcast_pass_extra()
        out.append((CLAMP_BYTES[phase] * up + bias_bytes * down, kernels * eager))
    # backward: the DDP hook's main-gradient add of each local expert's two biases (module docstring)
    grad_adds = MAIN_GRAD_ADD_BYTES * local * (up_width + shape.hidden_size) if bias else 0.0
    backward = (out[1][0] + grad_adds, out[1][1] + MAIN_GRAD_ADD_KERNELS_PER_EXPERT * local)
    return out[0], backward


def clamp_rerun_bytes(shape: TransformerShape) -> float:
    """Bytes per routed token copy (one GPU, no expert TP) that `moe_act` recompute's re-run of the clamp moves: its
    forward bytes over the fc1 output, 2 f wide (gated), streaming-equivalent (`strided_pass_factor`); none without the
    clamp (module docstring)."""
    if not (shape.is_moe and shape.clamped_swiglu):
        return 0.0
    return CLAMP_BYTES[0] * (2.0 if shape.gated_mlp else 1.0) * float(shape.ffn_hidden_size) * strided_pass_factor()


# syncs per MoE layer and micro-batch of the quick-GeGLU's device-scalar offset (module docstring): forward, and
# backward where the activation is recomputed
GEGLU_OFFSET_SYNCS = 1.0


def geglu_offset_syncs(shape: TransformerShape, rerun: Any) -> tuple[float, Any]:
    """Host-device syncs per MoE layer and micro-batch of `weighted_bias_quick_geglu_impl`'s offset copy, (forward,
    backward); the caller weights them by the layers' MoE share. `rerun`: whether backward re-runs the activation
    (moe_act or full recompute; a bool or an array over plans). Zeros for a shape without the clamped quick-GeGLU
    (GPT-OSS's experts are the only ones here that run it)."""
    if not (shape.is_moe and shape.clamped_swiglu):
        return 0.0, 0.0 * rerun
    return GEGLU_OFFSET_SYNCS, GEGLU_OFFSET_SYNCS * (1.0 * rerun)
