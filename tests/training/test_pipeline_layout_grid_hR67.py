"""A stack's pipeline layouts on a search block's grid (hR67): `pipeline_layout.with_pipeline_layout` took the plans'
shape from PP and VP alone, so a block whose step-time terms vary along another axis (a stack with
`gradient_accumulation_fusion` off: DeepSeek-V3 with frontier row H015's layouts) stopped the branch-and-bound search
with numpy's "operands could not be broadcast" ValueError. Its plans' shape is now that of every term."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.stacks import resolve_stack
from infraplan.training import search
from infraplan.training.search import search_plans

H015 = Path(__file__).resolve().parents[2] / "examples" / "stacks" / "frontier-h015.yaml"
ARGS = ("deepseek-v3", "gb200-nvl72-superpod", 256, 4096, 1024)


def test_layouts_on_a_bounded_grid_equal_pricing_every_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = resolve_stack(str(H015), "training").model_copy(update={"gradient_accumulation_fusion": False})
    assert stack.pipeline_layouts  # (the layouts this test is about)
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)  # the bound on: this space is below the size that turns it on
    bounded = search_plans(*ARGS, top=5, stack=stack, dtype="fp8", compare_dtypes=False)
    monkeypatch.undo()
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    every = search_plans(*ARGS, top=5, stack=stack, dtype="fp8", compare_dtypes=False)
    assert bounded.best is not None
    assert (bounded.evaluated_count, bounded.feasible_count) == (every.evaluated_count, every.feasible_count)
    assert [r.model_dump(exclude={"train_command"}) for r in bounded.top] == [
        r.model_dump(exclude={"train_command"}) for r in every.top]
