"""Unfused attention at context parallelism > 1 on a Megatron stack: a plan the framework refuses (session 72 lead,
from hW72's walk).

Megatron-Core's local attention, `DotProductAttention` (the unfused s x s scores), asserts "Context parallelism is
only supported by TEDotProductAttention!" (megatron-core 0.16.1 transformer/dot_product_attention.py:57-59), and
Transformer Engine's backend filter drops its `UnfusedDotProductAttention` under context parallelism, so no backend
is left for an unfused plan at CP > 1. `train --attention unfused --cp 2` on a megatron-class stack priced such a
step; it is refused now (`plan_rules.framework_refusals`), and `search` drops such plans. Other stack classes
(torchtitan, DeepSpeed) were not read: priced as before.
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.stacks import Stack
from infraplan.training.enums import Attention
from infraplan.training.plan import PlanArrays

UNFUSED_CP_CHECKED = True  # False: priced whatever its attention at CP > 1, as before
UNFUSED_CP_REASON = ("unfused attention does not run with context parallelism on a Megatron stack: megatron-core "
                     "0.16.1's DotProductAttention asserts CP 1 (transformer/dot_product_attention.py:57-59) and "
                     "Transformer Engine drops its unfused backend under CP")
UNFUSED_CP_FIX = {"train": "use --attention flash, or --cp 1",
                  "search": "search keeps CP 1 for unfused attention on this stack"}
_UNFUSED = int(Attention.UNFUSED)


def unfused_cp_refused(plan: PlanArrays, stack: Stack | None) -> Any:
    """Where a plan runs unfused attention at CP > 1 on a megatron-class stack, per plan (one plan: a bool); plain
    False where the rule cannot apply (no stack, or one not of class megatron)."""
    if not UNFUSED_CP_CHECKED or stack is None or stack.stack_class != "megatron":
        return False
    row = plan.one_row if plan.is_one else plan  # one plan: its Python ints (`PlanArrays.one_row`), a plain bool
    return (row.attention == _UNFUSED) & (row.cp > 1)
