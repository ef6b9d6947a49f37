"""Kimi K2 on the default stack runs its Megatron-Bridge recipe (hW59): 61 layers, as DeepSeek-V3, which
Megatron-Core's even split refuses at every PP > 1; Bridge 0.3.1's kimi_k2.py:28-50 lays them out for seven
(PP, VP) plans, and its own recommended plan is TP2 PP16 EP32 (:56, :64-72). Before the nemo-26.04 entry that
plan, and every pipelined Kimi K2 plan, was refused ("nearest valid PPs: 1, 61")."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import resolve_stack
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training

RECIPE = dict(tp=2, pp=16, ep=32, etp=1, seq_len=4096, global_batch=4096, recompute="selective", dtype="bf16")


def test_the_default_stack_carries_the_kimi_recipe() -> None:
    stack = resolve_stack(None, "training", "kimi-k2")
    assert stack.recipe_model == "kimi-k2"
    assert set(stack.pipeline_layout_plans) == {(4, 1), (8, 1), (4, 2), (16, 1), (8, 2), (4, 4), (2, 8)}
    assert not stack.cuda_graphs and stack.grad_reduce_dtype == "fp32"  # kimi_k2.py:136, :155-163 (Muon branch)
    assert stack.optimizer == "muon"  # its default optimizer_type (:53; hJ60: was the Adam branch)


def test_the_recipes_own_plan_runs_and_names_the_recipe() -> None:
    result = estimate_training("kimi-k2", "gb200-nvl72-superpod", 512, **RECIPE)  # type: ignore[arg-type]
    assert result.fits and result.step_time_s > 0
    assert any("recipes/kimi/kimi_k2.py:28-50" in n for n in result.notes)


@pytest.mark.parametrize("pp, vpp", [(8, 1), (2, 8), (4, 4)])
def test_each_laid_out_plan_runs(pp: int, vpp: int) -> None:
    result = estimate_training("kimi-k2", "gb200-nvl72-superpod", 512, tp=1, pp=pp, vpp=vpp, ep=32, seq_len=4096,
                               global_batch=4096, recompute="full", dtype="bf16")
    assert result.config.pp == pp and result.config.vpp == vpp


def test_a_plan_the_recipe_does_not_lay_out_is_still_refused() -> None:
    with pytest.raises(InputError, match="nearest valid PPs"):  # 61 layers on 5 stages: no layout, no even split
        estimate_training("kimi-k2", "gb200-nvl72-superpod", 320, tp=1, pp=5, ep=32, seq_len=4096,
                          global_batch=4096, recompute="full", dtype="bf16")
