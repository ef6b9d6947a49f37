"""Training step time of a transformer under a TP/CP/PP/DP/EP plan, vectorised over plans.

Per micro-batch and layer on one GPU (tokens T = micro_batch * seq_len / CP), the operations of
`ops.layer_ops` (shared with serving) priced here:
* GEMMs from the real shapes: QKV (GQA widths, KV heads replicated below TP), output projection, FFN
  (two or three matrices; MoE: E/EP local experts, each fed T*top_k*EP/E tokens), router; backward is
  the data-gradient and weight-gradient GEMM of each, priced by `hardware.gemm_time`.
* Fused causal attention: 4 T s (a/TP) d / 2 FLOPs forward, 2.5x that backward (FlashAttention recomputes
  the scores); keys span the whole sequence (CP all-gathers K and V).
* Memory-bound element-wise work: norms and residual adds on the sequence-parallel shard, rotary
  embedding, the FFN activation; backward moves twice the forward bytes. fp8 adds the cast + transpose
  of every GEMM input (forward) and output gradient (backward), as Transformer Engine does.
* TP with sequence parallelism: 2 all-gathers + 2 reduce-scatters of the T x h activation forward and
  again backward, on the TP group (not overlapped); without SP, 2 all-reduces each way and the norms and
  residuals run on every TP rank. CP: all-gather of K, V forward, reduce-scatter of
  their gradients backward. EP: all-to-all dispatch + combine forward and backward.
* Recompute: selective adds the forward of the stack's `recompute_modules` to backward (default the attention
  core; `training.recompute_modules`); full adds the whole layer forward.
* Software stack (`catalog.stacks`): TP overlap hides `tp_comm_overlap_fraction` of the TP collectives
  behind the layer's GEMMs (at most their time), which then run on 1 - `tp_overlap_sm_fraction` of the SMs
  while overlapped; fp8 recipes add amax read passes and kernels; kernel-rate multipliers where cited.
* Host issue time (`training.host_time`): the GPU idles for the host issue time no queued GPU work covers.

Pipeline (Narayanan et al. SC'21): the heaviest stage (ceil(L/p) layers, or floor(L/p) layers plus the
LM head and loss on the last stage) sets the pace; step = m * t_stage + the schedule's bubble
(`training.schedules`: (p-1) t_stage for 1F1B, (p-1)/v t_stage interleaved) + the p2p chain of one
micro-batch through all p*v chunks forward and back (steady-state p2p overlaps compute).
Data parallel: gradient all-reduce (ZeRO 0), reduce-scatter + parameter all-gather (ZeRO 1/2), or
all-gather forward and backward + reduce-scatter (ZeRO 3/FSDP), overlapped with the first micro-batch's
forward and the last one's backward; what does not fit in that window is exposed. Optimizer: Adam is
memory-bound, 30 bytes per local parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates, attention_time, gemm_time, grouped_gemm_time, memory_bound_time
from infraplan.network.collectives import (
    Fabric,
    all_gather_time,
    all_reduce_time,
    collective_time,
    reduce_scatter_time,
    send_recv_time,
)
from infraplan.ops.expert_routing import expected_nodes_per_token
from infraplan.ops.layer import (
    ArrayLike,
    Collective,
    Elementwise,
    Layout,
    attention_keys,
    head_ops,
    layer_ops,
)
from infraplan.ops.precision import RECIPES, PrecisionRecipe
from infraplan.training.axes import COMM_KEYS, LAYER_KEYS  # cache keys, derived from the declared plan axes
from infraplan.training.enums import Attention, Dtype, Recompute, Schedule
from infraplan.training.host_time import CHECKPOINT_HOST_CALLS as CHECKPOINT_HOST_CALLS
from infraplan.training.host_time import (
    CUDA_GRAPH_LAUNCH_S,
    EAGER_EXTRA_KERNELS,
    MAIN_GRAD_ADD_KERNELS,
    host_exposed_time,
    kernel_counts,
    micro_batch_host_time,
)
from infraplan.training.memory import (
    GRAD_BYTES,
    WEIGHT_BYTES,
    local_expert_params,
    local_params,
    recomputed_stage_layers,
    sharded_params,
    stage_layers,
)
from infraplan.training.one_plan_memo import PLAN_FIELDS, ClusterPricing, cluster_pricing
from infraplan.training.plan import PlanArrays
from infraplan.training.recompute_modules import recompute_gemm_roles, rerun_elementwise_bytes_per_token
from infraplan.training.row_memo import RowMemo
from infraplan.training.schedules import heaviest_stage, pipeline_bubble

ACT = 2.0  # bf16 activations and communication payloads
# Adam: read fp32 param, grad, m, v; write param, m, v and the bf16 copy (30 B); the fp32 grad-norm read before
# clipping (Megatron clip_grad_norm_fp32, multi_tensor_l2norm) and zeroing the grad buffer (zero_grad_buffer): 8 B
ADAM_BYTES_PER_PARAM = 38.0
OPTIMIZER_KERNELS = 20.0  # multi-tensor Adam, l2norm and zeroing launches (apex multi_tensor_apply chunks)
# vocab-parallel cross-entropy over fp32 logits (Megatron tensor_parallel/cross_entropy.py), bytes per local logit
# and kernels, forward + backward. Unfused: upcast (2+4), max (4), subtract max (4+4), exp (4+4), sum (4), divide
# into the saved softmax (4+4), backward scale by the loss gradient (4+4), downcast (4+2) = 52 B, 9 passes plus 4
# target gather / mask kernels. Fused (Megatron-core cross_entropy_loss_fusion): one forward pass reading the
# logits and one backward pass reading them and writing the gradient, fp32 in registers: 16 B in 3 kernels.
CROSS_ENTROPY_PASSES = {False: (52.0, 13.0), True: (16.0, 3.0)}
# layer keys that change the per-layer times only through the EP all-to-all's rank stride (`PlanArrays.dp_stride`)
# and the pipeline stage split (`_per_layer` prices the rest without them; tests/training/test_search_speed.py)
STRIDE_ONLY_KEYS = ("pp", "order")
COMPONENTS = ("compute", "tp_comm", "cp_comm", "ep_comm", "pp_bubble", "pp_comm", "dp_comm_exposed",
              "optimizer", "other")


def _gemm_fwd_bwd(rates: KernelRates, precision: tuple[np.ndarray, np.ndarray], m: ArrayLike, n: ArrayLike,
                  k: ArrayLike, count: ArrayLike = 1.0, grouped: bool = False,
                  share: ArrayLike = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Forward, and backward (dgrad + wgrad) seconds of `count` GEMMs of shape (m x k) @ (k x n).

    `precision` is (FLOP/s, operand bytes) per plan (`ops.precision` recipes). `grouped`: the `count` GEMMs
    are one grouped kernel (MoE experts, `hardware.grouped_gemm_time`) in `share` of the layers.
    """
    rate, width = precision
    if grouped:
        fwd = grouped_gemm_time(rates, m, n, k, count, width, rate)
        bwd = grouped_gemm_time(rates, m, k, n, count, width, rate) + grouped_gemm_time(rates, k, n, m, count, width,
                                                                                         rate)
        return np.asarray(share * fwd), np.asarray(share * bwd)
    fwd = gemm_time(rates, m, n, k, width, rate)
    bwd = gemm_time(rates, m, k, n, width, rate) + gemm_time(rates, k, n, m, width, rate)
    return np.asarray(count * fwd), np.asarray(count * bwd)


