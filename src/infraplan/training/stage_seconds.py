"""A pipeline stage's seconds per micro-batch by step component and its host issue / GPU work, for the step
(`training.step_assembly`, which prices the heaviest stage, each end stage that is not it and a middle stage with
these).

A stage runs `layers` decoder layers (its MTP modules' included), `heads` LM heads + losses and `embeds` embeddings:
Megatron-Core builds the embedding on the first pipeline stage and the output layer + loss on the last
(`GPTModel(pre_process, post_process)`). Its GPU work is the per-layer terms of `training.layer_time` and the end
terms of `training.head_time`; its host issue time no queued GPU work covers is `training.host_time`'s
(`host_exposed_time`: the forward's sync, the micro-batches, `get_batch`'s and the loss's host calls; the LM head +
loss close a synced forward, so the layers' host slack cannot cover them). Moved out of `step_assembly` unchanged
(hO, session 60).
"""

from __future__ import annotations

from typing import Any

from infraplan.scalar_path import MathOps
from infraplan.training.host_time import forward_host_calls


def stage_seconds(lt: dict[str, Any], per_layer: dict[str, Any], layers: Any, heads: Any, embeds: Any, with_head: Any,
                  host_terms: tuple[Any, Any, float, float], moe_exposed: Any, exposed: Any, dispatch_s: float,
                  ops: MathOps) -> tuple[dict[str, Any], Any, Any, Any, Any, Any, Any]:
    """One pipeline stage's seconds per micro-batch by component (`per_layer`'s keys; arrays or one plan's floats):
    `layers` decoder layers (its MTP modules' included), `heads` LM heads + losses and `embeds` embeddings (the MTP
    modules' included), `with_head` 1 where it runs the model's own LM head + loss (its loss calls and the
    forward's tail), with the host issue time no queued GPU work covers (`host_terms`: the forward's sync, the
    micro-batches, the batch's and the loss's host calls, `host_time.micro_batch_host_time`). Also returns its
    forward's host and GPU time less the tail, its backward's host and GPU time, its forward's GPU time and, last,
    the exposed host time per micro-batch that its `other` holds (`with_host_row`)."""
    synced, m = host_terms[0], host_terms[1]
    stage = {k: layers * v for k, v in per_layer.items()}
    stage["compute"] = stage["compute"] + heads * lt["head_compute"]
    stage["other"] = stage["other"] + heads * lt["head_other"]
    stage["other"] = stage["other"] + embeds * lt["embed_other"]
    # their TP collectives (`head_time._end_collectives`)
    stage["tp_comm"] = stage["tp_comm"] + heads * lt["head_tp"] + embeds * lt["embed_tp"]
    run_host_fwd, run_gpu_fwd, host_bwd, gpu_bwd, gpu_fwd, tail = stage_work(lt, layers, heads, embeds, with_head,
                                                                             host_terms, ops)
    batch, loss = forward_host_calls(ops, lt, m, host_terms, tail)
    host_per_micro_batch = (exposed(run_host_fwd, host_bwd, run_gpu_fwd, gpu_bwd, m, synced, dispatch_s)
                            + batch + loss) / m
    host_exposed = host_per_micro_batch + layers * moe_exposed
    stage["other"] = stage["other"] + host_exposed
    return stage, run_host_fwd, run_gpu_fwd, host_bwd, gpu_bwd, gpu_fwd, host_exposed


def stage_work(lt: dict[str, Any], layers: Any, heads: Any, embeds: Any, with_head: Any,
               host_terms: tuple[Any, Any, float, float], ops: MathOps) -> tuple[Any, Any, Any, Any, Any, Any]:
    """A stage's host issue time and GPU work per micro-batch (`stage_seconds`' arguments): its forward's host and GPU
    time less the tail (the LM head + loss after the forward's sync), its backward's host and GPU time, its forward's
    GPU time and the tail's share (1 where synced and it runs the model's LM head + loss)."""
    synced, _, batch_host, loss_host = host_terms
    # host issue time no queued GPU work covers (per micro-batch on the stage); the embedding opens the forward and
    # closes the backward, among the layers' work
    # (the five parts in `sum`'s order, from 0)
    gpu_fwd = (layers * (0 + lt["compute_fwd"] + lt["other_fwd"] + lt["tp_fwd"] + lt["cp_fwd"] + lt["ep_fwd"])
               + heads * lt["head_gpu_fwd"] + embeds * lt["embed_gpu_fwd"])
    gpu_bwd = (layers * (0 + lt["compute_bwd"] + lt["other_bwd"] + lt["tp_bwd"] + lt["cp_bwd"] + lt["ep_bwd"])
               + heads * lt["head_gpu_bwd"] + embeds * lt["embed_gpu_bwd"])
    host_fwd = layers * lt["host_fwd"] + heads * lt["head_host_fwd"] + embeds * lt["embed_host_fwd"]
    host_bwd = layers * lt["host_bwd"] + heads * lt["head_host_bwd"] + embeds * lt["embed_host_bwd"]
    tail = ops.where(synced, with_head, 0.0)
    # get_batch runs before the forward on every stage; between timer syncs nothing queued hides it. The loss
    # calls follow the LM head + loss kernels on the last stage, which cover what they can.
    host_fwd = host_fwd + ops.where(synced, 0.0, batch_host) + with_head * loss_host
    run_host_fwd, run_gpu_fwd = host_fwd - tail * (lt["head_host_fwd"] + loss_host), gpu_fwd - tail * lt["head_gpu_fwd"]
    return run_host_fwd, run_gpu_fwd, host_bwd, gpu_bwd, gpu_fwd, tail
