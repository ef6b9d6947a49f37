"""Mutation wave 11 (hM11, session 39): the expert layout per stack (hE3: `PlanArrays.with_expert_layout`,
`plan_rules.broken_rule_values`), the recipe lookup by figures (hX3: `model_recipes._same_model`) and a search's
note on where its best EP group runs (hU39: `moe_notes.search_notes`).

- `with_expert_layout`: "this plan with `code` in its `expert_layout` field ... the plan itself where it holds that
  layout already": a grid holding it on some rows only is given it on every row.
- An EP that does not divide TP x CP x DP under a stack laying the experts over the stage (nemo-26.04) names the
  values of that rule (EP x expert TP vs TP x CP x DP), not the EP-inside-DP rule's (EP, DP).
- `_same_model`: "the same name, or two presets of one figures": two names of no preset are not one model.
- `search_notes`: the "inside one scale-up domain" line only "for an MoE job over several scale-up domains" with
  EP > 1 (a job of one domain, or EP 1, has no all-to-all to place).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_recipes import _same_model, recipe_key
from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training
from infraplan.training.moe_notes import moe_notes
from infraplan.training.plan import PlanArrays
from infraplan.training.stack_limits import EP_INSIDE_DP, EP_OVER_STAGE_SAME_PP

INSIDE = "lies inside one"  # the EP note of `moe_notes` (hV41: train says it too)


def test_a_grid_of_mixed_layouts_is_given_the_stacks_on_every_row() -> None:
    plan = PlanArrays.build(tp=np.array([1, 1]), pp=np.array([1, 1]), dp=np.array([8, 8]), cp=np.array([1, 1]),
                            ep=np.array([8, 8]), vpp=np.array([1, 1]), micro_batch=np.array([1, 1]),
                            global_batch=np.array([64, 64]), seq_len=np.array([4096, 4096]),
                            recompute=np.array([0, 0]), zero=np.array([1, 1]), dtype=np.array([0, 0]),
                            attention=np.array([0, 0]), expert_layout=np.array([EP_INSIDE_DP, EP_OVER_STAGE_SAME_PP]))
    out = plan.with_expert_layout(EP_OVER_STAGE_SAME_PP)
    assert np.array_equal(out.expert_layout, [EP_OVER_STAGE_SAME_PP] * 2)
    assert out.with_expert_layout(EP_OVER_STAGE_SAME_PP) is out


def test_the_over_stage_rule_names_its_own_values() -> None:
    """TP 2, DP 2, EP 4 on nemo-26.04 (over the stage): EP 4 x expert TP 2 = 8 does not divide TP 2 x CP 1 x DP 2 =
    4, and the line says so."""
    with pytest.raises(InputError) as refused:
        estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", 4, stack="nemo-26.04", seq_len=8192,
                          global_batch=64, micro_batch=1, dtype="bf16", recompute="full", vpp=1, tp=2, cp=1, ep=4,
                          pp=1, order="tp-cp-dp-pp")
    assert str(refused.value).endswith(": EP 4 x expert TP 2 = 8 vs TP 2 x CP 1 x DP 2 = 4")


def test_two_names_of_no_preset_are_not_one_model() -> None:
    assert not _same_model("my-model", "your-model")
    assert _same_model("my-model", "my-model")
    assert _same_model("deepseek-r1", "deepseek-v3") and not _same_model("my-model", "deepseek-v3")


def _notes(gpus: int, ep: int) -> list[str]:
    shape, cluster = load_model("deepseek-v3"), Cluster.resolve("dgx-h100-superpod")
    stack = resolve_stack(None, "training", recipe_key(shape))
    return moe_notes(shape, stack, cluster.fabric, ep, 1, gpus)  # (a search's: `plan_notes.train_plan_notes`)


def test_no_inside_one_domain_line_for_a_job_of_one_domain_or_ep_1() -> None:
    """8-GPU scale-up domains: a job of 8 GPUs (one domain) at EP 8, and one of 16 at EP 1, get no such line; 16
    at EP 8 does."""
    assert not any(INSIDE in n for n in _notes(8, 8))
    assert not any(INSIDE in n for n in _notes(16, 1))
    assert any(INSIDE in n and "inside one 8-GPU scale-up domain" in n for n in _notes(16, 8))
