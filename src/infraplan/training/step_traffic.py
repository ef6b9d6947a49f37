"""The pipeline's p2p transfer and the data-parallel and tied-embedding collectives of one training step.

Per distinct communication row (`axes.COMM_KEYS`, `row_memo.computed_once`): the p2p time of one pipeline
boundary transfer (the micro-batch's T x h / TP bf16 activation to the next stage, `network.collectives`
send/receive at the pipeline's rank stride), the local and sharded parameters, and by ZeRO stage the DP
collectives: gradient all-reduce (ZeRO 0), reduce-scatter + parameter all-gather (ZeRO 1/2), or all-gather
forward and backward + reduce-scatter per local layer (ZeRO 3/FSDP). Dense parameters are replicated over
DP x CP, routed experts only over the expert data-parallel ranks (`stage_params.dp_groups`, with its sources).
The tied word-embedding gradient all-reduce between the first and last stage (Megatron-LM
`_allreduce_word_embedding_grads`) once per step. How much of it is exposed (overlapped with the first
micro-batch's forward and the last one's backward) is `training.step_assembly`'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.network.collectives import (
    Fabric,
    collective_seconds,
    group_domain,
    send_recv_seconds,
    send_recv_time,
)
from infraplan.scalar_path import ops_of, to_float
from infraplan.training.axes import COMM_KEYS
from infraplan.training.layer_kernels import distinct_collective_time, distinct_collective_times
from infraplan.training.layer_time import ACT
from infraplan.training.memory import (
    GRAD_BYTES,
    WEIGHT_BYTES,
    local_expert_params,
    local_params,
    mtp_module_params,
    sharded_of,
)
from infraplan.training.one_plan_memo import ClusterPricing
from infraplan.training.plan import PlanArrays
from infraplan.training.row_memo import computed_once
from infraplan.training.stage_params import dp_groups

__all__ = ["dp_collectives", "pipeline_and_dp_traffic", "tied_embedding_sync"]


def pipeline_and_dp_traffic(shape: TransformerShape, fabric: Fabric, plan: PlanArrays, grad_bytes: float = GRAD_BYTES,
                             pricing: ClusterPricing | None = None, mtp_num_layers: int = 0) -> dict[str, Any]:
    """p2p time per pipeline transfer and the DP collectives of one step, once per distinct COMM_KEYS row (arrays;
    a single estimate's floats). A single estimate's plan gets its row without the DP collectives (a kind of its own
    in the one-plan memo): `step_time.one_plan_step_time` prices those of its ZeRO stage (`dp_collectives`); a
    grid's rows (one distinct row may stand for plans of every stage) carry every stage's. `mtp_num_layers`: the
    stack's MTP modules (`Stack.mtp_num_layers`), counted in the parameters of the stage (their gradients reduced
    and their optimizer step run with its own; the embedding table Megatron-Core builds beside them is not).
    `expert_params`: the routed-expert part of `params`."""
    single = plan.is_one  # the plan itself is priced (`computed_once` hands it to `compute` as it is)

    def compute(rows: PlanArrays) -> dict[str, Any]:
        p = rows.one_row if rows.is_one else rows  # one plan: its Python numbers (`PlanArrays.one_row`)
        boundary = p.micro_batch * p.seq_len / p.cp * shape.hidden_size * ACT / p.tp
        # dense parameters are replicated over DP x CP; experts only over the ranks holding the same expert
        params, experts = local_params(shape, p), local_expert_params(shape, p)
        if mtp_num_layers:  # the stack's MTP modules, on the stage of the LM head (`memory.mtp_module_params`)
            mtp, mtp_experts = mtp_module_params(shape, p, mtp_num_layers)
            params, experts = params + mtp, experts + mtp_experts
        one = p is not rows
        out = {
            "p2p": (send_recv_seconds(fabric, boundary, p.pp_stride) if one  # type: ignore[arg-type]
                    else send_recv_time(fabric, boundary, p.pp_stride)),
            # 1 where pipeline neighbours sit in different scale-up domains (the transfer crosses the NIC, as
            # `send_recv_time` prices it; `training.combined_1f1b.p2p_on_ep_nic_s`)
            "p2p_scale_out": ((1.0 if p.pp_stride * 2 > group_domain(fabric, 2.0, p.pp_stride) else 0.0) if one
                              else np.where(np.asarray(p.pp_stride) * 2 > group_domain(fabric, 2.0, p.pp_stride),
                                            1.0, 0.0)),
            **({} if single and rows is plan else dp_collectives(shape, fabric, p, params, experts, grad_bytes)),
            "params": params,
            "expert_params": experts,
            "sharded": sharded_of(p, params, experts),
            "embedding_sync": tied_embedding_sync(shape, fabric, p, grad_bytes, one),
        }
        return out if p is rows else dict(zip(out, map(float, out.values()), strict=True))  # one plan: Python floats

    return computed_once(plan, COMM_KEYS, compute if pricing is None else
                          pricing.memoised("comm_no_dp" if single else "comm", shape, COMM_KEYS, compute))


def dp_collectives(shape: TransformerShape, fabric: Fabric, p: PlanArrays, params: Any, experts: Any,
                    grad_bytes: float, zero: Any = None) -> dict[str, Any]:
    """The DP collectives of one step by ZeRO stage (arrays, or a `one_row` plan's floats) from the stage's local
    and expert parameters: gradient all-reduce (ZeRO 0), reduce-scatter + parameter all-gather (1/2), ZeRO-3 / FSDP's
    per-layer gathers and scatters (one collective per local layer at its own message size). `zero`: a single
    estimate's stage, whose collectives alone are priced (`assemble_step` picks them; the others 0.0)."""
    one = type(p.tp) is int  # type: ignore[comparison-overlap]  # a `one_row` plan: floats (`collective_seconds`)
    dense, moe = params - experts, shape.is_moe
    dp, dp_stride, edp, edp_stride = dp_groups(p)  # DP x CP ranks, and the experts' (`stage_params.dp_groups`)
    local_layers = ops_of(p.pp).ceil(shape.num_layers / to_float(p.pp))
    reduce, sharded, layered = (True,) * 3 if zero is None else (zero == 0, 0 != zero < 3, zero != 0 and zero >= 3)
    # (name, collective, bytes per parameter, one per local layer at its own message size, priced)
    terms = (("allreduce", "all_reduce", grad_bytes, False, reduce),
             ("scatter", "reduce_scatter", grad_bytes, False, sharded),
             ("gather", "all_gather", WEIGHT_BYTES, False, sharded),
             ("scatter_layers", "reduce_scatter", grad_bytes, True, layered),
             ("gather_layers", "all_gather", WEIGHT_BYTES, True, layered))
    # dense over DP x CP, then the experts over their replicas; per layer: each local layer's share of the bytes
    held = ((dense, dp, dp_stride), (experts, edp, edp_stride)) if moe else ((dense, dp, dp_stride),)
    requests = [(kind, (part / local_layers if per else part) * bytes_per_param, group, stride)
                for _, kind, bytes_per_param, per, on in terms if on for part, group, stride in held]
    # a search's columns: the requests of one formula priced in one pass (`distinct_collective_times`)
    priced = ([collective_seconds(fabric, *r) for r in requests] if one
              else distinct_collective_times(fabric, requests))
    out: dict[str, Any] = {}
    at, step = 0, (2 if moe else 1)
    for name, _, _, per, on in terms:
        if not on:
            out[name] = 0.0
            continue
        t = local_layers * priced[at] if per else priced[at]
        if moe:
            t = t + (local_layers * priced[at + 1] if per else priced[at + 1])
        at += step
        out[name] = np.asarray(t, dtype=np.float64) if per and not one else t
    return out


def tied_embedding_sync(shape: TransformerShape, fabric: Fabric, p: PlanArrays, grad_bytes: float,
                         one: bool) -> Any:
    """The tied word-embedding gradient all-reduce between the first stage (embedding) and the last (LM head), once
    per step with PP > 1: the V / TP x h gradient over the 2 ranks (PP - 1) stage strides apart (Megatron-LM
    `_allreduce_word_embedding_grads` in `finalize_model_grads`, after the DP gradient sync; untied models, e.g.
    Llama's `tie_word_embeddings: false`, have none). The pair spans the pipeline's PP x stage-stride ranks (a
    group of n at stride s spans n s in `network.collectives`): stride PP x stage stride / 2."""
    size = shape.vocab_size / to_float(p.tp) * shape.hidden_size * grad_bytes
    if one:
        pp = float(p.pp)
        return (collective_seconds(fabric, "all_reduce", size, 2.0, pp * float(p.pp_stride) / 2.0)
                if shape.tied_embeddings and pp > 1.0 else 0.0)
    pp_arr = p.pp.astype(np.float64)
    if not shape.tied_embeddings or not np.any(pp_arr > 1.0):
        return np.zeros(np.shape(pp_arr))
    # once per distinct (size, stride) row (`distinct_collective_time`: a search's rows repeat a few TP x PP pairs; the
    # formula is element-wise, so each row keeps its bits; hP9)
    seconds = distinct_collective_time(fabric, "all_reduce", size, 2.0, pp_arr * p.pp_stride / 2.0)
    return np.asarray(np.where(pp_arr > 1.0, seconds, 0.0), dtype=np.float64)
