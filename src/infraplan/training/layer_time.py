"""One transformer layer per micro-batch on one GPU: seconds by component and phase.

Per micro-batch and layer on one GPU (tokens T = micro_batch * seq_len / CP), the operations of
`ops.layer_ops` (shared with serving) priced here:
* GEMMs from the real shapes: QKV (GQA widths, KV heads replicated below TP), output projection, FFN
  (two or three matrices; MoE: E/EP local experts, each fed T*top_k*EP/E tokens), router; backward is
  the data-gradient and weight-gradient GEMM of each, priced by `hardware.gemm_time` (`training.layer_kernels`);
  the experts' forward and data-gradient GEMMs at the row tiles of their routed counts' spread around the mean
  (`training.expert_counts`: binomial under forced load balancing).
* Fused causal attention: 4 T s (a/TP) d / 2 FLOPs forward, 2.5x that backward (FlashAttention recomputes
  the scores); keys span the whole sequence (CP all-gathers K and V).
* Memory-bound element-wise work: norms and residual adds on the sequence-parallel shard, rotary
  embedding, the FFN activation; backward moves twice the forward bytes. fp8 adds the cast + transpose
  of every GEMM input (forward) and output gradient (backward), as Transformer Engine does. A recipe without
  `gradient_accumulation_fusion` adds the hook's copy / add of each weight gradient into the main gradient, a
  non-Megatron stack its `grad_accumulation_bytes` (`training.main_grad_accumulation.unfused_main_grad_bytes`); an
  eager stack's `unfused_elementwise` ops add the passes they move beyond the fused count (`ops.eager_passes`).
* TP with sequence parallelism: 2 all-gathers + 2 reduce-scatters of the T x h activation forward and
  again backward, on the TP group (not overlapped); without SP, 2 all-reduces each way and the norms and
  residuals run on every TP rank. CP: all-gather of K, V forward, reduce-scatter of
  their gradients backward. EP: all-to-all dispatch + combine forward and backward. Per-tensor scales (fp8
  current scaling, NVFP4) on sequence shards: a 4-byte amax all-reduce over TP per quantised GEMM operand
  (`training.tp_quantised_collectives`, Transformer Engine 2.14), never hidden.
* Recompute: selective adds the forward of the stack's `recompute_modules` to backward (default the attention
  core; torchtitan's op_sac: shares of the GEMMs and all forward element-wise work; `training.recompute_modules`);
  full adds the whole layer forward, and where the stack splits the saved input over TP (DeepSpeed's
  `partition_activations`) its copies and a T x h all-gather (`layer_kernels.partitioned_checkpoint_seconds`).
* Software stack (`catalog.stacks`): TP overlap hides `tp_comm_overlap_fraction` of the TP collectives TE's
  linears run (not the MoE dispatcher's) behind the layer's GEMMs (at most their time), which then run on
  1 - `tp_overlap_sm_fraction` of the SMs while overlapped (none on MLA models under Megatron-Core, nor in a plan
  without sequence parallelism: `training.tp_overlap`); fp8 recipes add amax read passes and kernels; kernel-rate
  multipliers where cited. With TP overlap off (per plan), `tp_async_backward` stacks hide each column-parallel dgrad
  reduction under its own linear's wgrad GEMM (TE 2.14's async NCCL path, `tp_overlap.async_dgrad_window_s`) and
  price the wgrad input re-gathers beyond the dgrad GEMMs (`training.sp_regather`); `quantized_tp_all_gather` stacks
  gather in the recipe's format (`training.tp_quantised_collectives`); `nvfp4_bf16_layer_share` replaces the NVFP4
  recipe's bf16 layers (`bf16_layer_share`).
* Host issue time (`add_host_seconds`, `training.host_time`): the GPU idles for the host issue time no queued GPU
  work covers. Eager stacks dispatch every kernel (`host_time.kernel_counts` of the layer's `ops.layer_ops`, at the
  calibrated per-kernel dispatch time), CUDA-graph stacks launch one graph per layer and phase
  (`host_time.CUDA_GRAPH_LAUNCH_S`); beyond the layer table the amax all-reduces of per-tensor scales, the eager
  softmax's launches where the fused kernel falls back (`attention_core.softmax_falls_back`), Transformer Engine's
  unfused sink attention and fp8 attention's casts (`training.fp8_dpa`), each again where the recompute re-runs it
  (merged back from training/layer_launches.py, hE62).

The EP all-to-all is priced apart (`training.expert_dispatch`: it alone depends on the rank stride), the LM head,
loss and embedding in `training.head_time` (importable from here); the step (`training.step_time`) assembles
layers, head, pipeline and data-parallel traffic.
"""

