"""A plan's pipeline bubble priced, and priced with one of `training.rank_kind_bubbles`' exact forms switched off
(the equal-stage model alone): the tests of those forms compare the two on real plans."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.training import exact_bubbles
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans
from infraplan.training.search_bounds import step_time_floor_s


def bubble_with_and_without(form: str, model: str, system: str, gpus: int, **kw: Any) -> tuple[float, float]:
    """(priced, without `form`) pp_bubble seconds of one plan; `form` is the name exact_bubbles calls."""
    clear_one_plan_memo()  # (the single estimate's memo keeps a plan's pricing)
    priced = estimate_training(model, system, gpus, **kw)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exact_bubbles, form, lambda *args: 0.0)
        clear_one_plan_memo()
        alone = estimate_training(model, system, gpus, **kw)
        clear_one_plan_memo()
    return priced.breakdown_s.pp_bubble, alone.breakdown_s.pp_bubble


def interleaved_grid_with_and_without(form: str, model: str, gpus: int, seq_len: int, stack: Any,
                                      min_pp: int) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """(plans, priced, priced without `form`) of the valid interleaved plans of `model` on `gpus` H100 (global
    batch 512, bf16, PP >= `min_pp`); asserts every priced step stays above its row's floor (search_bounds)."""
    shape, cluster = load_model(model), Cluster.resolve("dgx-h100-superpod")
    plans = enumerate_plans(shape, gpus, seq_len, 512, ["bf16"], max_tp=8, schedules=["interleaved"])
    plans = plans.take(valid_mask(shape, plans) & (plans.pp >= min_pp))
    priced = evaluate_plans(shape, cluster, plans, stack)
    rows = replace(plans, vpp=np.ones_like(plans.vpp), zero=np.zeros_like(plans.zero),
                   schedule=np.full(len(plans), int(Schedule.ONE_F_ONE_B)))
    assert np.all(step_time_floor_s(shape, cluster, rows, stack) <= priced["step_time_s"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exact_bubbles, form, lambda *args: 0.0)
        alone = evaluate_plans(shape, cluster, plans, stack)
    return plans, priced, alone
