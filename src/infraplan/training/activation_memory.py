"""Stored training activations per GPU: per token and layer, under recompute, and per pipeline stage kind.

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
(`training.recompute_modules`); the fused attention's own saved O beside a narrowed projection input, and fp8
attention's Q / K / V / O: `training.fp8_dpa`. MoE: the routed experts' tensors on the busiest EP rank are the stack's
`moe.load_factor` times the mean (dropless `load_imbalance`: the tokens it receives; `capacity_factor`: buffers
padded to c x the mean, GShard / Switch, Fedus et al. 2022 arXiv:2101.03961 sec. 2.2; the same factor that paces
its expert GEMMs and all-to-all, `ops.layer`). Full recompute keeps only each layer's input (2 s b h / t) plus
one layer's working set. Block recompute
(Megatron-Core `--recompute-granularity full --recompute-method block --recompute-num-layers k`,
megatron/core/transformer/transformer_block.py `_checkpointed_forward`): only the first k layers of each model
chunk are recomputed, so a stage of L_s layers in v chunks keeps r = min(k v, L_s) layer inputs and
L_s - r full layer activations per micro-batch in flight (`recomputed_stage_layers`), and pays the recomputed
forward of those r layers only (`training.step_time`).

Per pipeline stage kind (`stage_activations`; the kinds `FIRST`, `MIDDLE`, `LAST`, in the order of
`ops.params.split_stage_layers`, whose peak `training.memory` selects): the stage's layers under the stack's split
(`split_flags`: Megatron-Core `get_num_layers_to_build`, the end stages one layer short where the stack counts the
embedding / loss as a layer) times its model chunks in flight under the schedule (`schedules.stage_in_flight`),
the first chunk of the first stage and the last chunk of the last stage one layer short there, plus the one layer
rebuilt during backward under recompute (or, under deferred wgrads, the tensors one layer's store holds, and without
gradient accumulation fusion one module's fresh wgrad buffer: `deferred_wgrad_memory`) and, on the last stage, the
loss's fp32 logits of one micro-batch (megatron-core 0.16.1 tensor_parallel/cross_entropy.py:28,187).
ZB-V below 2p - 1 micro-batches (`zb_v_rank_chunks`, hY40): torch 2.14.1's ScheduleZBVZeroBubble order
(torch/distributed/pipelining/schedules.py:3526-3648, slots of micro-batches >= m dropped) holds on rank r
min(2p, m + 1 + r, 2m) chunks in flight (F done, W not; counted on the order itself, p 2-24, m 1..5p): rank 0
(the first kind: chunk 0, the embedding, and chunk 2p - 1, the loss's logits) min(2p - 1, m) chunk-0s and one
chunk 2p - 1 at its peak, rank p - 1 (the middle kind: two plain chunks, no table) 2 min(p, m); from 2p - 1 on
both 2p, rank 0's heaviest peak 2p - 1 chunk-0s and one chunk 2p - 1 (`schedules._mirrored_chunks`, hZ41: the same
at m = 2p - 1; before, p chunk-0s and no chunks on rank p - 1), rank 0 the heavier unless the stack counts the
embedding as a layer (rank p - 1 then holds one layer more per stage and no table: a candidate, as below 2p - 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.ops import params as ops_params
from infraplan.ops.params import ACT_BYTES as ACTIVATION_BYTES
from infraplan.ops.params import stage_layers
from infraplan.ops.precision import RECIPES
from infraplan.scalar_path import anywhere, is_plain, larger, pick, smaller
from infraplan.training.activation_offload import offloaded_layers
from infraplan.training.deferred_wgrad_memory import fresh_wgrad_bytes, held_wgrad_bytes
from infraplan.training.enums import Attention, Dtype, Recompute, Schedule
from infraplan.training.fp8_dpa import attention_saved_terms
from infraplan.training.plan import PlanArrays
from infraplan.training.recompute_modules import stored_activation_terms

_OPERAND_BYTES = np.array([RECIPES[d.label].operand_bytes for d in Dtype])  # GEMM operand bytes by `Dtype` code
_OPERAND_FLOATS: tuple[float, ...] = tuple(_OPERAND_BYTES.tolist())  # as Python floats, for one plan's code
# enum codes compared with, as ints (an enum member's lookup costs more than the comparison)
_UNFUSED, _BF16 = int(Attention.UNFUSED), int(Dtype.BF16)
_SELECTIVE, _FULL = int(Recompute.SELECTIVE), int(Recompute.FULL)
_ZB_V = int(Schedule.ZB_V)
# pipeline stage kinds, in the order of `ops.params.split_stage_layers`: a middle stage (the second, rank 1: the most
# in flight of the middle ones), the first stage (embedding), the last stage (LM head + loss)
MIDDLE, FIRST, LAST = 0, 1, 2
# the routed experts' saved tensors (`ops.params.activation_terms_per_token_layer`), held per token they receive
_MTP_SIDE_VALUES = 5.0  # per token and MTP module: enorm, hnorm and final-norm inputs (h each), eh_proj's (2h)
_ROUTED_EXPERT_TERMS = frozenset({"expert_fc1_out", "expert_act_out", "expert_clamped_fc1_out"})

__all__ = ["ACTIVATION_BYTES", "FIRST", "LAST", "MIDDLE", "activation_bytes_per_token_layer", "mtp_activation_bytes",
           "recomputed_fraction", "recomputed_layers", "recomputed_stage_layers", "split_flags", "stage_activations",
           "zb_v_ramp", "zb_v_rank_chunks"]


def split_flags(profile: Stack) -> tuple[bool, bool]:
    """Whether the stack's split counts the embedding / the loss as a layer (only its even split can)."""
    even = profile.pipeline_split == "even"
    return (even and profile.account_for_embedding_in_pipeline_split,
            even and profile.account_for_loss_in_pipeline_split)


