"""ZeRO-3's step edges: the parameter gathers before the first layer can compute and the gradient reduce-scatters
after the last layer's backward, which no compute hides (hS, session 53).

`dp_exposure.dp_forms` prices ZeRO-3's per-layer collectives in bulk against a micro-batch's forward / backward
window (`max(gathers - window, 0)`): where the window is the longer, nothing is exposed. Every ZeRO-3 stack read
here runs its collectives one unit ahead of the compute, so the first gather waits for nothing before it and the
last reduce-scatter has nothing after it:
* torch FSDP2 (torch 2.5.1 wheel, `torch.distributed._composable.fsdp`; torchtitan): the root pre-forward makes
  the gather streams wait for the compute stream (the optimizer or the previous micro-batch's backward,
  _fsdp_state.py:124-132), then gathers the root unit (torchtitan: the embedding, final norm and output layer,
  `fully_shard(model)`, torchtitan 0.1.0 models/llama3/infra/parallelize.py:367) and, on the same stream, the first
  block's (implicit prefetch: each unit's gather issued at its pre-forward, _fsdp_param_group.py:222-273); the
  embedding lookup between them is the only compute. In backward the root's gradients are reduced last: its inputs
  (token ids) need no gradient, so its post-backward runs in the final callback (_fsdp_state.py:273-296), after
  the compute stream waits for the first block's reduce-scatter (_fsdp_param_group.py:366-371), and the last
  backward waits for the root's (_fsdp_state.py:292-296).
* Megatron-FSDP (megatron-core 0.16.1 megatron_fsdp.py, nemo-26.04): the units are the transformer layers
  (mcore_fsdp_adapter.py:93-97); the other modules (embedding, output layer, final norm) gather at their own
  forward pre-hooks (:955-966) and are never released after forward, and their gradients are reduced by the root
  post-backward hook after the last backward (:764-790); the gather pipeline prefetches about one unit
  (`suggested_AG_prefetch_size`, :374-399).
* DeepSpeed ZeRO-3 (0.14.4 runtime/zero/stage3.py): the last gradient bucket (up to `reduce_bucket_size`,
  config.py:106) is reduced in the epilogue after every backward, which synchronises its stream (:1082-1088); the
  first module's parameters (the embedding) are fetched before any compute (stage3 prefetch,
  `stage3_prefetch_bucket_size` 5e7, config.py:195).
One rule for all: the head is the gather of the edge tables and one layer, the tail the reduce-scatter of one layer
and the edge tables. The edge tables: FSDP2's root unit holds both (the embedding and the untied output layer; the
stacks that set `Stack.zero3_edge_tables` root, torchtitan); elsewhere the embedding alone (Megatron-FSDP reduces each
parameter's gradient from its own post-accumulate hook, :1003-1011, so the output layer's leaves early in the
backward; DeepSpeed fetches module by module, the embedding first). Each edge is priced as the traffic's per-layer
ZeRO-3 collective scaled to its parameters (collective time linear in the bytes: the bandwidth term; the per-collective
latency of the tables' unit is left out, an under-count of microseconds). Each phase exposes at least its edge:
`max(bulk exposure, edge)` (the one-unit-ahead pipeline's time is at least the edge plus the compute; where the
collectives are the longer, the bulk form holds). With a pipeline the first stage's edges (the embedding and a layer)
are exposed once a step: it starts the step's first forward and runs its last backward (1F1B and the interleaved
schedules: Narayanan et al. SC'21 Fig. 4); the other stages' edges hide in the warm-up / cool-down bubble. There the
step exposes at least them (`max(form, edges)`: the first stage's own bulk forms are not split out, an
under-count where both are large).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.stacks import Stack
from infraplan.scalar_path import MathOps
from infraplan.training.plan import PlanArrays

ZERO3_EDGES = True  # the toggle: False prices ZeRO-3's collectives in bulk only (before hS, session 53)

DEFERRED_PIPELINE_REDUCE = True  # the toggle: False prices a deferring stack's pipelined reduce-scatters as any other's

__all__ = ["DEFERRED_PIPELINE_REDUCE", "ZERO3_EDGES", "deferred_zero2_form", "edge_share", "edge_unit",
           "first_stage_share", "zero3_edge_form"]


def edge_unit(traffic: dict[str, Any], layers: Any, edge_tables: Any, ops: MathOps) -> Any:
    """The local weights of one edge unit: `edge_tables` table weights and one of the traffic's `layers` decoder
    layers (`traffic["params"]` less its tables, `traffic["table_params"]`, over the layers; arrays or one plan's
    floats). Also FSDP2's units kept gathered from forward to backward (`fsdp2_copies.fsdp2_step_copies`)."""
    params, tables = traffic["params"], traffic["table_params"]
    return edge_tables + (params - tables) / ops.maximum(layers, 1.0)


