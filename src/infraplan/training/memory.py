"""Per-GPU training memory: weights, gradients, optimizer state, activations, runtime overhead.

Activations follow Korthikanti et al. 2022 (arXiv:2205.05198), generalised from the GPT block to the
real shapes (GQA K/V widths, SwiGLU's two FFN inputs). Fused (flash) attention stores no s x s score
matrix, so there "selective" recompute saves nothing; unfused attention adds 5 a s / t bytes per token.
Per layer and token, with sequence parallelism every tensor is split over TP:
    bytes = 2 * (2h [LN inputs] + h [QKV input] + q + 2kv [Q, K, V] + q [proj input] + h [MLP input]
                 + g*f [FC1 out] + f [act out]) + 2h [dropout masks, GPT-family only]
which is Korthikanti's 34 s b h / t for a GPT block (q = h, kv = h, f = 4h, g = 1); without sequence
parallelism the norm inputs, QKV and MLP inputs and dropout masks (10 s b h) are not split: 10 + 24 / t.
Selective recompute drops the tensors of the stack's `recompute_modules` (Megatron-Core's fine-grained modules;
default the attention core) and fp8 plans store the stack's `fp8_activation_cache` tensors in fp8
(`training.recompute_modules`). Full recompute keeps only each layer's input (2 s b h / t) plus one layer's
working set. Block recompute
(Megatron-Core `--recompute-granularity full --recompute-method block --recompute-num-layers k`,
megatron/core/transformer/transformer_block.py `_checkpointed_forward`): only the first k layers of each model
chunk are recomputed, so a stage of L_s layers in v chunks keeps r = min(k v, L_s) layer inputs and
L_s - r full layer activations per micro-batch in flight (`recomputed_stage_layers`), and pays the recomputed
forward of those r layers only (`training.step_time`).

Pipeline: the memory per GPU is that of the stage kind that peaks (`_peak_kinds`): the first stage (its layers,
the embedding), the second (a middle stage: the most in flight of them, no table) and the last (its layers, the
LM head, the loss's fp32 logits of one micro-batch: megatron-core 0.16.1 tensor_parallel/cross_entropy.py:28,187),
each with its layers under the stack's split (`ops.params.split_stage_layers`: Megatron-Core
`get_num_layers_to_build`, the end stages one layer short where the stack counts the embedding / loss as a layer)
and its micro-batches in flight under the schedule (`schedules.stage_in_flight`: 1F1B's stage i holds
min(p - i, m); interleaved, Megatron's per-rank warm-up count in its schedule table's chunk order, the first chunk
of the first stage one layer short: Llama 3.1 405B on PP16 VP4 peaks on the second stage, 8 layers, 77 chunks of
2). Without a counted end the first stage holds the most layers + a table and micro-batches (1F1B min(p, m);
interleaved (1 + (p-1)/(p v)) times that, Korthikanti Sec. 4.2.3), as before; the last peaks only by its logits.
ASSUMPTIONS: the "balanced" split (`stage_split`) is priced at ceil(L / p) layers per stage, an upper bound;
ZB-V and DualPipe (mirrored stages per rank) on the first stage's count; stack `pipeline_layouts` are not read.
Mixed precision with Adam (Megatron): bf16 weights (fp8 / MXFP8 plans under a stack's `fp8_param_gather`: only their
low-precision copy, `ops.precision`),
gradient accumulation in the reduce dtype (fp32 unless the stack reduces in bf16, `grad_buffer_bytes`), fp32
master weights + two moments = 12 B/param (8 with the stack's bf16 moments, DeepSeek-V3 sec. 3.3.3); ZeRO 1/2/3
shard the optimizer, then gradients, then weights over DP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import REDUCE_BYTES, Stack, resolve_stack
from infraplan.ops import params as ops_params
from infraplan.ops.params import ACT_BYTES as ACTIVATION_BYTES
from infraplan.ops.params import RUNTIME_RESERVE_BYTES as RUNTIME_OVERHEAD_BYTES
from infraplan.ops.params import stage_layers
from infraplan.ops.precision import RECIPES
from infraplan.scalar_path import anywhere, is_plain, larger, pick, smaller
from infraplan.training.enums import Attention, Dtype, Recompute
from infraplan.training.plan import PlanArrays
from infraplan.training.recompute_modules import stored_activation_terms
from infraplan.training.schedules import (
    PIPELINE_SCHEDULES,
    in_flight_micro_batches,
    parameter_copies,
    stage_in_flight,
)

WEIGHT_BYTES = 2.0  # bf16 weights (low-precision recipes add their copies: `ops.precision`)
GRAD_BYTES = 4.0  # fp32 gradient accumulation buffer (Megatron main_grad; `grad_buffer_bytes`)
OPTIMIZER_BYTES = 12.0  # fp32 master weights + Adam m and v
MASTER_WEIGHT_BYTES = 4.0  # fp32 master weights (and fp32 moments, unless the stack keeps them in bf16)
_WEIGHT_COPY_BYTES = np.array([RECIPES[d.label].weight_copy_bytes for d in Dtype])  # by `Dtype` code
_OPERAND_BYTES = np.array([RECIPES[d.label].operand_bytes for d in Dtype])  # GEMM operand bytes by `Dtype` code
# the same tables as Python floats, for one plan's `Dtype` code (`PlanArrays.one_row`: no numpy indexing)
_WEIGHT_COPY_FLOATS: tuple[float, ...] = tuple(_WEIGHT_COPY_BYTES.tolist())
# 1 where a stack's `fp8_param_gather` keeps the recipe's weights only in their low-precision copy
_QUANTISED_ONLY = np.array([float(RECIPES[d.label].params_only_quantised) for d in Dtype])
_QUANTISED_ONLY_FLOATS: tuple[float, ...] = tuple(_QUANTISED_ONLY.tolist())
_OPERAND_FLOATS: tuple[float, ...] = tuple(_OPERAND_BYTES.tolist())
# enum codes compared with, as ints (an enum member's lookup costs more than the comparison)
_UNFUSED, _BF16 = int(Attention.UNFUSED), int(Dtype.BF16)
_SELECTIVE, _FULL = int(Recompute.SELECTIVE), int(Recompute.FULL)
# pipeline stage kinds, in the order of `ops.params.split_stage_layers`: a middle stage (the second, rank 1: the most
# in flight of the middle ones), the first stage (embedding), the last stage (LM head + loss)
_MIDDLE, _FIRST, _LAST = 0, 1, 2
_BOUND = 3  # a middle stage's layers with a table: at least any stage's parameters (`memory_bound_terms`)

__all__ = ["ACTIVATION_BYTES", "GRAD_BYTES", "OPTIMIZER_BYTES", "RUNTIME_OVERHEAD_BYTES", "WEIGHT_BYTES",
           "activation_bytes_per_token_layer", "grad_buffer_bytes", "local_expert_params", "local_layer_params",
           "local_params", "memory_bound_terms", "memory_breakdown", "memory_total", "recomputed_fraction",
           "recomputed_stage_layers", "sharded_of", "sharded_params", "stage_layers"]


def _kept_on_row(plan: PlanArrays, name: str, shape: TransformerShape, compute: Callable[[], Any]) -> Any:
    """`compute()` of a one-plan row (`PlanArrays.one_row`, never changed in place), kept on the row for its
    model: a single estimate asks for its parameter counts twice (the DP traffic and the memory), each a few
    microseconds (issue 18). Arrays over plans are computed every time."""
    if type(plan.tp) is not int:  # type: ignore[comparison-overlap]  # (a `one_row` holds Python ints)
        return compute()
    kept = plan.__dict__.get(name)
    if kept is not None and kept[0] is shape:
        return kept[1]
    value = compute()
    plan.__dict__[name] = (shape, value)  # (the frozen dataclass's __dict__, as `cached_property` writes it)
    return value


def local_layer_params(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Matrix parameters of one layer held by one GPU (`ops.params.local_layer_params` for the plan)."""
    return _kept_on_row(plan, "_local_layer_params", shape,  # type: ignore[no-any-return]
                        lambda: ops_params.local_layer_params(shape, plan.tp, plan.ep, plan.expert_tp))