def attention_core_times(shape: TransformerShape, rates: KernelRates, plan: PlanArrays,
                         tokens: ArrayLike, stack: Stack | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward seconds of the attention core (scores, softmax, values) for one layer.

    Flash: causal, 4 T s (a/TP) d / 2 FLOPs forward and 2.5x that backward (scores recomputed), at the
    accelerator's fused-attention rate. Unfused (Megatron-LM before 2023): batched GEMMs Q K^T and P V
    over the full s x s scores, plus memory-bound scale-mask-softmax and dropout passes over them
    (forward 4 B/score, backward 6 B/score; +5 B forward, +5 B backward with attention dropout).
    Learned sinks (GPT-OSS) under a stack with `sink_attention: unfused` run unfused in every layer: the
    sliding window is a mask on the full scores, not skipped work (`catalog.stacks`).
    """
    heads = shape.num_heads / plan.tp
    d = float(shape.attention_head_dim)  # (d_qk + d_v) / 2: MLA's nope + rope and v widths
    flash_flops = 4.0 * tokens * attention_keys(shape, plan.seq_len) * heads * d * 0.5  # sliding layers: fewer keys
    programs = plan.micro_batch * heads * np.ceil(tokens / 128.0)
    flash_fwd = attention_time(rates, flash_flops, programs)
    flash_bwd = attention_time(rates, 2.5 * flash_flops, programs, kernels=3)

    rows = plan.micro_batch * heads * plan.seq_len / plan.cp  # query rows over all local heads
    keys = plan.seq_len.astype(np.float64)
    bf16 = rates.matmul_flops_per_s

    def bmm(m: ArrayLike, n: ArrayLike, k: ArrayLike) -> np.ndarray:
        return gemm_time(rates, m, n, k, 2.0, bf16)

    scores = rows * keys
    fwd_bytes, bwd_bytes = (9.0, 11.0) if shape.uses_dropout else (4.0, 6.0)
    unfused_fwd = (bmm(rows, keys, d) + bmm(rows, d, keys)
                   + memory_bound_time(rates, fwd_bytes * scores, kernels=2))
    key_rows = plan.micro_batch * heads * keys
    unfused_bwd = (bmm(rows, d, keys) + bmm(key_rows, d, plan.seq_len / plan.cp)  # dQ, dK
                   + bmm(rows, keys, d) + bmm(key_rows, d, plan.seq_len / plan.cp)  # dP, dV
                   + memory_bound_time(rates, bwd_bytes * scores, kernels=2))
    sinks_unfused = shape.attention_sinks and stack is not None and stack.sink_attention == "unfused"
    unfused = (plan.attention == int(Attention.UNFUSED)) | sinks_unfused
    return np.where(unfused, unfused_fwd, flash_fwd), np.where(unfused, unfused_bwd, flash_bwd)


_RECIPE_VALUES: dict[str, Callable[[PrecisionRecipe], float]] = {
    "cast_bytes": lambda r: r.cast_bytes,
    "quantised_cast_bytes": lambda r: r.cast_bytes * (1.0 - r.bf16_layer_share),  # on the layers it quantises
    "bf16_layer_share": lambda r: r.bf16_layer_share,
    "amax_read_passes": lambda r: r.amax_read_passes,
}
_RECIPE_TABLES: dict[str, np.ndarray] = {}  # per-dtype code tables, built once (RECIPES is a constant)


def _recipe_column(plan: PlanArrays, name: str) -> np.ndarray:
    """`_RECIPE_VALUES[name]` of each plan's precision recipe (`ops.precision`), as an array over plans."""
    table = _RECIPE_TABLES.get(name)
    if table is None:
        table = np.array([_RECIPE_VALUES[name](RECIPES[d.label]) for d in Dtype], dtype=np.float64)
        _RECIPE_TABLES[name] = table
    return table[plan.dtype]


def _layout(plan: PlanArrays, fp8: np.ndarray, stack: Stack | None = None) -> Layout:
    """The plan's layer layout: tokens per GPU = micro_batch * seq_len / CP, EP as the inner factor of DP.

    Casts: the recipe's bytes per cast element on the layers it quantises (not the ones kept in bf16).
    MoE: the stack's routing imbalance / capacity factor and dispatch overlap (`catalog.stacks`).
    """
    tokens = plan.micro_batch * plan.seq_len / plan.cp.astype(np.float64)
    cast_bytes = _recipe_column(plan, "quantised_cast_bytes")
    moe = (stack or resolve_stack(None, "training")).moe
    return Layout(tokens=tokens, tp=plan.tp, ep=plan.ep, cp=plan.cp, sequence_parallel=plan.sequence_parallel == 1,
                  seq_len=plan.seq_len, batch=plan.micro_batch, ep_stride=plan.ep_stride, fp8_casts=fp8,
                  etp=plan.expert_tp, folded=plan.folded,
                  cast_bytes=cast_bytes, expert_load_factor=moe.load_factor)


def _elementwise_time(rates: KernelRates, passes: tuple[Elementwise, ...], amax_read_passes: ArrayLike = 0.0,
                      cast_bytes: ArrayLike = 4.0) -> np.ndarray:
    """Seconds of memory-bound passes; a recipe's amax reads add 2 B per cast element (a cast moves `cast_bytes`)."""
    def scale(e: Elementwise) -> ArrayLike:
        return 1.0 + 2.0 * np.asarray(amax_read_passes) / np.maximum(cast_bytes, 1e-9) if e.role == "fp8_cast" else 1.0

    return sum((np.where(e.mask, memory_bound_time(rates, scale(e) * e.bytes, kernels=e.kernels), 0.0)
                for e in passes), np.zeros(()))


def _collective_times(fabric: Fabric, records: tuple[Collective, ...], role: str) -> np.ndarray:
    """Seconds of the collectives of one role ("tp", "cp", "ep"), priced by `network.collectives`."""
    return sum((np.where(c.mask, c.count * collective_time(fabric, c.kind, c.bytes, c.group, c.stride), 0.0)
                for c in records if c.role == role), np.zeros(()))


def layer_times(shape: TransformerShape, rates: KernelRates, fabric: Fabric, plan: PlanArrays,
                precision: tuple[np.ndarray, np.ndarray], host_dispatch_s: float = 0.0,
                stack: Stack | None = None) -> dict[str, np.ndarray]:
    """Seconds per micro-batch for one layer, forward and backward, by component (priced `ops.layer_ops`).

    Also `host_fwd` / `host_bwd`: host issue seconds of the layer's kernels (exposed by `host_exposed_time`).
    """
    stack = stack or resolve_stack(None, "training")
    times, ep_records = _layer_times_but_ep(shape, rates, fabric, plan, precision, host_dispatch_s, stack)
    return _with_ep_comm(times, _ep_seconds(shape, fabric, ep_records, stack, precision[1] < 2.0),
                         plan.recompute == int(Recompute.FULL), stack)


def deepep_node_dedup(shape: TransformerShape, fabric: Fabric, group: ArrayLike, stride: ArrayLike) -> np.ndarray:
    """Scale-out bytes of a DeepEP dispatch / combine over those of a per-expert all-to-all (<= 1).

    DeepEP's normal (internode) kernels send a token over RDMA once per destination node and forward it to
    that node's experts over NVLink (DeepEP README, "normal kernels ... asymmetric-domain bandwidth
    forwarding"; DeepSeek-V3 arXiv:2412.19437 sec. 3.2.2). The EP group of n ranks, stride s, spans
    N = n / min(n, floor(D / s)) scale-up domains of D GPUs, each holding E / N experts. A token misses a
    given node with P (`ops.expert_routing`: balanced top-k of E, or DeepSeek's group-limited routing, where
    groups map onto nodes and a token reaches at most `topk_group` nodes, arXiv:2412.19437 sec. 3.2.2); it
    then crosses to (N - 1)(1 - P) remote nodes where the per-expert all-to-all sends k (N - 1) / N copies:
    the ratio N (1 - P) / k. One domain (N = 1): 1.
    The NVLink leg (9x the NIC bandwidth on a DGX H100) runs beside the RDMA sends and is not priced.
    """
    n = np.maximum(np.asarray(group, dtype=np.float64), 1.0)
    per_domain = np.clip(np.floor(fabric.scale_up_domain / np.maximum(np.asarray(stride, dtype=np.float64), 1.0)),
                         1.0, n)
    nodes = n / per_domain
    reached = expected_nodes_per_token(shape, nodes)
    k = float(shape.experts_per_token)
    return np.asarray(np.where(nodes > 1.0, np.minimum(reached / k, 1.0), 1.0), dtype=np.float64)


# fp8 dispatch (`MoeRouting.fp8_dispatch`): bytes of a dispatch + combine pair over two bf16 ones: the dispatch
# moves 1 B per element plus a 4 B fp32 scale per 1x128 tile, the combine 2 B (DeepSeek-V3 sec. 3.3.3)
FP8_DISPATCH_PAIR_SHARE = (1.0 + 4.0 / 128.0 + 2.0) / (2.0 * ACT)


def _ep_seconds(shape: TransformerShape, fabric: Fabric, records: tuple[Collective, ...],
                stack: Stack, fp8: ArrayLike = False) -> np.ndarray:
    """Seconds of the EP all-to-alls, forward; DeepEP dispatchers move the deduplicated bytes over the NICs;
    with `fp8_dispatch` fp8 plans (`fp8`) dispatch in fp8 and combine in bf16."""
    if stack.moe.dispatcher == "deepep" and shape.is_moe:
        records = tuple(replace(c, bytes=c.bytes * deepep_node_dedup(shape, fabric, c.group, c.stride))
                        for c in records)
    if stack.moe.fp8_dispatch and shape.is_moe:
        share = np.where(np.asarray(fp8, dtype=bool), FP8_DISPATCH_PAIR_SHARE, 1.0)
        records = tuple(replace(c, bytes=c.bytes * share) for c in records)
    return _collective_times(fabric, records, "ep")


def _layer_times_but_ep(shape: TransformerShape, rates: KernelRates, fabric: Fabric, plan: PlanArrays,
                        precision: tuple[np.ndarray, np.ndarray], host_dispatch_s: float,
                        stack: Stack) -> tuple[dict[str, np.ndarray], tuple[Collective, ...]]:
    """`layer_times` but the EP all-to-all, and its records (the only term that depends on the EP rank stride,
    so on PP and the rank order): the search prices these once per distinct stride-free row."""
    fp8 = precision[1] < 2.0
    lay = _layout(plan, fp8, stack)
    ops = layer_ops(shape, lay)
    # the recipe keeps a share of the layers' GEMMs in bf16 (NVFP4: `ops.precision`)
    bf16_share = np.where(fp8, _recipe_column(plan, "bf16_layer_share"), 0.0)
    bf16 = (np.full(len(plan), rates.matmul_flops_per_s), np.full(len(plan), 2.0))
    gemms = [_gemm_fwd_bwd(rates, precision, g.m, g.n, g.k, g.count, g.grouped, g.share) for g in ops.gemms]
    gemms_bf16 = ([_gemm_fwd_bwd(rates, bf16, g.m, g.n, g.k, g.count, g.grouped, g.share) for g in ops.gemms]
                  if np.any(bf16_share) else gemms)
    gemm_fwd = sum(g[0] for g in gemms) * (1.0 - bf16_share) + sum(g[0] for g in gemms_bf16) * bf16_share
    gemm_bwd = sum(g[1] for g in gemms) * (1.0 - bf16_share) + sum(g[1] for g in gemms_bf16) * bf16_share
    attn_fwd, attn_bwd = attention_core_times(shape, rates, plan, lay.tokens, stack)
    tp_fwd = _collective_times(fabric, ops.collectives_fwd, "tp")
    cp_fwd = _collective_times(fabric, ops.collectives_fwd, "cp")
    cp_bwd = _collective_times(fabric, ops.collectives_bwd, "cp")
    # amax passes and kernels: the stack's fp8 scaling recipe for fp8, the format's own otherwise (nvfp4's
    # per-tensor scale: an amax kernel and read before each cast)
    is_fp8 = plan.dtype == int(Dtype.FP8)
    amax = np.where(is_fp8, stack.fp8.amax_read_passes, _recipe_column(plan, "amax_read_passes"))
    per_gemm = np.where(is_fp8, stack.fp8.extra_kernels_per_gemm, _recipe_column(plan, "amax_read_passes"))
    fp8_kernels = np.where(fp8, per_gemm * ops.gemm_kernels(), 0.0)
    cast_bytes = np.maximum(_recipe_column(plan, "cast_bytes"), 1e-9)
    eager_fwd, eager_bwd = ((EAGER_EXTRA_KERNELS[0], EAGER_EXTRA_KERNELS[1] + MAIN_GRAD_ADD_KERNELS)
                            if stack.kernel_fusion == "eager" else (0.0, 0.0))
    extra_fwd = fp8_kernels + eager_fwd
    extra_bwd = 2.0 * fp8_kernels + eager_bwd
    elem_fwd = _elementwise_time(rates, ops.elementwise_fwd, amax, cast_bytes) + extra_fwd * rates.kernel_overhead_s
    elem_bwd = _elementwise_time(rates, ops.elementwise_bwd, amax, cast_bytes) + extra_bwd * rates.kernel_overhead_s

    selective = plan.recompute == int(Recompute.SELECTIVE)
    full = plan.recompute == int(Recompute.FULL)
    compute_fwd = gemm_fwd + attn_fwd
    # selective: the stack's recompute modules re-run their forward (`training.recompute_modules`)
    rerun = recompute_gemm_roles(stack)
    module_fwd = (attn_fwd * ("core_attn" in stack.recompute_modules)
                  + sum((g[0] for g, op in zip(gemms, ops.gemms, strict=True) if op.role in rerun), np.zeros(())))
    module_elem = memory_bound_time(rates, lay.tokens * rerun_elementwise_bytes_per_token(
        shape, plan.tp, plan.sequence_parallel, stack), kernels=2.0)
    out = {
        "compute_fwd": compute_fwd,
        "compute_bwd": gemm_bwd + attn_bwd + np.where(full, compute_fwd, np.where(selective, module_fwd, 0.0)),
        "other_fwd": elem_fwd,
        "other_bwd": elem_bwd + np.where(full, elem_fwd, np.where(selective, module_elem, 0.0)),
        "tp_fwd": tp_fwd,
        "tp_bwd": tp_fwd + np.where(full, tp_fwd, 0.0),
        "cp_fwd": cp_fwd,
        "cp_bwd": cp_bwd + np.where(full, cp_fwd, 0.0),
    }
    # TP communication overlap: the hidden share runs under the GEMMs (never longer than them), which lose the
    # SMs the communication kernels occupy while it runs
    sm = stack.tp_overlap_sm_fraction
    for phase, gemm in (("fwd", gemm_fwd), ("bwd", gemm_bwd)):
        hidden = np.minimum(stack.tp_comm_overlap_fraction * out[f"tp_{phase}"], gemm)
        out[f"tp_{phase}"] = out[f"tp_{phase}"] - hidden
        out[f"compute_{phase}"] = out[f"compute_{phase}"] + hidden * sm / (1.0 - sm)
    # host issue time: one dispatch per kernel (eager) or one graph launch per layer and phase (CUDA graphs)
    ops_fwd, ops_bwd = kernel_counts(ops, plan)
    recomputed = np.where(full, extra_fwd, 0.0)
    for phase, count in (("fwd", ops_fwd + extra_fwd), ("bwd", ops_bwd + extra_bwd + recomputed)):
        out[f"host_{phase}"] = (np.full(np.shape(count), CUDA_GRAPH_LAUNCH_S) if stack.cuda_graphs
                                else np.asarray(count * host_dispatch_s, dtype=np.float64))
    return out, tuple(c for c in ops.collectives_fwd if c.role == "ep")


def _with_ep_comm(times: dict[str, np.ndarray], ep_fwd: np.ndarray, full: np.ndarray,
                  stack: Stack) -> dict[str, np.ndarray]:
    """`times` with the EP all-to-all (`ep_fwd` seconds forward; backward the same, again under full recompute)."""
    out = dict(times)
    out["ep_fwd"] = ep_fwd + np.zeros(np.shape(out["compute_fwd"]))
    out["ep_bwd"] = out["ep_fwd"] + np.where(full, out["ep_fwd"], 0.0)
    # EP dispatch/combine overlap (DeepEP-style, `Stack.moe`): the hidden share runs under the layer's compute
    # (never longer than it), which loses the SMs the communication kernels hold meanwhile. Per phase, a forward's
    # all-to-all can only hide under forward compute; DualPipe pairs a forward chunk with a backward chunk of the
    # other direction and overlaps each one's all-to-all with the other's compute (DeepSeek-V3 arXiv:2412.19437
    # sec. 3.2.1, Fig. 4), so there the window is the pair's compute: `ep_paired` / `compute_paired` (per layer,
    # forward + backward), which `step_time` takes for DualPipe plans.
    moe = stack.moe
    ep_sm = moe.overlap_sm_fraction
    raw = out["ep_fwd"] + out["ep_bwd"]
    compute_pair = out["compute_fwd"] + out["compute_bwd"]
    hidden_pair = np.minimum(moe.dispatch_overlap_fraction * raw, compute_pair)
    out["ep_paired"] = raw - hidden_pair
    out["compute_paired"] = compute_pair + hidden_pair * ep_sm / (1.0 - ep_sm)
    if moe.dispatch_overlap_fraction > 0.0:
        for phase in ("fwd", "bwd"):
            hidden = np.minimum(moe.dispatch_overlap_fraction * out[f"ep_{phase}"], out[f"compute_{phase}"])
            out[f"ep_{phase}"] = out[f"ep_{phase}"] - hidden
            out[f"compute_{phase}"] = out[f"compute_{phase}"] + hidden * ep_sm / (1.0 - ep_sm)
    return out


def layer_kernel_counts(shape: TransformerShape, plan: PlanArrays) -> tuple[np.ndarray, np.ndarray]:
    """Kernels (and collectives) the host launches per layer and micro-batch, forward and backward.

    Forward: the layer's GEMMs, attention (1 fused kernel, or 2 batched GEMMs + softmax + dropout unfused),
    the element-wise kernels, TP/CP/EP collectives and fp8 casts of `ops.layer_ops`. Backward: twice the
    GEMMs, 3 (fused) or 6 (unfused) attention kernels, the backward element-wise kernels, the same
    collectives and casts, plus whatever recompute re-runs.
    """
    return kernel_counts(layer_ops(shape, _layout(plan, plan.dtype != int(Dtype.BF16))), plan)


def head_times(shape: TransformerShape, rates: KernelRates, plan: PlanArrays,
               precision: tuple[np.ndarray, np.ndarray], stack: Stack | None = None,
               host_dispatch_s: float = 0.0) -> dict[str, np.ndarray]:
    """LM head GEMM (bf16 under every recipe), cross-entropy and embedding per micro-batch: seconds by component
    and phase, host issue.

    Cross-entropy over fp32 vocab-parallel logits: `CROSS_ENTROPY_PASSES` (unfused: 52 B per local logit in
    13 kernels; fused: 16 B in 3), one third forward. Embedding: the forward gather (read + write T x h, bf16)
    and the backward of a dense embedding (PyTorch embedding_dense_backward writes a V/TP x h bf16 gradient
    after zeroing it; Megatron adds it into the fp32 main grad: 2 + 2 + 2 + 4 + 4 B per local row element,
    plus reading the T x h output gradient), charged with the head (with PP it runs on the first stage).
    """
    stack = stack or resolve_stack(None, "training")
    tokens = plan.micro_batch * plan.seq_len / plan.cp
    head = head_ops(shape, tokens, plan.tp)
    # the LM head runs in bf16 whatever the recipe: Megatron-Core's `output_layer` is a tensor-parallel
    # ColumnParallelLinear outside Transformer Engine's fp8 / fp4 autocast (megatron/core/models/gpt/gpt_model.py)
    bf16 = (np.full(np.shape(precision[0]), rates.matmul_flops_per_s), np.full(np.shape(precision[1]), 2.0))
    fwd, bwd = _gemm_fwd_bwd(rates, bf16, head.gemm.m, head.gemm.n, head.gemm.k)
    ce_bytes, ce_kernels = CROSS_ENTROPY_PASSES[stack.fused_cross_entropy]
    logits = tokens * shape.vocab_size / plan.tp
    loss = memory_bound_time(rates, ce_bytes * logits, kernels=ce_kernels)
    rows = shape.vocab_size / plan.tp * shape.hidden_size
    embed_fwd = memory_bound_time(rates, 4.0 * tokens * shape.hidden_size)
    embed_bwd = memory_bound_time(rates, 2.0 * tokens * shape.hidden_size + 14.0 * rows, kernels=3)
    kernels_fwd = 1.0 + ce_kernels / 3.0 + 1.0
    kernels_bwd = 2.0 + 2.0 * ce_kernels / 3.0 + 3.0
    host = CUDA_GRAPH_LAUNCH_S if stack.cuda_graphs else host_dispatch_s
    return {"head_compute": fwd + bwd, "head_other": loss + embed_fwd + embed_bwd,
            "head_gpu_fwd": fwd + loss / 3.0 + embed_fwd, "head_gpu_bwd": bwd + 2.0 * loss / 3.0 + embed_bwd,
            "head_host_fwd": np.full(np.shape(fwd), kernels_fwd * host),
            "head_host_bwd": np.full(np.shape(fwd), kernels_bwd * host)}


def _distinct_rows(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """(index of the first row of each distinct combination, row -> combination index), or None when every
    row is already distinct.

    Integer columns are packed into one int64 key by their value ranges (one sort instead of one per column).
    Rows enumerated in grid order (the search's rows) have strictly increasing keys: then no sort at all.
    """
    if columns[0].size <= 1:  # one plan (a single estimate): nothing to share
        return None
    lows = [int(c.min()) if c.size else 0 for c in columns]
    sizes = [int(c.max()) - low + 1 if c.size else 1 for c, low in zip(columns, lows, strict=True)]
    if np.prod(np.array(sizes, dtype=np.float64)) < 2.0**62:
        key = np.zeros(columns[0].shape, dtype=np.int64)
        for column, low, size in zip(columns, lows, sizes, strict=True):
            key = key * size + (column - low)
        if bool(np.all(key[1:] > key[:-1])):
            return None
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:  # astronomically wide ranges: fall back to row-wise unique
        _, first, inverse = np.unique(np.stack(columns, axis=1), axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _computed_once(plan: PlanArrays, keys: tuple[str, ...],
                   compute: Callable[[PlanArrays], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Run `compute` once per distinct combination of the `keys` fields and broadcast back (exact).

    The plan's key fields may be arrays of any one shape (the search passes (rows, 1, 1) columns beside
    broadcast virtual-stage, schedule and ZeRO axes); the results come back in that shape. `compute` sees
    only the key fields (the others are the first row's: the cached terms do not depend on them).
    """
    shape = np.shape(getattr(plan, keys[0]))
    if shape == (1,) and all(getattr(plan, name).shape == (1,) for name in PLAN_FIELDS):
        return {k: v if v.shape == shape else v.reshape(shape) for k, v in compute(plan).items()}  # its own row
    columns = {f.name: np.ravel(getattr(plan, f.name)) for f in fields(plan)}
    distinct = _distinct_rows([columns[k] for k in keys])
    n = columns[keys[0]].size
    if distinct is None:
        rows = PlanArrays(**{k: c if c.size == n else np.broadcast_to(c[:1], (n,)) for k, c in columns.items()})
        return {k: v.reshape(shape) for k, v in compute(rows).items()}
    first, inverse = distinct
    rows = PlanArrays(**{k: c[first] if c.size == n else np.broadcast_to(c[:1], first.shape)
                         for k, c in columns.items()})
    return {k: v[inverse.reshape(shape)] for k, v in compute(rows).items()}


def _per_layer(shape: TransformerShape, rates: KernelRates, fabric: Fabric, plan: PlanArrays,
               precision_of: Callable[[PlanArrays], tuple[np.ndarray, np.ndarray]],
               stack: Stack, pricing: ClusterPricing | None = None) -> dict[str, np.ndarray]:
    """Layer and head times, computed once per distinct LAYER_KEYS row.

    Within those rows, PP and the rank order (`STRIDE_ONLY_KEYS`) change only the EP all-to-all (through its
    rank stride) and the stage split: everything else is priced once per distinct row of the other layer keys
    (a search has ~5-15x fewer of them) and spread back; the all-to-all and the split run on every row.
    """
    def compute(distinct: PlanArrays) -> dict[str, np.ndarray]:
        host_s = fabric.host_kernel_dispatch_s
        free_keys = tuple(k for k in LAYER_KEYS if k not in STRIDE_ONLY_KEYS)
        free = _distinct_rows([getattr(distinct, k) for k in free_keys])
        once = distinct if free is None else distinct.take(free[0])

        def price(rows: PlanArrays) -> tuple[dict[str, np.ndarray], tuple[Collective, ...]]:
            precision = precision_of(rows)
            times, ep_records = _layer_times_but_ep(shape, rates, fabric, rows, precision, host_s, stack)
            times.update(head_times(shape, rates, rows, precision, stack, host_s))
            return times, ep_records

        memo = RowMemo.active()  # a search shares the priced rows across its blocks (`training.row_memo`)
        memo = memo if memo is not None and memo.keys == free_keys else None
        times, ep_records = price(once) if memo is None else memo.lookup(once, price)
        if free is not None or memo is not None:
            inverse, n = (free[1], free[0].size) if free is not None else (np.arange(len(once)), len(once))

            def spread(v: ArrayLike) -> np.ndarray:
                return np.asarray(np.broadcast_to(np.asarray(v), (n,))[inverse])

            times = {k: spread(v) for k, v in times.items()}
            stride = _layout(distinct, precision_of(distinct)[1] < 2.0, stack).ep_stride
            ep_records = tuple(replace(c, bytes=spread(c.bytes), group=spread(c.group), mask=spread(c.mask),
                                       stride=stride) for c in ep_records)
        times = _with_ep_comm(times, _ep_seconds(shape, fabric, ep_records, stack, precision_of(distinct)[1] < 2.0),
                              distinct.recompute == int(Recompute.FULL), stack)
        # the balanced whole-layer split depends only on these rows too: bisect it once per distinct row
        # a pipeline stage's pace per phase is its GPU work or its host issue time, whichever is longer (each
        # micro-batch phase is its own sync interval with PP, `host_exposed_time`): balance on that pace
        def pace(gpu: dict[str, np.ndarray], host: dict[str, np.ndarray]) -> np.ndarray:
            return np.asarray(np.maximum(gpu["fwd"], host["fwd"]) + np.maximum(gpu["bwd"], host["bwd"]),
                              dtype=np.float64)

        layer_gpu = {ph: np.sum([times[f"{part}_{ph}"] for part in ("compute", "tp", "cp", "ep", "other")], axis=0)
                     for ph in ("fwd", "bwd")}
        layer_pace = pace(layer_gpu, {ph: times[f"host_{ph}"] for ph in ("fwd", "bwd")})
        head_pace = pace({ph: times[f"head_gpu_{ph}"] for ph in ("fwd", "bwd")},
                         {ph: times[f"head_host_{ph}"] for ph in ("fwd", "bwd")})
        _, layers, last, _ = heaviest_stage(shape.num_layers, distinct.pp.astype(np.float64), layer_pace, 0.0,
                                            head_pace, stack.pipeline_split,
                                            stack.account_for_embedding_in_pipeline_split,
                                            stack.account_for_loss_in_pipeline_split)
        times["stage_layers"], times["last_is_heaviest"] = layers, last.astype(np.float64)
        return times

    return _computed_once(plan, LAYER_KEYS,
                          compute if pricing is None else pricing.memoised("layer", shape, LAYER_KEYS, compute))


def _pipeline_and_dp_traffic(shape: TransformerShape, fabric: Fabric, plan: PlanArrays,
                             grad_bytes: float = GRAD_BYTES,
                             pricing: ClusterPricing | None = None) -> dict[str, np.ndarray]:
    """p2p time per pipeline transfer and the DP collectives of one step, once per distinct COMM_KEYS row.

    ZeRO-3 / FSDP gathers and scatters layer by layer: `gather_layers` / `scatter_layers` price one collective
    per local layer at its own message size (latency and small-message efficiency each time).
    """
    def compute(p: PlanArrays) -> dict[str, np.ndarray]:
        boundary = p.micro_batch * p.seq_len / p.cp * shape.hidden_size * ACT / p.tp
        # dense parameters are replicated over DP; experts only over the DP/EP ranks holding the same expert
        params = local_params(shape, p)
        experts = local_expert_params(shape, p)
        dense = params - experts
        dp_stride = p.dp_stride

        def over_replicas(collective: Callable[..., np.ndarray], bytes_per_param: float) -> np.ndarray:
            t = collective(fabric, dense * bytes_per_param, p.dp, dp_stride, sized=True)
            if shape.is_moe:
                t = t + collective(fabric, experts * bytes_per_param, p.edp, p.edp_stride, sized=True)
            return t

        local_layers = np.ceil(shape.num_layers / p.pp.astype(np.float64))

        def per_layer(collective: Callable[..., np.ndarray], bytes_per_param: float) -> np.ndarray:
            t = local_layers * collective(fabric, dense / local_layers * bytes_per_param, p.dp, dp_stride, sized=True)
            if shape.is_moe:
                t = t + local_layers * collective(fabric, experts / local_layers * bytes_per_param, p.edp,
                                                  p.edp_stride, sized=True)
            return np.asarray(t, dtype=np.float64)

        return {
            "p2p": send_recv_time(fabric, boundary, p.pp_stride),
            "allreduce": over_replicas(all_reduce_time, grad_bytes),
            "scatter": over_replicas(reduce_scatter_time, grad_bytes),
            "gather": over_replicas(all_gather_time, WEIGHT_BYTES),
            "scatter_layers": per_layer(reduce_scatter_time, grad_bytes),
            "gather_layers": per_layer(all_gather_time, WEIGHT_BYTES),
            "params": params,
            "sharded": sharded_params(shape, p),
        }

    return _computed_once(plan, COMM_KEYS,
                          compute if pricing is None else pricing.memoised("comm", shape, COMM_KEYS, compute))


def _with_block_recompute(shape: TransformerShape, plan: PlanArrays, lt: dict[str, np.ndarray],
                          per_layer: Callable[[PlanArrays], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Layer times under block recompute (`training.memory.recomputed_stage_layers`): r of the stage's layers pay
    the full-recompute layer time, the others the no-recompute one (the stage's mean layer). Plans without
    block recompute are returned as they are."""
    block = (plan.recompute == int(Recompute.FULL)) & (plan.recompute_layers > 0)
    if not np.any(block):
        return lt
    plain = per_layer(replace(plan, recompute=np.where(block, int(Recompute.NONE), plan.recompute)))
    share = np.where(block, recomputed_stage_layers(shape, plan) / stage_layers(shape.num_layers, plan.pp), 1.0)
    return {k: v if k in ("stage_layers", "last_is_heaviest") or k.startswith("head_")
            else share * v + (1.0 - share) * plain[k] for k, v in lt.items()}


def step_time(shape: TransformerShape, cluster: Cluster, plan: PlanArrays,
              stack: str | Stack | None = None, stage_only: bool = False) -> dict[str, np.ndarray]:
    """Step time and its breakdown (seconds, arrays over plans); components add up to `step_time_s`.

    `stack`: the software-stack profile (name, file or Stack; None = `catalog.stacks.DEFAULT_TRAINING_STACK`).
    `stage_only`: only the micro-batches' stage work (compute, TP/CP/EP, other), without the pipeline and DP
    traffic (the search's step-time floor, `training.search_bounds`).
    """
    profile = resolve_stack(stack, "training")
    fabric = cluster.fabric
    pricing = cluster_pricing(cluster, profile)
    rates, precision_of = pricing.rates, pricing.precision_of

    lt = _per_layer(shape, rates, fabric, plan, precision_of, profile, pricing)
    lt = _with_block_recompute(shape, plan, lt,
                               lambda p: _per_layer(shape, rates, fabric, p, precision_of, profile, pricing))
    head_compute, head_other = lt["head_compute"], lt["head_other"]

    # DualPipe hides each chunk's EP all-to-all under the paired chunk of the other phase (`_with_ep_comm`)
    paired = plan.schedule == int(Schedule.DUALPIPE)
    per_layer = {
        "compute": np.where(paired, lt["compute_paired"], lt["compute_fwd"] + lt["compute_bwd"]),
        "tp_comm": lt["tp_fwd"] + lt["tp_bwd"],
        "cp_comm": lt["cp_fwd"] + lt["cp_bwd"],
        "ep_comm": np.where(paired, lt["ep_paired"], lt["ep_fwd"] + lt["ep_bwd"]),
        "other": lt["other_fwd"] + lt["other_bwd"],
    }
    pp = plan.pp.astype(np.float64)
    single = plan.pp == 1
    # heaviest stage of the balanced whole-layer split (`schedules.heaviest_stage`): a middle stage, or the
    # last with the LM head + loss (one stage: everything); the embedding lookup is not priced (0 s)
    layers, last_is_heaviest = lt["stage_layers"], lt["last_is_heaviest"] > 0.5
    stage = {k: layers * v for k, v in per_layer.items()}
    stage["compute"] = stage["compute"] + np.where(last_is_heaviest, head_compute, 0.0)
    stage["other"] = stage["other"] + np.where(last_is_heaviest, head_other, 0.0)
    m = plan.micro_batches.astype(np.float64)
    # host issue time no queued GPU work covers (per micro-batch on the heaviest stage)
    with_head = np.where(last_is_heaviest, 1.0, 0.0)
    gpu_fwd, gpu_bwd = (layers * sum(lt[f"{part}_{phase}"] for part in ("compute", "other", "tp", "cp", "ep"))
                        + with_head * lt[f"head_gpu_{phase}"] for phase in ("fwd", "bwd"))
    host_fwd = layers * lt["host_fwd"] + with_head * lt["head_host_fwd"]
    host_bwd = layers * lt["host_bwd"] + with_head * lt["head_host_bwd"]
    # a sync ends every forward when stages exchange activations (PP) or the stack's timers synchronise
    # (`Stack.phase_sync`); the LM head and loss close that forward, so the GPU runs them after the host has
    # issued everything: the layers' host slack cannot cover them (`host_exposed_time`, `head_tail`)
    synced = ~single | profile.phase_sync
    tail = np.where(synced, with_head, 0.0)
    batch_host, loss_host = micro_batch_host_time(profile, fabric.host_kernel_dispatch_s)
    # get_batch runs before the forward on every stage; between timer syncs nothing queued hides it. The loss
    # calls follow the LM head + loss kernels on the last stage, which cover what they can.
    host_fwd = host_fwd + np.where(synced, 0.0, batch_host) + with_head * loss_host
    host_per_micro_batch = (host_exposed_time(host_fwd - tail * (lt["head_host_fwd"] + loss_host), host_bwd,
                                              gpu_fwd - tail * lt["head_gpu_fwd"], gpu_bwd, m, synced,
                                              fabric.host_kernel_dispatch_s)
                            + m * np.where(synced, batch_host, 0.0)
                            + m * tail * np.maximum(lt["head_host_fwd"] + loss_host - lt["head_gpu_fwd"], 0.0)) / m
    stage["other"] = stage["other"] + host_per_micro_batch
    if stage_only:
        return {k: m * v for k, v in stage.items()}
    stage_total = sum(stage.values())
    # DP traffic hides behind the wall time of a micro-batch's forward / backward: the GPU's work in it, or the
    # host's issue time when that is longer (a faster link can then not shrink the window below the host's)
    fwd_window = profile.dp_overlap_fraction * np.maximum(
        layers * (lt["compute_fwd"] + lt["other_fwd"] + lt["tp_fwd"]), host_fwd)
    bwd_window = profile.dp_overlap_fraction * np.maximum(
        layers * (lt["compute_bwd"] + lt["other_bwd"] + lt["tp_bwd"]), host_bwd)

    out = {k: m * v for k, v in stage.items()}
    out["pp_bubble"] = pipeline_bubble(plan.schedule, pp, plan.vpp, m, stage_total)

    traffic = _pipeline_and_dp_traffic(shape, fabric, plan, profile.grad_reduce_bytes, pricing)
    out["pp_comm"] = np.where(single, 0.0, 2.0 * (pp * plan.vpp - 1.0) * traffic["p2p"])
    allreduce, scatter, gather = traffic["allreduce"], traffic["scatter"], traffic["gather"]
    exposed_zero0 = np.maximum(allreduce - bwd_window, 0.0)
    exposed_zero12 = np.maximum(scatter - bwd_window, 0.0) + np.maximum(gather - fwd_window, 0.0)
    gather_layers, scatter_layers = traffic["gather_layers"], traffic["scatter_layers"]
    exposed_zero3 = (np.maximum(gather_layers - fwd_window, 0.0)
                     + np.maximum(scatter_layers + gather_layers - bwd_window, 0.0))
    out["dp_comm_exposed"] = np.where(plan.zero == 0, exposed_zero0,  # np.select's values, without its overhead
                                      np.where(plan.zero < 3, exposed_zero12, exposed_zero3))

    optimizer_params = np.where(plan.zero >= 1, traffic["sharded"], traffic["params"])
    optimizer_gpu = memory_bound_time(rates, optimizer_params * ADAM_BYTES_PER_PARAM, kernels=OPTIMIZER_KERNELS)
    # the optimizer is its own sync interval (grad-norm / inf check on the host): its launches are exposed
    optimizer_host = OPTIMIZER_KERNELS * (CUDA_GRAPH_LAUNCH_S if profile.cuda_graphs else fabric.host_kernel_dispatch_s)
    out["optimizer"] = optimizer_gpu + host_exposed_time(optimizer_host, 0.0, optimizer_gpu, 0.0, 1.0, False,
                                                         fabric.host_kernel_dispatch_s)
    out = {k: out[k] for k in COMPONENTS}
    out["step_time_s"] = sum(out[k] for k in COMPONENTS)
    return out
