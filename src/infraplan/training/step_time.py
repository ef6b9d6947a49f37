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
* Recompute: selective adds the attention core forward to backward; full adds the whole layer forward.
* Host-bound floor: a layer phase takes at least (kernels launched) x (host dispatch time per kernel,
  measured 26 us in eager PyTorch); the GPU cannot run ahead of the host. It binds for small layers.

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

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates, attention_time, gemm_time, memory_bound_time
from infraplan.network.collectives import (
    Fabric,
    all_gather_time,
    all_reduce_time,
    collective_time,
    reduce_scatter_time,
    send_recv_time,
)
from infraplan.ops.layer import ArrayLike, Collective, Elementwise, LayerOps, Layout, head_ops, layer_ops
from infraplan.training.axes import COMM_KEYS, LAYER_KEYS  # cache keys, derived from the declared plan axes
from infraplan.training.enums import Attention, Dtype, Recompute
from infraplan.training.memory import GRAD_BYTES, WEIGHT_BYTES, local_expert_params, local_params, sharded_params
from infraplan.training.plan import PlanArrays
from infraplan.training.schedules import pipeline_bubble

ACT = 2.0  # bf16 activations and communication payloads
ADAM_BYTES_PER_PARAM = 30.0  # read fp32 param, grad, m, v; write param, m, v and the bf16 copy
COMPONENTS = ("compute", "tp_comm", "cp_comm", "ep_comm", "pp_bubble", "pp_comm", "dp_comm_exposed",
              "optimizer", "other")