def activation_bytes_per_token_layer(shape: TransformerShape, plan: PlanArrays,
                                     stack: Stack | None = None) -> np.ndarray:
    """Stored activation bytes per token per layer per GPU (TP + SP sharded) without full recompute: the
    stack's selective-recompute modules dropped and its fp8-cached tensors narrowed (`training.recompute_modules`;
    None: the default training stack)."""
    profile = stack or resolve_stack(None, "training")
    keep_scores = plan.attention == _UNFUSED
    plain = is_plain(plan.tp)
    if plain:  # one plan: kept by model, stack and what the terms read (the sequence only for the unfused scores)
        key = ("activation_bytes_per_token_layer", id(profile), plan.tp, plan.sequence_parallel, keep_scores,
               plan.seq_len if keep_scores else None, plan.recompute == _SELECTIVE, plan.dtype)
        kept = ops_params.PLAN_SHAPE_COUNTS.get(shape, key)
        if kept is not None and kept[0] is profile:  # (the entry holds the stack: its id is not reused)
            return kept[1]  # type: ignore[no-any-return]
    terms = ops_params.activation_terms_per_token_layer(shape, plan.tp, plan.sequence_parallel, plan.seq_len,
                                                        keep_scores)
    operand = _OPERAND_FLOATS[plan.dtype] if is_plain(plan.tp) else _OPERAND_BYTES[plan.dtype]
    stored = stored_activation_terms(terms, plan.recompute == _SELECTIVE, plan.dtype != _BF16, profile,
                                     ops_params.quantized_gemm_inputs(shape), operand)
    stored = attention_saved_terms(shape, plan, profile, terms, stored)  # the fused attention's own (`fp8_dpa`)
    load = profile.moe.load_factor if shape.is_moe else 1.0
    if load != 1.0:  # the busiest EP rank's routed-expert tensors: `load` x the mean tokens (as its GEMMs' time)
        stored = {name: value * load if name in _ROUTED_EXPERT_TERMS else value for name, value in stored.items()}
    total = sum(stored.values())
    if plain:
        return ops_params.PLAN_SHAPE_COUNTS.put(shape, key, (profile, float(total)))[1]  # type: ignore[no-any-return]
    return np.asarray(total, dtype=np.float64)


