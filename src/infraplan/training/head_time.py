"""The LM head, the loss and the embedding per micro-batch on one GPU: seconds by component and phase.

The pipeline's end stages run them beside their layers (`training.step_assembly`: the embedding on the first
stage, the LM head and the loss on the last):
* LM head: the vocab-parallel (T x V/TP x h) GEMM, in bf16 whatever the recipe (Megatron-Core's `output_layer`
  is a ColumnParallelLinear outside Transformer Engine's fp8 / fp4 autocast, megatron/core/models/gpt/gpt_model.py),
  its wgrad into the main gradient (`main_grad_accumulation.main_grad_wgrad_bytes`).
* Cross-entropy over fp32 vocab-parallel logits (Megatron tensor_parallel/cross_entropy.py): bytes per local logit
  and kernels, unfused, fused or Megatron-Core's native fused loss (`CROSS_ENTROPY_PASSES`,
  `NATIVE_CROSS_ENTROPY_PASSES`), or PyTorch's plain F.cross_entropy (torchtitan, `TORCH_CROSS_ENTROPY_PASSES`).
* Embedding: the forward gather and the backward of a dense embedding into the fp32 main gradient
  (`EMBEDDING_KERNELS`).
* Their TP collectives (Megatron-Core tensor_parallel/layers.py and cross_entropy.py, `_end_collectives`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.hardware.kernels import KernelRates, memory_bound_seconds, memory_bound_time
from infraplan.network.collectives import Fabric
from infraplan.ops.head import head_ops
from infraplan.ops.layer import ArrayLike, Collective
from infraplan.ops.layer_records import collective_launches
from infraplan.ops.params import ACT_BYTES
from infraplan.scalar_path import is_plain
from infraplan.training.cuda_graph_rule import GRAPHED, ruled
from infraplan.training.host_time import CUDA_GRAPH_LAUNCH_S
from infraplan.training.layer_kernels import collective_times as _collective_times
from infraplan.training.layer_kernels import gemm_fwd_bwd as _gemm_fwd_bwd
from infraplan.training.layer_kernels import result as _result
from infraplan.training.main_grad_accumulation import main_grad_wgrad_bytes
from infraplan.training.plan import PlanArrays

__all__ = ["CROSS_ENTROPY_PASSES", "EMBEDDING_KERNELS", "NATIVE_CROSS_ENTROPY_PASSES", "TORCH_CROSS_ENTROPY_PASSES",
           "head_times"]

# vocab-parallel cross-entropy over fp32 logits (Megatron tensor_parallel/cross_entropy.py), bytes per local logit
# and kernels, forward + backward. Unfused: upcast (2+4), max (4), subtract max (4+4), exp (4+4), sum (4), divide
# into the saved softmax (4+4), backward scale by the loss gradient (4+4), downcast (4+2) = 52 B, 9 passes plus 4
# target gather / mask kernels. Fused (Megatron-core cross_entropy_loss_fusion): one forward pass reading the
# logits and one backward pass reading them and writing the gradient, fp32 in registers: 16 B in 3 kernels.
CROSS_ENTROPY_PASSES = {False: (52.0, 13.0), True: (16.0, 3.0)}
# Megatron-Core's "native" fused loss (`cross_entropy_fusion_impl: native`, the ModelParallelConfig default,
# model_parallel_config.py:246; megatron-core 0.16.1 fusions/fused_cross_entropy.py): four torch.compile'd pieces
# between the TP all-reduces, each materialising the fp32 logits (tensor_parallel/cross_entropy.py): the upcast
# copy with its row max (read 2, write 4), the in-place subtract + exp with the row sum (4 + 4), the in-place
# division into the saved softmax (4 + 4); backward the in-place target update and scale by the loss gradient,
# written back to the saved softmax, and the bf16 gradient (4 + 4 + 2): 32 B per local logit in 6 kernels
# (`Stack.cross_entropy_impl`).
NATIVE_CROSS_ENTROPY_PASSES = (32.0, 6.0)
# PyTorch's plain loss (`cross_entropy_impl: torch`; torchtitan 0.2.0 components/loss.py:19-23
# `F.cross_entropy(pred.flatten(0, 1).float(), ...)`, 0.3.0 :60-65), keyed by DTensor loss_parallel, on at TP > 1
# (torchtitan 0.2.0 config/job_config.py:312 `disable_loss_parallel: bool = False`, models/llama3/infra/
# parallelize.py:89, :174-175: the output layer's logits stay Shard(-1)). Bytes per local logit, kernels a micro-batch:
# * TP 1, ATen's kernels: upcast (2 + 4), log_softmax (cunn_SoftMaxForward: a max pass, an exp-sum pass and the write
#   pass over a row too big for shared memory, 4 x 3 + 4), nll_loss (the target logits only), its backward's dense
#   zeroed gradient (4) and scatter, log_softmax's backward (a gradient-sum pass, then gradient + output read and the
#   gradient written, 16), downcast (4 + 2): 48 B in 7 kernels (the softmax kernels' passes RECALLED from ATen's
#   SoftMax.cu: no CUDA source in reach).
# * TP > 1, DTensor's handlers (torch 2.14.1 distributed/tensor/parallel/loss.py, the wheel in reach; its structure
#   since loss_parallel's release RECALLED): upcast 6; `_log_softmax` :197-221 amax 4, x - max 8, exp 8, sum 4,
#   shifted - logsumexp 8; backward `_nll_loss_and_log_softmax_backward` :451-518 zeros_like 4, exp 8, + 12, x grad 8;
#   downcast 6: 76 B. Kernels: those 11 over the logits + 36 on T values (the log; the target masks of
#   `_MaskPartial` twice, tensor/placement_types.py:1936-1946, the gather, where, total-weight, mean and index_put
#   ops of :300-346 and :463-509, counted from the lines): 47. The 3 all-reduces are `_end_collectives`'.
TORCH_CROSS_ENTROPY_PASSES = {False: (48.0, 7.0), True: (76.0, 47.0)}

# embedding kernels per micro-batch: the forward gather; backward zeroing, embedding_dense_backward, main-grad add
EMBEDDING_KERNELS = (1.0, 3.0)


def head_times(shape: TransformerShape, rates: KernelRates, plan: PlanArrays,
               precision: tuple[ArrayLike, ArrayLike], stack: Stack | None = None,
               host_dispatch_s: float = 0.0, fabric: Fabric | None = None) -> dict[str, np.ndarray]:
    """LM head GEMM (bf16 under every recipe), cross-entropy and embedding per micro-batch: seconds by component
    and phase, host issue; with a `fabric`, their TP collectives (`_end_collectives`, `head_tp` / `embed_tp`).

    Cross-entropy over fp32 vocab-parallel logits: `CROSS_ENTROPY_PASSES` (unfused: 52 B per local logit in
    13 kernels; fused: 16 B in 3; Megatron-Core's native fused loss 32 B in 6, `NATIVE_CROSS_ENTROPY_PASSES`), one
    third forward. Embedding: the forward gather (read + write T x h, bf16)
    and the backward of a dense embedding (PyTorch embedding_dense_backward writes a V/TP x h bf16 gradient
    after zeroing it; Megatron adds it into the fp32 main grad: 2 + 2 + 2 + 4 + 4 B per local row element,
    plus reading the T x h output gradient). The embedding's terms are their own (`embed_*`): with PP it runs on
    the first stage and the LM head + loss on the last (`training.step_assembly`).
    """
    stack = stack or resolve_stack(None, "training")
    tokens = plan.micro_batch * plan.seq_len / plan.cp
    head = head_ops(shape, tokens, plan.tp)
    # the LM head runs in bf16 whatever the recipe: Megatron-Core's `output_layer` is a tensor-parallel
    # ColumnParallelLinear outside Transformer Engine's fp8 / fp4 autocast (megatron/core/models/gpt/gpt_model.py)
    one = is_plain(plan.tp)  # a `PlanArrays.one_row` plan: Python floats throughout
    bf16 = ((rates.matmul_flops_per_s, 2.0) if one else
            (np.full(np.shape(precision[0]), rates.matmul_flops_per_s), np.full(np.shape(precision[1]), 2.0)))
    fwd, bwd = _gemm_fwd_bwd(rates, bf16, head.gemm.m, head.gemm.n, head.gemm.k, one=one,
                             grad_bytes=main_grad_wgrad_bytes(stack))
    ce_bytes, ce_kernels = _loss_passes(stack, plan.tp, one)
    logits = tokens * shape.vocab_size / plan.tp

    def memory(bytes_moved: ArrayLike, kernels: float = 1.0) -> Any:
        return (memory_bound_seconds(rates, bytes_moved, kernels) if one  # type: ignore[arg-type]
                else _result(memory_bound_time(rates, bytes_moved, kernels=kernels)))

    loss = memory(ce_bytes * logits, ce_kernels)
    rows = shape.vocab_size / plan.tp * shape.hidden_size
    # a non-Megatron stack's gradient accumulation adds the head's fresh wgrad into its .grad, as the layers'
    # (`main_grad_accumulation.unfused_main_grad_bytes`; Megatron stacks accumulate in the GEMM, or per hL88's layer
    # hook)
    accumulate = stack.grad_accumulation_bytes if stack.stack_class != "megatron" else 0.0
    added = memory(accumulate * rows) if accumulate else 0.0 * loss  # backward, in `head_other`
    embed_fwd = memory(4.0 * tokens * shape.hidden_size)
    embed_bwd = memory(2.0 * tokens * shape.hidden_size + 14.0 * rows, 3.0)
    host = CUDA_GRAPH_LAUNCH_S if stack.cuda_graphs and not ruled(stack) else host_dispatch_s
    comm = _end_collectives(shape, plan, tokens, stack) if fabric is not None else {
        (end, ph): () for end in ("head", "embed") for ph in ("fwd", "bwd")}
    tp = {(end, ph): 0.0 * fwd if fabric is None else _collective_times(fabric, comm[(end, ph)], "tp", one)
          for end in ("head", "embed") for ph in ("fwd", "bwd")}
    launches = {k: collective_launches(records, one) for k, records in comm.items()}  # (`issue` broadcasts them)

    def issue(kernels: float, end: str, ph: str, launch_s: float = host) -> Any:
        issued = (kernels + launches[(end, ph)]) * launch_s
        return issued if one else np.broadcast_to(issued, np.shape(fwd)).astype(np.float64)

    graphed = {} if not ruled(stack) else {  # (graph launches beside the eager ones: `cuda_graph_rule`, hT70)
        GRAPHED + f"{end}_host_{ph}": issue(kernels, end, ph, CUDA_GRAPH_LAUNCH_S) for end, ph, kernels in (
            ("head", "fwd", 1.0 + ce_kernels / 3.0), ("head", "bwd", 2.0 + 2.0 * ce_kernels / 3.0),
            ("embed", "fwd", EMBEDDING_KERNELS[0]), ("embed", "bwd", EMBEDDING_KERNELS[1]))}
    return graphed | {"head_compute": fwd + bwd, "head_other": loss + added,
            "head_tp": tp[("head", "fwd")] + tp[("head", "bwd")],
            "head_gpu_fwd": fwd + loss / 3.0 + tp[("head", "fwd")],
            "head_gpu_bwd": bwd + 2.0 * loss / 3.0 + added + tp[("head", "bwd")],
            "head_host_fwd": issue(1.0 + ce_kernels / 3.0, "head", "fwd"),
            "head_host_bwd": issue(2.0 + 2.0 * ce_kernels / 3.0, "head", "bwd"),
            "embed_other": embed_fwd + embed_bwd, "embed_tp": tp[("embed", "fwd")] + tp[("embed", "bwd")],
            "embed_gpu_fwd": embed_fwd + tp[("embed", "fwd")], "embed_gpu_bwd": embed_bwd + tp[("embed", "bwd")],
            "embed_host_fwd": issue(EMBEDDING_KERNELS[0], "embed", "fwd"),
            "embed_host_bwd": issue(EMBEDDING_KERNELS[1], "embed", "bwd")}


def _loss_passes(stack: Stack, tp: ArrayLike, one: bool) -> tuple[Any, Any]:
    """Bytes per local logit and kernels of the stack's loss (`CROSS_ENTROPY_PASSES`, `NATIVE_CROSS_ENTROPY_PASSES`,
    `TORCH_CROSS_ENTROPY_PASSES` by TP: loss_parallel at TP > 1), plain floats on the one-plan path."""
    if stack.cross_entropy_impl == "torch":
        (plain_b, plain_k), (par_b, par_k) = TORCH_CROSS_ENTROPY_PASSES[False], TORCH_CROSS_ENTROPY_PASSES[True]
        if one:
            return (par_b, par_k) if float(tp) > 1 else (plain_b, plain_k)
        parallel = np.asarray(tp) > 1
        return np.where(parallel, par_b, plain_b), np.where(parallel, par_k, plain_k)
    native = stack.fused_cross_entropy and stack.cross_entropy_impl == "native"
    return NATIVE_CROSS_ENTROPY_PASSES if native else CROSS_ENTROPY_PASSES[stack.fused_cross_entropy]


def _end_collectives(shape: TransformerShape, plan: PlanArrays, tokens: ArrayLike,
                     stack: Stack) -> dict[tuple[str, str], tuple[Collective, ...]]:
    """TP collectives of the embedding and the LM head + loss per micro-batch, by (end, phase) (Megatron-Core
    tensor_parallel/layers.py and cross_entropy.py; `T x h` bf16 activations, the layers' TP group at stride 1).

    Embedding (`VocabParallelEmbedding`, each rank gathers its vocabulary rows): forward all-reduce of the T x h
    output (`reduce_from_tensor_model_parallel_region`), backward nothing; with sequence parallelism a forward
    reduce-scatter onto the sequence shards and a backward all-gather of their gradient. LM head
    (`ColumnParallelLinear`, outside Transformer Engine's overlapped layers): without SP the input's backward
    all-reduce (`copy_to_tensor_model_parallel_region`); with SP a forward all-gather of the sequence shards and a
    backward reduce-scatter. Vocab-parallel cross-entropy: all-reduces of T fp32 values over TP, forward: the
    max, the sum of exponentials and the target logit (3; fused: the last two in one, 2).
    """
    act = tokens * shape.hidden_size * ACT_BYTES
    sp = plan.sequence_parallel == 1
    no_sp = plan.sequence_parallel != 1
    # torch (loss_parallel): max, sum of exponentials and the masked target logit, as the unfused loss
    ce_reduces = 2.0 if stack.fused_cross_entropy and stack.cross_entropy_impl != "torch" else 3.0
    return {
        ("embed", "fwd"): (Collective("all_reduce", "tp", act, plan.tp, 1, 1.0, no_sp),
                           Collective("reduce_scatter", "tp", act, plan.tp, 1, 1.0, sp)),
        ("embed", "bwd"): (Collective("all_gather", "tp", act, plan.tp, 1, 1.0, sp),),
        ("head", "fwd"): (Collective("all_gather", "tp", act, plan.tp, 1, 1.0, sp),
                          Collective("all_reduce", "tp", tokens * 4.0, plan.tp, 1, ce_reduces)),
        ("head", "bwd"): (Collective("all_reduce", "tp", act, plan.tp, 1, 1.0, no_sp),
                          Collective("reduce_scatter", "tp", act, plan.tp, 1, 1.0, sp)),
    }
