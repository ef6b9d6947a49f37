"""Mutation wave 13 (hM13, session 41) on the search's row bound (`training.row_bound`, hS40).

The first pass prices the lowest-bounded rows, at least `FIRST_BOUND_SHARE` of a block (a speed knob: ~1,700
rows' worth of pricing a pass). At the default share the top plans sit in that first pass on the cases tried, so the
rule that decides the rest (price a row only where its bound, below each of its plans' step time, is within the
bar; Land & Doig 1960) went untested: a bound doubled (no longer below the step times), or rows at the bar left
out, gave the same answers there. At share 0 the first pass holds only the fewest rows with K fitting plans, and
the answer must still be pricing every row's (a stable sort of every plan).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infraplan.training import row_bound, search
from infraplan.training.one_plan_memo import clear_one_plan_memo

CASES = [  # as tests/training/test_search_row_bound_hS40.py: a dense grid, another stack, an MoE grid
    ("gpt3-175b", "dgx-h100-superpod", 4096, 2048, 2048, None),
    ("llama3-8b", "hgx-h200", 64, 8192, 128, "torchtitan"),
    ("mixtral-8x7b", "dgx-h100-superpod", 128, 4096, 512, None),
]


def _answer(monkeypatch: pytest.MonkeyPatch, bounded: bool, case: tuple[Any, ...], top: int) -> dict[str, Any]:
    monkeypatch.setattr(search, "ROW_BOUND", bounded)
    clear_one_plan_memo()
    model, system, gpus, seq, batch, stack = case
    out = json.loads(search.search_plans(model, system, gpus, seq, batch, stack=stack, top=top).model_dump_json())
    out.pop("wall_time_s"), out.pop("configs_per_s")
    return out  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", CASES)
def test_the_bar_alone_keeps_every_rows_answer(monkeypatch: pytest.MonkeyPatch, case: tuple[Any, ...]) -> None:
    monkeypatch.setattr(row_bound, "FIRST_BOUND_SHARE", 0.0)
    for top in (1, 5, 40):  # 40: past the first pool, the skipped rows priced on `Found.best`'s demand
        assert _answer(monkeypatch, True, case, top) == _answer(monkeypatch, False, case, top), top
