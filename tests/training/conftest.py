"""Fixtures shared by the training tests: searches that more than one module checks, computed once per process;
`assert_ends_priced_together_as_alone`, the end stages' one-pass DP pricing checked against each priced alone."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.training import search
from infraplan.training.results import PlanSearchResult
from infraplan.training.search import search_plans
from infraplan.training.step_traffic import dp_collectives, dp_collectives_once, end_stage_params

DEEPSEEK_V3_8192 = ("deepseek-v3", "gb200-nvl72", 8192, 4096, 15360)
"""The benchmark's large MoE space: 8.5 M plans, EP and DualPipe, 8,192 GB200."""


@pytest.fixture(scope="session")
def deepseek_v3_8192_top_10() -> tuple[PlanSearchResult, PlanSearchResult]:
    """(the search as it runs: branch and bound, cheap bounds, falling bar; pricing every plan), top 10 each.

    `test_search_bounds` and `test_stage_work_bound` both compare them (the exhaustive one is ~0.9 CPU s)."""
    bounded = search_plans(*DEEPSEEK_V3_8192, top=10)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "BRANCH_AND_BOUND", False)
        every = search_plans(*DEEPSEEK_V3_8192, top=10)
    return bounded, every


DP_FORMS = ("allreduce", "scatter", "gather", "scatter_layers", "gather_layers")
"""The DP collectives' forms `dp_collectives` prices (one per ZeRO stage's reading)."""


def assert_ends_priced_together_as_alone(shape: Any, fabric: Any, plan: Any, first: Any, last: Any) -> list[Any]:
    """`dp_collectives_once` on a grid's two end stages (the first with `first` layers and its table, the last with
    `last` layers, its head and any MTP module) equals `dp_collectives` of each end alone, bit for bit, in every form;
    returns the one pass's collectives (first, last)."""
    n = np.asarray(plan.tp).size
    stages = [(*end_stage_params(shape, plan, first, 0.0), first, 0.0),
              (*end_stage_params(shape, plan, last, 1.0), last, 1.0)]
    together = dp_collectives_once(shape, fabric, plan, stages, 4.0)
    for (params, experts, layers, _), priced in zip(stages, together, strict=True):
        alone = dp_collectives(shape, fabric, plan, params, experts, 4.0, None, layers)
        for form in DP_FORMS:
            assert np.array_equal(np.broadcast_to(alone[form], (n,)), priced[form]), form
    return list(together)
