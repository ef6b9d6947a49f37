"""Session 34 (hP) speed changes of the training estimate and the plan search, each held to the bits it replaced:
the search's best plans priced one at a time on the float path, the branch and bound's blocks over every PP at once,
the stack- and accelerator-level constants a single estimate asks for kept per object, the training error band kept
per residual file as loaded, and one plan's bf16 TP all-gathers priced once."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import error_bands, load_model, published_mfu
from infraplan.catalog.error_bands import Residual
from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training import (
    ep_choice,
    estimate,
    layer_kernels,
    search,
    search_bounds,
    search_rows,
    stack_limits,
    tp_quantised_collectives,
)
from infraplan.training.estimate import evaluate_plans, training_band
from infraplan.training.fp8_slower_note import higher_precisions
from infraplan.training.one_plan_memo import clear_one_plan_memo, kept_rows
from infraplan.training.plan import PlanArrays
from infraplan.training.search import search_plans
from infraplan.training.stack_limits import stack_schedules

CASE = ("mixtral-8x7b", "dgx-h100-superpod", 32, 4096, 64)


def test_best_plans_are_priced_on_the_float_path_with_the_array_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    """`search_rows._evaluate_best` (full training's `Pricing.outputs`): the top plans one at a time (each kept in
    the one-plan memo, so a `train` of a search row is a lookup), every output bitwise that of the same plans priced
    as one array."""
    captured: list[tuple[object, ...]] = []
    original = search_rows._evaluate_best

    def spy(*args: object) -> dict[str, np.ndarray]:
        captured.append(args)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(search_rows, "_evaluate_best", spy)
    clear_one_plan_memo()
    result = search_plans(*CASE, top=7, compare_dtypes=False)
    assert len(result.top) == 7 and kept_rows() >= 7  # each best plan's outputs kept (the array path keeps none)
    shape, cluster, plans, profile = captured[0]
    one_by_one = original(shape, cluster, plans, profile)  # type: ignore[arg-type]
    as_array = evaluate_plans(shape, cluster, plans, profile)  # type: ignore[arg-type]
    assert one_by_one.keys() == as_array.keys()
    for k, v in as_array.items():
        assert one_by_one[k].dtype == v.dtype and np.array_equal(one_by_one[k], v), k
    assert [r.step_time_s for r in result.top] == [float(t) for t in as_array["step_time_s"]]


def test_many_best_plans_are_priced_as_one_array(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past `FEW_PLANS` the array path prices them (its cost is mostly per call): nothing kept in the memo. (The best
    plan's slower-precision note prices that one plan and its wider twins as `train` does, through the one-plan
    memo, by design since hF53: left out here, where the top plans' pricing is the question.)"""
    monkeypatch.setattr(ep_choice, "SECOND_SEARCH", False)  # hU59's "why this EP" search of the other EP kind
    monkeypatch.setattr(search_rows, "FEW_PLANS", 3)
    monkeypatch.setattr(search_rows, "searched_plan_note", lambda *args: None)
    clear_one_plan_memo()
    assert len(search_plans(*CASE, top=5, compare_dtypes=False).top) == 5
    assert kept_rows() == 0


def test_bound_blocks_hold_every_pp_at_the_widest_pair_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """The branch and bound's blocks take the rows of every PP together (one block below `BOUND_ROWS` rows), at the
    widest (vpp, schedule) pair count, and the search answers bitwise as pricing every plan does."""
    seen: list[list[tuple[int, int]]] = []
    original = search_bounds.bound_and_price

    def spy(*args: object) -> object:
        seen.append([(piece.size, k) for piece, k in args[4]])  # type: ignore[attr-defined]
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ep_choice, "SECOND_SEARCH", False)  # hU59's "why this EP" search of the other EP kind
    monkeypatch.setattr(search, "bound_and_price", spy)
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    bounded = search_plans(*CASE, top=4, compare_dtypes=False)
    (chunks,) = seen
    assert len(chunks) == 1 and chunks[0][1] == max(k for _, k in chunks)
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    every = search_plans(*CASE, top=4, compare_dtypes=False)
    assert (bounded.evaluated_count, bounded.feasible_count) == (every.evaluated_count, every.feasible_count)
    assert [r.model_dump() for r in bounded.top] == [r.model_dump() for r in every.top]


