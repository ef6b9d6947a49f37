"""Mutation wave 7 (hM7, session 37): training/search_bounds.py `invalid_pairs` (hP9: the (vpp, schedule) mask computed
once per distinct pair-table line and micro-batch count, gathered onto the rows) must give, row for row, the bools
of the direct mask it replaced: padding, PP x V beyond the slots, V > 1 without PP and every schedule rule on the
row's own micro-batch count. Fails on mutants of its key (micro-batches dropped, a colliding stride) and rules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import infraplan.training.search as search
from infraplan.training.schedules import schedule_violations


def test_the_mask_is_the_direct_one_row_for_row(monkeypatch: pytest.MonkeyPatch) -> None:
    original = search.invalid_pairs
    blocks: list[int] = []
    counts: set[int] = set()

    def checked(plan: Any, at: np.ndarray, real: np.ndarray, slots: int, rules: str) -> np.ndarray:
        got = original(plan, at, real, slots, rules)
        want = ~real.T[None] | (plan.pp * plan.vpp > slots) | ((plan.vpp > 1) & (plan.pp == 1))
        for rule, _ in schedule_violations(plan.schedule, plan.pp, plan.vpp, plan.micro_batches, rules):
            want = want | rule
        np.testing.assert_array_equal(got, np.broadcast_to(want, got.shape))
        blocks.append(1)
        counts.update(np.unique(plan.micro_batches).tolist())
        return got

    monkeypatch.setattr(search, "invalid_pairs", checked)
    found = search.search_plans("llama3-70b", "dgx-h100-superpod", 256, 4096, 512, top=1)
    assert found.best and blocks and len(counts) > 3
