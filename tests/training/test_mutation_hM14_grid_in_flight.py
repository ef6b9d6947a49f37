"""Mutation wave 14 (session 41): `memory.in_flight_chunks` (hP18) on a grid whose rows of one (PP, micro-batches)
do not share their (vpp, schedule) pairs: each plan still gets what pricing it alone gives (brute force:
`schedules.stage_in_flight` on every plan of the grid), not its first row's."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.training.axes import SearchSpace
from infraplan.training.enums import Dtype, Schedule
from infraplan.training.memory import in_flight_chunks
from infraplan.training.plan_grid import grid_plan
from infraplan.training.row_grid import enumerate_rows
from infraplan.training.schedules import stage_in_flight


@pytest.mark.parametrize("vary", ["schedule", "vpp"])
def test_rows_of_one_pp_and_micro_batches_with_other_pairs_keep_their_own_counts(vary: str) -> None:
    """GPT-3 175B on 4,096 H100's search rows (4,266 rows, 28 distinct (PP, micro-batches)): every other row runs
    1F1B instead of the interleaved schedule, or holds V 1 instead of its grid's V."""
    grid = enumerate_rows(SearchSpace(load_model("gpt3-175b"), 4096, 2048, 2048, (Dtype.BF16,), 8))
    rows = grid.rows
    width = max(grid.stages[p].shape[1] for p in grid.stages)
    vpp = np.ones((len(rows), width), dtype=np.int64)
    schedule = np.full((len(rows), width), int(Schedule.INTERLEAVED), dtype=np.int64)
    for i, p in enumerate(rows.pp.tolist()):
        vpp[i, :grid.stages[p].shape[1]] = grid.stages[p][0]
    if vary == "schedule":
        schedule[1::2] = int(Schedule.ONE_F_ONE_B)
    else:
        vpp[1::2] = 1
    plan = grid_plan(rows, np.arange(len(rows)), vpp, schedule, grid.zero)
    alone = stage_in_flight(plan.schedule, plan.pp, plan.vpp, plan.micro_batches, (0, 1, 2, 3, 4))
    assert not np.array_equal(alone[0][..., 0::2], alone[0][..., 1::2])  # (the pairs do differ in what they hold)
    for got, want in zip(in_flight_chunks(plan, (0, 1, 2, 3, 4)), alone, strict=True):
        assert np.array_equal(np.broadcast_to(got, np.shape(want)), want)