def test_training_band_follows_a_reloaded_residual_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """The band is kept per residual file as loaded: after `load_residuals` gives another set (a rewritten file,
    `validation.bands.write_error_bands`), the band is that set's, not the one kept before."""
    before = training_band("h100", "nemo-26.04")
    assert training_band("h100", "nemo-26.04") is before  # kept
    shifted = tuple(r.model_copy(update={"residual": r.residual + 0.5}) for r in error_bands.load_residuals()
                    if r.kind == "training")
    assert shifted and all(isinstance(r, Residual) for r in shifted)
    monkeypatch.setattr(estimate, "load_residuals", lambda *_: shifted)
    after = training_band("h100", "nemo-26.04")
    assert after is not None and before is not None
    assert after.low == pytest.approx(before.low + 0.5) and after.high == pytest.approx(before.high + 0.5)


def test_search_ceilings_leave_out_their_cases() -> None:
    """The kept ceiling with `leave_out` is `published_mfu_ceiling`'s without those cases (and differs from the
    ceiling with them where a left-out case was the best)."""
    left_out = tuple(c for e in published_mfu.load_published_mfu() for c in e.cases)
    assert left_out
    changed = False
    for dtype in ("bf16", "fp8"):
        with_all = estimate.mfu_ceiling("h100", "nemo-26.04", dtype)
        without = estimate.mfu_ceiling("h100", "nemo-26.04", dtype, left_out)
        assert with_all == published_mfu.published_mfu_ceiling("h100", "nemo-26.04", dtype)
        assert without == published_mfu.published_mfu_ceiling("h100", "nemo-26.04", dtype, left_out)
        changed |= with_all != without
    assert changed


def test_stack_schedules_are_kept_per_stack_and_a_bad_name_still_refused() -> None:
    profile = resolve_stack(None, "training")
    assert stack_schedules(profile) is stack_schedules(profile)  # kept
    bad = profile.model_copy(update={"pipeline_schedules": ("1f1b", "no-such-schedule")})
    for _ in range(2):  # a refusal is not kept: every ask refuses
        with pytest.raises(InputError, match="no-such-schedule"):
            stack_limits.stack_schedules(bad)


def test_higher_precisions_are_kept_and_handed_out_as_fresh_lists() -> None:
    accelerator = Cluster.resolve("dgx-b200").accelerator
    plan = PlanArrays.build(tp=1, pp=1, dp=8, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=8, seq_len=4096,
                            recompute=0, zero=1, dtype=3, attention=0, order=0)  # NVFP4
    first = higher_precisions(plan, accelerator)
    assert first and "bf16" in first
    first.clear()  # a caller's list is its own
    assert higher_precisions(plan, accelerator) == ["bf16", "fp8", "mxfp8"]


def test_one_plans_bf16_gathers_are_not_priced(monkeypatch: pytest.MonkeyPatch) -> None:
    """At ratio 1 (bf16 plans) the all-gathers' deltas are the records' price less itself, 0.0 where the TP time is
    finite: not priced at all (hS55, session 48; one pricing, not three, before), the same answer."""
    calls: list[int] = []
    original = layer_kernels.collective_times

    def spy(*args: object) -> object:
        calls.append(1)
        return original(*args)  # type: ignore[arg-type]

    shape = load_model("llama3-70b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    kwargs = dict(tp=8, pp=1, seq_len=4096, global_batch=64, zero=1, dtype="bf16")
    clear_one_plan_memo()
    plain = estimate.estimate_training(shape, cluster, 64, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(tp_quantised_collectives, "collective_times", spy)
    clear_one_plan_memo()
    again = estimate.estimate_training(shape, cluster, 64, **kwargs)  # type: ignore[arg-type]
    assert calls == []
    assert again.model_dump() == plain.model_dump()
