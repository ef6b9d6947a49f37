"""Search guard (issue 12 item 7): plans predicted beyond the best published MFU are flagged and ranked lower."""

from __future__ import annotations

from infraplan.catalog.error_bands import load_published_mfu, published_mfu_ceiling
from infraplan.training.search import search_plans


def test_every_ceiling_has_a_source_and_is_a_fraction() -> None:
    entries = load_published_mfu()
    assert entries
    for e in entries:
        assert 0.0 < e.mfu < 1.0 and len(e.source) > 30


def test_ceiling_lookup_by_family_stack_and_precision() -> None:
    hopper = published_mfu_ceiling("h200", "nemo-24.12", "fp8")
    assert hopper is not None and hopper.family == "hopper" and hopper.dtype == "fp8"
    assert published_mfu_ceiling("h100-sxm", "deepspeed", "bf16") is not None  # any stack class of the family
    assert published_mfu_ceiling("gaudi2", None, "bf16") is None


def test_search_ranks_plans_within_the_published_mfu_first() -> None:
    result = search_plans("llama3-8b", "dgx-h100-superpod", 64, 8192, 512, dtype="fp8", top=40)
    flags = [row.beyond_published_mfu for row in result.top]
    assert flags == sorted(flags)  # every plan within the ceiling before any beyond it
    ceiling = published_mfu_ceiling("h100-sxm", result.stack, "fp8")
    assert ceiling is not None
    for row in result.top:
        assert row.beyond_published_mfu == (row.mfu > ceiling.mfu)
        if row.beyond_published_mfu:
            assert row.beyond_published_mfu_reason and "best published" in row.beyond_published_mfu_reason
        else:
            assert row.beyond_published_mfu_reason is None
    assert result.best is not None and not result.best.beyond_published_mfu


def test_search_rows_carry_an_error_band() -> None:
    result = search_plans("llama3-8b", "dgx-h100-superpod", 8, 2048, 64, top=2)
    assert result.best is not None and result.best.error_band is not None
    assert result.best.error_band.low < result.best.error_band.high