def _gemm_fwd_bwd(rates: KernelRates, precision: tuple[np.ndarray, np.ndarray], m: ArrayLike, n: ArrayLike,
                  k: ArrayLike, count: ArrayLike = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Forward, and backward (dgrad + wgrad) seconds of `count` GEMMs of shape (m x k) @ (k x n).

    `precision` is (FLOP/s, operand bytes) per plan: bf16 or fp8 GEMMs.
    """
    rate, width = precision
    fwd = gemm_time(rates, m, n, k, width, rate)
    bwd = gemm_time(rates, m, k, n, width, rate) + gemm_time(rates, k, n, m, width, rate)
    return np.asarray(count * fwd), np.asarray(count * bwd)


def attention_core_times(shape: TransformerShape, rates: KernelRates, plan: PlanArrays,
                         tokens: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward seconds of the attention core (scores, softmax, values) for one layer.

    Flash: causal, 4 T s (a/TP) d / 2 FLOPs forward and 2.5x that backward (scores recomputed), at the
    accelerator's fused-attention rate. Unfused (Megatron-LM before 2023): batched GEMMs Q K^T and P V
    over the full s x s scores, plus memory-bound scale-mask-softmax and dropout passes over them
    (forward 4 B/score, backward 6 B/score; +5 B forward, +5 B backward with attention dropout).
    """
    heads = shape.num_heads / plan.tp
    d = float(shape.head_dim)
    flash_flops = 4.0 * tokens * plan.seq_len * heads * d * 0.5
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
    unfused = plan.attention == Attention.UNFUSED
    return np.where(unfused, unfused_fwd, flash_fwd), np.where(unfused, unfused_bwd, flash_bwd)


def _layout(plan: PlanArrays, fp8: np.ndarray) -> Layout:
    """The plan's layer layout: tokens per GPU = micro_batch * seq_len / CP, EP as the inner factor of DP."""
    tokens = plan.micro_batch * plan.seq_len / plan.cp.astype(np.float64)
    return Layout(tokens=tokens, tp=plan.tp, ep=plan.ep, cp=plan.cp, sequence_parallel=plan.sequence_parallel == 1,
                  seq_len=plan.seq_len, batch=plan.micro_batch, ep_stride=plan.dp_stride, fp8_casts=fp8)


def _elementwise_time(rates: KernelRates, passes: tuple[Elementwise, ...]) -> np.ndarray:
    return sum((np.where(e.mask, memory_bound_time(rates, e.bytes, kernels=e.kernels), 0.0) for e in passes),
               np.zeros(()))


def _collective_times(fabric: Fabric, records: tuple[Collective, ...], role: str) -> np.ndarray:
    """Seconds of the collectives of one role ("tp", "cp", "ep"), priced by `network.collectives`."""
    return sum((np.where(c.mask, c.count * collective_time(fabric, c.kind, c.bytes, c.group, c.stride), 0.0)
                for c in records if c.role == role), np.zeros(()))


def layer_times(shape: TransformerShape, rates: KernelRates, fabric: Fabric, plan: PlanArrays,
                precision: tuple[np.ndarray, np.ndarray], host_dispatch_s: float = 0.0) -> dict[str, np.ndarray]:
    """Seconds per micro-batch for one layer, forward and backward, by component (priced `ops.layer_ops`)."""
    fp8 = precision[1] < 2.0
    lay = _layout(plan, fp8)
    ops = layer_ops(shape, lay)
    gemms = [_gemm_fwd_bwd(rates, precision, g.m, g.n, g.k, g.count) for g in ops.gemms]
    gemm_fwd = sum(g[0] for g in gemms)
    gemm_bwd = sum(g[1] for g in gemms)
    attn_fwd, attn_bwd = attention_core_times(shape, rates, plan, lay.tokens)
    tp_fwd = _collective_times(fabric, ops.collectives_fwd, "tp")
    ep_fwd = _collective_times(fabric, ops.collectives_fwd, "ep") + np.zeros(len(plan))
    cp_fwd = _collective_times(fabric, ops.collectives_fwd, "cp")
    cp_bwd = _collective_times(fabric, ops.collectives_bwd, "cp")
    elem_fwd = _elementwise_time(rates, ops.elementwise_fwd)
    elem_bwd = _elementwise_time(rates, ops.elementwise_bwd)

    selective = plan.recompute == Recompute.SELECTIVE
    full = plan.recompute == Recompute.FULL
    compute_fwd = gemm_fwd + attn_fwd
    out = {
        "compute_fwd": compute_fwd,
        "compute_bwd": gemm_bwd + attn_bwd + np.where(full, compute_fwd, np.where(selective, attn_fwd, 0.0)),
        "other_fwd": elem_fwd,
        "other_bwd": elem_bwd + np.where(full, elem_fwd, 0.0),
        "tp_fwd": tp_fwd,
        "tp_bwd": tp_fwd + np.where(full, tp_fwd, 0.0),
        "cp_fwd": cp_fwd,
        "cp_bwd": cp_bwd + np.where(full, cp_fwd, 0.0),
        "ep_fwd": ep_fwd,
        "ep_bwd": ep_fwd + np.where(full, ep_fwd, 0.0),
    }
    # host-bound floor: the GPU cannot run ahead of the host issuing its kernels
    ops_fwd, ops_bwd = _kernel_counts(ops, plan)
    for phase, count in (("fwd", ops_fwd), ("bwd", ops_bwd)):
        gpu = sum(out[f"{part}_{phase}"] for part in ("compute", "other", "tp", "cp", "ep"))
        out[f"other_{phase}"] = out[f"other_{phase}"] + np.maximum(count * host_dispatch_s - gpu, 0.0)
    return out


def _kernel_counts(ops: LayerOps, plan: PlanArrays) -> tuple[np.ndarray, np.ndarray]:
    unfused = plan.attention == Attention.UNFUSED
    attn_fwd = np.where(unfused, 4.0, 1.0)
    collectives = sum((c.launches() for c in ops.collectives_fwd), np.zeros(()))
    elem_fwd = sum((np.where(e.mask, e.kernels, 0.0) for e in ops.elementwise_fwd), np.zeros(()))
    elem_bwd = sum((np.where(e.mask, e.kernels, 0.0) for e in ops.elementwise_bwd), np.zeros(()))
    gemms = ops.gemm_kernels()
    fwd = gemms + attn_fwd + elem_fwd + collectives
    recompute = np.select([plan.recompute == Recompute.FULL, plan.recompute == Recompute.SELECTIVE],
                          [fwd, attn_fwd], 0.0)
    bwd = 2.0 * gemms + np.where(unfused, 6.0, 3.0) + elem_bwd + collectives + recompute
    return fwd, bwd


def layer_kernel_counts(shape: TransformerShape, plan: PlanArrays) -> tuple[np.ndarray, np.ndarray]:
    """Kernels (and collectives) the host launches per layer and micro-batch, forward and backward.

    Forward: the layer's GEMMs, attention (1 fused kernel, or 2 batched GEMMs + softmax + dropout unfused),
    the element-wise kernels, TP/CP/EP collectives and fp8 casts of `ops.layer_ops`. Backward: twice the
    GEMMs, 3 (fused) or 6 (unfused) attention kernels, the backward element-wise kernels, the same
    collectives and casts, plus whatever recompute re-runs.
    """
    return _kernel_counts(layer_ops(shape, _layout(plan, plan.dtype == Dtype.FP8)), plan)


def head_times(shape: TransformerShape, rates: KernelRates, plan: PlanArrays,
               precision: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """LM head GEMM and cross-entropy (fp32 logits, vocab-parallel over TP): (compute, other) seconds."""
    head = head_ops(shape, plan.micro_batch * plan.seq_len / plan.cp, plan.tp)
    fwd, bwd = _gemm_fwd_bwd(rates, precision, head.gemm.m, head.gemm.n, head.gemm.k)
    loss = memory_bound_time(rates, head.elementwise.bytes, kernels=head.elementwise.kernels)
    return fwd + bwd, loss


def _distinct_rows(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(index of the first row of each distinct combination, row -> combination index).

    Integer columns are packed into one int64 key by their value ranges (one sort instead of one per column).
    """
    lows = [int(c.min()) if c.size else 0 for c in columns]
    sizes = [int(c.max()) - low + 1 if c.size else 1 for c, low in zip(columns, lows, strict=True)]
    if np.prod(np.array(sizes, dtype=np.float64)) < 2.0**62:
        key = np.zeros(columns[0].shape, dtype=np.int64)
        for column, low, size in zip(columns, lows, sizes, strict=True):
            key = key * size + (column - low)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:  # astronomically wide ranges: fall back to row-wise unique
        _, first, inverse = np.unique(np.stack(columns, axis=1), axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _computed_once(plan: PlanArrays, keys: tuple[str, ...],
                   compute: Callable[[PlanArrays], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Run `compute` once per distinct combination of the `keys` fields and broadcast back (exact)."""
    first, inverse = _distinct_rows([getattr(plan, k) for k in keys])
    return {k: v[inverse] for k, v in compute(plan.take(first)).items()}


def _per_layer(shape: TransformerShape, rates: KernelRates, fabric: Fabric, plan: PlanArrays,
               precision_of: Callable[[PlanArrays], tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """Layer and head times, computed once per distinct LAYER_KEYS row."""
    def compute(distinct: PlanArrays) -> dict[str, np.ndarray]:
        precision = precision_of(distinct)
        times = layer_times(shape, rates, fabric, distinct, precision, fabric.host_kernel_dispatch_s)
        times["head_compute"], times["head_other"] = head_times(shape, rates, distinct, precision)
        return times

    return _computed_once(plan, LAYER_KEYS, compute)


def _pipeline_and_dp_traffic(shape: TransformerShape, fabric: Fabric, plan: PlanArrays) -> dict[str, np.ndarray]:
    """p2p time per pipeline transfer and the DP collectives of one step, once per distinct COMM_KEYS row."""
    def compute(p: PlanArrays) -> dict[str, np.ndarray]:
        boundary = p.micro_batch * p.seq_len / p.cp * shape.hidden_size * ACT / p.tp
        # dense parameters are replicated over DP; experts only over the DP/EP ranks holding the same expert
        params = local_params(shape, p)
        experts = local_expert_params(shape, p)
        dense = params - experts
        dp_stride = p.dp_stride

        def over_replicas(collective: Callable[..., np.ndarray], bytes_per_param: float) -> np.ndarray:
            t = collective(fabric, dense * bytes_per_param, p.dp, dp_stride)
            if shape.is_moe:
                t = t + collective(fabric, experts * bytes_per_param, p.dp // p.ep, dp_stride * p.ep)
            return t

        return {
            "p2p": send_recv_time(fabric, boundary, p.pp_stride),
            "allreduce": over_replicas(all_reduce_time, GRAD_BYTES),
            "scatter": over_replicas(reduce_scatter_time, GRAD_BYTES),
            "gather": over_replicas(all_gather_time, WEIGHT_BYTES),
            "params": params,
            "sharded": sharded_params(shape, p),
        }

    return _computed_once(plan, COMM_KEYS, compute)


def step_time(shape: TransformerShape, cluster: Cluster, plan: PlanArrays) -> dict[str, np.ndarray]:
    """Step time and its breakdown (seconds, arrays over plans); components add up to `step_time_s`."""
    accelerator, fabric = cluster.accelerator, cluster.fabric
    rates = KernelRates.for_dtype(accelerator, "bf16")
    fp8_rate = (accelerator.peak("fp8") * accelerator.matmul_fraction("fp8")
                if "fp8" in accelerator.efficiency.matmul_max_fraction else rates.matmul_flops_per_s)

    def precision_of(p: PlanArrays) -> tuple[np.ndarray, np.ndarray]:
        fp8 = p.dtype == Dtype.FP8
        return np.where(fp8, fp8_rate, rates.matmul_flops_per_s), np.where(fp8, 1.0, 2.0)

    lt = _per_layer(shape, rates, fabric, plan, precision_of)
    head_compute, head_other = lt["head_compute"], lt["head_other"]

    per_layer = {
        "compute": lt["compute_fwd"] + lt["compute_bwd"],
        "tp_comm": lt["tp_fwd"] + lt["tp_bwd"],
        "cp_comm": lt["cp_fwd"] + lt["cp_bwd"],
        "ep_comm": lt["ep_fwd"] + lt["ep_bwd"],
        "other": lt["other_fwd"] + lt["other_bwd"],
    }
    layer_total = sum(per_layer.values())
    pp = plan.pp.astype(np.float64)
    ceil_layers = np.ceil(shape.num_layers / pp)
    floor_layers = np.floor(shape.num_layers / pp)
    single = plan.pp == 1
    # heaviest stage: a full middle stage, or the last stage with the LM head (one stage: everything)
    last_is_heaviest = single | (floor_layers * layer_total + head_compute + head_other
                                 >= ceil_layers * layer_total)
    layers = np.where(last_is_heaviest, np.where(single, shape.num_layers, floor_layers), ceil_layers)
    stage = {k: layers * v for k, v in per_layer.items()}
    stage["compute"] = stage["compute"] + np.where(last_is_heaviest, head_compute, 0.0)
    stage["other"] = stage["other"] + np.where(last_is_heaviest, head_other, 0.0)
    stage_total = sum(stage.values())
    fwd_window = layers * (lt["compute_fwd"] + lt["other_fwd"] + lt["tp_fwd"])
    bwd_window = layers * (lt["compute_bwd"] + lt["other_bwd"] + lt["tp_bwd"])

    m = plan.micro_batches.astype(np.float64)
    out = {k: m * v for k, v in stage.items()}
    out["pp_bubble"] = pipeline_bubble(plan.schedule, pp, plan.vpp, m, stage_total)

    traffic = _pipeline_and_dp_traffic(shape, fabric, plan)
    out["pp_comm"] = np.where(single, 0.0, 2.0 * (pp * plan.vpp - 1.0) * traffic["p2p"])
    allreduce, scatter, gather = traffic["allreduce"], traffic["scatter"], traffic["gather"]
    exposed_zero0 = np.maximum(allreduce - bwd_window, 0.0)
    exposed_zero12 = np.maximum(scatter - bwd_window, 0.0) + np.maximum(gather - fwd_window, 0.0)
    exposed_zero3 = np.maximum(gather - fwd_window, 0.0) + np.maximum(scatter + gather - bwd_window, 0.0)
    out["dp_comm_exposed"] = np.select([plan.zero == 0, plan.zero < 3], [exposed_zero0, exposed_zero12],
                                       exposed_zero3)

    optimizer_params = np.where(plan.zero >= 1, traffic["sharded"], traffic["params"])
    out["optimizer"] = memory_bound_time(rates, optimizer_params * ADAM_BYTES_PER_PARAM, kernels=20)
    out = {k: out[k] for k in COMPONENTS}
    out["step_time_s"] = sum(out[k] for k in COMPONENTS)
    return out
