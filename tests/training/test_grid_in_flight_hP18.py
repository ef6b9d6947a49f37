"""hP18: `memory.in_flight_chunks` gathers only the parts it must, C-ordered, with the bits of pricing every row
(`schedules.stage_in_flight` on the whole grid)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.training.axes import SearchSpace
from infraplan.training.enums import Dtype, Schedule
from infraplan.training.memory import in_flight_chunks
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import grid_plan
from infraplan.training.row_grid import enumerate_rows
from infraplan.training.schedules import stage_in_flight


def _gpt3_grid(schedule_code: int) -> PlanArrays:
    """GPT-3 175B on 4,096 H100: the search's (ZeRO, pairs, rows) grid, every pair at `schedule_code`."""
    grid = enumerate_rows(SearchSpace(load_model("gpt3-175b"), 4096, 2048, 2048, (Dtype.BF16,), 8))
    rows = grid.rows
    width = max(grid.stages[p].shape[1] for p in grid.stages)
    vpp = np.ones((len(rows), width), dtype=np.int64)
    schedule = np.full((len(rows), width), schedule_code, dtype=np.int64)
    for i, p in enumerate(rows.pp.tolist()):
        k = grid.stages[p].shape[1]
        vpp[i, :k] = grid.stages[p][0]
    return grid_plan(rows, np.arange(len(rows)), vpp, schedule, grid.zero)


@pytest.mark.parametrize("code", [int(Schedule.ONE_F_ONE_B), int(Schedule.INTERLEAVED), int(Schedule.ZB_V)])
@pytest.mark.parametrize("parts", [(0, 3), (0, 1, 2, 3, 4)])
def test_parts_gathered_c_ordered_with_every_rows_bits(code: int, parts: tuple[int, ...]) -> None:
    plan = _gpt3_grid(code)
    fast = in_flight_chunks(plan, parts)
    slow = stage_in_flight(plan.schedule, plan.pp, plan.vpp, plan.micro_batches, parts)
    assert len(fast) == 5
    for i, (a, b) in enumerate(zip(fast, slow, strict=True)):
        assert np.shape(a) == np.shape(plan.schedule) and a.dtype == np.float64
        assert np.broadcast_to(a, np.shape(b)).tobytes() == np.asarray(b).tobytes()
        if i in parts or np.any(b):  # gathered, along the rows (the grid terms it meets run that way)
            assert a.flags.c_contiguous
        else:  # a part not asked for at +0.0 everywhere: not gathered
            assert a.strides == (0,) * a.ndim
    if code == int(Schedule.ZB_V):  # mirrored chunks: a part not asked for holds values, gathered too
        assert any(np.any(fast[i]) for i in (1, 2, 4))
