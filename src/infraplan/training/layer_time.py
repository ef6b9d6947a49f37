"""One transformer layer and the LM head per micro-batch on one GPU: seconds by component and phase.

Per micro-batch and layer on one GPU (tokens T = micro_batch * seq_len / CP), the operations of
`ops.layer_ops` (shared with serving) priced here:
* GEMMs from the real shapes: QKV (GQA widths, KV heads replicated below TP), output projection, FFN
  (two or three matrices; MoE: E/EP local experts, each fed T*top_k*EP/E tokens), router; backward is
  the data-gradient and weight-gradient GEMM of each, priced by `hardware.gemm_time` (`training.layer_kernels`).
* Fused causal attention: 4 T s (a/TP) d / 2 FLOPs forward, 2.5x that backward (FlashAttention recomputes
  the scores); keys span the whole sequence (CP all-gathers K and V).
* Memory-bound element-wise work: norms and residual adds on the sequence-parallel shard, rotary
  embedding, the FFN activation; backward moves twice the forward bytes. fp8 adds the cast + transpose
  of every GEMM input (forward) and output gradient (backward), as Transformer Engine does.
* TP with sequence parallelism: 2 all-gathers + 2 reduce-scatters of the T x h activation forward and
  again backward, on the TP group (not overlapped); without SP, 2 all-reduces each way and the norms and
  residuals run on every TP rank. CP: all-gather of K, V forward, reduce-scatter of
  their gradients backward. EP: all-to-all dispatch + combine forward and backward. Per-tensor scales (fp8
  current scaling, NVFP4) on sequence shards: a 4-byte amax all-reduce over TP per quantised GEMM operand
  (`amax_reductions`, Transformer Engine 2.14), never hidden.
* Recompute: selective adds the forward of the stack's `recompute_modules` to backward (default the attention
  core; `training.recompute_modules`); full adds the whole layer forward.
* Software stack (`catalog.stacks`): TP overlap hides `tp_comm_overlap_fraction` of the TP collectives
  behind the layer's GEMMs (at most their time), which then run on 1 - `tp_overlap_sm_fraction` of the SMs
  while overlapped; fp8 recipes add amax read passes and kernels; kernel-rate multipliers where cited.
* Host issue time (`training.host_time`): the GPU idles for the host issue time no queued GPU work covers.

The EP all-to-all is priced apart (`training.expert_dispatch`: it alone depends on the rank stride); the step
(`training.step_time`) assembles layers, head, pipeline and data-parallel traffic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.hardware.kernels import (
    KernelRates,
    memory_bound_seconds,
    memory_bound_time,
)
from infraplan.network.collectives import Fabric
from infraplan.ops.head import head_ops
from infraplan.ops.layer import (
    ArrayLike,
    Collective,
    Layout,
    layer_ops,
)
from infraplan.ops.precision import RECIPES, PrecisionRecipe, shard_cast_terms
from infraplan.scalar_path import is_plain, larger, pick, smaller, to_float
from infraplan.training.attention_core import (
    SOFTMAX_FALLBACK_KERNELS,
    TE_SINK_SOFTMAX_KERNELS,
    attention_core_times,
    softmax_falls_back,
)
from infraplan.training.enums import Dtype, Recompute
from infraplan.training.host_time import (
    CUDA_GRAPH_LAUNCH_S,
    EAGER_EXTRA_KERNELS,
    MAIN_GRAD_ADD_KERNELS,
    add_dropless_moe_terms,
    kernel_counts,
)
from infraplan.training.layer_kernels import bf16_gemm_sums
from infraplan.training.layer_kernels import collective_times as _collective_times
from infraplan.training.layer_kernels import elementwise_time as _elementwise_time
from infraplan.training.layer_kernels import gemm_fwd_bwd as _gemm_fwd_bwd
from infraplan.training.layer_kernels import result as _result
from infraplan.training.layer_kernels import stream_batched_fwd_bwd as _stream_batched
from infraplan.training.memory import grad_buffer_bytes
from infraplan.training.plan import PlanArrays
from infraplan.training.recompute_modules import recompute_gemm_roles, rerun_elementwise_bytes_per_token

ACT = 2.0  # bf16 activations and communication payloads
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
_RECIPE_VALUES: dict[str, Callable[[PrecisionRecipe], float]] = {
    "cast_bytes": lambda r: r.cast_bytes,
    "quantised_cast_bytes": lambda r: r.cast_bytes * (1.0 - r.bf16_layer_share),  # on the layers it quantises
    "bf16_layer_share": lambda r: r.bf16_layer_share,
    "amax_read_passes": lambda r: r.amax_read_passes,
}
_RECIPE_TABLES: dict[str, np.ndarray] = {}  # per-dtype code tables, built once (RECIPES is a constant)
_RECIPE_FLOATS: dict[str, tuple[float, ...]] = {}  # the same tables as Python floats, for one plan's code


def main_grad_wgrad_bytes(stack: Stack) -> float | None:
    """Bytes per element of the main gradient the wgrad GEMMs read and write (`layer_kernels.wgrad_width`): the
    gradient buffer's dtype on Megatron-class stacks, whose Transformer Engine GEMMs accumulate into `main_grad`;
    None (the output at the operand width) elsewhere."""
    return grad_buffer_bytes(stack) if stack.stack_class == "megatron" else None


def _recipe_column(plan: PlanArrays, name: str) -> np.ndarray:
    """`_RECIPE_VALUES[name]` of each plan's precision recipe (`ops.precision`), as an array over plans (one plan's
    code, a Python int: the float, looked up without numpy indexing)."""
    if type(plan.dtype) is int:  # type: ignore[comparison-overlap]
        floats = _RECIPE_FLOATS.get(name)
        if floats is None:
            floats = _RECIPE_FLOATS[name] = tuple(_recipe_table(name).tolist())
        return floats[plan.dtype]
    return _recipe_table(name)[plan.dtype]


def _recipe_table(name: str) -> np.ndarray:
    """`_RECIPE_VALUES[name]` by `Dtype` code."""
    table = _RECIPE_TABLES.get(name)
    if table is None:
        table = np.array([_RECIPE_VALUES[name](RECIPES[d.label]) for d in Dtype], dtype=np.float64)
        _RECIPE_TABLES[name] = table
    return table


def _layout(plan: PlanArrays, fp8: ArrayLike, stack: Stack | None = None) -> Layout:
    """The plan's layer layout: tokens per GPU = micro_batch * seq_len / CP, EP as the inner factor of DP.

    Casts: the recipe's bytes per cast element on the layers it quantises (not the ones kept in bf16).
    MoE: the stack's routing imbalance / capacity factor and dispatch overlap (`catalog.stacks`).
    """
    tokens = plan.micro_batch * plan.seq_len / to_float(plan.cp)
    cast_bytes = _recipe_column(plan, "quantised_cast_bytes")
    profile = stack or resolve_stack(None, "training")
    moe = profile.moe
    amax, norm_amax, transpose = shard_cast_terms(
        plan.dtype == int(Dtype.FP8), profile.fp8.recipe, profile.fp8.amax_read_passes,
        _recipe_column(plan, "amax_read_passes"), _recipe_column(plan, "bf16_layer_share"))
    return Layout(tokens=tokens, tp=plan.tp, ep=plan.ep, cp=plan.cp, sequence_parallel=plan.sequence_parallel == 1,
                  seq_len=plan.seq_len, batch=plan.micro_batch, ep_stride=plan.ep_stride, fp8_casts=fp8,
                  etp=plan.expert_tp, folded=plan.folded, cast_bytes=cast_bytes, amax_bytes=amax,
                  norm_amax_bytes=norm_amax, gathered_transpose_bytes=transpose, expert_load_factor=moe.load_factor)


# one fp32 amax per quantised tensor
AMAX_BYTES = 4.0


def amax_reductions(shape: TransformerShape, plan: PlanArrays, stack: Stack) -> tuple[float, float, Any]:
    """All-reduces (MAX) of one fp32 amax over the TP group per layer and micro-batch, forward and backward, and
    where they run.

    A per-tensor scale (fp8 current scaling, NVFP4's second-level scale) must be the same on every TP rank of a
    sequence-parallel GEMM, whose operand is quantised on each rank's sequence shard and then all-gathered:
    Transformer Engine 2.14 sets `with_amax_reduction` over the TP group on the input quantizer of each
    column-parallel module (forward) and the output-gradient quantizer of each row-parallel one (backward) when
    `sequence_parallel` is on (transformer_engine/pytorch/module/linear.py:1641-1662 `_customize_quantizers_nvfp4`
    and the current-scaling twin above it; layernorm_linear.py:1743-1786; layernorm_mlp.py:2416-2465). Each is a
    4-byte NCCL all-reduce between the amax kernel and the cast, so no GEMM hides it. Delayed scaling reduces its
    amax history once per step, block and MX scales are local: neither pays it. Per layer: forward the QKV input
    (MLA: the q and kv up-projections, column-parallel on the scattered latents, megatron/core/transformer/
    multi_latent_attention.py:595-614; the down-projections are `duplicated`) and the dense or shared-expert FC1
    input; backward the output-projection and FC2 output gradients. Routed experts (TE GroupedLinear) set none.
    """
    fp8_current = (plan.dtype == int(Dtype.FP8)) & (stack.fp8.recipe == "current")
    mask = (fp8_current | (plan.dtype == int(Dtype.NVFP4))) & (plan.sequence_parallel == 1)
    mlp = 1.0 if (not shape.is_moe or shape.shared_ffn_hidden_size) else 0.0
    return (2.0 if shape.is_mla else 1.0) + mlp, 1.0 + mlp, mask


def _layer_times_but_ep(shape: TransformerShape, rates: KernelRates, fabric: Fabric, plan: PlanArrays,
                        precision: tuple[ArrayLike, ArrayLike], host_dispatch_s: float,
                        stack: Stack) -> tuple[dict[str, np.ndarray], tuple[Collective, ...]]:
    """`layer_times` but the EP all-to-all, and its records (the only term that depends on the EP rank stride,
    so on PP and the rank order): the search prices these once per distinct stride-free row."""
    one = is_plain(plan.tp)  # a `PlanArrays.one_row` plan: Python floats throughout
    fp8 = precision[1] < 2.0
    lay = _layout(plan, fp8, stack)
    ops = layer_ops(shape, lay)
    # the recipe keeps a share of the layers' GEMMs in bf16 (NVFP4: `ops.precision`)
    bf16_share = pick(fp8, _recipe_column(plan, "bf16_layer_share"), 0.0)
    bf16 = ((rates.matmul_flops_per_s, 2.0) if one
            else (np.full(len(plan), rates.matmul_flops_per_s), np.full(len(plan), 2.0)))
    # the wgrad GEMMs accumulate into the main gradient (`layer_kernels.wgrad_width`) where Megatron's fused wgrad
    # accumulation runs (TE + `gradient_accumulation_fusion`); FSDP / DeepSpeed stacks write a fresh wgrad
    grad_bytes = main_grad_wgrad_bytes(stack)
    # `MoeRouting.expert_gemm` per_expert: a grouped entry's `count` GEMMs in its `share` of the layers, one by one;
    # over `expert_gemm_streams` > 1 concurrent streams each run of that many GEMMs shares its waves
    grouped = stack.moe.expert_gemm == "grouped"
    streams = float(stack.moe.expert_gemm_streams)
    gemms = [_stream_batched(rates, precision, g.m, g.n, g.k, g.count, g.share, one, grad_bytes, streams)
             if g.grouped and not grouped and streams > 1.0 else
             _gemm_fwd_bwd(rates, precision, g.m, g.n, g.k, g.count if grouped or not g.grouped else g.count * g.share,
                           g.grouped and grouped, g.share, one, grad_bytes) for g in ops.gemms]
    recipe_fwd, recipe_bwd = sum(g[0] for g in gemms), sum(g[1] for g in gemms)
    bf16_fwd, bf16_bwd = bf16_gemm_sums(rates, ops.gemms, bf16_share, (recipe_fwd, recipe_bwd), bf16, one,
                                        grad_bytes)
    gemm_fwd = recipe_fwd * (1.0 - bf16_share) + bf16_fwd * bf16_share
    gemm_bwd = recipe_bwd * (1.0 - bf16_share) + bf16_bwd * bf16_share
    attn_fwd, attn_bwd = attention_core_times(shape, rates, plan, lay.tokens, stack)
    tp_fwd = _collective_times(fabric, ops.collectives_fwd, "tp", one)
    cp_fwd = _collective_times(fabric, ops.collectives_fwd, "cp", one)
    cp_bwd = _collective_times(fabric, ops.collectives_bwd, "cp", one)
    # amax passes and kernels: the stack's fp8 scaling recipe for fp8, the format's own otherwise (nvfp4's
    # per-tensor scale: an amax kernel and read before each cast)
    is_fp8 = plan.dtype == int(Dtype.FP8)
    amax = pick(is_fp8, stack.fp8.amax_read_passes, _recipe_column(plan, "amax_read_passes"))
    per_gemm = pick(is_fp8, stack.fp8.extra_kernels_per_gemm, _recipe_column(plan, "amax_read_passes"))
    # (one plan: a term `pick` would drop is not computed; the same values)
    fp8_kernels = pick(fp8, per_gemm * ops.gemm_kernels(), 0.0) if not one or fp8 else 0.0
    cast_bytes = larger(_recipe_column(plan, "cast_bytes"), 1e-9)
    eager_fwd, eager_bwd = ((EAGER_EXTRA_KERNELS[0], EAGER_EXTRA_KERNELS[1] + MAIN_GRAD_ADD_KERNELS)
                            if stack.kernel_fusion == "eager" else (0.0, 0.0))
    extra_fwd = fp8_kernels + eager_fwd
    extra_bwd = 2.0 * fp8_kernels + eager_bwd
    elem_fwd = (_elementwise_time(rates, ops.elementwise_fwd, amax, cast_bytes, one)
                + extra_fwd * rates.kernel_overhead_s)
    elem_bwd = (_elementwise_time(rates, ops.elementwise_bwd, amax, cast_bytes, one)
                + extra_bwd * rates.kernel_overhead_s)

    selective = plan.recompute == int(Recompute.SELECTIVE)
    full = plan.recompute == int(Recompute.FULL)
    compute_fwd = gemm_fwd + attn_fwd
    # selective: the stack's recompute modules re-run their forward (`training.recompute_modules`)
    module_fwd: Any = 0.0
    module_elem: Any = 0.0
    if not one or selective:
        rerun = recompute_gemm_roles(stack)
        module_fwd = (attn_fwd * ("core_attn" in stack.recompute_modules)
                      + sum((g[0] for g, op in zip(gemms, ops.gemms, strict=True) if op.role in rerun),
                            0.0 if one else np.zeros(())))
        rerun_bytes = lay.tokens * rerun_elementwise_bytes_per_token(shape, plan.tp, plan.sequence_parallel, stack)
        module_elem = (memory_bound_seconds(rates, rerun_bytes, kernels=2.0) if one  # type: ignore[arg-type]
                       else _result(memory_bound_time(rates, rerun_bytes, kernels=2.0)))
    out = {
        "compute_fwd": compute_fwd,
        "compute_bwd": gemm_bwd + attn_bwd + pick(full, compute_fwd, pick(selective, module_fwd, 0.0)),
        "other_fwd": elem_fwd,
        "other_bwd": elem_bwd + pick(full, elem_fwd, pick(selective, module_elem, 0.0)),
        "tp_fwd": tp_fwd,
        "tp_bwd": tp_fwd + pick(full, tp_fwd, 0.0),
        "cp_fwd": cp_fwd,
        "cp_bwd": cp_bwd + pick(full, cp_fwd, 0.0),
    }
    # TP communication overlap: the hidden share runs under the GEMMs (never longer than them), which lose the
    # SMs the communication kernels occupy while it runs
    sm = stack.tp_overlap_sm_fraction
    for phase, gemm in (("fwd", gemm_fwd), ("bwd", gemm_bwd)):
        hidden = smaller(stack.tp_comm_overlap_fraction * out[f"tp_{phase}"], gemm)
        out[f"tp_{phase}"] = out[f"tp_{phase}"] - hidden
        out[f"compute_{phase}"] = out[f"compute_{phase}"] + hidden * sm / (1.0 - sm)
    # per-tensor scales shared over the TP group: amax all-reduces no overlap hides (`amax_reductions`)
    amax_count_fwd, amax_count_bwd, amax_mask = amax_reductions(shape, plan, stack)
    amax = {ph: _collective_times(fabric, (Collective("all_reduce", "tp", AMAX_BYTES, plan.tp, 1, n, amax_mask),),
                                  "tp", one) for ph, n in (("fwd", amax_count_fwd), ("bwd", amax_count_bwd))}
    out["tp_fwd"] = out["tp_fwd"] + amax["fwd"]
    out["tp_bwd"] = out["tp_bwd"] + amax["bwd"] + pick(full, amax["fwd"], 0.0)
    # host issue time: one dispatch per kernel (eager) or one graph launch per layer and phase (CUDA graphs)
    ops_fwd, ops_bwd = kernel_counts(ops, plan)
    amax_launches = pick(amax_mask & (plan.tp > 1), 1.0, 0.0)
    ops_fwd = ops_fwd + amax_count_fwd * amax_launches
    ops_bwd = ops_bwd + (amax_count_bwd + pick(full, amax_count_fwd, 0.0)) * amax_launches
    # the eager softmax's launches (`softmax_falls_back`), again where the recompute re-runs the attention core
    eager = pick(softmax_falls_back(shape, plan, stack), SOFTMAX_FALLBACK_KERNELS, 0.0)
    ops_fwd, ops_bwd = ops_fwd + eager, ops_bwd + eager + pick(full | selective, eager, 0.0)
    if shape.attention_sinks and stack.sink_attention == "te_unfused":  # TE's unfused sink attention, not 1 + 3
        # fused kernels: 2 batched GEMMs + the eager softmax forward, 4 + the softmax backward (`attention_core_times`)
        sink_fwd = TE_SINK_SOFTMAX_KERNELS + 2.0 - 1.0
        ops_fwd, ops_bwd = ops_fwd + sink_fwd, ops_bwd + TE_SINK_SOFTMAX_KERNELS + 4.0 - 3.0 + pick(
            full | selective, sink_fwd, 0.0)
    recomputed = pick(full, extra_fwd, 0.0)
    for phase, count in (("fwd", ops_fwd + extra_fwd), ("bwd", ops_bwd + extra_bwd + recomputed)):
        if one:
            out[f"host_{phase}"] = CUDA_GRAPH_LAUNCH_S if stack.cuda_graphs else float(count * host_dispatch_s)
            continue
        out[f"host_{phase}"] = (np.full(np.shape(count), CUDA_GRAPH_LAUNCH_S) if stack.cuda_graphs
                                else np.asarray(count * host_dispatch_s, dtype=np.float64))
    # MoE: the block's eager issue after its sync under CUDA graphs, the local experts' host work and the sync in
    # eager stacks (`host_time.add_dropless_moe_terms`)
    add_dropless_moe_terms(out, ops, sum((g[0] for g, op in zip(gemms, ops.gemms, strict=True)
                                          if op.role in ("expert_up", "expert_down")), 0.0), full, host_dispatch_s,
                           one, stack, plan.dtype, shape.is_moe and shape.linear_biases)
    return out, tuple(c for c in ops.collectives_fwd if c.role == "ep")


def layer_kernel_counts(shape: TransformerShape, plan: PlanArrays) -> tuple[np.ndarray, np.ndarray]:
    """Kernels (and collectives) the host launches per layer and micro-batch, forward and backward.

    Forward: the layer's GEMMs, attention (1 fused kernel, or 2 batched GEMMs + softmax + dropout unfused),
    the element-wise kernels, TP/CP/EP collectives and fp8 casts of `ops.layer_ops`. Backward: twice the
    GEMMs, 3 (fused) or 6 (unfused) attention kernels, the backward element-wise kernels, the same
    collectives and casts, plus whatever recompute re-runs.
    """
    return kernel_counts(layer_ops(shape, _layout(plan, plan.dtype != int(Dtype.BF16))), plan)


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
    native = stack.fused_cross_entropy and stack.cross_entropy_impl == "native"
    ce_bytes, ce_kernels = NATIVE_CROSS_ENTROPY_PASSES if native else CROSS_ENTROPY_PASSES[stack.fused_cross_entropy]
    logits = tokens * shape.vocab_size / plan.tp

    def memory(bytes_moved: ArrayLike, kernels: float = 1.0) -> Any:
        return (memory_bound_seconds(rates, bytes_moved, kernels) if one  # type: ignore[arg-type]
                else _result(memory_bound_time(rates, bytes_moved, kernels=kernels)))

    loss = memory(ce_bytes * logits, ce_kernels)
    rows = shape.vocab_size / plan.tp * shape.hidden_size
    embed_fwd = memory(4.0 * tokens * shape.hidden_size)
    embed_bwd = memory(2.0 * tokens * shape.hidden_size + 14.0 * rows, 3.0)
    host = CUDA_GRAPH_LAUNCH_S if stack.cuda_graphs else host_dispatch_s
    comm = _end_collectives(shape, plan, tokens, stack) if fabric is not None else {
        (end, ph): () for end in ("head", "embed") for ph in ("fwd", "bwd")}
    tp = {(end, ph): 0.0 * fwd if fabric is None else _collective_times(fabric, comm[(end, ph)], "tp", one)
          for end in ("head", "embed") for ph in ("fwd", "bwd")}
    launches = {k: sum((c.count if c.mask and c.group > 1 else 0.0 for c in records), 0.0) if one
                else sum((c.launches() for c in records), np.zeros(np.shape(fwd))) for k, records in comm.items()}

    def issue(kernels: float, end: str, ph: str) -> Any:
        issued = (kernels + launches[(end, ph)]) * host
        return issued if one else np.broadcast_to(issued, np.shape(fwd)).astype(np.float64)

    return {"head_compute": fwd + bwd, "head_other": loss, "head_tp": tp[("head", "fwd")] + tp[("head", "bwd")],
            "head_gpu_fwd": fwd + loss / 3.0 + tp[("head", "fwd")],
            "head_gpu_bwd": bwd + 2.0 * loss / 3.0 + tp[("head", "bwd")],
            "head_host_fwd": issue(1.0 + ce_kernels / 3.0, "head", "fwd"),
            "head_host_bwd": issue(2.0 + 2.0 * ce_kernels / 3.0, "head", "bwd"),
            "embed_other": embed_fwd + embed_bwd, "embed_tp": tp[("embed", "fwd")] + tp[("embed", "bwd")],
            "embed_gpu_fwd": embed_fwd + tp[("embed", "fwd")], "embed_gpu_bwd": embed_bwd + tp[("embed", "bwd")],
            "embed_host_fwd": issue(EMBEDDING_KERNELS[0], "embed", "fwd"),
            "embed_host_bwd": issue(EMBEDDING_KERNELS[1], "embed", "bwd")}


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
    act = tokens * shape.hidden_size * ACT
    sp = plan.sequence_parallel == 1
    no_sp = plan.sequence_parallel != 1
    ce_reduces = 2.0 if stack.fused_cross_entropy else 3.0
    return {
        ("embed", "fwd"): (Collective("all_reduce", "tp", act, plan.tp, 1, 1.0, no_sp),
                           Collective("reduce_scatter", "tp", act, plan.tp, 1, 1.0, sp)),
        ("embed", "bwd"): (Collective("all_gather", "tp", act, plan.tp, 1, 1.0, sp),),
        ("head", "fwd"): (Collective("all_gather", "tp", act, plan.tp, 1, 1.0, sp),
                          Collective("all_reduce", "tp", tokens * 4.0, plan.tp, 1, ce_reduces)),
        ("head", "bwd"): (Collective("all_reduce", "tp", act, plan.tp, 1, 1.0, no_sp),
                          Collective("reduce_scatter", "tp", act, plan.tp, 1, 1.0, sp)),
    }


