"""Search guard (issue 12 item 7): plans predicted beyond the best published MFU are flagged and ranked lower."""

from __future__ import annotations

from infraplan.catalog import load_model
from infraplan.catalog.published_mfu import load_published_mfu, published_mfu_ceiling
from infraplan.training.flops import causal_flops_ratio
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
    gaudi = published_mfu_ceiling("gaudi2", None, "bf16")  # Intel's MLPerf v3.0 GPT-3 (DeepSpeed): any class
    assert gaudi is not None and gaudi.family == "gaudi" and 0.40 < gaudi.mfu < 0.45
    assert published_mfu_ceiling("gaudi2", None, "int8") is None  # no family has an int8 training figure


def test_a_family_with_no_figure_falls_back_to_the_best_of_any_family() -> None:
    for dtype in ("bf16", "fp8", "mxfp8", "nvfp4"):
        best = max((e for e in load_published_mfu() if e.dtype == dtype), key=lambda e: e.mfu)
        mi300 = published_mfu_ceiling("mi300x", None, dtype)
        assert mi300 is not None and mi300.mfu == best.mfu and mi300.family != "cdna3"
        assert "best of any family" in mi300.basis


def test_a_validation_case_is_not_guarded_by_its_own_measurement() -> None:
    own = published_mfu_ceiling("gaudi2", "deepspeed", "bf16")
    assert own is not None and "mlperf-v3.0-gaudi2-256" in own.cases
    for case in own.cases:  # leave-one-out: the case's own figure is skipped, the fallback guards it
        left = published_mfu_ceiling("gaudi2", "deepspeed", "bf16", leave_out=(case,))
        assert left is not None and left.family != "gaudi" and case in left.basis
    assert published_mfu_ceiling("gaudi2", "deepspeed", "bf16", leave_out=("another-case",)) == own


def test_a_gaudi2_search_flags_plans_above_its_ceiling_or_the_fallback() -> None:
    for leave_out in ((), ("mlperf-v3.0-gaudi2-256", "mlperf-v3.0-gaudi2-384")):
        ceiling = published_mfu_ceiling("gaudi2", "deepspeed", "bf16", leave_out)
        assert ceiling is not None
        # megatron-7.5b: plans on both sides of either ceiling (megatron-1.7b's best, 0.52, is within the fallback
        # since Gaudi 2's bf16 GEMM fraction came down from 0.95 to 0.668, hG2 session 37)
        result = search_plans("megatron-7.5b", "gaudi2-cluster", 8, 2048, 64, dtype="bf16", top=100_000,
                              stack="deepspeed", leave_out=leave_out)
        flags = [row.beyond_published_mfu for row in result.top]
        assert len(flags) == result.feasible_count and any(flags) and not all(flags)  # every plan, some beyond
        assert flags == sorted(flags)
        assert all(row.beyond_published_mfu == (row.mfu > ceiling.mfu) for row in result.top)
        assert result.best is not None and result.best.mfu <= ceiling.mfu


def test_search_ranks_plans_within_the_published_mfu_first() -> None:
    result = search_plans("llama3-8b", "dgx-h100-superpod", 64, 8192, 512, dtype="fp8", top=40)
    flags = [row.beyond_published_mfu for row in result.top]
    assert flags == sorted(flags)  # every plan within the ceiling before any beyond it
    ceiling = published_mfu_ceiling("h100-sxm", result.stack, "fp8")
    assert ceiling is not None and ceiling.flop_convention == "causal_scores"  # (Megatron-Bridge's count)
    ratio = float(causal_flops_ratio(load_model("llama3-8b"), 8192))  # the plan's MFU counted as the figure is
    assert any(row.mfu > ceiling.mfu >= row.mfu * ratio for row in result.top)  # like with like decides some
    for row in result.top:
        assert row.beyond_published_mfu == (row.mfu * ratio > ceiling.mfu)
        if row.beyond_published_mfu:
            assert row.beyond_published_mfu_reason and "best published" in row.beyond_published_mfu_reason
        else:
            assert row.beyond_published_mfu_reason is None
    assert result.best is not None and not result.best.beyond_published_mfu


def test_search_rows_carry_an_error_band() -> None:
    result = search_plans("llama3-8b", "dgx-h100-superpod", 8, 2048, 64, top=2)
    assert result.best is not None and result.best.error_band is not None
    assert result.best.error_band.low < result.best.error_band.high


def test_the_gaudi2_validation_rows_are_guarded_by_the_fallback_not_their_own_figure() -> None:
    from infraplan.validation.runner import load_cases, run_case

    own = published_mfu_ceiling("gaudi2", "deepspeed", "bf16")
    assert own is not None
    case = next(c for c in load_cases() if c["id"] == "mlperf-v3.0-gaudi2-256")
    fallback = published_mfu_ceiling("gaudi2", case["stack"], "bf16", leave_out=(case["id"],))
    assert fallback is not None and fallback.mfu > own.mfu
    row = run_case(case)
    assert own.mfu + 0.05 < row.predicted_mfu <= fallback.mfu  # not pinned to its own measurement