def edge_share(traffic: dict[str, Any], layers: Any, edge_tables: Any, ops: MathOps) -> Any:
    """The share of the traffic's local parameters (`traffic["params"]`: its `layers` decoder layers and its tables,
    `traffic["table_params"]`) in one edge unit (`edge_unit`)."""
    params = traffic["params"]
    return ops.where(params > 0.0, edge_unit(traffic, layers, edge_tables, ops) / ops.maximum(params, 1.0), 0.0)


def zero3_edge_form(zero3_form: Any, plan: PlanArrays, traffic: dict[str, Any], lt: dict[str, Any],
                    windows: tuple[Any, Any], stack: Stack, ops: MathOps) -> Any:
    """ZeRO-3's exposed DP seconds of one micro-batch's collectives (`dp_exposure.dp_forms`' third form) with its
    edges (module docstring). Without a pipeline: the forward's gathers less its window, at least the head gather,
    plus the backward's reduce-scatters and gathers less its window, at least the tail reduce-scatter (`windows`: the
    heaviest stage's, `dp_exposure.dp_windows`, on which `zero3_form` was priced at PP = 1); the edge tables FSDP2's
    root (both tables where the stack's `zero3_edge_tables` is root) or the embedding. With one: the first stage's head
    and tail (the embedding and a layer), once a step, at least (the most of the stages' exposures is at least the
    first stage's, and that at least its edges): `step_assembly` multiplies the form by the micro-batches where the
    stack's pipelined schedules repeat ZeRO-3's collectives, so the edges enter here over that count."""
    if not ZERO3_EDGES:
        return zero3_form
    pp = ops.as_float(plan.pp)
    single = plan.pp == 1
    layers = ops.ceil((lt["stage_layers"] + lt["other_layers"]) / pp)  # the traffic's ceil(L / p) (`dp_collectives`)
    embedding = traffic["embedding_params"]
    gather, scatter = traffic["gather_layers"], traffic["scatter_layers"]
    root = traffic["table_params"] if stack.zero3_edge_tables == "root" else embedding
    share = edge_share(traffic, layers, ops.where(single, root, embedding), ops)
    fwd_window, bwd_window = windows
    edged = (ops.maximum(gather - fwd_window, share * gather)
             + ops.maximum(scatter + gather - bwd_window, share * scatter))
    repeats = (ops.as_float(plan.micro_batches) if stack.zero3_collectives_per_micro_batch
               and stack.zero3_pipeline_collectives_per_micro_batch else 1.0)
    piped = ops.maximum(zero3_form, share * (gather + scatter) / repeats)
    if DEFERRED_PIPELINE_REDUCE and stack.pipeline_grad_reduce_deferred:  # the head and the whole deferred tail
        piped = ops.maximum(piped, (share * gather + first_stage_share(traffic, ops) * scatter) / repeats)
    return ops.where(single, edged, piped)


def first_stage_share(traffic: dict[str, Any], ops: MathOps) -> Any:
    """The share of the traffic's local parameters on the first stage: its layers and the embedding (the traffic's
    ceil(L / p) layers: where the first stage holds fewer, an over-count of those layers' bytes)."""
    params = traffic["params"]
    first = params - traffic["table_params"] + traffic["embedding_params"]
    return ops.where(params > 0.0, first / ops.maximum(params, 1.0), 0.0)


def deferred_zero2_form(zero12_form: Any, plan: PlanArrays, traffic: dict[str, Any], windows: tuple[Any, Any],
                        stack: Stack, ops: MathOps) -> Any:
    """ZeRO-1/2's exposed DP seconds (`dp_exposure.dp_forms`' second form) where the stack's pipelined schedules
    defer every gradient reduce-scatter of a stage to after its last backward (`Stack.pipeline_grad_reduce_deferred`:
    torch.distributed.pipelining, torch 2.5.1 stage.py:522-536; torchtitan): the first stage runs the step's last
    backward, so nothing hides its whole reduce-scatter (its layers and the embedding, `first_stage_share`); the
    other stages' finish behind its cool-down backwards. At least that plus the gather's rest over the forward
    window (`windows`, `dp_exposure.dp_windows`; FSDP2 gathers a ZeRO-2 stage once, prefetched in the first
    forward); PP = 1 and other stacks unchanged."""
    if not (DEFERRED_PIPELINE_REDUCE and stack.pipeline_grad_reduce_deferred):
        return zero12_form
    deferred = (first_stage_share(traffic, ops) * traffic["scatter"]
                + ops.maximum(traffic["gather"] - windows[0], 0.0))
    return ops.where(plan.pp > 1, ops.maximum(zero12_form, deferred), zero12_form)
