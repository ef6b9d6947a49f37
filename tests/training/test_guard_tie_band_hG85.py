"""The published-MFU guard's tie band (hG85): where the ceiling ranks a faster plan after the best, the plans within
`plan_grid.GUARD_TIE_SHARE` of the first plan within it come simplest layout first (no recompute, then the smaller
CP, then fewer of TP and PP above 1, then the smaller PP); elsewhere the ranking is the objective's alone."""

from __future__ import annotations

import pytest

from infraplan.training import plan_grid
from infraplan.training.results import PlanMetrics
from infraplan.training.search import search_plans

BOUND = ("llama3-70b", "dgx-h100-superpod", 64, 4096, 128)  # fp8: 848 faster plans beyond the Hopper fp8 ceiling
FREE = ("llama3-70b", "gb200-nvl72-superpod", 64, 8192, 256)  # fp8: the ceiling ranks nothing after the best
RECOMPUTE = {"none": 0, "selective": 1, "full": 2}
SHARE = plan_grid.GUARD_TIE_SHARE


def simplicity(row: PlanMetrics) -> tuple[int, int, int, int]:
    """The band's order, written out: recompute, CP, how many of TP and PP are above 1, PP."""
    c = row.config
    return RECOMPUTE[c.recompute], c.cp, int(c.tp > 1) + int(c.pp > 1), c.pp


def test_the_band_picks_the_simplest_plan_within_one_percent_of_the_first_within_the_ceiling(
        monkeypatch: pytest.MonkeyPatch) -> None:
    banded = search_plans(*BOUND, dtype="fp8", top=1)
    monkeypatch.setattr(plan_grid, "GUARD_TIE_SHARE", 0.0)
    by_time = search_plans(*BOUND, dtype="fp8", top=1)
    assert banded.best is not None and by_time.best is not None
    (ceiling,) = banded.mfu_ceilings
    assert ceiling.ranked_after_count > 0  # the ceiling binds
    first = by_time.best.step_time_s  # the first plan within the ceiling (and the margin), by time
    assert not banded.best.beyond_published_mfu and not banded.best.low_memory_headroom
    assert first <= banded.best.step_time_s <= first * (1 + SHARE)
    assert simplicity(banded.best) < simplicity(by_time.best)  # the band chose another, simpler layout
    # the plans by time alone (within the ceiling and the margin first: the band off): none within the ceiling,
    # the margin and the band is simpler than the pick, and those faster than it are the count the answer gives
    wide = search_plans(*BOUND, dtype="fp8", top=ceiling.ranked_after_count + banded.tie_ranked_after_count + 400)
    band = [r for r in wide.top if r.step_time_s <= first * (1 + SHARE)
            and not r.beyond_published_mfu and not r.low_memory_headroom]
    assert band and wide.top[-1].step_time_s > first * (1 + SHARE)  # (the list covers the band)
    assert min(simplicity(r) for r in band) == simplicity(banded.best)
    faster = sum(r.step_time_s < banded.best.step_time_s for r in band)
    assert banded.tie_ranked_after_count == faster > 0 and by_time.tie_ranked_after_count == 0


def test_no_band_without_the_guard_or_under_the_memory_objective() -> None:
    free = search_plans(*BOUND, dtype="fp8", top=1, mfu_guard=False)
    assert free.tie_ranked_after_count == 0 and free.best is not None
    fastest = search_plans(*BOUND, dtype="fp8", top=3, mfu_guard=False).top
    assert free.best.step_time_s == min(r.step_time_s for r in fastest)  # the objective's order alone
    memory = search_plans(*BOUND, dtype="fp8", top=1, objective="memory")
    assert memory.tie_ranked_after_count == 0


def test_a_ceiling_that_ranks_nothing_after_leaves_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    banded = search_plans(*FREE, dtype="fp8", top=3)
    assert [c.ranked_after_count for c in banded.mfu_ceilings] == [0]
    monkeypatch.setattr(plan_grid, "GUARD_TIE_SHARE", 0.0)
    by_time = search_plans(*FREE, dtype="fp8", top=3)
    assert [r.config for r in banded.top] == [r.config for r in by_time.top] and banded.tie_ranked_after_count == 0