from __future__ import annotations

import math
from operator import itemgetter
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.hardware.kernels import (
    KernelRates,
    memory_bound_seconds,
    memory_bound_time,
)
from infraplan.network.collectives import Fabric
from infraplan.ops.gemm_scale_work import scale_kernels
from infraplan.ops.gpt_oss_experts import geglu_offset_syncs
from infraplan.ops.layer import (
    ArrayLike,
    Collective,
    LayerOps,
    layer_ops,
)
from infraplan.ops.nvfp4_recipe import NVFP4_RECIPE_WORK, nvfp4_recipe_seconds
from infraplan.scalar_path import anywhere, is_plain, larger, pick, smaller
from infraplan.training import fp8_dpa, shared_expert_side, sp_regather, tp_overlap
from infraplan.training.attention_core import (
    FP8_DPA_CAST_KERNELS,
    SOFTMAX_FALLBACK_KERNELS,
    TE_SINK_SOFTMAX_KERNELS,
    attention_core_times,
    softmax_falls_back,
)
from infraplan.training.cuda_graph_rule import with_graphs
from infraplan.training.enums import Dtype, Recompute
from infraplan.training.expert_counts import count_spread, routed_gemm_fwd_bwd
from infraplan.training.expert_quantize import expert_block_quantize_s, expert_quantize_kernels
from infraplan.training.head_time import CROSS_ENTROPY_PASSES as CROSS_ENTROPY_PASSES
from infraplan.training.head_time import EMBEDDING_KERNELS as EMBEDDING_KERNELS
from infraplan.training.head_time import NATIVE_CROSS_ENTROPY_PASSES as NATIVE_CROSS_ENTROPY_PASSES
from infraplan.training.head_time import head_times as head_times
from infraplan.training.host_time import (
    CUDA_GRAPH_LAUNCH_S,
    EAGER_EXTRA_KERNELS,
    MAIN_GRAD_ADD_KERNELS,
    add_dropless_moe_terms,
    kernel_counts,
)
from infraplan.training.layer_kernels import bf16_gemm_sums, partitioned_checkpoint_seconds
from infraplan.training.layer_kernels import collective_times as _collective_times
from infraplan.training.layer_kernels import elementwise_time as _elementwise_time
from infraplan.training.layer_kernels import gemm_fwd_bwd as _gemm_fwd_bwd
from infraplan.training.layer_kernels import result as _result
from infraplan.training.layer_kernels import stream_batched_fwd_bwd as _stream_batched
from infraplan.training.layer_layout import layer_layout as layer_layout
from infraplan.training.layer_recipe import ACT as ACT
from infraplan.training.layer_recipe import bf16_layer_share as bf16_layer_share
from infraplan.training.layer_recipe import cast_bytes_per_element as cast_bytes_per_element
from infraplan.training.layer_recipe import one_plan_terms, quantised_gather_ratios, recipe_column
from infraplan.training.main_grad_accumulation import main_grad_wgrad_bytes, unfused_main_grad_bytes
from infraplan.training.plan import PlanArrays
from infraplan.training.recompute_modules import rerun_elementwise_bytes_per_token, rerun_gemm_shares
from infraplan.training.tp_quantised_collectives import (
    amax_reduction_seconds,
    quantised_gather_deltas,
    te_gather_records,
)

_FWD, _BWD = itemgetter(0), itemgetter(1)  # a (forward, backward) pair's terms


# the training dtypes whose GEMM calls may run scale kernels (`ops.gemm_scale_work`), with their codes
_SCALED_DTYPES = (("mxfp8", int(Dtype.MXFP8)), ("fp8", int(Dtype.FP8)))



