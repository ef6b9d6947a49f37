"""The reasons of the rules a parallel plan must meet (`training.plan_rules`) and, for one plan that breaks one, the
values that broke it with the nearest values meeting a divisibility (`broken_rule_values`: "global batch not divisible
by DP x micro-batch: global batch 16, DP 125 x micro-batch 1 = 125; nearest valid global batch: 125"; both neighbours
where the one below is not 0: "nearest valid global batches: 96, 104").

The reasons name the rules' sources where a library states them: Megatron-Core 0.16.1 (transformer_config.py
num_query_groups, transformer_block.py's pipeline split, parallel_state.py's expert rank groups, sequence
parallelism's scatter along the sequence) and torchtitan 0.3.0's expert split (`Stack.expert_tensor_parallel`). Those
naming the model's heads, layers and experts are kept by the model's identity (`model_reasons`). Moved out of
training/plan_rules.py (hD, session 70), unchanged.
"""

from __future__ import annotations

import math

from infraplan.catalog.model_config import TransformerShape
from infraplan.identity_memo import IdentityMemo
from infraplan.training.enums import Recompute
from infraplan.training.pipeline_split_rule import LaidOut, dividing_split
from infraplan.training.plan import PlanArrays
from infraplan.units import counted

# `plan_violations`' reasons that name nothing of the model
REASON_SMALL = "every parallel degree, batch and sequence length must be >= 1"
REASON_VPP_NEEDS_PP = "virtual pipeline stages need PP > 1"
REASON_BATCH = "global batch not divisible by DP x micro-batch"
REASON_SEQUENCE = "sequence length not divisible by 2 x CP (load-balanced chunks)"
REASON_SEQUENCE_SP = "sequence length not divisible by TP x CP (sequence parallelism splits each CP chunk over TP)"
REASON_EP_DIVIDES = ("EP must divide DP (experts sharded inside the data-parallel group), or with expert TP != TP "
                     "(MoE parallel folding) or a stack laying the expert groups over the stage (its "
                     "expert_parallel_layout) EP x expert TP must divide TP x CP x DP")
# megatron-core >= 0.10.0 (`stack_limits.EP_OVER_STAGE_SAME_PP`): 0.16.1 parallel_state.py:808-812 (and the PP
# groups' assert :814-817, 0.10.0 :665-668, equivalent on these orders)
REASON_EXPERT_PP_GROUPS = ("the stack's Megatron-Core lays expert ranks (for every model) that must keep the dense "
                           "pipeline groups: with --order tp-cp-pp-dp (its tp-cp-ep-pp-dp) and PP > 1, EP x expert TP "
                           "must equal TP x CP (expert DP = DP; parallel_state.py: \"When not using pp-last rank "
                           "ordering, the data parallel size of the attention and moe layers must be the same\"); "
                           "--order tp-cp-dp-pp runs it")
REASON_BLOCK_NEEDS_FULL = ("recompute layers (block recompute of k layers per model chunk) needs --recompute full and "
                           "k >= 0")
REASON_BLOCK_IN_CHUNK = "--recompute-layers exceeds the layers of one model chunk (layers / (PP x VPP), rounded up)"
REASON_FOLDING_NEEDS_MOE = "expert tensor parallelism differs from TP only for MoE models"
REASON_FOLDING_NEEDS_SP = "MoE parallel folding with TP > 1 needs sequence parallelism (Megatron-Core requires it)"
REASON_EXPERTS_TP_OR_EP = ("the stack splits the experts over TP without EP, over EP alone with EP > 1 (its EP takes "
                           "the ranks of FSDP x CP x TP): --etp 1 with --ep > 1, no --etp with --ep 1")


def model_reasons(shape: TransformerShape, extra_layers: int) -> tuple[str, str, str, str, str]:
    """`plan_violations`' reasons that name the model's heads, layers and experts, kept by the model's identity
    (constants of the model and stack: a single estimate checks one plan, issue 18)."""
    kept = _REASONS.get(shape, extra_layers)
    if kept is not None:
        return kept
    slots = shape.num_layers + extra_layers
    counted = (" (with the embedding and loss the stack counts as pipeline layers: "
               f"{slots})" if extra_layers else "")
    reasons = (f"attention heads ({shape.num_heads}) not divisible by TP",
               f"pipeline stages x virtual stages exceeds the model's {shape.num_layers} layers{counted}",
               (f"expert parallel must divide the {shape.num_experts} experts" if shape.is_moe else
                f"expert parallel needs an MoE model: {shape.name} is dense, no experts (EP=1 for dense models)"),
               f"KV heads ({shape.num_kv_heads}) neither divisible by TP nor dividing it (Megatron-Core: "
               "num_query_groups must be a multiple or divisor of tensor_model_parallel_size)",
               f"pipeline stages x virtual stages do not divide the model's {shape.num_layers} layers{counted}, as "
               "the stack's even split needs (Megatron-Core: \"num_layers should be divisible by "
               "pipeline_model_parallel_size\"; a stack with pipeline_split: balanced takes any count)")
    return _REASONS.put(shape, extra_layers, reasons)


_REASONS: IdentityMemo[tuple[str, str, str, str, str]] = IdentityMemo(256)


def nearest_multiples(value: int, step: int) -> list[int]:
    """The multiples of `step` either side of `value` (`value` alone where it is one; only the one above where the one
    below is 0)."""
    low, high = value // step * step, -(-value // step) * step
    return [v for v in dict.fromkeys((low, high)) if v >= step]


