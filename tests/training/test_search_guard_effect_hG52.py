"""The search's published-MFU guard says what it did (hG52, session 47): each searched precision's ceiling (value,
family, stack class, FLOP convention, source, the family's own figure or a fallback) and the plans it ranked after
the best; and the ceiling of a family with a figure in another precision only (Blackwell bf16) is its own share in
the nearest precision, not another family's (it was A100's 0.563, above Hopper's own 0.43)."""

from __future__ import annotations

import pytest

from infraplan.catalog import published_mfu
from infraplan.catalog.published_mfu import PublishedMfu, load_published_mfu, published_mfu_ceiling
from infraplan.training.results import ScalingResult
from infraplan.training.search import search_plans

SMALL = ("llama3-8b", "dgx-h100-superpod", 64, 8192, 512)  # fp8: the guard holds the best below 17 faster plans


@pytest.mark.parametrize("part", ["gb200", "b200", "gb300"])
def test_blackwell_bf16_is_held_to_its_own_fp8_share(part: str) -> None:
    """No Blackwell bf16 figure: the family's fp8 entry (bf16's nearest precision, 8 bits against 16), as a share
    of the bf16 peak; not the best of any family (A100's 0.563), which stays the rule for a family with none."""
    fp8 = max((e for e in load_published_mfu() if e.family == "blackwell" and e.dtype == "fp8"), key=lambda e: e.mfu)
    ceiling = published_mfu_ceiling(part, None, "bf16")
    assert ceiling is not None and ceiling.family == "blackwell" and ceiling.dtype == "fp8"
    assert ceiling.mfu == fp8.mfu and ceiling.source == fp8.source and ceiling.lookup == "own_other_precision"
    assert "no blackwell bf16 figure" in ceiling.basis and "a floor on its bf16 share" in ceiling.basis
    mi300 = published_mfu_ceiling("mi300x", None, "bf16")  # no figure of the family at all: unchanged
    assert mi300 is not None and mi300.lookup == "any_family" and mi300.family == "ampere"
    assert published_mfu_ceiling(part, None, "fp8") == fp8  # its own precision: its own figure, as before


def test_the_nearest_precision_by_width_then_the_stack_class_then_the_best(monkeypatch: pytest.MonkeyPatch) -> None:
    """A made-up family: bf16 takes the 8-bit figures before the higher 4-bit one, the stack's class before a
    higher figure of another class; nvfp4 takes the 8-bit figures before bf16; a left-out case is skipped."""
    entries = (PublishedMfu(family="hopper", stack="megatron", dtype="nvfp4", mfu=0.60, source="four"),
               PublishedMfu(family="hopper", stack="deepspeed", dtype="fp8", mfu=0.50, source="eight-other-class"),
               PublishedMfu(family="hopper", stack="megatron", dtype="mxfp8", mfu=0.30, source="eight",
                            cases=("case-a",)),
               PublishedMfu(family="ampere", stack="megatron", dtype="bf16", mfu=0.55, source="another family"))
    monkeypatch.setattr(published_mfu, "load_published_mfu", lambda: entries)
    bf16 = published_mfu_ceiling("h100-sxm", "megatron", "bf16")
    assert bf16 is not None and bf16.source == "eight" and bf16.lookup == "own_other_precision"
    other_class = published_mfu_ceiling("h100-sxm", "deepspeed", "bf16")
    assert other_class is not None and other_class.source == "eight-other-class"
    left = published_mfu_ceiling("h100-sxm", "megatron", "bf16", leave_out=("case-a",))
    assert left is not None and left.source == "eight-other-class"
    narrow = published_mfu_ceiling("h100-sxm", "megatron", "nvfp4")
    assert narrow is not None and narrow.source == "four" and narrow.lookup == "own"
    wide = published_mfu_ceiling("a100-80gb", "megatron", "fp8")  # its bf16 share: a bound on its fp8 share
    assert wide is not None and wide.source == "another family" and "a bound on its fp8 share" in wide.basis