def layer_times_but_ep(shape: TransformerShape, rates: KernelRates, fabric: Fabric, plan: PlanArrays,
                       precision: tuple[ArrayLike, ArrayLike], host_dispatch_s: float,
                       stack: Stack) -> tuple[dict[str, np.ndarray], tuple[Collective, ...]]:
    """`layer_times` but the EP all-to-all, and its records (the only term that depends on the EP rank stride,
    so on PP and the rank order): the search prices these once per distinct stride-free row."""
    one = is_plain(plan.tp)  # a `PlanArrays.one_row` plan: Python floats throughout
    fp8 = precision[1] < 2.0
    lay = layer_layout(plan, fp8, stack, rates.fp8_gemm_layouts)
    ops = layer_ops(shape, lay)
    # one plan: its precision's terms below as kept (`one_plan_terms`: the same calls, once per stack and dtype)
    kept = one_plan_terms(plan, fp8, stack, rates.fp8_gemm_layouts)[1] if one else None
    # the recipe keeps a share of the layers' GEMMs in bf16 (NVFP4: `ops.precision`)
    bf16_share = kept[0] if kept is not None else pick(fp8, bf16_layer_share(plan, stack), 0.0)
    bf16 = ((rates.matmul_flops_per_s, 2.0) if one
            else (np.full(len(plan), rates.matmul_flops_per_s), np.full(len(plan), 2.0)))
    # the wgrad GEMMs accumulate into the main gradient (`main_grad_accumulation.wgrad_width`) where Megatron's fused
    # wgrad accumulation runs (TE + `gradient_accumulation_fusion`); FSDP / DeepSpeed stacks write a fresh wgrad
    grad_bytes = kept[4] if kept is not None else main_grad_wgrad_bytes(stack)
    # `MoeRouting.expert_gemm` per_expert: a grouped entry's `count` GEMMs in its `share` of the layers, one by one;
    # over `expert_gemm_streams` > 1 concurrent streams each run of that many GEMMs shares its waves
    routing, moe = stack.moe, shape.is_moe  # (read once: each read of a spec goes through pydantic's hook)
    grouped = routing.expert_gemm == "grouped"
    streams = float(routing.expert_gemm_streams)
    # the experts' forward / dgrad GEMMs at the routed counts' expected row tiles (`training.expert_counts`)
    spread = count_spread(shape.num_experts, shape.experts_per_token) if moe else 0.0
    gemms = [_stream_batched(rates, precision, g.m, g.n, g.k, g.count, g.share, one, grad_bytes, streams)
             if g.grouped and not grouped and streams > 1.0 else
             routed_gemm_fwd_bwd(rates, precision, g.m, g.n, g.k, g.count if grouped else g.count * g.share, grouped,
                                 g.share, one, grad_bytes, spread) if g.grouped else
             _gemm_fwd_bwd(rates, precision, g.m, g.n, g.k, g.count, False, g.share, one, grad_bytes)
             for g in ops.gemms]
    recipe_fwd, recipe_bwd = sum(map(_FWD, gemms)), sum(map(_BWD, gemms))  # (from 0, in order: no generator)
    bf16_fwd, bf16_bwd = bf16_gemm_sums(rates, ops.gemms, bf16_share, (recipe_fwd, recipe_bwd), bf16, one,
                                        grad_bytes)
    gemm_fwd = recipe_fwd * (1.0 - bf16_share) + bf16_fwd * bf16_share
    gemm_bwd = recipe_bwd * (1.0 - bf16_share) + bf16_bwd * bf16_share
    attn_fwd, attn_bwd = attention_core_times(shape, rates, plan, lay.tokens, stack)
    tp_fwd = tp_bwd = _collective_times(fabric, ops.collectives_fwd, "tp", one)
    gather_ratio: Any = 1.0  # the forward gathers' bytes over bf16's (the wgrad re-gathers', `sp_regather`)
    if kept is not None:  # one plan: its kept ratios (`one_plan_terms`)
        ratios: tuple[float, float] | None = kept[5]
        gather_ratio = ratios[0] if ratios is not None else 1.0
        # (a bf16 plan's gathers move their bf16 bytes, ratios 1.0: each delta is `base - base` of their TP time,
        # 0.0 wherever the TP time they are part of, a sum of terms none negative, is finite; nothing to price)
        if ratios is not None and not (ratios[0] == 1.0 and ratios[1] == 1.0 and math.isfinite(tp_fwd)):
            d_fwd, d_bwd = quantised_gather_deltas(fabric, ops.collectives_fwd, ratios[0], ratios[1], one,
                                                   ops.collectives_bwd)
            tp_fwd, tp_bwd = tp_fwd + d_fwd, tp_bwd + d_bwd
    elif stack.quantized_tp_all_gather:  # the SP all-gathers in the GEMMs' format (`training.tp_quantised_collectives`)
        gather_ratio, bwd_ratio = quantised_gather_ratios(plan, fp8, stack, bf16_share)  # type: ignore[misc]
        d_fwd, d_bwd = quantised_gather_deltas(fabric, ops.collectives_fwd, gather_ratio, bwd_ratio, one,
                                               ops.collectives_bwd)
        tp_fwd, tp_bwd = tp_fwd + d_fwd, tp_bwd + d_bwd
    cp_fwd = _collective_times(fabric, ops.collectives_fwd, "cp", one)
    cp_bwd = _collective_times(fabric, ops.collectives_bwd, "cp", one)
    # amax passes and kernels: the stack's fp8 scaling recipe for fp8, the format's own otherwise (nvfp4's
    # per-tensor scale: an amax kernel and read before each cast)
    if kept is not None:
        amax, per_gemm, cast_bytes = kept[1], kept[2], kept[3]
    else:
        is_fp8 = plan.dtype == int(Dtype.FP8)
        amax = pick(is_fp8, stack.fp8.amax_read_passes, recipe_column(plan, "amax_read_passes"))
        per_gemm = pick(is_fp8, stack.fp8.extra_kernels_per_gemm, recipe_column(plan, "amax_read_passes"))
        cast_bytes = larger(cast_bytes_per_element(plan, stack, rates.fp8_gemm_layouts), 1e-9)
    # (one plan: a term `pick` would drop is not computed; the same values)
    fp8_kernels = pick(fp8, per_gemm * ops.gemm_kernels(), 0.0) if not one or fp8 else 0.0
    eager_fwd, eager_bwd = ((EAGER_EXTRA_KERNELS[0], EAGER_EXTRA_KERNELS[1] + MAIN_GRAD_ADD_KERNELS)
                            if stack.kernel_fusion == "eager" else (0.0, 0.0))
    extra_fwd = fp8_kernels + eager_fwd
    extra_bwd = 2.0 * fp8_kernels + eager_bwd
    # the experts' per-expert quantise kernels on the GPU (their host launches: `host_time.expert_host_work`)
    quantize_fwd, quantize_bwd = expert_quantize_kernels(ops, plan.dtype, stack, per_gemm)
    # the scale kernels inside Blackwell's MXFP8 / blockwise GEMM calls, on the quantised layers (`ops.gemm_scale_work`)
    scale_fwd: Any = 0.0
    scale_bwd: Any = 0.0
    for label, code in _SCALED_DTYPES:
        if one and plan.dtype != code:  # one plan: `pick` would keep 0.0 of this dtype's kernels (adds nothing)
            continue
        k_fwd, k_bwd = scale_kernels(ops.gemms, label, stack.fp8.recipe, rates.fp8_gemm_layouts)
        if k_fwd or k_bwd:
            runs = pick(plan.dtype == code, 1.0 - bf16_share, 0.0)
            scale_fwd, scale_bwd = scale_fwd + runs * k_fwd, scale_bwd + runs * k_bwd
    elem_fwd = (_elementwise_time(rates, ops.elementwise_fwd, amax, cast_bytes, one)
                + (extra_fwd + quantize_fwd + scale_fwd) * rates.kernel_overhead_s)
    elem_bwd = (_elementwise_time(rates, ops.elementwise_bwd, amax, cast_bytes, one)
                + (extra_bwd + quantize_bwd + scale_bwd) * rates.kernel_overhead_s)
    nvfp4 = plan.dtype == int(Dtype.NVFP4)
    if NVFP4_RECIPE_WORK and (not one or nvfp4):  # the recipe's scale swizzles and gather fixes (`ops.nvfp4_recipe`)
        gathers = te_gather_records(ops.collectives_fwd) if stack.quantized_tp_all_gather else ()
        nv_fwd, nv_bwd = nvfp4_recipe_seconds(ops.gemms, gathers, ACT, rates.memory_bytes_per_s,
                                              rates.kernel_overhead_s)
        quantised = pick(nvfp4, 1.0 - bf16_share, 0.0)
        elem_fwd, elem_bwd = elem_fwd + quantised * nv_fwd, elem_bwd + quantised * nv_bwd
    if not stack.gradient_accumulation_fusion or stack.grad_accumulation_bytes:
        # the hook moves each fresh wgrad into main_grad; DeepSpeed's accumulation adds (`main_grad_accumulation`)
        hook_bytes = unfused_main_grad_bytes(stack, plan.zero >= 3)
        weights = sum((g.k * g.n * g.count * g.share for g in ops.gemms), 0.0)
        tensors = sum((g.count * g.share for g in ops.gemms), 0.0)
        elem_bwd = elem_bwd + (memory_bound_seconds(rates, weights * hook_bytes, tensors) if one  # type: ignore[arg-type]
                               else _result(memory_bound_time(rates, weights * hook_bytes, kernels=tensors)))

    selective = plan.recompute == int(Recompute.SELECTIVE)
    full = plan.recompute == int(Recompute.FULL)
    compute_fwd = gemm_fwd + attn_fwd
    # selective: the stack's recompute modules re-run their forward (`training.recompute_modules`)
    module_fwd: Any = 0.0
    module_elem: Any = 0.0
    if not one or selective:
        rerun = rerun_gemm_shares(shape, stack)
        module_fwd = (attn_fwd * ("core_attn" in stack.recompute_modules)
                      + sum((g[0] * rerun[op.role] for g, op in zip(gemms, ops.gemms, strict=True)
                             if op.role in rerun), 0.0 if one else np.zeros(())))
        rerun_bytes = lay.tokens * rerun_elementwise_bytes_per_token(shape, plan.tp, plan.sequence_parallel, stack)
        module_elem = (memory_bound_seconds(rates, rerun_bytes, kernels=2.0) if one  # type: ignore[arg-type]
                       else _result(memory_bound_time(rates, rerun_bytes, kernels=2.0)))
        if "op_sac" in stack.recompute_modules:  # torchtitan's op-level AC replays every element-wise op forward
            module_elem = module_elem + elem_fwd
    out = {
        "compute_fwd": compute_fwd,
        "compute_bwd": gemm_bwd + attn_bwd + pick(full, compute_fwd, pick(selective, module_fwd, 0.0)),
        "other_fwd": elem_fwd,
        "other_bwd": elem_bwd + pick(full, elem_fwd, pick(selective, module_elem, 0.0)),
        "tp_fwd": tp_fwd,
        "tp_bwd": tp_bwd + pick(full, tp_fwd, 0.0),
        "cp_fwd": cp_fwd,
        "cp_bwd": cp_bwd + pick(full, cp_fwd, 0.0),
    }
    if routing.shared_expert_overlap:  # the two streams' GEMMs and the shared pair (`training.shared_expert_side`)
        for name, roles in (("shared", ("shared_up", "shared_down")), ("routed", ("expert_up", "expert_down"))):
            of = [g for g, op in zip(gemms, ops.gemms, strict=True) if op.role in roles]
            out[f"{name}_fwd"] = sum(map(_FWD, of), 0.0 if one else np.zeros(()))
            out[f"{name}_bwd"] = sum(map(_BWD, of), 0.0 if one else np.zeros(()))  # (full recompute: `with_ep_comm`)
        out["shared_pair_first"], out["shared_pair_last"] = shared_expert_side.pair_seconds(shape, lay, fabric, one)
    if stack.partition_checkpointed_activations:  # the saved input split over TP, re-gathered before the recompute
        copies_fwd, copies_bwd, regather = partitioned_checkpoint_seconds(rates, fabric, plan,
                                                                          lay.tokens * shape.hidden_size, full, one)
        out["other_fwd"], out["other_bwd"] = out["other_fwd"] + copies_fwd, out["other_bwd"] + copies_bwd
        out["tp_bwd"] = out["tp_bwd"] + regather
    # TP communication overlap: the hidden share runs under the GEMMs (never longer than them), which lose the
    # SMs the communication kernels occupy while it runs
    # (none on MLA under Megatron-Core, nor where the plan runs no sequence parallelism: `tp_overlap`)
    overlap, sm = tp_overlap.userbuffer_overlap(stack, shape, plan.sequence_parallel == 1)
    # only TE's linears' collectives: not the dispatcher's or Megatron's own (`tp_overlap.outside_userbuffer_seconds`)
    outside = (tp_overlap.outside_userbuffer_seconds(fabric, (ops.collectives_fwd, ops.collectives_bwd), full, one)
               if anywhere(overlap) else (0.0, 0.0))
    for (phase, gemm), apart in zip((("fwd", gemm_fwd), ("bwd", gemm_bwd)), outside, strict=True):
        hidden = smaller(overlap * (out[f"tp_{phase}"] - apart), gemm)
        out[f"tp_{phase}"] = out[f"tp_{phase}"] - hidden
        out[f"compute_{phase}"] = out[f"compute_{phase}"] + hidden * sm / (1.0 - sm)
    # TE's async dgrad window and the wgrad input re-gathers: one walk of the column-parallel GEMMs, each term only
    # where it is read below (`sp_regather.column_parallel_terms`, hD66)
    async_path = stack.tp_async_backward and anywhere(overlap == 0.0)  # (per plan: SP off runs no userbuffers)
    regathered = stack.tp_async_backward and sp_regather.SP_WGRAD_REGATHER
    window, regather = (sp_regather.column_parallel_terms(fabric, ops, gemms, lay, gather_ratio, one, async_path
                                                          and tp_overlap.PER_LINEAR_WINDOW, regathered)
                        if async_path or regathered else (0.0, 0.0))
    if async_path:
        # without userbuffers Transformer Engine still issues each column-parallel layer's dgrad reduce-scatter (SP)
        # / all-reduce async and waits after its wgrad GEMM (TE 2.14 module/linear.py:748-754, :941;
        # layernorm_linear.py:760-766, :955; layernorm_mlp.py:1416-1419, :1547): hidden up to that linear's wgrad
        # GEMM. Its wgrad input re-gather: async under the dgrad GEMM (`sp_regather`).
        # (TE's linears' only, not the dispatcher's: `tp_overlap.te_linear_records`)
        reductions = tp_overlap.te_linear_records(tuple(c for c in ops.collectives_bwd
                                                        if c.role == "tp" and c.kind != "all_gather"))
        # each linear's reduction under its own wgrad GEMM (`tp_overlap.async_dgrad_window_s`; pooled: under half
        # of all the layer's backward GEMMs, before hD65), never more than TE's reductions as priced
        window = window if tp_overlap.PER_LINEAR_WINDOW else 0.5 * gemm_bwd
        # under `delay_wgrad_compute` no wgrad runs before the wait: no window (`tp_overlap.wgrad_deferred`)
        window = pick(tp_overlap.wgrad_deferred(plan, stack), 0.0, window)
        hidden = pick(overlap == 0.0, smaller(_collective_times(fabric, reductions, "tp", one), window), 0.0)
        # (kept: a frozen base gives this window back whole, `frozen_base.with_frozen_layers`)
        out["tp_bwd"], out[tp_overlap.ASYNC_HIDDEN] = out["tp_bwd"] - hidden, hidden
    if regathered:  # wgrad inputs re-gathered beyond the dgrad GEMMs
        out["tp_bwd"] = out["tp_bwd"] + regather
    # per-tensor scales shared over the TP group: amax all-reduces no overlap hides
    # (`training.tp_quantised_collectives`)
    amax, amax_count_fwd, amax_count_bwd, amax_mask = amax_reduction_seconds(shape, plan, stack, fabric, one)
    out["tp_fwd"] = out["tp_fwd"] + amax["fwd"]
    out["tp_bwd"] = out["tp_bwd"] + amax["bwd"] + pick(full, amax["fwd"], 0.0)
    expert_gpu = (sum((g[0] for g, op in zip(gemms, ops.gemms, strict=True) if op.role in ("expert_up", "expert_down")),
                      0.0) + expert_block_quantize_s(shape, ops, lay, rates, quantize_fwd))

    def host(terms: dict[str, Any], graphs: bool) -> None:  # graphed or eager (`cuda_graph_rule`, per plan: hT70)
        # host issue time (`add_host_seconds`); MoE: the block's eager issue after its sync under CUDA graphs, the
        # local experts' host work and the sync in eager stacks (`host_time.add_dropless_moe_terms`)
        add_host_seconds(terms, ops, shape, plan, stack, (amax_count_fwd, amax_count_bwd, amax_mask),
                         (full, selective), (extra_fwd, extra_bwd), one, host_dispatch_s, graphs)
        add_dropless_moe_terms(terms, ops, expert_gpu, full, host_dispatch_s, one, stack, plan.dtype,
                               moe and shape.linear_biases, geglu_offset_syncs(
                                   shape, full | (selective & ("moe_act" in stack.recompute_modules))), graphs)

    with_graphs(out, stack, host)
    return out, tuple(c for c in ops.collectives_fwd if c.role == "ep")