def _multiples(value: int, step: int, what: str, many: str) -> str:
    """'nearest valid global batches: 96, 104': the multiples of `step` either side of `value` (`nearest_multiples`);
    `what` / `many`: the quantity's singular and plural."""
    shown = nearest_multiples(value, step)
    return f"nearest valid {many if len(shown) > 1 else what}: {', '.join(f'{v:,}' for v in shown)}"


def broken_rule_values(shape: TransformerShape, row: PlanArrays, reason: str, extra_layers: int = 0,
                       divisible: LaidOut | None = None) -> str:
    """`reason` (a rule of `plan_violations` that the `one_row` plan `row` breaks) with the values that broke it:
    the plan's degrees, batches or layers the rule reads and, for a divisibility, the nearest values meeting it."""
    tp, pp, dp, cp, ep, vpp, mb, batch, seq, layers, etp, given_etp, micro_batches = (int(v) for v in (
        row.tp, row.pp, row.dp, row.cp, row.ep, row.vpp, row.micro_batch, row.global_batch, row.seq_len,
        row.recompute_layers, row.expert_tp, row.etp, row.micro_batches))
    slots = shape.num_layers + extra_layers
    heads_why, stages_why, experts_why, groups_why, split_why = model_reasons(shape, extra_layers)
    if reason == REASON_SMALL:
        named = {"TP": tp, "PP": pp, "DP": dp, "CP": cp, "EP": ep, "VPP": vpp, "micro-batch": mb,
                 "global batch": batch, "sequence length": seq}
        small = [f"{k} {v}" for k, v in named.items() if v < 1] + ([f"expert TP {given_etp}"] if given_etp < 0 else [])
        values = ", ".join(small)
    elif reason == heads_why:
        fits = [t for t in range(1, shape.num_heads + 1) if shape.num_heads % t == 0 and t <= max(64, tp)]
        values = f"TP {tp} (TPs dividing {shape.num_heads} heads: {', '.join(map(str, fits))})"
    elif reason == groups_why:
        kv, heads = shape.num_kv_heads, shape.num_heads
        fits = [t for t in range(1, heads + 1) if heads % t == 0 and (kv % t == 0 or t % kv == 0)]
        values = f"TP {tp} (TPs meeting both head rules: {', '.join(map(str, fits))})"
    elif reason == stages_why:
        values = f"PP {pp} x VPP {vpp} = {pp * vpp} model chunks"
    elif reason == REASON_VPP_NEEDS_PP:
        values = f"VPP {vpp} with PP {pp}"
    elif reason == split_why:
        values = (f"PP {pp} x VPP {vpp} = {pp * vpp} model chunks for {slots} layers; "
                  + dividing_split(slots, pp, vpp, () if divisible is None else divisible))
    elif reason == REASON_BATCH:
        values = (f"global batch {batch:,}, DP {dp} x micro-batch {mb} = {dp * mb:,}; "
                  + _multiples(batch, dp * mb, "global batch", "global batches"))
    elif reason == REASON_SEQUENCE:
        values = (f"sequence length {seq:,}, 2 x CP = {2 * cp}; "
                  + _multiples(seq, 2 * cp, "sequence length", "sequence lengths"))
    elif reason == REASON_SEQUENCE_SP:
        step = math.lcm(tp * cp, 2 * cp if cp > 1 else 1)  # the nearest lengths meet the 2 x CP rule as well
        values = (f"sequence length {seq:,}, TP {tp} x CP {cp} = {tp * cp}; "
                  + _multiples(seq, step, "sequence length", "sequence lengths"))
    elif reason == experts_why:  # an MoE model: the EPs that divide its experts, as the TP rule names its TPs
        fits = [e for e in range(1, shape.num_experts + 1) if shape.num_experts % e == 0] if shape.is_moe else []
        values = f"EP {ep}" + (f" (EPs dividing {shape.num_experts} experts: {', '.join(map(str, fits))})" * bool(fits))
    elif reason == REASON_EP_DIVIDES:
        values = (f"EP {ep} x expert TP {etp} = {ep * etp} vs TP {tp} x CP {cp} x DP {dp} = {tp * cp * dp}"
                  if row.experts_over_stage else f"EP {ep}, DP {dp}")
    elif reason == REASON_EXPERT_PP_GROUPS:
        values = f"PP {pp}, EP {ep} x expert TP {etp} = {ep * etp}, TP {tp} x CP {cp} = {tp * cp}"
    elif reason == REASON_BLOCK_NEEDS_FULL:
        values = f"--recompute-layers {layers} with --recompute {Recompute.from_code(int(row.recompute)).label}"
    elif reason == REASON_BLOCK_IN_CHUNK:
        per_chunk = counted(-(-slots // max(1, pp * vpp)), "layer")
        values = f"--recompute-layers {layers}, {per_chunk} in a chunk ({slots} / PP{pp} x VPP{vpp})"
    elif reason in (REASON_FOLDING_NEEDS_MOE, REASON_FOLDING_NEEDS_SP):
        values = f"expert TP {etp}, TP {tp}, sequence parallel {'on' if row.sequence_parallel else 'off'}"
    elif reason == REASON_EXPERTS_TP_OR_EP:
        values = f"EP {ep}, expert TP {etp}, TP {tp}"
    else:  # a pipeline schedule's rule (`schedules.one_plan_schedule_reason`)
        values = (f"PP {pp}, VPP {vpp}, {counted(micro_batches, 'micro-batch', 'micro-batches')} per step "
                  f"(global batch {batch:,} / (DP {dp} x micro-batch {mb}))")
    return f"{reason}: {values}"
