"""A plan whose TP (or expert TP) leaves an FFN width fractional, on a Megatron stack (hW, session 72).

Megatron-Core splits each FFN's intermediate width evenly over the TP ranks (routed experts: over the expert TP
ranks) and asserts the width divides (`ops.ffn_split`, with the megatron-core 0.16.1 lines); the heads' rule was
checked (`plan_rules.plan_violations`), the FFN's was not, so a user config.json with `intermediate_size` 11009 at
TP 8 priced a step of 1,376.125 FFN columns a rank that the framework raises on, and `search` ranked TP 2 first for it.
`train` refuses such a plan and `search` prunes it (`plan_rules.framework_refusals`) on stacks of class megatron
(Megatron-LM, NeMo, megatron-core, DeepSeek's and Meta's presets); torchtitan's DTensor and DeepSpeed's layers were
not read: priced as before. Every shipped model's widths divide at every TP its heads allow but Mixtral 8x22B's
16,384 expert width at expert TP 24 / 48.
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.ops.ffn_split import ffn_split_broken, ffn_split_uneven, ffn_widths
from infraplan.scalar_path import is_plain
from infraplan.training.plan import PlanArrays

FFN_SPLIT_CHECKED = True  # False: every plan priced whatever its FFN split, as before hW72
_SOURCE = ("Megatron-Core splits each FFN's width evenly over TP (routed experts: expert TP) and asserts it divides "
           "(megatron-core 0.16.1 tensor_parallel/layers.py:842, :1166; extensions/transformer_engine.py:1525-1527)")


def ffn_split_fix(shape: TransformerShape, command: str) -> str:
    """What `command`'s user can do about it (`plan_rules.framework_refusals`): `train` names its options (--etp
    only for an MoE model's routed experts), `search` says what it keeps."""
    if command == "search":
        return "search keeps the TP / expert TP that divide it" if shape.is_moe else "search keeps the TPs dividing it"
    return "use a --tp (routed experts: --etp) dividing it" if shape.is_moe else "use a --tp dividing it"


def ffn_split_refused(shape: TransformerShape, plan: PlanArrays, stack: Stack | None) -> Any:
    """Where a plan's TP / expert TP leaves an FFN width fractional on a Megatron stack, per plan (one plan: a bool);
    plain False where the rule cannot apply (no stack, or one not of class megatron)."""
    if not FFN_SPLIT_CHECKED or stack is None or stack.stack_class != "megatron":
        return False
    if (row := _one_row(plan)) is not None:  # one plan (`refuse_framework`'s): its Python ints, a plain bool
        return bool(ffn_split_uneven(shape, *_row_splits(shape, row)))
    expert_tp = plan._at_least_one(plan.expert_tp) if shape.is_moe else None
    return ffn_split_uneven(shape, plan._at_least_one(plan.tp), expert_tp)


def _one_row(plan: PlanArrays) -> PlanArrays | None:
    """The plain-int row of a one-plan `plan` (`PlanArrays.one_row`; a row itself), else None. (`is_one` first: a
    single estimate's plan makes its arrays on the first read of a field, `PlanArrays.one_plan`.)"""
    return plan.one_row if plan.is_one else plan if is_plain(plan.tp) else None


def _row_splits(shape: TransformerShape, row: PlanArrays) -> tuple[int, int | None]:
    """TP and (MoE) expert TP of a plain-int `row` as Python ints >= 1."""
    return max(int(row.tp), 1), max(int(row.expert_tp), 1) if shape.is_moe else None


def ffn_split_reason(shape: TransformerShape, plan: PlanArrays, stack: Stack | None) -> str:
    """Why `ffn_split_refused`'s plans do not run: one plan's broken width with the degrees dividing it, or (plans)
    the model's widths."""
    name = "" if stack is None else f" on stack {stack.name}"
    if (row := _one_row(plan)) is not None and (broken := ffn_split_broken(shape, *_row_splits(shape, row))):
        return f"{broken}{name}: {_SOURCE}"
    widths = ", ".join(f"{what} {width:,}" for what, width, _ in ffn_widths(shape))
    return f"{shape.name}'s {widths} not divisible by the plan's TP / expert TP{name}: {_SOURCE}"
