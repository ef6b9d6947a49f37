"""Weights, gradients and optimizer state per GPU on a pipeline stage of each kind, for the memory per GPU
(`training.memory`, which adds the activations and the overhead and picks the stage kind that peaks).

Mixed precision with Adam (Megatron; Muon's 8 B: `training.optimizers`): bf16 weights (fp8 / MXFP8 plans under a
stack's `fp8_param_gather`: only their low-precision copy, `ops.precision`),
gradient accumulation in the reduce dtype (fp32 unless the stack reduces in bf16, `grad_buffer_bytes`), fp32
master weights + two moments = 12 B/param (8 with the stack's bf16 moments, DeepSeek-V3 sec. 3.3.3); ZeRO 1/2/3
shard the optimizer, then gradients, then weights over DP x CP (experts over their expert data-parallel ranks:
`stage_params.dp_groups`, with the frameworks' sources).
The parameters a stage kind holds and their shards: `training.stage_params`; the optimizer's bytes per parameter:
`training.optimizers`; the low-precision weight copies: `ops.precision`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import REDUCE_BYTES, Stack
from infraplan.ops import params as ops_params
from infraplan.ops.precision import RECIPES
from infraplan.scalar_path import anywhere, is_plain, pick
from infraplan.training.activation_memory import FIRST
from infraplan.training.enums import Dtype
from infraplan.training.fsdp2_grad_memory import fsdp2_kept_grad_bytes, fsdp2_stage_unsharded, fsdp2_unit_grad_bytes
from infraplan.training.optimizer_models import bytes_per_param_of, state_bytes_per_param
from infraplan.training.optimizers import adam_table_state
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import (
    dp_groups,
    head_table,
    held_on_rank,
    is_mirrored,
    local_layer_params,
    mtp_params,
    stage_kind_params,
)

WEIGHT_BYTES = 2.0  # bf16 weights (low-precision recipes add their copies: `ops.precision`)
GRAD_BYTES = 4.0  # fp32 gradient accumulation buffer (Megatron main_grad; `grad_buffer_bytes`)
OPTIMIZER_BYTES = 12.0  # fp32 master weights + Adam m and v
_WEIGHT_COPY_BYTES = np.array([RECIPES[d.label].weight_copy_bytes for d in Dtype])  # by `Dtype` code
# the same table as Python floats, for one plan's `Dtype` code (`PlanArrays.one_row`: no numpy indexing)
_WEIGHT_COPY_FLOATS: tuple[float, ...] = tuple(_WEIGHT_COPY_BYTES.tolist())
# 1 where a stack's `fp8_param_gather` keeps the recipe's weights only in their low-precision copy
_QUANTISED_ONLY = np.array([float(RECIPES[d.label].params_only_quantised) for d in Dtype])
_QUANTISED_ONLY_FLOATS: tuple[float, ...] = tuple(_QUANTISED_ONLY.tolist())


def grad_buffer_bytes(stack: Stack) -> float:
    """Bytes per parameter of the gradient accumulation buffer. Megatron's DDP allocates it in the reduce dtype:
    fp32 with `grad_reduce_in_fp32`, else the parameters' bf16 / fp16 (megatron-core 0.16.1
    distributed/distributed_data_parallel.py:147), the stack's `grad_reduce_dtype`. Other stacks accumulate fp32
    whatever they reduce in (DeepSpeed's bf16 optimizer keeps fp32 gradients): `GRAD_BYTES`."""
    return REDUCE_BYTES[stack.grad_reduce_dtype] if stack.stack_class == "megatron" else GRAD_BYTES


def trained_bytes_per_param(profile: Stack, shape: TransformerShape) -> float:
    """Bytes a parameter of `shape` takes on average in the terms `kinds_state_terms` holds: bf16 weights
    (`WEIGHT_BYTES`), the gradient buffer (`grad_buffer_bytes`) and the optimizer's state, the matrices' and the
    AdamW group's at their own rates (`optimizer_models.state_bytes_per_param`: Adam 12 B; Muon 8 B a matrix
    parameter, AdamW's 12 on the embedding and head; `bytes_per_param_of`, the rule a checkpoint reads); low-precision
    weight copies not counted. Adam on a Megatron stack reducing in fp32: 18 B; Muon 14.52 B on Llama 3 8B, 14.009 B
    on Kimi K2 (hD62: was 14 B, the tables at Muon's rate). `plan`'s first device count for a training service
    (`planning.scenario_sizing.first_training_count`) reads it."""
    return WEIGHT_BYTES + grad_buffer_bytes(profile) + bytes_per_param_of(shape, *state_bytes_per_param(profile))


def state_terms(shape: TransformerShape, plan: PlanArrays, profile: Stack, copies: Any,
                 kind: int = FIRST, layers: tuple[Any, ...] | None = None) -> tuple[Any, Any, Any]:
    """Weights, gradients and optimizer state per GPU (`memory.memory_breakdown`) with `copies` parameter copies, on a
    stage of the kind (`stage_kind_params`; `layers`: `memory.kind_layers`)."""
    return kinds_state_terms(shape, plan, profile, copies, (kind,), layers)[0]


def gathered_layer_params(shape: TransformerShape, plan: PlanArrays, profile: Stack) -> Any:
    """The parameters of one layer that ZeRO-3 gathers into a copy of their own (two such layers held beside the
    shards: the one running and the one prefetched): the whole local layer; on a stack whose ZeRO-3 keeps a shard
    group of one rank in place (`Stack.zero3_gathers_lone_shards` false: Megatron-FSDP), only the parameters whose
    group (`stage_params.dp_groups`) has more than one rank: none of the routed experts at expert-DP 1, none of the
    dense part at DP x CP 1 (hW71: Mixtral TP8 PP2 EP4 DP4 held its 2 experts a layer twice there, ZeRO-3 above
    ZeRO-2's memory)."""
    layer = local_layer_params(shape, plan)
    if profile.zero3_gathers_lone_shards:
        return layer
    routed = ops_params.local_expert_params(shape, plan.tp, plan.pp, plan.ep, plan.expert_tp, 1.0)
    dense_ranks, _, expert_ranks, _ = dp_groups(plan)
    return pick(dense_ranks > 1, layer - routed, 0.0) + pick(expert_ranks > 1, routed, 0.0)


def lone_shard_notes(shape: TransformerShape, plan: PlanArrays, profile: Stack, zero: int) -> list[str]:
    """The line of a one-plan ZeRO-3 answer whose weights `gathered_layer_params` counts once, not again in the two
    gathered layers (a group of one rank on a stack with `zero3_gathers_lone_shards` false), so the JSON says the
    stack rule its weights took (hV71: Mixtral TP8 PP2 EP4 DP4 on nemo-26.04 said nothing of its 176 MB less); []
    elsewhere."""
    if zero != 3 or profile.zero3_gathers_lone_shards:
        return []
    dense_ranks, _, expert_ranks, _ = (np.ravel(g)[0] for g in dp_groups(plan if plan.is_one else plan.take([0])))
    lone = [*(["the dense weights (DP x CP 1)"] if dense_ranks == 1 else []),
            *(["the routed experts (expert-DP 1)"] if shape.is_moe and expert_ranks == 1 else [])]
    if not lone:
        return []
    return [f"ZeRO-3 on {profile.name}: {' and '.join(lone)} shard over one rank, so they are used in place and "
            "not gathered into the two layer copies beside the shards (zero3_gathers_lone_shards: false, "
            "Megatron-FSDP; zero3_collectives_source): their weights count once"]


def kinds_state_terms(shape: TransformerShape, plan: PlanArrays, profile: Stack, copies: Any,
                       kinds: tuple[int, ...], layers: tuple[Any, ...] | None = None,
                       rows_only: bool = False) -> list[tuple[Any, Any, Any]]:
    """`state_terms` of each stage kind: the bytes per parameter, the ZeRO stages' masks and the gathered ZeRO-3
    layer (the same for every stage of a plan) computed once, then each kind's weights, gradients and optimizer
    state from its parameters, each element the same products as alone. `rows_only` (`memory_total`): no output
    head table where no plan runs a mirrored schedule (it is 0 there, and x + 0 = x for the parameter counts), so the
    terms keep the rows' (ZeRO, 1, rows) shape rather than the schedules' (`head_table` reads the schedule)."""
    one = is_plain(plan.tp)
    if one:  # one plan: kept by model, stack and every plan field the terms read (`ops.params.PLAN_SHAPE_COUNTS`)
        key = ("_kinds_state_terms", id(profile), copies, kinds, plan.tp, plan.pp, plan.dp, plan.cp, plan.ep,
               plan.expert_tp, plan.vpp, plan.zero, plan.dtype, plan.schedule, plan.zero_shard, layers)
        kept = ops_params.PLAN_SHAPE_COUNTS.get(shape, key)
        if kept is not None and kept[0] is profile:  # (the entry holds the stack: its id is not reused)
            return list(kept[1])
    zero = plan.zero
    # low-precision weight copies (beside the bf16 weights, or alone under `Stack.fp8_param_gather`)
    copy = _WEIGHT_COPY_FLOATS[plan.dtype] if one else _WEIGHT_COPY_BYTES[plan.dtype]
    alone = _QUANTISED_ONLY_FLOATS[plan.dtype] if one else _QUANTISED_ONLY[plan.dtype]
    weight_bytes = copy + WEIGHT_BYTES * (1.0 - alone) if profile.fp8_param_gather else WEIGHT_BYTES + copy
    zero3, zero2, zero1 = zero >= 3, zero >= 2, zero >= 1
    # FSDP2's ZeRO-3 under torch's pipelining: units left unsharded from a backward to the next forward (hF2)
    zero3 = pick(fsdp2_stage_unsharded(profile, plan), False, zero3)
    # ZeRO-3 gathers one layer ahead (one plan below ZeRO 3: not priced, `pick` drops it)
    one_layer = gathered_layer_params(shape, plan, profile) * weight_bytes if not one or zero3 else 0.0
    grad_bytes = grad_buffer_bytes(profile)
    # FSDP2's unsharded gradients: the stage's kept under a pipeline, a unit's in its backward (hF69)
    kept, unit_grads = fsdp2_kept_grad_bytes(profile, plan), fsdp2_unit_grad_bytes(shape, plan, profile)
    optimizer_bytes, table_bytes = state_bytes_per_param(profile)  # (Muon's matrices, AdamW's tables)
    mtp = mtp_params(shape, plan, profile) if profile.mtp_num_layers else None
    head = None if shape.tied_embeddings or (rows_only and not anywhere(is_mirrored(plan))) \
        else head_table(shape, plan, copies)
    terms = []
    for kind in kinds:
        params, shard = held_on_rank(plan, kind, *stage_kind_params(shape, plan, profile, kind, layers), copies, head,
                                     mtp)
        weights = pick(zero3, shard * weight_bytes + 2.0 * one_layer, params * weight_bytes)
        grads = pick(zero2, shard * grad_bytes, params * grad_bytes)
        if kept is not None:  # (`fsdp2_grad_memory`: the stage's unsharded gradient beside the sharded one)
            grads = grads + params * kept + unit_grads
        optimizer = pick(zero1, shard * optimizer_bytes, params * optimizer_bytes)
        if table_bytes != optimizer_bytes:  # the tables on AdamW beside Muon's matrices
            optimizer = optimizer + adam_table_state(shape, plan, kind, head, copies, zero1,
                                                     table_bytes - optimizer_bytes)
        terms.append((weights, grads, optimizer))
    if one:
        ops_params.PLAN_SHAPE_COUNTS.put(shape, key, (profile, tuple(terms)))
    return terms
