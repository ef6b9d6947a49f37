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
stream: 14 B at fp32 reduce (`fsdp2_copy_bytes`), in 3 launches per unit (two copy-outs and one chunk_cat); ZeRO-2
(torchtitan's "never" policy: kept gathered from forward to backward, resharded after it) one copy-out and the
chunk_cat, 10 B in 2 launches. Priced where the stack sets `fsdp2_copy_passes` and re-gathers and reduce-scatters
every micro-batch without a pipeline (`Stack.zero3_collectives_per_micro_batch`, torchtitan: no gradient-sync skip
during accumulation, hM52).
With a pipeline (hS, session 53; torch.distributed.pipelining read in torch 2.5.1 and 2.11.0): every backward runs
with `set_requires_gradient_sync(False)` and `set_reshard_after_backward(False)` (2.5.1 stage.py:522-526, 2.11.0
stage.py:656-659), and each stage's reduce-scatters run once, after its last backward (2.5.1 :527-535; 2.11.0
`perform_reduce_grad` :989-1016, the REDUCE_GRAD action after a stage's last backward, schedules.py:1051-1081, or
after all micro-batches, :768 / :976). Without a gradient sync FSDP2's post-backward keeps an unsharded gradient at
the reduce dtype (_fsdp_param.py:670-689 in 2.11.0, :582-601 in 2.5.1): the first micro-batch's bf16 gradient is
converted (`.to(fp32)`, 2 + 4 B), each later one added (`+=`, 4 + 2 + 4 B), and the reduce-scatter's chunk_cat reads
the fp32 sum (4 + 4 B); with a bf16 reduce there is no conversion (autograd's own accumulation, not FSDP's) and the
chunk_cat is 2 + 2 B. Gathers: ZeRO-2 (torchtitan's default under PP, `pipeline_default_zero`) once a step (2 + 2 B);
ZeRO-3 ("always") re-gathers in each backward and once more in the first forward (m + 1 copy-outs; the next
forwards find the unit unsharded, not resharded after backward). One launch per unit and pass (the conversion and
`+=` run per parameter: an under-count of launches).
Two units gather once a micro-batch, not twice: torch keeps the root unit gathered from forward to backward
(_fsdp_state.py:171-173, `post_forward_mesh_info = None`) and torchtitan the last block (0.1.0
models/llama3/infra/parallelize.py:354-356, `reshard_after_forward = layer_id < n_layers - 1`), so their backward
copy-outs do not run: the tables on the stage (`step_traffic`'s "table_params": embedding and output layer; the final
norm left out, h weights) and one layer's share of the rest, 4 B each fewer, in 2 launches fewer (Llama 3.1 8B:
1.27e9 of 8.03e9 weights, 1.7 ms of the 38 ms; hS, session 53: it was priced as the other units' before).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.stacks import REDUCE_BYTES, Stack
from infraplan.hardware.kernels import KernelRates, memory_bound_seconds, memory_bound_time
from infraplan.scalar_path import FLOAT_OPS, MathOps
from infraplan.training.plan import PlanArrays
from infraplan.training.zero3_edges import edge_unit

PARAM_BYTES = 2.0  # FSDP2's param dtype in torchtitan: `mixed_precision_param = "bfloat16"` (torchtitan 0.1.0
# config_manager.py:221); the unsharded gradients come out of autograd at the same dtype
GATHERS_PER_MICRO_BATCH = 2.0  # ZeRO-3: forward, and the backward re-gather (reshard_after_forward)
KERNELS_PER_UNIT = 3.0  # two split_with_sizes_copy launches and one _chunk_cat a unit and micro-batch

__all__ = ["fsdp2_copy_bytes", "fsdp2_copy_time", "fsdp2_step_copies", "piped_copy_bytes"]


def fsdp2_copy_bytes(stack: Stack) -> float:
    """Bytes per unsharded local weight element and micro-batch that a ZeRO-3 FSDP2 step moves on the compute stream
    (module docstring): the two gathers' copy-outs and the reduce-scatter copy-in at the stack's reduce dtype; 0 where
    the stack does not set `fsdp2_copy_passes`."""
    if not stack.fsdp2_copy_passes:
        return 0.0
    return GATHERS_PER_MICRO_BATCH * 2.0 * PARAM_BYTES + PARAM_BYTES + REDUCE_BYTES[stack.grad_reduce_dtype]


def fsdp2_copy_time(zero3_once_per_micro_batch: Any, params: Any, units: Any, micro_batches: Any, stack: Stack,
                    rates: KernelRates, ops: MathOps, kept: Any = 0.0) -> Any:
    """Seconds of FSDP2's copy-out / copy-in passes in a step: `micro_batches` x the local `params` (the stage's
    unsharded weights on one GPU, `step_traffic`'s "params") x `fsdp2_copy_bytes`, in `KERNELS_PER_UNIT` launches per
    FSDP unit (`units`: the stage's layers and the root module), where `zero3_once_per_micro_batch` (a mask over
    plans, or a plain bool: ZeRO-3 plans whose collectives repeat every micro-batch); 0 elsewhere. `kept`: the
    weights of the two units kept gathered from forward to backward (the root and the last block: one copy-out
    each a micro-batch, module docstring); 0: none kept."""
    per_weight = fsdp2_copy_bytes(stack)
    if per_weight == 0.0:
        return 0.0
    moved = micro_batches * (params * per_weight - kept * 2.0 * PARAM_BYTES)
    kernels = micro_batches * (units * KERNELS_PER_UNIT - ops.where(kept > 0.0, 2.0, 0.0))
    return _masked_memory_time(zero3_once_per_micro_batch, moved, kernels, rates, ops)


def fsdp2_step_copies(plan: PlanArrays, lt: dict[str, Any], traffic: dict[str, Any], stack: Stack, micro_batches: Any,
                      rates: KernelRates, ops: MathOps) -> Any:
    """FSDP2's copies in a step (`training.step_assembly`'s `other`) on the stage's local parameters
    (`traffic["params"]`) in its layers' and the root module's FSDP units, where the stack sets `fsdp2_copy_passes`
    and re-gathers and reduce-scatters every micro-batch without a pipeline (`Stack.zero3_collectives_per_micro_batch`):
    ZeRO-3 at PP = 1 (`fsdp2_copy_time`, the root's and the last block's backward copy-out left out: their tables and
    one layer's share of the rest, `zero3_edges.edge_unit`), ZeRO-2 at PP = 1 (a copy-out and a chunk_cat a
    micro-batch) and ZeRO-2 / 3 with a pipeline (`piped_copy_bytes`, module docstring); 0 at ZeRO-0 (DDP)."""
    if not (stack.fsdp2_copy_passes and stack.zero3_collectives_per_micro_batch):
        return 0.0
    layers, params = lt["stage_layers"], traffic["params"]
    kept = edge_unit(traffic, layers, traffic["table_params"], ops)  # the root unit (both tables) and one layer
    units, m = layers + 1.0, micro_batches
    single = plan.pp == 1
    zero3 = fsdp2_copy_time((plan.zero >= 3) & single, params, units, m, stack, rates, ops, kept)
    reduce = REDUCE_BYTES[stack.grad_reduce_dtype]
    zero2 = m * params * (2.0 * PARAM_BYTES + PARAM_BYTES + reduce)  # one copy-out and the chunk_cat a micro-batch
    gathers = ops.where(plan.zero >= 3, m + 1.0, 1.0)
    piped = params * piped_copy_bytes(gathers, m, reduce)
    moved = ops.where(single, zero2, piped)
    kernels = ops.where(single, m * units * 2.0, units * (gathers + m + 1.0))
    sharded = ((plan.zero == 2) & single) | ((plan.zero >= 2) & (plan.pp > 1))
    return zero3 + _masked_memory_time(sharded, moved, kernels, rates, ops)


def _masked_memory_time(mask: Any, moved: Any, kernels: Any, rates: KernelRates, ops: MathOps) -> Any:
    """`memory_bound_time` of `moved` bytes in `kernels` launches where `mask` (a mask over plans, or one plan's
    bool), 0 elsewhere."""
    if ops is FLOAT_OPS:
        return memory_bound_seconds(rates, moved, kernels) if mask else 0.0
    return ops.where(mask, ops.as_float(memory_bound_time(rates, moved, kernels)), 0.0)


def piped_copy_bytes(gathers: Any, micro_batches: Any, reduce: float) -> Any:
    """Bytes per unsharded local weight element and step that FSDP2 moves under torch's pipelining (module
    docstring): `gathers` copy-outs, the gradient kept unsharded at the reduce width over the `micro_batches` (a
    conversion, then an add a micro-batch, where the reduce dtype is wider than the parameters') and the
    reduce-scatter's chunk_cat of it."""
    if reduce == PARAM_BYTES:  # (autograd accumulates in the parameters' dtype; no FSDP pass before the chunk_cat)
        return gathers * 2.0 * PARAM_BYTES + PARAM_BYTES + reduce
    accumulate = (PARAM_BYTES + reduce) + (micro_batches - 1.0) * (reduce + PARAM_BYTES + reduce)
    return gathers * 2.0 * PARAM_BYTES + accumulate + 2.0 * reduce
