"""Per-GPU training memory: weights, gradients, optimizer state, activations, runtime overhead.

Overhead: the runtime reserve (`ops.params.RUNTIME_RESERVE_BYTES`) + the plan's NCCL buffers (`communicator_buffers`).

Activations (Korthikanti et al. 2022; selective, full and block recompute; per pipeline stage kind):
`training.activation_memory`, whose names are importable from here as well. The parameters one GPU holds on each
stage kind (layers, tables, MTP modules, their shards over DP): `training.stage_params`.

Pipeline: the memory per GPU is that of the stage kind that peaks (`_peak_candidates`): the first stage (its layers,
the embedding), the second (a middle stage: the most in flight of them, no table) and the last (its layers, the
LM head, the loss's fp32 logits of one micro-batch: megatron-core 0.16.1 tensor_parallel/cross_entropy.py:28,187),
each with its layers under the stack's split (`ops.params.split_stage_layers`: Megatron-Core
`get_num_layers_to_build`, the end stages one layer short where the stack counts the embedding / loss as a layer)
and its micro-batches in flight under the schedule (`schedules.stage_in_flight`: 1F1B's stage i holds
min(p - i, m); interleaved, Megatron's per-rank warm-up count in its schedule table's chunk order, the first chunk
of the first stage one layer short: Llama 3.1 405B on PP16 VP4 peaks on the second stage, 8 layers, 77 chunks of
2). Without a counted end the first stage holds the most layers + a table and micro-batches (1F1B min(p, m);
interleaved (1 + (p-1)/(p v)) times that, Korthikanti Sec. 4.2.3), as before; the last peaks only by its logits.
The "balanced" split (`stage_split`): each kind on its own layers of the split the step time prices (`split`,
`step_time.balanced_split`: it reads the layers' and the end stages' times; `stage_params.balanced_stage_layers`,
each chunk 1 / v of a stage), all three kinds candidates (Llama 3 405B PP16: 7 + a table on each end, 8 on the middle
stages; 7 layers on PP4 with heavy ends: 1 / 3 / 3 / 0; hO42, session 42: it was ceil(L / p) + a table everywhere).
A balanced split's mirrored schedules (DualPipe, ZB-V): each rank on its two stages of the split their step time
paces (`stage_params.mirrored_split_layers`; hO44: ceil(L / p) per stage before), the end rank with both tables, its
chunks in flight on the mean of its two stages per copy (ASSUMPTION).
ASSUMPTIONS: ZB-V and DualPipe (mirrored stages per rank) on the first stage's count, the loss's logits on that
rank (it holds the last stage: `activation_memory.stage_activations`), DualPipe's middle ranks p + 1 chunks too (the
middle kind, hO42), ZB-V on each rank kind's count as torch's order holds it (below 2p - 1 micro-batches rank 0
m + 1 chunks, rank p - 1 2 min(p, m): `activation_memory.zb_v_rank_chunks`; from there 2p each, rank 0's 2p - 1 of
them chunk 0: `schedules._mirrored_chunks`, hZ41; the heavier of the two);
stack `pipeline_layouts` are not read.
Weights, gradients and optimizer state per GPU (mixed precision, ZeRO): `training.state_memory`.

MTP (`Stack.mtp_num_layers`, DeepSeek-V3 arXiv:2412.19437 sec. 2.2: each module one transformer block, the 2h x h
projection eh_proj and RMSNorms, the embedding and output head shared with the main model): each module's
transformer layer is one of the decoder's last kind (Megatron-Core `get_gpt_mtp_block_spec` takes the decoder
block spec's last layer spec, models/gpt/gpt_layer_specs.py, from memory; DeepSeek-V3's HF checkpoint stores it as
layer 61 = `num_hidden_layers`, past `first_k_dense_replace` 3: an MoE layer) at the plan's TP / EP / ETP, plus
eh_proj over TP (a column-parallel linear, megatron/core/transformer/multi_token_prediction.py) (`mtp_params`; the
norms' vectors are left out, as every layer's). Held by the stage that runs them (`training.pipeline_layout`):
the last (Megatron-Core builds them with `post_process`), or, under a schedule whose ranks hold mirrored stages
(DualPipe, ZB-V: `schedules._mirrored_chunks`), the first stage's rank, which holds the last stage too. Megatron-Core
builds an embedding on a stage with `mtp_process` as on the first (gpt_model.py, `pre_process or mtp_process`,
from memory): one more V x h / TP table on a last stage of PP > 1; DualPipe places the embedding's and the output
head's stages on one rank, so the MTP module shares them physically (DeepSeek-V3 sec. 3.2.3, "Shared Embedding and
Output Head for Multi-Token Prediction"): no copy on a mirrored schedule. Their gradients and optimizer state are
sharded as the layer beside them (experts over the expert data-parallel ranks, the rest over DP x CP: `sharded_of`).
Activations (`_mtp_activation_bytes`): per module and micro-batch in flight one more layer's (its input alone
under full recompute), the inputs of enorm, hnorm, eh_proj (2h) and the final norm (5h values in bf16), and the
second loss's fp32 logits (cross_entropy.py as above), for the one micro-batch the loss's stage holds: the last
stage runs each micro-batch's loss forward and backward back to back (`stage_split.one_f_one_b_chunks`, the
logits' rule above); on a mirrored schedule's first-stage rank one micro-batch, ASSUMPTION (the same rule); and what its
layer's deferred-wgrad store or fresh wgrad buffer holds above the decoder's (`deferred_wgrad_memory.mtp_extra_bytes`,
hD67).
A stack layout that puts them on another rank than the loss's (`pipeline_layout`: "...tm|L") is still priced with
them on the last stage (layouts are not read here, above).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.ops import params as ops_params
from infraplan.ops.params import RUNTIME_RESERVE_BYTES as RUNTIME_OVERHEAD_BYTES
from infraplan.ops.params import stage_layers as stage_layers
from infraplan.scalar_path import anywhere, is_plain, larger, pick, smaller
from infraplan.training.activation_memory import ACTIVATION_BYTES as ACTIVATION_BYTES
from infraplan.training.activation_memory import FIRST as _FIRST
from infraplan.training.activation_memory import LAST as _LAST
from infraplan.training.activation_memory import MIDDLE as _MIDDLE
from infraplan.training.activation_memory import activation_bytes_per_token_layer as activation_bytes_per_token_layer
from infraplan.training.activation_memory import mtp_activation_bytes as _mtp_activation_bytes
from infraplan.training.activation_memory import recomputed_fraction as recomputed_fraction
from infraplan.training.activation_memory import recomputed_stage_layers as recomputed_stage_layers
from infraplan.training.activation_memory import split_flags as _split_flags
from infraplan.training.activation_memory import stage_activations as _activations
from infraplan.training.activation_memory import zb_v_ramp, zb_v_rank_chunks
from infraplan.training.communicator_buffers import communicator_buffer_bytes
from infraplan.training.deferred_wgrad_memory import fresh_wgrad_bytes, held_wgrad_bytes, mtp_extra_bytes
from infraplan.training.enums import Recompute, Schedule
from infraplan.training.grid_in_flight import DISTINCT_IN_FLIGHT_ROWS as DISTINCT_IN_FLIGHT_ROWS
from infraplan.training.grid_in_flight import grid_param_copies as grid_param_copies
from infraplan.training.grid_in_flight import in_flight_chunks as in_flight_chunks
from infraplan.training.grid_in_flight import peak_total
from infraplan.training.plan import PlanArrays
from infraplan.training.schedules import (
    PIPELINE_SCHEDULES,
    in_flight_micro_batches,
    parameter_copies,
    stack_schedules,
)
from infraplan.training.stage_params import (
    BOUND_KIND,
    MIRRORED_SCHEDULES,
    balanced_stage_layers,
    is_mirrored,
    local_expert_params,
    local_layer_params,
    local_params,
    mirrored_split_layers,
    mtp_module_params,
    mtp_on,
    sharded_of,
    sharded_params,
)
from infraplan.training.state_memory import GRAD_BYTES as GRAD_BYTES
from infraplan.training.state_memory import OPTIMIZER_BYTES as OPTIMIZER_BYTES
from infraplan.training.state_memory import WEIGHT_BYTES as WEIGHT_BYTES
from infraplan.training.state_memory import grad_buffer_bytes as grad_buffer_bytes
from infraplan.training.state_memory import kinds_state_terms, state_terms

_FULL = int(Recompute.FULL)  # its code as an int (an enum member's lookup costs more than the comparison)

__all__ = ["ACTIVATION_BYTES", "GRAD_BYTES", "OPTIMIZER_BYTES", "RUNTIME_OVERHEAD_BYTES", "WEIGHT_BYTES",
           "activation_bytes_per_token_layer", "grad_buffer_bytes", "local_expert_params", "local_layer_params",
           "kind_layers", "local_params", "memory_bound_terms", "memory_breakdown", "memory_total",
           "recomputed_fraction", "mtp_module_params", "recomputed_stage_layers", "sharded_of", "sharded_params",
           "stage_layers"]


def memory_breakdown(shape: TransformerShape, plan: PlanArrays, stack: Stack | None = None,
                     split: tuple[Any, ...] | None = None) -> dict[str, np.ndarray]:
    """Bytes per GPU on the heaviest stage: weights, gradients, optimizer, activations, overhead.

    Element-wise in the plan fields, so the search can pass broadcastable columns (rows x virtual stages and
    schedules x ZeRO stages) and get the terms on that grid. `stack`: its selective-recompute modules and fp8
    activation cache (None: the default training stack). `split`: the step time's balanced split of the plans
    (`step_time.balanced_split`: the heaviest stage's layers, whether it is the first / the last), whose stages are
    priced (`kind_layers`); None: the stack's even split (a balanced stack's without it: ceil(L / p), as before).
    """
    profile = stack or resolve_stack(None, "training")
    if plan.is_one:  # one plan: the same terms on its Python numbers (`PlanArrays.one_row`)
        one = None if split is None else tuple(_first(x) for x in split)
        return {k: np.array([float(v)]) for k, v in memory_breakdown(shape, plan.one_row, profile, one).items()}
    copies = (_one_plan_copies(plan.schedule)  # (a `one_row`'s int)
              if type(plan.schedule) is int  # type: ignore[comparison-overlap]  # DualPipe: a rank holds two stages
              else parameter_copies(plan.schedule))
    layers = kind_layers(shape, plan, profile, split)
    candidates = _peak_candidates(shape, plan, profile, layers)
    states = kinds_state_terms(shape, plan, profile, copies, tuple([kind for kind, _ in candidates]), layers)
    (_, act), *others = candidates
    terms = (*states[0], act)
    best = terms[0] + terms[1] + terms[2] + act if others else None
    for state, (_, act) in zip(states[1:], others, strict=True):  # the heaviest kind's terms (the first of ties)
        total = state[0] + state[1] + state[2] + act
        heavier = total > best
        if type(heavier) is bool:  # one plan's floats: `pick` of a plain condition, every term at once
            terms, best = ((*state, act), total) if heavier else (terms, best)
            continue
        terms = tuple(pick(heavier, new, old) for new, old in zip((*state, act), terms, strict=True))
        best = pick(heavier, total, best)
    weights, grads, optimizer, activations = terms
    overhead = RUNTIME_OVERHEAD_BYTES + communicator_buffer_bytes(plan, shape.is_moe)  # (`communicator_buffers`)
    overhead = overhead if is_plain(plan.tp) else np.zeros(np.broadcast_shapes(np.shape(activations),
                                                                                np.shape(overhead))) + overhead
    return {"weights": weights, "gradients": grads, "optimizer": optimizer,
            "activations": activations, "overhead": overhead}


def kind_layers(shape: TransformerShape, plan: PlanArrays, profile: Stack,
                split: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
    """Layers of each stage kind by kind (middle, first, last, and the bound kind: their most) on the balanced split
    the step time prices (`split`, `stage_params.balanced_stage_layers`: hO42, session 42); on the plans whose
    schedule holds mirrored stages (DualPipe, ZB-V) the end rank's (the first and the last kind: rank 0 holds both
    ends) and the middle rank's of the same split, per parameter copy (`stage_params.mirrored_split_layers`; hO44,
    session 43: ceil(L / p) on each before); None without a split (the stack's even split:
    `ops.params.split_stage_layers`)."""
    if split is None or profile.pipeline_split != "balanced":
        return None
    middle, first, last = balanced_stage_layers(shape.num_layers, plan.pp, split, profile)
    mirrored = is_mirrored(plan)
    if anywhere(mirrored):
        end, middles = mirrored_split_layers(shape.num_layers, plan, split)
        middle, first, last = pick(mirrored, middles, middle), pick(mirrored, end, first), pick(mirrored, end, last)
    return middle, first, last, larger(larger(middle, first), last)


def _peak_candidates(shape: TransformerShape, plan: PlanArrays, profile: Stack,
                     layers: tuple[Any, ...] | None = None) -> list[tuple[int, Any]]:
    """(stage kind, its activations) of the stage kinds whose heaviest is the memory per GPU, as `memory_breakdown`
    (terms) and `memory_total` (totals) both select it: all three kinds where the split counts the embedding or
    the loss as a layer; else the first stage with the larger of the first and last stages' activations (the same
    layers and one table each, so the same state; a middle stage holds those layers, no table and fewer
    micro-batches than the first, so never more). ZB-V below 2p - 1 micro-batches (`zb_v_rank_chunks`): rank 0
    holds fewer chunks than rank p - 1, the middle kind (no table), a candidate there too (hY40). `layers`
    (`kind_layers`: the balanced split's stages, each with its own layers and tables): all three kinds, as counted
    ends."""
    ramp = zb_v_ramp(plan)  # (False where no plan runs ZB-V)
    counted = any(_split_flags(profile)) or layers is not None
    middle = ramp is not False and not counted and anywhere(ramp)  # (without counted ends: a candidate only there)
    kinds = (_FIRST, _MIDDLE, _LAST) if counted else (_FIRST, _LAST, _MIDDLE) if middle else (_FIRST, _LAST)
    chunks = in_flight_chunks(plan, _chunk_parts(profile) if layers is None else (0, 2, 3))
    if ramp is not False:
        chunks = zb_v_rank_chunks(plan, chunks, ramp)
    acts = _activations(shape, plan, profile, kinds, chunks, layers)
    if profile.mtp_num_layers:  # the stage holding the MTP modules has its own state: every kind a candidate
        per = _mtp_activation_bytes(shape, plan, profile)
        wgrads = mtp_extra_bytes(shape, plan, profile)  # its layer's wgrad tensors above the decoder's (hD67)
        per = per if wgrads is None else per + wgrads
        last_held = pick((plan.pp == 1) | (chunks[3] > 0.0), 1.0, 0.0)  # the logits' rule (`stage_activations`)
        acts = [act + mtp_on(plan, kind) * per * (last_held if kind == _LAST else 1.0)
                for kind, act in zip(kinds, acts, strict=True)]
        return list(zip(kinds, acts, strict=True))
    if middle:  # the first stage with the larger of the first and last stages' (as below), then the middle kind
        return [(_FIRST, larger(acts[0], acts[1])), (_MIDDLE, acts[2])]
    return list(zip(kinds, acts, strict=True)) if counted else [(_FIRST, larger(*acts))]


def _chunk_parts(profile: Stack) -> tuple[int, ...]:
    """The parts of `schedules.stage_in_flight` the stage kinds of `_peak_candidates` read: without a counted end, the
    first and last stages' chunks alone."""
    return (0, 1, 2, 3, 4) if any(_split_flags(profile)) else (0, 3)


def _first(value: Any) -> float:
    """The one element of a one-plan split's term (a float, or a one-element array) as a Python float."""
    return float(np.ravel(value)[0])


def _one_plan_copies(schedule: int) -> float:
    """`schedules.parameter_copies` of one plan's schedule code (a Python int): its model's copies as a float, 0.0
    for a code no schedule registers (as there), without the array lookup's wrapping."""
    model = PIPELINE_SCHEDULES.get(schedule)  # type: ignore[call-overload]  # an int finds its IntEnum key
    return 0.0 if model is None else float(model.parameter_copies)


def memory_total(shape: TransformerShape, plan: PlanArrays, stack: Stack,
                 split: tuple[Any, ...] | None = None) -> np.ndarray:
    """The sum of `memory_breakdown`'s terms in their order (weights, gradients, optimizer, activations, overhead:
    the bits of `estimate.plan_memory`'s total) on a search's (ZeRO, pairs, rows) grid, in fewer grid passes.

    The state terms (weights, gradients, optimizer) read the schedule only through its parameter copies (1, or 2
    for DualPipe; 0 for an unknown code), so they are summed once per copies value present, on the (ZeRO, 1, rows)
    grid with that value as a scalar (the same products: `held * copies` of each element), and picked by each
    plan's copies; the activations are the (1, pairs, rows) term and the overhead a scalar (issue 18: the search
    prices memory before the step time, ~a third of it on the full grid). `split`: as `memory_breakdown`'s.
    """
    copies = grid_param_copies(plan.schedule)
    candidates = sorted({0.0, *(float(m.parameter_copies) for m in PIPELINE_SCHEDULES.values())})
    present = [v for v in candidates if bool(np.any(copies == v))]
    if not present:  # no plans
        return np.zeros(np.broadcast_shapes(np.shape(copies), np.shape(plan.zero), np.shape(plan.tp)))
    layers = kind_layers(shape, plan, stack, split)
    peaks = _peak_candidates(shape, plan, stack, layers)  # the stage kinds of `memory_breakdown`, their most
    states: list[Any] = [None] * len(peaks)
    for value in present:  # (every kind's terms in one call: the per-plan factors they share computed once)
        terms = kinds_state_terms(shape, plan, stack, value, tuple(c[0] for c in peaks), layers, True)
        for i, (weights, grads, optimizer) in enumerate(terms):
            summed = weights + grads + optimizer
            states[i] = summed if states[i] is None else np.where(copies == value, summed, states[i])
    total = peak_total([(state, candidate[1]) for state, candidate in zip(states, peaks, strict=True)])
    overhead = RUNTIME_OVERHEAD_BYTES + communicator_buffer_bytes(plan, shape.is_moe)  # (as `memory_breakdown`'s)
    if type(total) is np.ndarray and total.dtype == np.float64 and total.base is None \
            and np.broadcast_shapes(total.shape, np.shape(overhead)) == total.shape:  # a grid of its own
        total += overhead
        return total
    return np.asarray(total + overhead, dtype=np.float64)


def memory_bound_terms(shape: TransformerShape, plan: PlanArrays, stack: Stack, part: str,
                       split: tuple[Any, ...] | None = None) -> dict[str, Any]:
    """Bounds on `memory_breakdown`'s total for the search's branch and bound (`memory_bounds.memory_bounds_bytes`):
    `part` "states", bytes of weights + gradients + optimizer at one parameter copy (state_low, state_high), or
    "activations" (activations_low, activations_high), such that state_low + activations_low <= the memory of
    every stage kind's peak and state_high + activations_high >= it, both non-decreasing in the first stage's
    micro-batches in flight f (`schedules.in_flight_micro_batches`) at the same row. Low: the first stage's state;
    its activations where the split counts no end as a layer (the first stage's, as before the stage kinds), else
    at least f (per - 2) layer-micro-batches (per = L' / p layers; the short first chunks are at most 2 f - 1);
    under a stack running ZB-V, f at most (m + 1) / 2 on rows below 2p - 1 micro-batches (rank 0's m + 1 chunks,
    `activation_memory.zb_v_rank_chunks`).
    High: a middle stage's layers with a table, and f per layer-micro-batches with the one rebuilt layer and the
    fp32 logits (no stage kind holds more); with the stack's MTP modules, their parameters (with the embedding
    copy) and one micro-batch of their activations on top (one stage holds them). Block recompute is not bounded
    (its rows get none). `split` (the rows' balanced split, `memory_breakdown`'s): low on the first stage's own
    layers (no rebuilt layer), high on the most layers of any stage kind with a table (each with ceil(L / p) where
    the stack runs a mirrored schedule, whose plans are priced on it: `kind_layers`)."""
    emb, loss = _split_flags(stack)
    bound = _bound_layers(shape, plan, stack, split)
    if part == "states":
        low_state = sum(state_terms(shape, plan, stack, 1.0, _FIRST, bound))
        high_kind = _FIRST if not (emb or loss or stack.mtp_num_layers or bound) else BOUND_KIND  # (MTP: on one end)
        high_state = low_state if high_kind == _FIRST else sum(state_terms(shape, plan, stack, 1.0, BOUND_KIND, bound))
        if not shape.tied_embeddings and Schedule.ZB_V in stack_schedules(stack):  # ZB-V's rank 0: both tables
            as_v = replace(plan, schedule=plan.schedule * 0 + int(Schedule.ZB_V))  # (`head_table`; rows at 1F1B)
            high_state = larger(high_state, sum(state_terms(shape, as_v, stack, 1.0, high_kind, bound)))
        return {"state_low": low_state, "state_high": high_state}
    tokens = plan.micro_batch * plan.seq_len / plan.cp
    per = ops_params.split_stage_layers(shape.num_layers, plan.pp, emb, loss)[_MIDDLE] if bound is None else bound[3]
    per_layer = tokens * activation_bytes_per_token_layer(shape, plan, stack)
    layer_input = tokens * ACTIVATION_BYTES * shape.hidden_size / pick(plan.sequence_parallel == 1, plan.tp, 1)
    full = plan.recompute == _FULL
    unit = pick(full, layer_input, per_layer)  # bytes per layer-micro-batch in flight
    flight = in_flight_micro_batches(plan.schedule, plan.pp, plan.vpp, plan.micro_batches)
    logits = tokens * shape.vocab_size / plan.tp * 4.0
    held = flight * (per * unit) + pick(full, per_layer, 0.0)
    low_flight = flight
    if Schedule.ZB_V in stack_schedules(stack):  # ZB-V's rank 0 below 2p - 1: (m + 1) / 2 of f (`zb_v_rank_chunks`)
        m = plan.micro_batches * 1.0
        low_flight = pick((plan.pp > 1) & (m < 2.0 * plan.pp - 1.0), smaller(flight, (m + 1.0) / 2.0), flight)
    if bound is not None:  # the first stage's own layers
        low = low_flight * (bound[_FIRST] * unit) + pick(plan.pp == 1, logits, 0.0)
    elif not (emb or loss):
        low = (held if low_flight is flight else low_flight * (per * unit) + pick(full, per_layer, 0.0)) + \
            pick(plan.pp == 1, logits, 0.0)
    else:
        low = low_flight * (larger(per - 2.0 * float(emb), 0.0) * unit)
    mtp = _mtp_activation_bytes(shape, plan, stack) if stack.mtp_num_layers else 0.0  # on one stage at most
    wgrads = held_wgrad_bytes(shape, plan, stack, any_vpp=True, mtp=True)  # the deferred wgrads' store (every stage)
    high = held + logits + mtp if wgrads is None else held + logits + mtp + wgrads
    # the fresh buffers (not deferred) and the MTP layer's above the decoder's; its held set is in `wgrads` (hD68)
    for more in (fresh_wgrad_bytes(shape, plan, stack), mtp_extra_bytes(shape, plan, stack, held_set=False)):
        high = high if more is None else high + more
    return {"activations_low": low, "activations_high": high}


def _bound_layers(shape: TransformerShape, plan: PlanArrays, stack: Stack,
                  split: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
    """`kind_layers` of the rows (at 1F1B) for `memory_bound_terms`: the first kind's the fewest and the bound
    kind's the most layers a plan of the row prices on them (ceil(L / p) among them where the stack runs a mirrored
    schedule); None without a balanced split."""
    layers = kind_layers(shape, plan, stack, split)
    if layers is None:
        return None
    middle, first, last, most = layers
    if any(int(code) in MIRRORED_SCHEDULES for code in stack_schedules(stack)):
        for code in MIRRORED_SCHEDULES:  # (each mirrored schedule's split of the row: `mirrored_split_layers`)
            end, middles = mirrored_split_layers(shape.num_layers, replace(plan, schedule=plan.schedule * 0 + code),
                                                 split or ())
            first, most = smaller(first, end), larger(larger(most, end), middles)
    return middle, first, last, most