def recomputed_stage_layers(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Layers whose forward is recomputed on the heaviest stage (of `stage_layers`): all of them under full
    recompute (`recompute_layers` 0), min(k x vpp, stage layers) under block recompute of k per chunk, else 0."""
    recomputed = recomputed_layers(plan, stage_layers(shape.num_layers, plan.pp))
    return float(recomputed) if is_plain(plan.tp) else np.asarray(recomputed, dtype=np.float64)  # type: ignore[return-value]


def recomputed_fraction(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Share of the model's layers whose forward is recomputed under full / block recompute (1 for uniform full
    recompute; 0 otherwise): min(k x vpp x pp, L) / L under block recompute of k per chunk."""
    block = smaller(plan.recompute_layers * plan.vpp * plan.pp, shape.num_layers) / shape.num_layers
    fraction = pick(plan.recompute_layers > 0, block, 1.0)
    return float(fraction) if is_plain(plan.tp) else np.asarray(fraction, dtype=np.float64)  # type: ignore[return-value]


def recomputed_layers(plan: PlanArrays, layers: Any) -> Any:
    """`recomputed_stage_layers` of a stage of `layers` layers."""
    if type(plan.recompute) is int and plan.recompute != _FULL:  # type: ignore[comparison-overlap]
        return 0.0  # one plan without full recompute: the `pick` below's 0.0 (nothing else read)
    blocked = plan.recompute_layers > 0
    # without block recompute anywhere (a search's rows: `recompute_layers` 0) the pick is `layers` itself, in the
    # rows' shape rather than the (vpp, schedule) pairs' (issue 18: fewer grid passes, the same values)
    full = pick(blocked, smaller(plan.recompute_layers * plan.vpp, layers), layers) if anywhere(blocked) else layers
    return pick(plan.recompute == _FULL, full, 0.0)


def zb_v_ramp(plan: PlanArrays) -> Any:
    """Where a plan runs ZB-V below 2p - 1 micro-batches (a bool, or a bool array): its ranks' chunks in flight
    differ there (`zb_v_rank_chunks`); False where no plan runs ZB-V (the micro-batch test skipped)."""
    zb_v = plan.schedule == _ZB_V
    if zb_v is False or not anywhere(zb_v):  # (one plan's int schedule compares to a plain bool)
        return False
    return zb_v & (plan.micro_batches < 2 * plan.pp - 1)


def zb_v_rank_chunks(plan: PlanArrays, chunks: tuple[Any, ...], ramp: Any) -> tuple[Any, ...]:
    """`schedules.stage_in_flight`'s chunks with ZB-V's below 2p - 1 micro-batches as torch's order holds them
    (module docstring): the first kind (rank 0) m + 1 chunks, m of them chunk 0 (the first chunk: one layer short
    where the embedding counts as a layer), the middle kind (rank p - 1) 2 min(p, m); elsewhere as given (from
    2p - 1 on `schedules._mirrored_chunks`: 2p, 2p - 1 and 2p, this form's at m = 2p - 1). `ramp`: `zb_v_ramp` of
    the plans."""
    if not anywhere(ramp):
        return chunks
    first, first_end, second, last, last_end = chunks
    m = plan.micro_batches * 1.0
    return (pick(ramp, m + 1.0, first), pick(ramp, m, first_end), pick(ramp, 2.0 * smaller(plan.pp * 1.0, m), second),
            last, last_end)


def stage_activations(shape: TransformerShape, plan: PlanArrays, profile: Stack, kinds: tuple[int, ...],
                      chunks: tuple[Any, ...], layers: tuple[Any, ...] | None = None) -> list[Any]:
    """Activation bytes per GPU at the peak of a stage of each kind (`memory.memory_breakdown`); `chunks`: the
    schedule's model chunks in flight per stage kind (`schedules.stage_in_flight`; ZB-V's below 2p - 1 micro-batches
    by `zb_v_rank_chunks`); `layers`: each kind's layers (by kind: the balanced split's, `stage_params.
    balanced_stage_layers`; None: the even split's), each chunk 1 / v of them (Megatron-Core's uneven split divides
    each stage's layers over its v chunks, transformer/transformer_block.py:160-180)."""
    tokens = plan.micro_batch * plan.seq_len / plan.cp
    emb, loss = split_flags(profile)
    own = layers is not None  # (each kind its own layers: no kind shares the middle's stored bytes)
    split = layers if layers is not None else ops_params.split_stage_layers(shape.num_layers, plan.pp, emb, loss)
    per_layer = tokens * activation_bytes_per_token_layer(shape, plan, profile)
    # a recomputed layer stores its input: the SP shard, or split over TP (`Stack.partition_checkpointed_activations`)
    split_input = (plan.sequence_parallel == 1) | profile.partition_checkpointed_activations
    layer_input = tokens * ACTIVATION_BYTES * shape.hidden_size / pick(split_input, plan.tp, 1)
    logits = tokens * shape.vocab_size / plan.tp * 4.0
    first, first_end, second, last, last_end = chunks
    v = plan.vpp
    kept: dict[int, tuple[Any, Any]] = {}  # (stored, working) by the stage's layer count's kind
    grid = type(plan.tp) is np.ndarray  # (one plan's plain bools: `pick`, as before; a grid's: `_where_held`)
    # the deferred wgrads' store (None: no plan defers; the stack read here first: one call less an estimate)
    held_wgrads = held_wgrad_bytes(shape, plan, profile) if profile.moe.delay_wgrad_compute else None
    if not profile.gradient_accumulation_fusion:  # the fresh wgrad buffers (`deferred_wgrad_memory`, hD67)
        fresh = fresh_wgrad_bytes(shape, plan, profile)
        held_wgrads = held_wgrads if fresh is None else fresh if held_wgrads is None else held_wgrads + fresh
    out = []
    for kind in kinds:
        layers = split[kind]
        # the end stages hold the middle one's layers where no end counts as a layer: the same stored bytes
        same = MIDDLE if not (emb or loss or own) else kind
        if same not in kept:
            recomputed = recomputed_layers(plan, layers)  # layers keeping only their input (full / block recompute)
            offloaded = offloaded_layers(profile, plan, layers)  # in host memory (`training.activation_offload`)
            stored = recomputed * layer_input + (layers - recomputed - offloaded) * per_layer
            working = pick(recomputed > 0, per_layer, 0.0)  # one layer rebuilt during backward
            # the deferred wgrads' held tensors, one layer's at a time (`deferred_wgrad_memory`, hD66), or the fresh
            # wgrad buffer of one module without gradient accumulation fusion (hD67)
            kept[same] = stored, working if held_wgrads is None else working + held_wgrads
        stored, working = kept[same]
        # micro-batches of the stage's layers in flight: n chunks of 1 / v of the stage, c of them the end chunk
        # built one layer short (n / v + (n / v - c) / layers of n (layers + 1) / v - c layer-micro-batches)
        if kind == MIDDLE:
            in_flight = second / v
        else:
            held, end = (first, first_end) if kind == FIRST else (last, last_end)
            short = float(emb if kind == FIRST else loss)
            in_flight = held / v + short * (held / v - end) / larger(layers, 1.0) if short else held / v
        # fp32 logits of one micro-batch (the loss saves its fp32 softmax, megatron-core 0.16.1
        # tensor_parallel/cross_entropy.py:28,187) on the last stage, which runs each micro-batch's loss forward
        # and backward back to back (`schedules.stage_in_flight`); a schedule with no last-stage count holds the
        # last stage on the first stage's rank (`schedules._mirrored_chunks`: ZB-V's chunk 2p-1 on rank 0, torch
        # 2.13.0 pipelining/_utils.py:528-543; DualPipe's reverse last stage, arXiv:2412.19437 sec. 3.2.1): there
        # (the kind's own term alone: the other's is False, the same bools without its grid pass)
        held = (plan.pp == 1) | (last > 0.0) if kind == LAST else (plan.pp == 1) | (last <= 0.0) \
            if kind == FIRST else (plan.pp == 1)
        out.append(in_flight * stored + working + (_where_held(held, logits) if grid else pick(held, logits, 0.0)))
    return out


def _where_held(held: Any, logits: Any) -> Any:
    """`pick(held, logits, 0.0)`, without the grid's np.where where `held` is one value throughout a grid: the logits
    themselves where every plan holds them, 0.0 where none does (the sum they join is that of a stage's non-negative
    bytes, never -0.0, so + 0.0 leaves its bits, and it already has the grid's shape: its chunks in flight)."""
    if type(held) is not np.ndarray or held.size < 2:
        return pick(held, logits, 0.0)
    if not held.any():
        return 0.0
    return logits if held.all() and np.ndim(logits) <= held.ndim else pick(held, logits, 0.0)


def mtp_activation_bytes(shape: TransformerShape, plan: PlanArrays, profile: Stack) -> Any:
    """Activation bytes of the stack's MTP modules for one micro-batch (`training.memory`'s module docstring): per
    module one more layer (its input alone under full recompute), its norms' and eh_proj's inputs and the second
    loss's fp32 logits (moved here from training/memory.py whole, hO42)."""
    tokens = plan.micro_batch * plan.seq_len / plan.cp
    split = pick(plan.sequence_parallel == 1, plan.tp, 1)
    layer_input = tokens * ACTIVATION_BYTES * shape.hidden_size / split
    layer = pick(plan.recompute == _FULL, layer_input,
                 tokens * activation_bytes_per_token_layer(shape, plan, profile))
    logits = tokens * shape.vocab_size / plan.tp * 4.0
    return float(profile.mtp_num_layers) * (layer + _MTP_SIDE_VALUES * layer_input + logits)