def test_the_search_names_its_ceiling_and_the_faster_plans_it_ranked_after() -> None:
    """The count is that of the plans the unguarded search ranks ahead of the guarded best (with no memory margin,
    both by time alone), and the fastest of them is the unguarded best: the same plans found two ways."""
    guarded = search_plans(*SMALL, dtype="fp8", top=1, memory_margin=0.0)
    (ceiling,) = guarded.mfu_ceilings
    published = published_mfu_ceiling("h100-sxm", guarded.stack, "fp8")
    assert published is not None and guarded.best is not None
    assert (ceiling.dtype, ceiling.mfu, ceiling.family, ceiling.stack_class, ceiling.figure_dtype, ceiling.source,
            ceiling.flop_convention) == ("fp8", published.mfu, "hopper", published.stack, "fp8", published.source,
                                         published.flop_convention)
    assert ceiling.lookup == "own" and not ceiling.fallback and ceiling.ranks
    assert ceiling.ranked_after_count > 0 and guarded.margin_ranked_after_count == 0
    free = search_plans(*SMALL, dtype="fp8", top=ceiling.ranked_after_count + guarded.tie_ranked_after_count + 5,
                        memory_margin=0.0, mfu_guard=False)
    faster = [row for row in free.top if row.step_time_s < guarded.best.step_time_s]
    # the faster plans beyond the ceiling, and those within it that its tie band put after a simpler layout (hG85)
    assert sum(bool(row.beyond_published_mfu) for row in faster) == ceiling.ranked_after_count
    assert sum(not row.beyond_published_mfu for row in faster) == guarded.tie_ranked_after_count
    assert ceiling.fastest_ranked_after_step_time_s == free.top[0].step_time_s
    assert ceiling.fastest_ranked_after_mfu == pytest.approx(free.top[0].mfu, rel=1e-12)
    (off,) = free.mfu_ceilings  # not ranking: the same ceiling, nothing ranked after
    assert not off.ranks and off.ranked_after_count == 0 and off.fastest_ranked_after_step_time_s is None
    assert off.mfu == ceiling.mfu


def test_plans_ranked_after_for_the_memory_margin_alone_are_counted_apart() -> None:
    """Guard off, a margin of half the HBM: every plan faster than the best is short of it (else it would lead),
    so the margin's count is the plans the margin-free search ranks ahead of that best; no ceiling counts them."""
    tight = search_plans(*SMALL, dtype="fp8", top=1, memory_margin=0.5, mfu_guard=False)
    assert tight.best is not None and tight.margin_ranked_after_count > 0
    free = search_plans(*SMALL, dtype="fp8", top=tight.margin_ranked_after_count + 5, memory_margin=0.0,
                        mfu_guard=False)
    assert sum(row.step_time_s < tight.best.step_time_s for row in free.top) == tight.margin_ranked_after_count
    assert all(c.ranked_after_count == 0 for c in tight.mfu_ceilings)


def test_auto_names_every_searched_precisions_ceiling_and_a_scaling_point_keeps_its_own() -> None:
    """--dtype auto on H100 searches bf16 and fp8: a ceiling each; the best is fp8, no bf16 plan is faster. A
    scaling curve's points carry their search's ceilings."""
    result = search_plans(*SMALL, dtype="auto", top=1)
    assert [c.dtype for c in result.mfu_ceilings] == ["bf16", "fp8"]
    assert result.best is not None and result.best.config.dtype == "fp8"
    assert result.mfu_ceilings[0].ranked_after_count == 0
    other = search_plans(SMALL[0], SMALL[1], 32, *SMALL[3:], dtype="fp8", top=1)
    curve = ScalingResult.from_searches([result, other])
    assert [p.mfu_ceilings for p in curve.scaling] == [result.mfu_ceilings, other.mfu_ceilings]


def test_a_search_where_no_plan_fits_reports_its_ceiling_with_nothing_ranked_after() -> None:
    result = search_plans("llama3-405b", "dgx-h100-superpod", 8, 8192, 8, dtype="bf16", top=1)
    assert result.best is None
    (ceiling,) = result.mfu_ceilings
    assert ceiling.ranked_after_count == 0 and ceiling.fastest_ranked_after_step_time_s is None
