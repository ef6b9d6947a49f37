"""The rules a parallel plan must meet, vectorised over plans, and the kept verdict of one plan.

`plan_violations` lists (mask of invalid plans, reason) for every rule: parallel degrees and batches >= 1, heads
divisible by TP, the KV heads (query groups) a multiple or a divisor of TP (Megatron-Core 0.16.1
megatron/core/transformer/transformer_config.py lines 939-946: "num_query_groups must be a multiple or divisor of
tensor_model_parallel_size"; a divisor: each rank holds a replica of its group, `ops.params.kv_heads_local`),
pipeline model chunks (PP x VPP) no more than the layers to split (with the embedding and the LM head + loss where
the stack's even split counts them: Megatron-Core `account_for_embedding_in_pipeline_split` /
`account_for_loss_in_pipeline_split`, `pipeline_extra_layers`) and, where the stack's split needs it
(`pipeline_split_rule`), dividing them (Megatron-Core 0.16.1 transformer/transformer_block.py:155-157 "num_layers
should be divisible by pipeline_model_parallel_size" and the VP check :174-177; a stack's pipeline layout of p x v
chunks runs instead: `training.pipeline_layout`), the global batch divisible by DP x micro-batch, the
sequence by 2 x CP where CP > 1 (load-balanced causal chunks; CP 1 splits nothing, so any length runs) and, with
sequence parallelism over TP > 1, by TP x CP (Megatron-Core scatters each CP rank's [s / CP, b, h] activations over
the TP ranks along the sequence: megatron/core/tensor_parallel/mappings.py, `_split_along_first_dim`, asserts "First
dimension of the tensor should be divisible by tensor parallel size"), EP dividing the experts and DP (or, with MoE
parallel folding or a stack laying the expert groups over the stage, `PlanArrays.experts_over_stage`, EP x ETP
dividing TP x CP x DP), the dense pipeline groups kept by the expert ranks where the stack's Megatron-Core
requires it (`plan_reasons.REASON_EXPERT_PP_GROUPS`), block recompute within a model chunk, and each pipeline
schedule's own rules (`training.schedules.schedule_violations`). `valid_mask` is their conjunction for the search;
`check_single_plan` raises the first broken rule of one plan as an InputError and keeps the verdict (issue 18),
followed by the values that broke it and, for a divisibility, the nearest values that meet it (the rules' reasons
and those values: `training.plan_reasons.broken_rule_values`,
"global batch not divisible by DP x micro-batch: global batch 16, DP 125 x micro-batch 1 = 125; nearest valid
global batch: 125"; both neighbours where the one below is not 0: "nearest valid global batches: 96, 104").
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.errors import InputError
from infraplan.scalar_path import is_plain, negate
from infraplan.training.adapter_sites import (
    DOWN_ADAPTERS_SP_FIX,
    DOWN_ADAPTERS_SP_REASON,
    LoraSpec,
    down_adapters_sp_refused,
)
from infraplan.training.attention_core import FP8_MLA_CP_FIX, FP8_MLA_CP_REASON, fp8_mla_cp_refused
from infraplan.training.enums import RankOrder, Recompute
from infraplan.training.ffn_split_rules import ffn_split_fix, ffn_split_reason, ffn_split_refused
from infraplan.training.pipeline_split_rule import LaidOut, split_refused, split_refuses
from infraplan.training.plan import PLAN_FIELDS, PlanArrays
from infraplan.training.plan_reasons import (
    REASON_BATCH,
    REASON_BLOCK_IN_CHUNK,
    REASON_BLOCK_NEEDS_FULL,
    REASON_EP_DIVIDES,
    REASON_EXPERT_PP_GROUPS,
    REASON_EXPERTS_TP_OR_EP,
    REASON_FOLDING_NEEDS_MOE,
    REASON_FOLDING_NEEDS_SP,
    REASON_SEQUENCE,
    REASON_SEQUENCE_SP,
    REASON_SMALL,
    REASON_VPP_NEEDS_PP,
    broken_rule_values,
    model_reasons,
)
from infraplan.training.plan_reasons import nearest_multiples as nearest_multiples
from infraplan.training.schedules import one_plan_schedule_reason, schedule_violations
from infraplan.training.sparse_attention_rules import DSA_CP_FIX, dsa_cp_reason, dsa_cp_refused
from infraplan.training.stack_limits import EP_OVER_STAGE_SAME_PP
from infraplan.training.tp_overlap import (
    DEFERRED_WGRAD_UB_FIX,
    DEFERRED_WGRAD_UB_REASON,
    deferred_wgrad_userbuffers_refused,
)
from infraplan.training.unfused_cp_rule import UNFUSED_CP_FIX, UNFUSED_CP_REASON, unfused_cp_refused

# enum codes the rules compare with, as ints (an enum member's lookup costs more than the comparison)
_TP_CP_PP_DP, _FULL = int(RankOrder.TP_CP_PP_DP), int(Recompute.FULL)


def pipeline_extra_layers(stack: Stack | None) -> int:
    """Pipeline layer slots beyond the transformer layers: the embedding and the LM head + loss, where the
    stack's even split counts them as layers (Megatron-Core flags; `training.schedules.heaviest_stage`)."""
    if stack is None or stack.pipeline_split != "even":
        return 0
    return int(stack.account_for_embedding_in_pipeline_split) + int(stack.account_for_loss_in_pipeline_split)


