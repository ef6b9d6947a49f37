"""Branch and bound in the search (`training.search_bounds`): the floors and memory bounds hold for every plan, and
the search with them returns bitwise what pricing every plan returns (top K, scores, evaluated and feasible counts),
also when the published-MFU fallback asks for plans past the bound's pool."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.training import ep_choice, search, search_bounds
from infraplan.training.axes import SearchSpace
from infraplan.training.enums import Dtype, Schedule
from infraplan.training.estimate import evaluate_plans
from infraplan.training.memory import memory_breakdown
from infraplan.training.plan_rules import valid_mask
from infraplan.training.results import PlanSearchResult
from infraplan.training.row_grid import enumerate_rows
from infraplan.training.schedules import stack_schedules
from infraplan.training.search import enumerate_plans, search_plans
from infraplan.training.search_bounds import step_time_floor_s

CASES = [("mixtral-8x7b", "dgx-h100-superpod", 32, 4096, 64), ("llama3-8b", "dgx-h100-superpod", 64, 8192, 128)]


def _same(a: PlanSearchResult, b: PlanSearchResult) -> None:
    assert (a.evaluated_count, a.feasible_count) == (b.evaluated_count, b.feasible_count)
    assert [r.model_dump(exclude={"train_command"}) for r in a.top] == [r.model_dump(exclude={"train_command"})
                                                                         for r in b.top]


@pytest.mark.parametrize("args", CASES)
@pytest.mark.parametrize("top", [1, 7])
def test_bounded_search_equals_pricing_every_plan(monkeypatch: pytest.MonkeyPatch, args: tuple[str, str, int, int, int],
                                                  top: int) -> None:
    monkeypatch.setattr(search, "CHUNK_PLANS", 4099)  # many blocks: the bar is set across them
    # many bound blocks (24 and 9; 101 rows made 88 and 32 at 2.6x the CPU), rank-order twins split across some
    monkeypatch.setattr(search, "BOUND_ROWS", 401)
    monkeypatch.setattr(search_bounds, "FIRST_BATCH_ROWS", 3)  # many batches: the bar falls between them
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)  # these spaces are below the size that turns the bound on
    bounded = search_plans(*args, top=top, compare_dtypes=False)
    monkeypatch.undo()  # the reference prices every plan in the default (one) block: 10x cheaper than 4,099-plan ones
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    _same(bounded, search_plans(*args, top=top, compare_dtypes=False))


def test_fallback_past_the_bound_prices_the_skipped_rows() -> None:
    """Every plan over the MFU ceiling: `best` must reach rows the bound skipped and rank them as a full pricing."""
    shape, cluster = load_model("mixtral-8x7b"), Cluster.resolve("dgx-h100-superpod")
    profile = resolve_stack(None, "training")
    # the stack's schedules, as `search_plans` searches them (the memory bounds cover those: ZB-V's rank 0 only
    # where the stack ships it, `memory.memory_bound_terms`; hY45)
    grid = enumerate_rows(SearchSpace(shape, 32, 4096, 64, (Dtype.BF16,), 8, 16, stack_schedules(profile)))
    picked = []
    for bound in (True, False):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(search, "BRANCH_AND_BOUND", bound)
            patch.setattr(search, "BOUND_MIN_PLANS", 0)
            found = search._search_grid(shape, cluster, grid, profile, "time", None, 4)
        if bound:
            assert found.resume is not None  # the bound skipped rows
        flagged = found.best(1, lambda plans, step_s: np.ones(len(plans), dtype=bool))
        picked.append((flagged, found.feasible))
    (a, fa), (b, fb) = picked
    assert fa == fb and all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("tp", "pp", "vpp", "zero", "ep"))


def test_floor_is_below_every_plan_of_its_row() -> None:
    shape, cluster = load_model("mixtral-8x7b"), Cluster.resolve("dgx-h100-superpod")
    plans = enumerate_plans(shape, 32, 4096, 64, ["bf16"], max_tp=8)
    plans = plans.take(valid_mask(shape, plans))
    # each plan's row: the same plan at vpp 1, 1F1B, ZeRO 0
    rows = replace(plans, vpp=np.ones_like(plans.vpp), zero=np.zeros_like(plans.zero),
                   schedule=np.full(len(plans), int(Schedule.ONE_F_ONE_B)))
    floor = step_time_floor_s(shape, cluster, rows, resolve_stack(None, "training"))
    step = evaluate_plans(shape, cluster, plans)["step_time_s"]
    assert np.all(floor <= step) and np.mean(floor / step) > 0.5  # a floor, and not a vacuous one


def test_small_grids_skip_the_bound_and_large_ones_use_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound turns on only at `BOUND_MIN_PLANS` plans in the grid (below it, its floors cost more than it saves)."""
    shape, cluster = load_model("mixtral-8x7b"), Cluster.resolve("dgx-h100-superpod")
    grid = enumerate_rows(SearchSpace(shape, 32, 4096, 64, (Dtype.BF16,), 8))
    profile = resolve_stack(None, "training")
    monkeypatch.setattr(search, "ROW_BOUND", False)  # (the small grids' row bound leaves rows for `resume` too; hS40)
    assert search._search_grid(shape, cluster, grid, profile, "time", None, 4).resume is None
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    assert search._search_grid(shape, cluster, grid, profile, "time", None, 4).resume is not None


