"""Review of the guard's tie band (hG85) by mutation (hR, session 51): the band's whole order, and the band applied
only where the MFU ceiling (not the memory margin) ranked a faster plan after the best.

Each test was checked against hand mutants of `training.plan_grid` / `training.search_guard` that the first three
hG85 tests let through: `_simplest`'s sort keys reordered or dropped, PP left out of the dimension count, `pinned`
flagging every plan, `best` not asking `pinned` at all, `Found._band_open` never widening the pool."""

from __future__ import annotations

import pytest
from tests.training.test_guard_tie_band_hG85 import BOUND, SHARE, simplicity

from infraplan.training import plan_grid
from infraplan.training.search import search_plans
from infraplan.training.search_guard import SearchGuard

TIGHT = ("llama3-70b", "dgx-h100-superpod", 16, 4096, 64)  # fp8: the memory margin ranks plans after the best


def test_the_band_comes_first_in_the_simplest_layouts_order() -> None:
    """With room for the whole band, the rows within 1 % of the first plan within the ceiling (and the margin) lead
    the list in the band's order (recompute, CP, TP and PP above 1, PP), and every row after them is outside it."""
    banded = search_plans(*BOUND, dtype="fp8", top=60)
    lead = [r for r in banded.top if not r.beyond_published_mfu and not r.low_memory_headroom]
    # the band's edge is the FASTEST plan within the ceiling's (`Found.best`'s first), not the answer: since hN53's
    # ZeRO-2 per micro-batch the fastest (TP2 CP4 PP2) is no longer the simplest (TP8), which leads the band
    edge = min(r.step_time_s for r in lead) * (1 + SHARE)
    band = [r for r in lead if r.step_time_s <= edge * (1 + 1e-12)]
    assert len(band) >= 10 and len({simplicity(r) for r in band}) >= 4  # a band with several layouts to order
    assert lead[:len(band)] == band  # the band first
    assert [simplicity(r) for r in band] == sorted(simplicity(r) for r in band)


def test_a_margin_flag_alone_opens_no_band(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing over the MFU ceiling (its flag patched off), the memory margin still ranks plans after the best (70B fp8
    on 16 H100: 46 of them): the band is the MFU ceiling's, so the answer is the objective's with the band on or off
    (the mutants that band on the margin's flags pick a simpler plan here)."""
    monkeypatch.setattr(SearchGuard, "over_mfu", lambda self, plans, mfu: mfu != mfu)  # all False (no NaN MFU)
    on = search_plans(*TIGHT, dtype="fp8", top=3)
    assert on.margin_ranked_after_count > 0 and [c.ranked_after_count for c in on.mfu_ceilings] == [0]
    monkeypatch.setattr(plan_grid, "GUARD_TIE_SHARE", 0.0)
    off = search_plans(*TIGHT, dtype="fp8", top=3)
    assert on.tie_ranked_after_count == 0
    assert [r.config for r in on.top] == [r.config for r in off.top]


SMALL = ("llama3-8b", "dgx-h100-superpod", 8, 8192, 64)  # fp8: at top 1 the first pool stops short of the band


def test_the_answer_does_not_depend_on_how_many_plans_are_asked_for() -> None:
    """Llama 3 8B fp8 on 8 H100: asked for one plan, the search's first pool holds the first plan within the ceiling
    but not the whole 1 % band above it; `best` widens it (`Found._band_open`), so the answer and its tie count are
    those of a search asked for 40 (without the widening: none passed over, not 4, and another pick)."""
    one, many = search_plans(*SMALL, dtype="fp8", top=1), search_plans(*SMALL, dtype="fp8", top=40)
    assert one.best is not None and many.best is not None
    assert one.best.config == many.best.config
    # 4 (5 before hS53's ZeRO-3 edges moved a plan out of the band); without the widening: 0 and another pick
    assert one.tie_ranked_after_count == many.tie_ranked_after_count == 4
