"""Fixtures shared by the training tests: searches that more than one module checks, computed once per process."""

from __future__ import annotations

import pytest

from infraplan.training import search
from infraplan.training.results import PlanSearchResult
from infraplan.training.search import search_plans

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