def local_params(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Parameters on the heaviest stage of one GPU, embedding or LM head included."""
    return _kept_on_row(plan, "_local_params", shape,  # type: ignore[no-any-return]
                        lambda: ops_params.local_params(shape, plan.tp, plan.pp, plan.ep, plan.expert_tp))


def local_expert_params(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """The part of `local_params` that is routed experts (E / EP experts split over ETP): replicated only over
    the expert data-parallel ranks (`PlanArrays.edp`), not all of DP."""
    experts = _kept_on_row(plan, "_local_expert_params", shape,
                           lambda: ops_params.local_expert_params(shape, plan.tp, plan.pp, plan.ep, plan.expert_tp))
    return experts if is_plain(plan.tp) else experts * np.ones(np.shape(plan.tp))  # type: ignore[no-any-return]


def sharded_params(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Local parameters after sharding over their data-parallel replicas (DP for dense, the expert data-parallel
    ranks for experts: DP / EP, or TP x CP x DP / (EP x ETP) under MoE parallel folding)."""
    return sharded_of(plan, local_params(shape, plan), local_expert_params(shape, plan))


def sharded_of(plan: PlanArrays, params: np.ndarray, experts: np.ndarray) -> np.ndarray:
    """`sharded_params` of the plan's `local_params` and `local_expert_params` (computed already)."""
    expert_shard = pick(plan.folded, experts / plan.edp, experts * plan.ep / plan.dp)
    sharded: np.ndarray = (params - experts) / plan.dp + expert_shard
    return sharded


def activation_bytes_per_token_layer(shape: TransformerShape, plan: PlanArrays,
                                     stack: Stack | None = None) -> np.ndarray:
    """Stored activation bytes per token per layer per GPU (TP + SP sharded) without full recompute: the
    stack's selective-recompute modules dropped and its fp8-cached tensors narrowed (`training.recompute_modules`;
    None: the default training stack)."""
    profile = stack or resolve_stack(None, "training")
    keep_scores = plan.attention == _UNFUSED
    terms = ops_params.activation_terms_per_token_layer(shape, plan.tp, plan.sequence_parallel, plan.seq_len,
                                                        keep_scores)
    operand = _OPERAND_FLOATS[plan.dtype] if is_plain(plan.tp) else _OPERAND_BYTES[plan.dtype]
    stored = stored_activation_terms(terms, plan.recompute == _SELECTIVE, plan.dtype != _BF16, profile,
                                     ops_params.quantized_gemm_inputs(shape), operand)
    total = sum(stored.values())
    return float(total) if is_plain(plan.tp) else np.asarray(total, dtype=np.float64)  # type: ignore[return-value]


def recomputed_stage_layers(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Layers whose forward is recomputed on the heaviest stage (of `stage_layers`): all of them under full
    recompute (`recompute_layers` 0), min(k x vpp, stage layers) under block recompute of k per chunk, else 0."""
    recomputed = _recomputed_layers(plan, stage_layers(shape.num_layers, plan.pp))
    return float(recomputed) if is_plain(plan.tp) else np.asarray(recomputed, dtype=np.float64)  # type: ignore[return-value]


def recomputed_fraction(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Share of the model's layers whose forward is recomputed under full / block recompute (1 for uniform full
    recompute; 0 otherwise): min(k x vpp x pp, L) / L under block recompute of k per chunk."""
    block = smaller(plan.recompute_layers * plan.vpp * plan.pp, shape.num_layers) / shape.num_layers
    fraction = pick(plan.recompute_layers > 0, block, 1.0)
    return float(fraction) if is_plain(plan.tp) else np.asarray(fraction, dtype=np.float64)  # type: ignore[return-value]


def memory_breakdown(shape: TransformerShape, plan: PlanArrays, stack: Stack | None = None) -> dict[str, np.ndarray]:
    """Bytes per GPU on the heaviest stage: weights, gradients, optimizer, activations, overhead.

    Element-wise in the plan fields, so the search can pass broadcastable columns (rows x virtual stages and
    schedules x ZeRO stages) and get the terms on that grid. `stack`: its selective-recompute modules and fp8
    activation cache (None: the default training stack).
    """
    profile = stack or resolve_stack(None, "training")
    if plan.is_one:  # one plan: the same terms on its Python numbers (`PlanArrays.one_row`)
        return {k: np.array([float(v)]) for k, v in memory_breakdown(shape, plan.one_row, profile).items()}
    copies = (_one_plan_copies(plan.schedule)  # (a `one_row`'s int)
              if type(plan.schedule) is int  # type: ignore[comparison-overlap]  # DualPipe: a rank holds two stages
              else parameter_copies(plan.schedule))
    kinds = _peak_kinds(profile)
    chunks = stage_in_flight(plan.schedule, plan.pp, plan.vpp, plan.micro_batches, _chunk_parts(profile))
    if len(kinds) == 2:  # first and last stage hold the same parameters: the larger activations
        weights, grads, optimizer = _state_terms(shape, plan, profile, copies, _FIRST)
        activations = larger(*_activations(shape, plan, profile, kinds, chunks))
    else:
        terms = None
        for kind, act in zip(kinds, _activations(shape, plan, profile, kinds, chunks), strict=True):
            state = _state_terms(shape, plan, profile, copies, kind)
            if terms is None:
                terms, best = (*state, act), state[0] + state[1] + state[2] + act
                continue
            total = state[0] + state[1] + state[2] + act
            heavier = total > best
            terms = tuple(pick(heavier, new, old) for new, old in zip((*state, act), terms, strict=True))
            best = pick(heavier, total, best)
        weights, grads, optimizer, activations = terms  # type: ignore[misc]
    overhead = RUNTIME_OVERHEAD_BYTES if is_plain(plan.tp) else np.full(np.shape(activations), RUNTIME_OVERHEAD_BYTES)
    return {"weights": weights, "gradients": grads, "optimizer": optimizer,
            "activations": activations, "overhead": overhead}


def _split_flags(profile: Stack) -> tuple[bool, bool]:
    """Whether the stack's split counts the embedding / the loss as a layer (only its even split can)."""
    even = profile.pipeline_split == "even"
    return (even and profile.account_for_embedding_in_pipeline_split,
            even and profile.account_for_loss_in_pipeline_split)


def _peak_kinds(profile: Stack) -> tuple[int, ...]:
    """Stage kinds that can hold the most: all three where the split counts the embedding or loss as a layer;
    else the first and last (the same layers and one table each; a middle stage holds those layers, no table and
    fewer micro-batches than the first, so never more)."""
    return (_FIRST, _MIDDLE, _LAST) if any(_split_flags(profile)) else (_FIRST, _LAST)


def _chunk_parts(profile: Stack) -> tuple[int, ...]:
    """The parts of `schedules.stage_in_flight` the stage kinds of `_peak_kinds` read: without a counted end, the
    first and last stages' chunks alone."""
    return (0, 1, 2, 3, 4) if any(_split_flags(profile)) else (0, 3)


def _stage_params(shape: TransformerShape, plan: PlanArrays, profile: Stack, kind: int) -> tuple[Any, Any]:
    """(parameters, routed-expert parameters) of one GPU on a stage of the kind: the layers of
    `ops.params.split_stage_layers` and, on the first and last stage, the embedding / LM head."""
    emb, loss = _split_flags(profile)
    if kind != _MIDDLE and not (emb or loss):  # ceil(L / p) layers and a table: the heaviest stage's
        return local_params(shape, plan), local_expert_params(shape, plan)

    def compute() -> tuple[Any, Any]:
        layers = ops_params.split_stage_layers(shape.num_layers, plan.pp, emb, loss)[kind % _BOUND]
        return (ops_params.local_params(shape, plan.tp, plan.pp, plan.ep, plan.expert_tp, layers, kind != _MIDDLE),
                ops_params.local_expert_params(shape, plan.tp, plan.pp, plan.ep, plan.expert_tp, layers))

    held, experts = _kept_on_row(plan, f"_stage_params_{kind}{int(emb)}{int(loss)}", shape, compute)
    return held, experts if is_plain(plan.tp) else experts * np.ones(np.shape(plan.tp))


def _one_plan_copies(schedule: int) -> float:
    """`schedules.parameter_copies` of one plan's schedule code (a Python int): its model's copies as a float, 0.0
    for a code no schedule registers (as there), without the array lookup's wrapping."""
    model = PIPELINE_SCHEDULES.get(schedule)  # type: ignore[call-overload]  # an int finds its IntEnum key
    return 0.0 if model is None else float(model.parameter_copies)


def memory_total(shape: TransformerShape, plan: PlanArrays, stack: Stack) -> np.ndarray:
    """The sum of `memory_breakdown`'s terms in their order (weights, gradients, optimizer, activations, overhead:
    the bits of `estimate.plan_memory`'s total) on a search's (ZeRO, pairs, rows) grid, in fewer grid passes.

    The state terms (weights, gradients, optimizer) read the schedule only through its parameter copies (1, or 2
    for DualPipe; 0 for an unknown code), so they are summed once per copies value present, on the (ZeRO, 1, rows)
    grid with that value as a scalar (the same products: `held * copies` of each element), and picked by each
    plan's copies; the activations are the (1, pairs, rows) term and the overhead a scalar (issue 18: the search
    prices memory before the step time, ~a third of it on the full grid).
    """
    copies = _grid_copies(plan.schedule)
    candidates = sorted({0.0, *(float(m.parameter_copies) for m in PIPELINE_SCHEDULES.values())})
    present = [v for v in candidates if bool(np.any(copies == v))]
    if not present:  # no plans
        return np.zeros(np.broadcast_shapes(np.shape(copies), np.shape(plan.zero), np.shape(plan.tp)))
    kinds = _peak_kinds(stack)
    chunks = stage_in_flight(plan.schedule, plan.pp, plan.vpp, plan.micro_batches, _chunk_parts(stack))
    shared = len(kinds) == 2  # first and last stage: the same state, the larger activations (`memory_breakdown`)
    total: Any = None
    acts = _activations(shape, plan, stack, kinds, chunks)
    for kind, act in [(_FIRST, np.maximum(*acts))] if shared else zip(kinds, acts, strict=True):
        state: Any = None
        for value in present:
            weights, grads, optimizer = _state_terms(shape, plan, stack, value, kind)
            summed = weights + grads + optimizer
            state = summed if state is None else np.where(copies == value, summed, state)
        kind_total = state + act
        total = kind_total if total is None else np.maximum(total, kind_total)
    return np.asarray(total + RUNTIME_OVERHEAD_BYTES, dtype=np.float64)


def _grid_copies(schedule: np.ndarray) -> np.ndarray:
    """`schedules.parameter_copies` of an array of schedule codes, as one lookup in a table by code (0 for a code
    no schedule registers, as there) instead of a pass per registered schedule."""
    codes = [int(code) for code in PIPELINE_SCHEDULES]
    low, high = int(schedule.min()), int(schedule.max())
    if low < 0 or high > max(codes) + 64:  # codes far outside the table's range: the schedules' own lookup
        return np.asarray(parameter_copies(schedule), dtype=np.float64)
    table = np.zeros(max(high, *codes) + 1)
    for code, model in PIPELINE_SCHEDULES.items():
        table[int(code)] = model.parameter_copies
    copies: np.ndarray = table[schedule]
    return copies


def grad_buffer_bytes(stack: Stack) -> float:
    """Bytes per parameter of the gradient accumulation buffer. Megatron's DDP allocates it in the reduce dtype:
    fp32 with `grad_reduce_in_fp32`, else the parameters' bf16 / fp16 (megatron-core 0.16.1
    distributed/distributed_data_parallel.py:147), the stack's `grad_reduce_dtype`. Other stacks accumulate fp32
    whatever they reduce in (DeepSpeed's bf16 optimizer keeps fp32 gradients): `GRAD_BYTES`."""
    return REDUCE_BYTES[stack.grad_reduce_dtype] if stack.stack_class == "megatron" else GRAD_BYTES


def _state_terms(shape: TransformerShape, plan: PlanArrays, profile: Stack, copies: Any,
                 kind: int = _FIRST) -> tuple[Any, Any, Any]:
    """Weights, gradients and optimizer state per GPU (`memory_breakdown`) with `copies` parameter copies, on a
    stage of the kind (`_stage_params`)."""
    one = is_plain(plan.tp)
    held, experts = _stage_params(shape, plan, profile, kind)
    params = held * copies
    shard = sharded_of(plan, held, experts) * copies
    zero = plan.zero
    # low-precision weight copies (beside the bf16 weights, or alone under `Stack.fp8_param_gather`)
    copy = _WEIGHT_COPY_FLOATS[plan.dtype] if one else _WEIGHT_COPY_BYTES[plan.dtype]
    alone = _QUANTISED_ONLY_FLOATS[plan.dtype] if one else _QUANTISED_ONLY[plan.dtype]
    weight_bytes = copy + WEIGHT_BYTES * (1.0 - alone) if profile.fp8_param_gather else WEIGHT_BYTES + copy
    # ZeRO-3 gathers one layer ahead (one plan below ZeRO 3: not priced, `pick` drops it)
    one_layer = local_layer_params(shape, plan) * weight_bytes if not one or zero >= 3 else 0.0
    weights = pick(zero >= 3, shard * weight_bytes + 2.0 * one_layer, params * weight_bytes)
    grad_bytes = grad_buffer_bytes(profile)
    grads = pick(zero >= 2, shard * grad_bytes, params * grad_bytes)
    moments = 2.0 * (MASTER_WEIGHT_BYTES if profile.adam_moment_dtype == "fp32" else WEIGHT_BYTES)
    optimizer_bytes = MASTER_WEIGHT_BYTES + moments
    optimizer = pick(zero >= 1, shard * optimizer_bytes, params * optimizer_bytes)
    return weights, grads, optimizer


def _activations(shape: TransformerShape, plan: PlanArrays, profile: Stack, kinds: tuple[int, ...],
                 chunks: tuple[Any, ...]) -> list[Any]:
    """Activation bytes per GPU at the peak of a stage of each kind (`memory_breakdown`); `chunks`: the schedule's
    model chunks in flight per stage kind (`schedules.stage_in_flight`)."""
    tokens = plan.micro_batch * plan.seq_len / plan.cp
    emb, loss = _split_flags(profile)
    split = ops_params.split_stage_layers(shape.num_layers, plan.pp, emb, loss)
    per_layer = tokens * activation_bytes_per_token_layer(shape, plan, profile)
    layer_input = tokens * ACTIVATION_BYTES * shape.hidden_size / pick(plan.sequence_parallel == 1, plan.tp, 1)
    logits = tokens * shape.vocab_size / plan.tp * 4.0
    first, first_end, second, last, last_end = chunks
    v = plan.vpp
    kept: dict[int, tuple[Any, Any]] = {}  # (stored, working) by the stage's layer count's kind
    out = []
    for kind in kinds:
        layers = split[kind]
        # the end stages hold the middle one's layers where no end counts as a layer: the same stored bytes
        same = _MIDDLE if not (emb or loss) else kind
        if same not in kept:
            recomputed = _recomputed_layers(plan, layers)  # layers keeping only their input (full / block recompute)
            stored = recomputed * layer_input + (layers - recomputed) * per_layer
            kept[same] = stored, pick(recomputed > 0, per_layer, 0.0)  # one layer rebuilt during backward
        stored, working = kept[same]
        # micro-batches of the stage's layers in flight: n chunks of 1 / v of the stage, c of them the end chunk
        # built one layer short (n / v + (n / v - c) / layers of n (layers + 1) / v - c layer-micro-batches)
        if kind == _MIDDLE:
            in_flight = second / v
        else:
            held, end = (first, first_end) if kind == _FIRST else (last, last_end)
            short = float(emb if kind == _FIRST else loss)
            in_flight = held / v + short * (held / v - end) / larger(layers, 1.0) if short else held / v
        # fp32 logits of one micro-batch (the loss saves its fp32 softmax, megatron-core 0.16.1
        # tensor_parallel/cross_entropy.py:28,187) on the last stage, which runs each micro-batch's loss forward
        # and backward back to back (`schedules.stage_in_flight`; a schedule with no last-stage count: none)
        held_logits = pick((plan.pp == 1) | ((kind == _LAST) & (last > 0.0)), logits, 0.0)
        out.append(in_flight * stored + working + held_logits)
    return out


def memory_bound_terms(shape: TransformerShape, plan: PlanArrays, stack: Stack, part: str) -> dict[str, Any]:
    """Bounds on `memory_breakdown`'s total for the search's branch and bound (`search_bounds.memory_bounds_bytes`):
    `part` "states", bytes of weights + gradients + optimizer at one parameter copy (state_low, state_high), or
    "activations" (activations_low, activations_high), such that state_low + activations_low <= the memory of
    every stage kind's peak and state_high + activations_high >= it, both non-decreasing in the first stage's
    micro-batches in flight f (`schedules.in_flight_micro_batches`) at the same row. Low: the first stage's state;
    its activations where the split counts no end as a layer (the first stage's, as before the stage kinds), else
    at least f (per - 2) layer-micro-batches (per = L' / p layers; the short first chunks are at most 2 f - 1).
    High: a middle stage's layers with a table, and f per layer-micro-batches with the one rebuilt layer and the
    fp32 logits (no stage kind holds more). Block recompute is not bounded (its rows get none)."""
    emb, loss = _split_flags(stack)
    if part == "states":
        low_state = sum(_state_terms(shape, plan, stack, 1.0, _FIRST))
        return {"state_low": low_state,
                "state_high": low_state if not (emb or loss) else sum(_state_terms(shape, plan, stack, 1.0, _BOUND))}
    tokens = plan.micro_batch * plan.seq_len / plan.cp
    per = ops_params.split_stage_layers(shape.num_layers, plan.pp, emb, loss)[_MIDDLE]
    per_layer = tokens * activation_bytes_per_token_layer(shape, plan, stack)
    layer_input = tokens * ACTIVATION_BYTES * shape.hidden_size / pick(plan.sequence_parallel == 1, plan.tp, 1)
    full = plan.recompute == _FULL
    unit = pick(full, layer_input, per_layer)  # bytes per layer-micro-batch in flight
    flight = in_flight_micro_batches(plan.schedule, plan.pp, plan.vpp, plan.micro_batches)
    logits = tokens * shape.vocab_size / plan.tp * 4.0
    held = flight * (per * unit) + pick(full, per_layer, 0.0)
    if not (emb or loss):
        low = held + pick(plan.pp == 1, logits, 0.0)
    else:
        low = flight * (larger(per - 2.0 * float(emb), 0.0) * unit)
    return {"activations_low": low, "activations_high": held + logits}


def _recomputed_layers(plan: PlanArrays, layers: Any) -> Any:
    """`recomputed_stage_layers` of a stage of `layers` layers."""
    blocked = plan.recompute_layers > 0
    # without block recompute anywhere (a search's rows: `recompute_layers` 0) the pick is `layers` itself, in the
    # rows' shape rather than the (vpp, schedule) pairs' (issue 18: fewer grid passes, the same values)
    full = pick(blocked, smaller(plan.recompute_layers * plan.vpp, layers), layers) if anywhere(blocked) else layers
    return pick(plan.recompute == _FULL, full, 0.0)
