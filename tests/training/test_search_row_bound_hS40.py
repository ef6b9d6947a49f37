"""hS40: the time objective's row bound below BOUND_MIN_PLANS (`training.row_bound`) and the in-flight chunks
priced once per distinct (PP, micro-batches) row (`memory.in_flight_chunks`) give the bits of pricing every row."""

from __future__ import annotations

import json

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.training import row_bound, search
from infraplan.training.axes import SearchSpace
from infraplan.training.enums import Dtype, Schedule
from infraplan.training.memory import in_flight_chunks
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan_grid import grid_plan
from infraplan.training.row_grid import enumerate_rows
from infraplan.training.schedules import stage_in_flight

CASES = [  # GPT-3: most rows skipped; Llama 3 8B on torchtitan: another stack; Mixtral: an MoE grid
    ("gpt3-175b", "dgx-h100-superpod", 4096, 2048, 2048, None),
    ("llama3-8b", "hgx-h200", 64, 8192, 128, "torchtitan"),
    ("mixtral-8x7b", "dgx-h100-superpod", 128, 4096, 512, None),
]


def _answer(monkeypatch: pytest.MonkeyPatch, bounded: bool, case: tuple, top: int) -> dict:
    monkeypatch.setattr(search, "ROW_BOUND", bounded)
    clear_one_plan_memo()
    model, system, gpus, seq, batch, stack = case
    out = json.loads(search.search_plans(model, system, gpus, seq, batch, stack=stack, top=top,
                                         compare_dtypes=False).model_dump_json())
    out.pop("wall_time_s"), out.pop("configs_per_s")
    return out


@pytest.mark.parametrize("case", CASES)
def test_row_bound_gives_every_rows_answer(monkeypatch: pytest.MonkeyPatch, case: tuple) -> None:
    for top in (5, 40):  # 40: past the first pool, the skipped rows priced on `Found.best`'s demand
        assert _answer(monkeypatch, True, case, top) == _answer(monkeypatch, False, case, top)


def test_row_bound_skips_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """GPT-3 175B on 4,096 H100: the step time of fewer than half the rows with a fitting plan is priced."""
    priced: list[int] = []
    step_time = row_bound.step_time  # type: ignore[attr-defined]

    def counted(shape, cluster, plan, profile, **kw):  # type: ignore[no-untyped-def]
        priced.append(np.shape(plan.pp)[-1])
        return step_time(shape, cluster, plan, profile, **kw)  # (breakdown=False: the grid's step alone, hK58)

    monkeypatch.setattr(row_bound, "step_time", counted)
    search.search_plans("gpt3-175b", "dgx-h100-superpod", 4096, 2048, 2048, compare_dtypes=False)
    assert 0 < sum(priced) < 2000  # of 4,266 rows with a fitting plan


def test_grid_in_flight_equals_stage_in_flight() -> None:
    shape = load_model("gpt3-175b")
    grid = enumerate_rows(SearchSpace(shape, 4096, 2048, 2048, (Dtype.BF16,), 8))
    rows = grid.rows
    pps = sorted(grid.stages)
    width = max(grid.stages[p].shape[1] for p in pps)
    vpp = np.ones((len(rows), width), dtype=np.int64)
    schedule = np.full((len(rows), width), int(Schedule.ONE_F_ONE_B), dtype=np.int64)
    for i, p in enumerate(rows.pp.tolist()):
        k = grid.stages[p].shape[1]
        vpp[i, :k], schedule[i, :k] = grid.stages[p]
    plan = grid_plan(rows, np.arange(len(rows)), vpp, schedule, grid.zero)
    for parts in ((0, 3), (0, 1, 2, 3, 4)):
        fast = in_flight_chunks(plan, parts)
        slow = stage_in_flight(plan.schedule, plan.pp, plan.vpp, plan.micro_batches, parts)
        for a, b in zip(fast, slow, strict=True):
            assert np.broadcast_to(a, np.shape(b)).tobytes() == np.asarray(b).tobytes()