def test_memory_bounds_are_per_zero_stage() -> None:
    """Bounds per (ZeRO stage, row): some row's bounds at one ZeRO stage lie wholly above those at another (one
    bound per row would straddle there); that they hold is `test_bounded_search_equals_pricing_every_plan`."""
    shape, cluster = load_model("mixtral-8x7b"), Cluster.resolve("dgx-h100-superpod")
    monkey = pytest.MonkeyPatch()
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    original = search_bounds.memory_bounds_bytes

    def spy(*args: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        low, high, one = original(*args)  # type: ignore[arg-type]
        seen.append((low, high))
        assert np.all(one <= high)
        return low, high, one

    monkey.setattr(search_bounds, "memory_bounds_bytes", spy)
    monkey.setattr(search, "BOUND_MIN_PLANS", 0)
    monkey.setattr(search, "CHUNK_PLANS", 1 << 30)  # one block: its rows are the grid's valid rows in order
    grid = enumerate_rows(SearchSpace(shape, 32, 4096, 64, (Dtype.BF16,), 8))
    search._search_grid(shape, cluster, grid, resolve_stack(None, "training"), "time", None, 4)
    monkey.undo()
    low, high = seen[0]
    assert low.shape[0] == grid.zero.size and np.all(low <= high)
    # the ZeRO stages differ: bounds per stage are tighter than one bound per row
    assert np.any(low.max(axis=0) > high.min(axis=0))


def test_memory_does_not_read_the_memory_free_keys() -> None:
    """`search_bounds.MEMORY_FREE_KEYS`: rows differing only in them share one memory evaluation, so changing them
    must leave every memory term bitwise equal (here the rank order of MoE plans with PP, DP and EP > 1)."""
    shape = load_model("mixtral-8x7b")
    plans = enumerate_plans(shape, 64, 4096, 128, ["bf16", "fp8"], max_tp=8)
    plans = plans.take(valid_mask(shape, plans) & (plans.pp > 1) & (plans.dp > 1) & (plans.ep > 1))
    assert len(plans) > 100
    stack = resolve_stack(None, "training")
    base = memory_breakdown(shape, plans, stack)
    for key in search_bounds.MEMORY_FREE_KEYS:
        flipped = replace(plans, **{key: getattr(plans, key).max() - getattr(plans, key)})
        assert np.any(getattr(flipped, key) != getattr(plans, key))
        other = memory_breakdown(shape, flipped, stack)
        assert all(np.array_equal(np.broadcast_to(base[t], (len(plans),)), np.broadcast_to(other[t], (len(plans),)))
                   for t in base), key


def test_deepseek_v3_on_8192_gb200_equals_pricing_every_plan(
        deepseek_v3_8192_top_10: tuple[PlanSearchResult, PlanSearchResult]) -> None:
    """The benchmark's large MoE space (8.5 M plans, EP and DualPipe): the bound, the per-row memory sharing and the
    falling bar return bitwise the exhaustive search's top 10 and counts (the two searches: about 1.1 s of CPU,
    shared with `test_stage_work_bound`)."""
    bounded, every = deepseek_v3_8192_top_10
    assert bounded.evaluated_count > search.BOUND_MIN_PLANS  # the bound is on
    _same(bounded, every)


def test_every_row_floored_within_the_final_bar_is_priced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The falling bar: after the batches, every row whose floor is within the take-th smallest key found is
    priced (so no unpriced plan can beat it), and far fewer rows are priced than floored."""
    seen: list[tuple[list[search_bounds.BoundBlock], np.ndarray, np.ndarray]] = []
    original = search_bounds.bound_and_price

    def spy(*a: object) -> list[search_bounds.BoundBlock]:
        blocks = original(*a)  # type: ignore[arg-type]
        found = a[3]  # as the bound leaves it (`Found.best` may price the rest later, past the MFU ceiling)
        keys = np.array(found.keys)  # type: ignore[attr-defined]
        seen.append((blocks, np.concatenate([b.priced for b in blocks]), keys))
        return blocks

    monkeypatch.setattr(search, "bound_and_price", spy)
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    monkeypatch.setattr(search, "BOUND_ROWS", 257)
    monkeypatch.setattr(search_bounds, "FIRST_BATCH_ROWS", 5)
    monkeypatch.setattr(ep_choice, "SECOND_SEARCH", False)  # hU59's "why this EP" search of the other EP kind
    search_plans("mixtral-8x7b", "dgx-h100-superpod", 32, 4096, 64, top=2, compare_dtypes=False)
    (blocks, priced, keys), = seen
    take = 4 * 2  # `search_plans` pools 4 x top
    bar = np.partition(keys[np.isfinite(keys)], take - 1)[take - 1]
    floors = np.concatenate([b.floor_s for b in blocks])
    assert len(blocks) > 3 and np.all(priced[floors <= bar])
    assert 0 < priced.sum() < 0.2 * priced.size