def add_host_seconds(out: dict[str, Any], ops: LayerOps, shape: TransformerShape, plan: PlanArrays, stack: Stack,
                     amax: tuple[float, float, Any], recompute: tuple[Any, Any], extra: tuple[Any, Any],
                     one: bool, host_dispatch_s: float, graphs: bool | None = None) -> None:
    """Set `out`'s "host_fwd" / "host_bwd": one dispatch per kernel (eager) or one graph launch per layer and phase
    (CUDA graphs: `graphs`, None the stack's `cuda_graphs`). `amax`: `amax_reductions`' counts and mask;
    `recompute`: the (full, selective) masks; `extra`: the fp8 and eager kernels beyond the layer table, forward and
    backward (`training.layer_time`)."""
    amax_count_fwd, amax_count_bwd, amax_mask = amax
    full, selective = recompute
    extra_fwd, extra_bwd = extra
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
    dpa = fp8_dpa.fp8_attention_on(shape, plan, stack) if fp8_dpa.FP8_DPA_HOST_LAUNCHES else False
    if dpa is not False:  # fp8 attention's casts (`attention_core.FP8_DPA_CAST_KERNELS`), again where the core re-runs
        casts = pick(dpa, FP8_DPA_CAST_KERNELS, 0.0)
        rerun = full | (selective & ("core_attn" in stack.recompute_modules))
        ops_fwd, ops_bwd = ops_fwd + casts, ops_bwd + casts + pick(rerun, casts, 0.0)
    recomputed = pick(full, extra_fwd, 0.0)
    graphs = stack.cuda_graphs if graphs is None else graphs
    for phase, count in (("fwd", ops_fwd + extra_fwd), ("bwd", ops_bwd + extra_bwd + recomputed)):
        if one:
            out[f"host_{phase}"] = CUDA_GRAPH_LAUNCH_S if graphs else float(count * host_dispatch_s)
            continue
        out[f"host_{phase}"] = (np.full(np.shape(count), CUDA_GRAPH_LAUNCH_S) if graphs
                                else np.asarray(count * host_dispatch_s, dtype=np.float64))


def layer_kernel_counts(shape: TransformerShape, plan: PlanArrays) -> tuple[np.ndarray, np.ndarray]:
    """Kernels (and collectives) the host launches per layer and micro-batch, forward and backward.

    Forward: the layer's GEMMs, attention (1 fused kernel, or 2 batched GEMMs + softmax + dropout unfused),
    the element-wise kernels, TP/CP/EP collectives and fp8 casts of `ops.layer_ops`. Backward: twice the
    GEMMs, 3 (fused) or 6 (unfused) attention kernels, the backward element-wise kernels, the same
    collectives and casts, plus whatever recompute re-runs.
    """
    return kernel_counts(layer_ops(shape, layer_layout(plan, plan.dtype != int(Dtype.BF16))), plan)
