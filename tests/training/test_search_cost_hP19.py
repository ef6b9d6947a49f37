"""The row bound's block reads (hP19, session 42): the kept rows' pairs and masks read where a row is priced (no copy
of the block's masks), each row's fitting plans counted in uint16, the invalid pairs gathered C-ordered. The same
answer as the filtered copies give."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.training import row_bound, search
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.row_bound import fitting_counts

GPT3 = ("gpt3-175b", "dgx-h100-superpod", 4096, 2048, 2048)
GPT3_1024 = ("gpt3-175b", "dgx-h100-superpod", 1024, 2048, 1536)  # (some rows without a fitting plan)


def test_fitting_counts_are_count_nonzero() -> None:
    """Per row, the fitting plans of a (ZeRO, pairs, rows) mask, as `np.count_nonzero(axis=(0, 1))` gives them (intp),
    also on a non-C-ordered mask and past 2^16 plans a row (counted as before)."""
    rng = np.random.default_rng(19)
    for shape, share in (((4, 16, 4266), 0.3), ((4, 64, 700), 0.97), ((1, 1, 5), 1.0), ((3, 7, 0), 0.5)):
        fits = rng.random(shape) < share
        for mask in (fits, np.asfortranarray(fits), fits[:, :, ::2]):
            got, want = fitting_counts(mask), np.count_nonzero(mask, axis=(0, 1))
            assert got.dtype == want.dtype and np.array_equal(got, want)
    wide = np.ones((2, 1 << 15, 3), dtype=bool)  # 65,536 plans a row: beyond uint16
    assert np.array_equal(fitting_counts(wide), np.full(3, 1 << 16))


def _dump(args: tuple[Any, ...] = GPT3_1024, **kw: Any) -> dict[str, Any]:
    clear_one_plan_memo(pricings=False)
    out = search.search_plans(*args, **kw).model_dump(mode="json")
    return {k: v for k, v in out.items() if k not in ("wall_time_s", "configs_per_s")}


@pytest.mark.parametrize("kw", [{}, {"top": 40, "mfu_guard": False}])
def test_kept_columns_give_the_filtered_answer(monkeypatch: pytest.MonkeyPatch, kw: dict[str, Any]) -> None:
    """GPT-3 175B on 1,024 H100 (rows without a fitting plan dropped): the search with the kept rows read through
    their columns is the search with the block's pairs and masks filtered first (every field, `evaluated` and
    `feasible` included)."""
    seen: list[bool] = []
    direct = row_bound.price_by_bound

    def filtered(shape: Any, cluster: Any, profile: Any, found: Any, rows: Any, block: Any, used: int) -> int:
        index, vpp, schedule, fits, kept = block
        seen.append(kept is not None)
        if kept is not None:
            block = (index, vpp[kept], schedule[kept], fits[:, :, kept], None)
        return direct(shape, cluster, profile, found, rows, block, used)

    through_columns = _dump(**kw)
    monkeypatch.setattr(search, "price_by_bound", filtered)
    assert _dump(**kw) == through_columns and any(seen)


def test_invalid_pairs_rows_inner(monkeypatch: pytest.MonkeyPatch) -> None:
    """The invalid-pair mask comes back C-ordered (rows inner, as the (ZeRO, pairs, rows) terms it meets; the
    fancy index gave the pairs inner), some pairs invalid and some not."""
    masks: list[np.ndarray] = []
    direct = search.invalid_pairs

    def kept(*args: Any) -> np.ndarray:
        masks.append(direct(*args))
        return masks[-1]

    monkeypatch.setattr(search, "invalid_pairs", kept)
    search.search_plans(*GPT3)
    assert masks and all(m.flags.c_contiguous and m.ndim == 3 and m.shape[0] == 1 for m in masks)
    assert any(m.any() and not m.all() for m in masks)


@pytest.mark.parametrize("args", [GPT3, GPT3_1024])
@pytest.mark.parametrize("kw", [{}, {"mfu_guard": False}, {"top": 40}])
def test_guard_bar_from_each_part_smallest(monkeypatch: pytest.MonkeyPatch, args: tuple[Any, ...],
                                           kw: dict[str, Any]) -> None:
    """The row bound's bar (`_guardbar_s`, read from each priced part's `take` smallest keys) is the take-th smallest
    finite key priced (inf with fewer), kept where at least `top` plans within it pass the MFU guard, else inf."""
    bars: list[tuple[float, float]] = []
    direct = row_bound._guardbar_s

    def checked(found: Any, used: int) -> float:
        keys = found.keys[:used]
        finite = keys[keys < np.inf]
        want = float(np.partition(finite, found.take - 1)[found.take - 1]) if finite.size >= found.take else np.inf
        if want < np.inf and found.beyond is not None:
            pool = np.flatnonzero(keys <= want)
            inside = pool.size - int(np.count_nonzero(found.beyond(found.plans(pool), keys[pool])))
            want = want if inside >= found.top else np.inf
        bars.append((direct(found, used), want))
        return bars[-1][0]

    monkeypatch.setattr(row_bound, "_guardbar_s", checked)
    _dump(args, **kw)
    assert bars and all(got == want for got, want in bars)
    assert any(got < np.inf for got, _ in bars) == (args == GPT3 or "mfu_guard" in kw)  # (1,024: the guard's inf)
