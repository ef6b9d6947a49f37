"""FSDP2's gradient tensors in memory (torchtitan; hF, session 69): the whole unit's unsharded gradients and the
reduce-scatter input a unit's post-backward keeps, and, under torch's pipelining, the stage's unsharded gradient
kept at the reduce width over the micro-batches.

Read in the torch 2.9.1 wheel (torch/distributed/fsdp/_fully_shard/, torch/distributed/pipelining/; read, not
installed) and torchtitan 0.3.0 (PyPI wheel). torchtitan wraps each transformer block in its own FSDP2 unit, the
embedding in one and the final norm + output layer in one (distributed/fsdp.py:193-207, :303-307), param dtype
bf16 and reduce dtype fp32 (config/configs.py:85, :93 `mixed_precision_param = "bfloat16"`,
`mixed_precision_reduce = "float32"`), prefetching one unit ahead implicitly (explicit one-unit prefetch lists only
with EP, fsdp.py:323-370).

torchtitan 0.3.0 applies FSDP2 whatever the sharding (models/llama3/parallelize.py:69-90: "Always run
apply_fsdp_to_decoder -- with shard_degree=1 it is a no-op for the all-gather but still installs the
MixedPrecisionPolicy"; pure replication is HSDP over a shard group of 1, :74-76), so its ZeRO-0 runs the same
post-backward: the terms below at every ZeRO stage.
Without a pipeline (every backward syncs its gradients, `Stack.zero3_collectives_per_micro_batch`):
* autograd writes each parameter's gradient at the param dtype into its unsharded parameter's `.grad`; nothing
  takes them until the unit's post-backward, which runs once the unit's backward is done (_fsdp_param_group.py
  :478-512 collects every `unsharded_param.grad` of the unit): the whole unit's gradients, 2 B per unsharded weight
  element, not one module's.
* the post-backward then allocates the reduce-scatter input at the reduce dtype on the compute stream, copies the
  gradients in (`foreach_reduce`, _fsdp_collectives.py:508-517: `torch._chunk_cat` into it, then
  `unsharded_grads.clear()` frees the bf16 ones) and keeps that input alive in `comm_ctx.reduce_scatter_state`
  (_fsdp_param_group.py:560-563) until the next unit's post-backward waits on its event and drops it (:515-523), or
  the end of the backward (_fsdp_state.py:313-317). So during a unit's backward the previous unit's reduce-scatter
  input (4 B a weight element at fp32) is held beside this unit's growing gradients.
* the unsharded parameters of the unit and of the one prefetched (`_backward_prefetch`, :599-611, one unit back in
  the post-forward order) are the state memory's ZeRO-3 two gathered layers (`state_memory`, unchanged).
Peak beyond the activations at the end of a unit's backward: 2 B x its unsharded weights + the reduce width x the
previous unit's; the first block's predecessor is the output layer's unit (the last forward, the first backward), so
the held input is the larger of a layer's and the output table's (untied). A tied table (torchtitan 0.3.0
distributed/fsdp.py:180-192: tok_embeddings, norm and lm_head in one unit, "to avoid duplicate all-gathers"; refused
with a pipeline, models/common/decoder.py:139-142) takes the output layer's gradient into the unit's unsharded `.grad`
at the first backward and keeps it until the unit's post-backward, after the embedding's, the last of the backward:
2 B x the table beside every block's terms (hF2), and no larger input before the first block's. `fsdp2_unit_grad_bytes`,
priced with the gradients
(`state_memory.kinds_state_terms`: they are gradient tensors, and the search broadcasts ZeRO over the activations,
which must not read it).

With a pipeline (`Stack.pipeline_grad_reduce_deferred`): every backward runs with `set_requires_gradient_sync(False)`
and `set_reshard_after_backward(False)` (pipelining/stage.py:645-649) and the stage's post-backwards reduce-scatter
after its last backward (:650-666). Without the sync the post-backward converts the first micro-batch's unsharded
bf16 gradient to the reduce dtype and keeps it (_fsdp_param.py:627-638 `unsharded_accumulated_grad =
unsharded_grad.to(self.reduce_dtype)`), adding each later micro-batch's into it (:640-646); at a bf16 reduce autograd
accumulates in `.grad` itself (:630-635 returns). So the stage's unsharded gradient, the reduce width a local weight
element, is held from the first backward to the step's last post-backwards (`fsdp2_kept_grad_bytes`), and a
unit's fresh bf16 gradients before the `+=` are the transient (2 B a weight element where the reduce is wider; none
at bf16). Beside the sharded gradient the reduce-scatters write, which stays allocated across steps: torchtitan
0.3.0 zeroes it in place (trainer.py:874 `zero_grad(set_to_none=self.config.training.disable_cuda_graphs)`, False
by default, config/configs.py:66), and the reduce adds into it (_fsdp_collectives.py:591, :608-610). So the
sum, at every ZeRO stage (at ZeRO-0 the "sharded" gradient is the whole fp32 one, over a shard group of 1); with
`disable_cuda_graphs` set it would be the larger of the two instead (not priced).
ZeRO-3 under a pipeline (torchtitan's `fsdp_reshard_after_forward = "always"`, distributed/fsdp.py:55-74): every
backward runs with `set_reshard_after_backward(False)` (pipelining/stage.py:645-649), so the unit's post-backward
leaves it unsharded (_fsdp_param_group.py:488-490 reshards only `if self.reshard_after_backward`); the next forward
finds it gathered (`unshard` returns at :302-303) and reshards it in its post-forward (:443-447, :419-429). From a
stage's first backward of the step until the last one's post-backwards (stage.py:650-666) a unit is unsharded from
its backward to its next forward: at the turn from a backward to a forward the stage's whole unsharded bf16 weights
are held, beside the micro-batches still in flight (interleaved and V schedules: each of the rank's stages; all at
once taken, an upper bound). `fsdp2_stage_unsharded`: where it holds, ZeRO-3's weights are priced as the stage's
unsharded ones (as ZeRO-2's), not the shard and two gathered layers. Priced beside the peak's full stash, an upper
bound by min(a micro-batch's activations of the stage, those weights): at the turn one micro-batch fewer is in flight.
Not priced: the reduce-scatter output (1 / DP of a unit) and HSDP's all-reduce input. False: the memory before
session 69 (`FSDP2_GRAD_MEMORY`; `FSDP2_PIPELINE_UNSHARDED` for the ZeRO-3 weights alone, hF2).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import REDUCE_BYTES, Stack
from infraplan.ops import params as ops_params
from infraplan.scalar_path import larger, pick
from infraplan.training.plan import PlanArrays

FSDP2_GRAD_MEMORY = True  # toggle (False: no FSDP2 gradient tensors beyond the sharded gradient, as before)
FSDP2_PIPELINE_UNSHARDED = True  # toggle (False: ZeRO-3 under a pipeline holds its shard and two gathered layers)
PARAM_BYTES = 2.0  # FSDP2's param dtype in torchtitan (bf16): autograd's unsharded gradients

__all__ = ["fsdp2_kept_grad_bytes", "fsdp2_stage_unsharded", "fsdp2_unit_grad_bytes"]


def _fsdp2(stack: Stack) -> bool:
    """A stack that runs PyTorch FSDP2 per unit (its copy-out / copy-in passes: torchtitan)."""
    return FSDP2_GRAD_MEMORY and stack.fsdp2_copy_passes


def _deferred(plan: PlanArrays, stack: Stack) -> Any:
    """Where the stage's reduce-scatters wait for its last backward (torch's pipelining, PP > 1)."""
    return (plan.pp > 1) & stack.pipeline_grad_reduce_deferred


def fsdp2_kept_grad_bytes(stack: Stack, plan: PlanArrays) -> Any:
    """Bytes per local weight element of the stage's unsharded gradient kept at the reduce width over the
    micro-batches (module docstring), on the plans under a deferring pipeline (every ZeRO stage); 0 elsewhere; None
    where the stack does not run FSDP2."""
    if not _fsdp2(stack):
        return None
    return pick(_deferred(plan, stack), REDUCE_BYTES[stack.grad_reduce_dtype], 0.0)


def fsdp2_stage_unsharded(stack: Stack, plan: PlanArrays) -> Any:
    """Where ZeRO-3's units stay unsharded from a backward to the next forward (torch's pipelining with
    reshard_after_backward False, module docstring): the plans under a deferring pipeline; False elsewhere and where
    the stack does not run FSDP2."""
    if not (_fsdp2(stack) and FSDP2_PIPELINE_UNSHARDED):
        return False
    return _deferred(plan, stack)


def fsdp2_unit_grad_bytes(shape: TransformerShape, plan: PlanArrays, stack: Stack) -> Any:
    """Bytes per GPU that FSDP2's gradients add during a unit's backward beyond the sharded gradient (module
    docstring), at every ZeRO stage (torchtitan's ZeRO-0 is FSDP2 over a shard group of 1): without a deferring
    pipeline 2 B a layer's unsharded weight element + the reduce width x the larger of a layer's and the untied
    output table's (tied: a layer's, + 2 B x the table, its gradient held through the backward); under one 2 B a
    layer's element where the reduce is wider (the fresh gradients before the `+=`), else 0; None where the stack
    does not run FSDP2."""
    if not _fsdp2(stack):
        return None
    reduce = REDUCE_BYTES[stack.grad_reduce_dtype]
    layer = ops_params.local_layer_params(shape, plan.tp, plan.ep, plan.expert_tp)
    table = shape.vocab_size * shape.hidden_size / plan.tp
    if shape.tied_embeddings:  # (the tied unit's bf16 gradient, reduced last: module docstring)
        synced = PARAM_BYTES * layer + reduce * layer + PARAM_BYTES * table
    else:
        synced = PARAM_BYTES * layer + reduce * larger(layer, table)
    piped = PARAM_BYTES * layer if reduce > PARAM_BYTES else 0.0 * layer
    return pick(_deferred(plan, stack), piped, synced)  # (every ZeRO stage: module docstring)
