"""How a weight's gradient reaches the main gradient buffer, and the bytes that moves per GEMM and micro-batch.

* Fused (`gradient_accumulation_fusion`, Megatron-class stacks): the weight-gradient GEMM (k x m) @ (m x n)
  accumulates into `main_grad`, its k x n output read and written in the buffer's dtype (`wgrad_width`,
  `main_grad_wgrad_bytes`): Transformer Engine 2.14 module/linear.py:834-860, module/grouped_linear.py:386-391 and
  :429-433 / :473-481, whenever Megatron's `gradient_accumulation_fusion` is on, which Megatron-Bridge 0.3.1
  enables where the fused kernel exists, models/gpt_provider.py:186; the LM head, a Megatron-Core
  ColumnParallelLinear, through `wgrad_gemm_accum_fp32` / `_fp16` into the same buffer, megatron-core 0.16.1
  tensor_parallel/layers.py:568-573.
* Unfused: the GEMM writes a fresh wgrad and a hook copies or adds it into the main gradient, a memory-bound pass
  per micro-batch (`unfused_main_grad_bytes`: Megatron-FSDP / DDP, or a stack's `grad_accumulation_bytes`); on a
  Megatron stack the copy depends on the ZeRO stage, so its layer terms are priced per stage (`layer_reads_zero`,
  `least_work_zero`). The GEMMs themselves: `training.layer_kernels.gemm_fwd_bwd`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.stacks import Stack
from infraplan.ops.layer import ArrayLike
from infraplan.scalar_path import pick
from infraplan.training.memory import grad_buffer_bytes


def wgrad_width(width: ArrayLike, m: ArrayLike, n: ArrayLike, k: ArrayLike, grad_bytes: float) -> Any:
    """Mean bytes per element the weight-gradient GEMM (k x m) @ (m x n) moves: its inputs at the operand `width`,
    its k x n output, the main gradient, read and written at `grad_bytes` each (the fp32 or bf16 buffer,
    `training.memory.grad_buffer_bytes`; module docstring). The first micro-batch of a step only writes it
    (`is_first_microbatch`), which is not told apart. `hardware.kernels` charges one width for all three
    matrices, so the mixture is expressed as that width."""
    inputs = k * m + m * n
    moved = inputs + k * n
    if type(moved) is not np.ndarray:  # one plan's floats (a zero-sized GEMM keeps its width: it is not priced)
        return (width * inputs + 2.0 * grad_bytes * k * n) / moved if moved > 0 else width
    safe = np.where(moved > 0, moved, 1.0)
    return np.where(moved > 0, (width * inputs + 2.0 * grad_bytes * k * n) / safe, width)


def main_grad_wgrad_bytes(stack: Stack) -> float | None:
    """Bytes per element of the main gradient the wgrad GEMMs read and write (`wgrad_width`): the
    gradient buffer's dtype on Megatron-class stacks, whose Transformer Engine GEMMs accumulate into `main_grad`;
    None (the output at the operand width) elsewhere, and where the recipe turns `gradient_accumulation_fusion`
    off (the GEMM writes a fresh wgrad: `unfused_main_grad_bytes`)."""
    fused = stack.stack_class == "megatron" and stack.gradient_accumulation_fusion
    return grad_buffer_bytes(stack) if fused else None


# bytes of the fresh wgrad the backward hook reads per weight element (the activations' bf16)
FRESH_WGRAD_BYTES = 2.0


def layer_reads_zero(stack: Stack) -> bool:
    """Whether the stack's layer terms depend on the plan's ZeRO stage: a Megatron stack without
    `gradient_accumulation_fusion` copies each wgrad into a ZeRO-3 gradient buffer and adds it into the others'
    (`unfused_main_grad_bytes`). The search broadcasts ZeRO over the layer terms (`training.axes`), so such a stack's
    layer terms are priced per ZeRO stage (`layer_terms.per_layer_terms`, the one-plan memo keyed on it too) and the
    search's lower bounds take ZeRO-3's, the smaller (`least_work_zero`; hZ, session 52: the search priced
    meta-llama3's ZeRO-3 plans at ZeRO-0's add, +0.8 % on a step, and `train` after a ZeRO-1 plan of the same layer
    keys did too)."""
    return stack.stack_class == "megatron" and not stack.gradient_accumulation_fusion


def least_work_zero(stack: Stack) -> int:
    """The ZeRO stage whose layer terms are the least (the search's lower bounds price their rows at it): 3 where
    the stack's layer terms read ZeRO (`layer_reads_zero`: the copy moves fewer bytes than the add), else 0."""
    return 3 if layer_reads_zero(stack) else 0


def unfused_main_grad_bytes(stack: Stack, sharded: ArrayLike) -> Any:
    """Bytes per weight element and micro-batch that gradient accumulation moves outside the wgrad GEMM (`sharded`:
    the plan's ZeRO-3 gradient buffer). A Megatron stack whose recipe turns `gradient_accumulation_fusion` off (0
    otherwise): Transformer Engine then writes each weight's gradient to a fresh `param.grad`
    (`fuse_wgrad_accumulation` is the config's flag, megatron-core 0.16.1 extensions/transformer_engine.py:626 / :828 /
    :1537) and the hook moves it into the main gradient: Megatron-FSDP
    with a sharded gradient buffer (`sharded`: ZeRO-3, optim_grads_params, param_and_grad_buffer.py:1861-1864)
    copies it, `param.main_grad.copy_(param.grad)` (distributed/fsdp/src/megatron_fsdp/megatron_fsdp.py:561-573:
    read the wgrad, write the buffer), where the fused path has the GEMM overwrite `main_grad` (:462-466); Megatron's
    DDP adds it, `main_grad.add_(grad)` (read both, write the buffer). Megatron-Bridge's FSDP Llama perf configs set
    the flag off (perf_recipes/llama/gb200/llama3.py:221 / :274). Other stacks: their `grad_accumulation_bytes`
    (DeepSpeed's AccumulateGrad add, `catalog/stacks/deepspeed.yaml`), one figure for every ZeRO stage: the search
    broadcasts ZeRO over the layer terms (`training.axes`); a stack whose terms take Megatron's ZeRO-3 test has
    them priced per ZeRO stage (`layer_reads_zero`)."""
    if stack.stack_class != "megatron":
        return stack.grad_accumulation_bytes
    if stack.gradient_accumulation_fusion:
        return 0.0
    buffer = grad_buffer_bytes(stack)
    return FRESH_WGRAD_BYTES + buffer + pick(sharded, 0.0, buffer)