def plan_violations(shape: TransformerShape, plan: PlanArrays, extra_layers: int = 0,
                    rules: str = "megatron", split: str = "any",
                    divisible: LaidOut | None = None) -> list[tuple[np.ndarray, str]]:
    """(mask of invalid plans, reason) for every rule a plan must meet; vectorised.

    `extra_layers`: `pipeline_extra_layers` of the stack (the embedding / loss counted as pipeline layers);
    `rules`: the stack's micro-batch rule set (`stack_limits.micro_batch_rules`); `split`: how the stack splits the
    routed experts (`Stack.expert_tensor_parallel`: any, or tp-or-ep: expert TP = TP at EP 1, expert TP 1 at EP > 1);
    `divisible`: `pipeline_split_rule` of the stack (None: its split takes any layer count).
    """
    heads_ok = shape.num_heads % plan.tp == 0
    kv, tp_at_least_one = shape.num_kv_heads, plan._at_least_one(plan.tp)
    groups_ok = (kv % tp_at_least_one == 0) | (tp_at_least_one % kv == 0)
    stages = plan.pp * plan.vpp
    slots = shape.num_layers + extra_layers
    heads_why, stages_why, experts_why, groups_why, split_why = model_reasons(shape, extra_layers)
    chunk_layers = -(-slots // plan._at_least_one(stages))  # layers of the largest model chunk
    # (no plan) unless the stack's split needs PP x VPP to divide the slots (`pipeline_split_rule`)
    undivided = plan.tp < 0 if divisible is None else split_refused(slots, plan.pp, plan.vpp, divisible)
    experts_ok = (shape.num_experts % plan.ep == 0) if shape.is_moe else plan.ep == 1
    small = [plan.tp < 1, plan.pp < 1, plan.dp < 1, plan.cp < 1, plan.ep < 1, plan.etp < 0, plan.vpp < 1,
             plan.micro_batch < 1, plan.global_batch < 1, plan.seq_len < 1]
    return [
        (any(small) if is_plain(plan.tp) else np.any(small, axis=0), REASON_SMALL),
        (negate(heads_ok), heads_why),
        (negate(groups_ok), groups_why),
        (stages > slots, stages_why),
        ((plan.vpp > 1) & (plan.pp == 1), REASON_VPP_NEEDS_PP),
        (undivided, split_why),
        (plan.global_batch % plan._at_least_one(plan.dp * plan.micro_batch) != 0, REASON_BATCH),
        ((plan.cp > 1) & (plan.seq_len % (2 * plan.cp) != 0), REASON_SEQUENCE),
        ((plan.sequence_parallel == 1) & (plan.tp > 1) & (plan.seq_len % plan._at_least_one(plan.tp * plan.cp) != 0),
         REASON_SEQUENCE_SP),
        (negate(experts_ok), experts_why),
        (plan._where(plan.experts_over_stage,
                     (plan.tp * plan.cp * plan.dp) % plan._at_least_one(plan.ep * plan.expert_tp) != 0,
                     plan.dp % plan._at_least_one(plan.ep) != 0), REASON_EP_DIVIDES),
        ((plan.recompute_layers < 0) | ((plan.recompute_layers > 0) & (plan.recompute != _FULL)),
         REASON_BLOCK_NEEDS_FULL),
        (plan.recompute_layers > chunk_layers, REASON_BLOCK_IN_CHUNK),
        (plan.folded & (not shape.is_moe), REASON_FOLDING_NEEDS_MOE),
        (plan.folded & (plan.tp > 1) & (plan.sequence_parallel == 0), REASON_FOLDING_NEEDS_SP),
        (plan._where(plan.ep > 1, plan.expert_tp != 1, plan.folded)
         if split == _TP_OR_EP and shape.is_moe else plan.tp < 0, REASON_EXPERTS_TP_OR_EP),
        ((plan.expert_layout == EP_OVER_STAGE_SAME_PP) & (plan.order == _TP_CP_PP_DP) & (plan.pp > 1)
         & (plan.ep * plan.expert_tp != plan.tp * plan.cp), REASON_EXPERT_PP_GROUPS),
        *schedule_violations(plan.schedule, plan.pp, plan.vpp, plan.micro_batches, rules),
    ]


def framework_refusals(shape: TransformerShape, plan: PlanArrays, stack: Stack | None,
                       lora: LoraSpec | None = None, command: str = "train") -> list[tuple[np.ndarray, str]]:
    """(mask, reason) of the plans a stack's libraries raise on though every rule above holds (hW, session 56):
    fp8 attention on MLA at CP > 1 (`attention_core.fp8_mla_cp_refused`, Transformer Engine 2.14) and LoRA on MLA's
    down projections at TP > 1 with sequence parallelism (`adapter_sites.down_adapters_sp_refused`, Megatron-Bridge
    0.6.0), DeepSeek Sparse Attention at CP > 1 on a stack whose DSA refuses it (`sparse_attention_rules.
    dsa_cp_refused`, megatron-core 0.16-0.18), deferred wgrads under TP userbuffers (`tp_overlap.
    deferred_wgrad_userbuffers_refused`, Transformer Engine 2.14; a search's rows for each of their VP pairs, hD66)
    an FFN width TP leaves fractional (`ffn_split_rules.ffn_split_refused`, megatron-core 0.16.1; hW72) and unfused
    attention at CP > 1 (`unfused_cp_rule.unfused_cp_refused`, megatron-core 0.16.1; session 72).
    `train` raises the first as an InputError (`refuse_framework`),
    `search` drops them from `valid_mask`'s plans and says how many. Each reason ends with what `command` ("train" or
    "search") offers against it: `search` has no --cp or --no-sequence-parallel to name (hF, session 57)."""
    return [(np.asarray(fp8_mla_cp_refused(shape, plan, stack)), f"{FP8_MLA_CP_REASON}; {FP8_MLA_CP_FIX[command]}"),
            (np.asarray(down_adapters_sp_refused(shape, plan, lora)),
             f"{DOWN_ADAPTERS_SP_REASON}; {DOWN_ADAPTERS_SP_FIX[command]}"),
            (np.asarray(dsa_cp_refused(shape, plan, stack)), f"{dsa_cp_reason(stack)}; {DSA_CP_FIX[command]}"),
            (np.asarray(deferred_wgrad_userbuffers_refused(shape, plan, stack, command == "search")),
             f"{DEFERRED_WGRAD_UB_REASON}; {DEFERRED_WGRAD_UB_FIX[command]}"),
            (np.asarray(ffn_split_refused(shape, plan, stack)),
             f"{ffn_split_reason(shape, plan, stack)}; {ffn_split_fix(shape, command)}"),
            (np.asarray(unfused_cp_refused(plan, stack)), f"{UNFUSED_CP_REASON}; {UNFUSED_CP_FIX[command]}")]


def refuse_framework(shape: TransformerShape, plan: PlanArrays, stack: Stack | None,
                     lora: LoraSpec | None = None) -> None:
    """Raise InputError (one line) where `framework_refusals` refuses the one plan `plan`. Where neither check applies
    to the model, stack and adapters (each gives plain False), nothing is built (a single estimate: ~4 us of
    numpy reductions and reason strings; hS59)."""
    if (fp8_mla_cp_refused(shape, plan, stack) is False and down_adapters_sp_refused(shape, plan, lora) is False
            and dsa_cp_refused(shape, plan, stack) is False and ffn_split_refused(shape, plan, stack) is False
            and not unfused_cp_refused(plan, stack)
            and (stack is None or not stack.moe.delay_wgrad_compute  # (read first: one call less an estimate)
                 or deferred_wgrad_userbuffers_refused(shape, plan, stack) is False)):
        return
    for bad, why in framework_refusals(shape, plan, stack, lora):
        if bool(np.any(bad)):
            raise InputError(why)


_TP_OR_EP = "tp-or-ep"  # `Stack.expert_tensor_parallel`: torchtitan 0.3.0 (its YAML's source)


def first_broken_rule(shape: TransformerShape, row: PlanArrays, extra_layers: int = 0,
                      rules: str = "megatron", split: str = "any",
                      divisible: LaidOut | None = None) -> str | None:
    """The reason of the first rule of `plan_violations` a `one_row` plan (Python ints) breaks, or None: the same
    rules in the same order on its ints, stopping at the first broken one, and of the schedule rules only its own
    schedule's (the others cannot apply; `schedules.one_plan_schedule_reason`). The expressions that raise on a
    zero degree (heads % TP, experts % EP, sequence % 2 CP) are evaluated first, as there (issue 18;
    tests/training/test_single_estimate_twins.py holds the reasons to `plan_violations`')."""
    tp, pp, dp, cp, ep, vpp = row.tp, row.pp, row.dp, row.cp, row.ep, row.vpp
    heads_ok = shape.num_heads % tp == 0
    moe = shape.is_moe
    experts_ok = (shape.num_experts % ep == 0) if moe else ep == 1
    sequence_odd = cp > 1 and row.seq_len % (2 * cp) != 0
    if (tp < 1 or pp < 1 or dp < 1 or cp < 1 or ep < 1 or row.etp < 0 or vpp < 1 or row.micro_batch < 1
            or row.global_batch < 1 or row.seq_len < 1):
        return REASON_SMALL
    heads_why, stages_why, experts_why, groups_why, split_why = model_reasons(shape, extra_layers)
    stages, slots = pp * vpp, shape.num_layers + extra_layers
    replicas, folded, layers, experts = dp * row.micro_batch, row.folded, row.recompute_layers, ep * row.expert_tp
    if not heads_ok:
        return heads_why
    if shape.num_kv_heads % tp != 0 and tp % shape.num_kv_heads != 0:
        return groups_why
    if stages > slots:
        return stages_why
    if vpp > 1 and pp == 1:
        return REASON_VPP_NEEDS_PP
    if divisible is not None and split_refuses(slots, pp, vpp, divisible):  # type: ignore[arg-type]
        return split_why
    if row.global_batch % (1 if replicas < 1 else replicas) != 0:
        return REASON_BATCH
    if sequence_odd:
        return REASON_SEQUENCE
    if row.sequence_parallel == 1 and tp > 1 and row.seq_len % (tp * cp) != 0:
        return REASON_SEQUENCE_SP
    if not experts_ok:
        return experts_why
    if (tp * cp * dp) % (1 if experts < 1 else experts) != 0 if row.experts_over_stage else (
            dp % (1 if ep < 1 else ep) != 0):
        return REASON_EP_DIVIDES
    if layers < 0 or (layers > 0 and row.recompute != _FULL):
        return REASON_BLOCK_NEEDS_FULL
    if layers > -(-slots // (1 if stages < 1 else stages)):
        return REASON_BLOCK_IN_CHUNK
    if folded and not moe:
        return REASON_FOLDING_NEEDS_MOE
    if folded and tp > 1 and row.sequence_parallel == 0:
        return REASON_FOLDING_NEEDS_SP
    if split == _TP_OR_EP and moe and (row.expert_tp != 1 if ep > 1 else folded):
        return REASON_EXPERTS_TP_OR_EP
    if row.expert_layout == EP_OVER_STAGE_SAME_PP and row.order == _TP_CP_PP_DP and pp > 1 and experts != tp * cp:
        return REASON_EXPERT_PP_GROUPS
    return one_plan_schedule_reason(row.schedule, pp, vpp, row.micro_batches, rules)  # type: ignore[arg-type]




def valid_mask(shape: TransformerShape, plan: PlanArrays, extra_layers: int = 0,
               rules: str = "megatron", split: str = "any", divisible: LaidOut | None = None) -> np.ndarray:
    # (the rules' union accumulated in place, inverted once: the same bools as and-ing each rule's inverse)
    broken = np.zeros(len(plan), dtype=bool)
    for bad, _ in plan_violations(shape, plan, extra_layers, rules, split, divisible):
        np.logical_or(broken, bad, out=broken)
    return ~broken


_CHECKED_KEPT = 4096  # one-plan verdicts kept (least recently used dropped)
_CHECKED: OrderedDict[tuple[int | str | LaidOut | None, ...], tuple[TransformerShape, str | None]] = OrderedDict()
_CHECKED_LOCK = threading.Lock()


def forget_checked_plans() -> None:
    """Forget the kept verdicts of `check_single_plan`."""
    with _CHECKED_LOCK:
        _CHECKED.clear()


def check_single_plan(shape: TransformerShape, plan: PlanArrays, gpus: int, extra_layers: int = 0,
                      rules: str = "megatron", split: str = "any", divisible: LaidOut | None = None) -> None:
    """Raise InputError with the first broken rule for a one-element plan (`extra_layers`, `rules`, `split`,
    `divisible`: `plan_violations`).

    The verdict is kept by the model and the plan's fields (the rules read nothing else), so sweeps and the
    scenario planner re-checking a plan pay a lookup (issue 18).
    """
    if (plan.one_row.gpus if plan.is_one else int(plan.gpus[0])) != gpus:
        p = plan.row(0)
        raise InputError(
            f"plan TP{p['tp']} x CP{p['cp']} x PP{p['pp']} x DP{p['dp']} = {p['gpus']} GPUs, not --gpus {gpus}"
        )
    key = (id(shape), extra_layers, rules, split, divisible, *(plan.row_key if plan.is_one else
                                      [int(getattr(plan, name)[0]) for name in PLAN_FIELDS]))
    kept = _CHECKED.get(key)  # (atomic; the lock, for threads sharing the verdicts, guards the moves below)
    if kept is not None:
        with _CHECKED_LOCK:
            kept = _CHECKED.get(key)
            if kept is not None and kept[0] is shape:  # the entry holds the model: its id is not reused meanwhile
                _CHECKED.move_to_end(key)
    if kept is not None and kept[0] is shape:
        reason = kept[1]
    else:
        # the rules on the plan's Python numbers (`one_row`): the same verdicts without numpy's per-call cost
        if plan.is_one:
            reason = first_broken_rule(shape, plan.one_row, extra_layers, rules, split, divisible)
        else:
            reason = next((why for bad, why in plan_violations(shape, plan, extra_layers, rules, split, divisible)
                           if bad[0]), None)
        with _CHECKED_LOCK:
            _CHECKED[key] = (shape, reason)
            while len(_CHECKED) > _CHECKED_KEPT:
                _CHECKED.popitem(last=False)
    if reason is not None:
        fields = dict(zip(PLAN_FIELDS, key[5:], strict=True))
        row = plan.one_row if plan.is_one else PlanArrays.one_plan(**fields).one_row
        raise InputError(broken_rule_values(shape, row, reason, extra_layers, divisible))
