"""FSDP2's own memory passes around its collectives on the compute stream (torchtitan; hT, session 53).

FSDP2 (`torch.distributed._composable.fsdp`, read in the torch 2.5.1 wheel: the torch of torchtitan's paper runs,
arXiv:2410.06511, RECALLED as 2.5 nightlies) does not gather into the parameters nor reduce-scatter from the
gradients in place; it copies, per FSDP unit (each transformer block, and the root module's embedding, norm and
output):
* all-gather copy-out: `foreach_all_gather_copy_out` (_fsdp_collectives.py:233-278) runs
  `torch.split_with_sizes_copy` from the all-gather output into each unsharded parameter (read + write at the
  param dtype, bf16: 2 + 2 B per unsharded weight element), called from `FSDPParamGroup.wait_for_unshard`
  (_fsdp_param_group.py:241-262) on the current (compute) stream. ZeRO-3 (reshard_after_forward, torchtitan's
  default without a pipeline: `training.step_assembly`, `Stack.zero3_collectives_per_micro_batch`) gathers each unit
  in forward and again in backward: 2 x 4 B.
* reduce-scatter copy-in: `foreach_reduce` (:281-320) allocates the reduce-scatter input at the reduce dtype and
  `foreach_reduce_scatter_copy_in` (:418-426, `torch._chunk_cat`) reads each bf16 unsharded gradient and writes it
  there (2 + 4 B at torchtitan's fp32 `mixed_precision_reduce`, the stack's `grad_reduce_dtype`), on the current
  stream before the reduce-scatter stream waits on it (:320-323).
Not priced (small, or off the compute stream): the all-gather copy-in (`_get_param_all_gather_inputs`' fp32 -> bf16
`_foreach_copy_` and `all_gather_copy_in`'s copy into the flat buffer, :181-230 / :67-87: 10 B per SHARD element
a gather, i.e. 10 / DP per weight element, on `all_gather_copy_in_stream`, _fsdp_param_group.py:56 / :80); the
post-reduce fp32 accumulation into the sharded gradient at m > 1 (:396-398, 12 / DP B); no divide kernel at fp32
or bf16 (NCCL's AVG, :452-472).
So per unsharded local weight element and micro-batch, ZeRO-3 moves 2 x (2 + 2) + (2 + reduce width) B on the compute
stream: 14 B at fp32 reduce (`fsdp2_copy_bytes`), in 3 launches per unit (two copy-outs and one chunk_cat). Priced
where the stack sets `fsdp2_copy_passes` on ZeRO-3 plans without a pipeline (the plans whose gathers and scatters
repeat every micro-batch: `step_assembly`); ZeRO-2 (one gather a micro-batch: 10 B) and pipelined plans (torch's
pipelining defers the reduce-scatter to the last micro-batch, RECALLED) are not priced: an under-estimate there.
An over-count: torch keeps the root unit gathered from forward to backward (_fsdp_state.py:171-173) and torchtitan
the last block (0.1.0 models/llama3/infra/parallelize.py:354-356), so their second copy-out (Llama 3.1 8B: 1.27e9 of
8.03e9 weights, 1.7 ms of the 38 ms) does not run; priced as the other units' (no per-unit split here).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.stacks import REDUCE_BYTES, Stack
from infraplan.hardware.kernels import KernelRates, memory_bound_seconds, memory_bound_time
from infraplan.scalar_path import FLOAT_OPS, MathOps
from infraplan.training.plan import PlanArrays

PARAM_BYTES = 2.0  # FSDP2's param dtype in torchtitan: `mixed_precision_param = "bfloat16"` (torchtitan 0.1.0
# config_manager.py:221); the unsharded gradients come out of autograd at the same dtype
GATHERS_PER_MICRO_BATCH = 2.0  # ZeRO-3: forward, and the backward re-gather (reshard_after_forward)
KERNELS_PER_UNIT = 3.0  # two split_with_sizes_copy launches and one _chunk_cat a unit and micro-batch

__all__ = ["fsdp2_copy_bytes", "fsdp2_copy_time", "fsdp2_step_copies"]


def fsdp2_copy_bytes(stack: Stack) -> float:
    """Bytes per unsharded local weight element and micro-batch that a ZeRO-3 FSDP2 step moves on the compute stream
    (module docstring): the two gathers' copy-outs and the reduce-scatter copy-in at the stack's reduce dtype; 0 where
    the stack does not set `fsdp2_copy_passes`."""
    if not stack.fsdp2_copy_passes:
        return 0.0
    return GATHERS_PER_MICRO_BATCH * 2.0 * PARAM_BYTES + PARAM_BYTES + REDUCE_BYTES[stack.grad_reduce_dtype]


def fsdp2_copy_time(zero3_once_per_micro_batch: Any, params: Any, units: Any, micro_batches: Any, stack: Stack,
                    rates: KernelRates, ops: MathOps) -> Any:
    """Seconds of FSDP2's copy-out / copy-in passes in a step: `micro_batches` x the local `params` (the stage's
    unsharded weights on one GPU, `step_traffic`'s "params") x `fsdp2_copy_bytes`, in `KERNELS_PER_UNIT` launches per
    FSDP unit (`units`: the stage's layers and the root module), where `zero3_once_per_micro_batch` (a mask over
    plans, or a plain bool: ZeRO-3 plans whose collectives repeat every micro-batch); 0 elsewhere."""
    per_weight = fsdp2_copy_bytes(stack)
    if per_weight == 0.0:
        return 0.0
    moved = micro_batches * params * per_weight
    kernels = micro_batches * units * KERNELS_PER_UNIT
    if ops is FLOAT_OPS:
        return memory_bound_seconds(rates, moved, kernels) if zero3_once_per_micro_batch else 0.0
    return ops.where(zero3_once_per_micro_batch, ops.as_float(memory_bound_time(rates, moved, kernels)), 0.0)


def fsdp2_step_copies(plan: PlanArrays, lt: dict[str, Any], traffic: dict[str, Any], stack: Stack, micro_batches: Any,
                      rates: KernelRates, ops: MathOps) -> Any:
    """`fsdp2_copy_time` of a step (`training.step_assembly`'s `other`): ZeRO-3 plans without a pipeline, where the
    stack re-gathers and reduce-scatters every micro-batch (`Stack.zero3_collectives_per_micro_batch`), over the
    stage's local parameters (`traffic["params"]`) in its layers' and the root module's FSDP units."""
    if not (stack.fsdp2_copy_passes and stack.zero3_collectives_per_micro_batch):
        return 0.0
    return fsdp2_copy_time((plan.zero >= 3) & (plan.pp == 1), traffic["params"], lt["stage_layers"] + 1.0,
                           micro_batches, stack, rates, ops)
