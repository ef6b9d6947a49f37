"""Mutation wave hM23 (session 45) on `training.mirrored_dp.mirrored_held_layers` (hZ47): which rows take
torchtitan's fixed V cut and which the step time's balanced split.

By hand (hZ47's tests, torchtitan 0.3.0 pipeline_parallel.py:366-476, 569-576): Llama 3 70B's 80 layers over PP 8
cut into 16 stages of 5 / 6 / 5 x 13 / 4 layers, rank r holding stages r and 15 - r: rank 0 holds 9, rank 1 11.
The balanced split (`stage_params.mirrored_rank_layers`), a middle rank pacing at X layers: every middle bin holds X
and the end bin the L - (p - 1) X left (80 - 7 x 10 = 10 at X = 10); where (p - 1) X > L the end bin holds what
fits beside its tables at the pace, floor(X - e) (hO46: 32 layers, PP 8, X = 5, e = 1.5: 3).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training.enums import Schedule
from infraplan.training.mirrored_dp import mirrored_held_layers
from infraplan.training.plan import PlanArrays

TORCHTITAN = load_stack("torchtitan")
SPLIT = TORCHTITAN.model_copy(update={"pipeline_partition": "parameters"})  # balanced, cut by parameters


def _plans(pp: list[int], schedules: list[Schedule]) -> PlanArrays:
    return PlanArrays.build(tp=8, pp=np.array(pp), dp=2, cp=1, ep=1, vpp=2, micro_batch=1, global_batch=128,
                            seq_len=8192, recompute=0, zero=0, dtype=0, attention=0, order=0, sequence_parallel=1,
                            schedule=np.array([int(s) for s in schedules]))


def _held(layers: int, plan: PlanArrays, profile: Any, x: float, extra: float = 0.0) -> tuple[list[float], ...]:
    n = len(plan.pp)
    heaviest = (np.full(n, x), np.zeros(n), np.zeros(n), np.full(n, extra))  # a middle rank paces at X layers
    end, middle = mirrored_held_layers(layers, plan, profile, heaviest)
    return list(np.broadcast_to(end, n)), list(np.broadcast_to(middle, n))


def test_zb_v_rows_of_the_units_cut_hold_its_ranks_and_other_rows_the_split() -> None:
    """Rows ZB-V PP 8, DualPipe PP 8, ZB-V PP 1 on torchtitan, X = 10: the ZB-V row holds the cut's 9 and 11; the
    DualPipe and one-stage rows hold what the balanced split gives them on a stack without the cut."""
    plan = _plans([8, 8, 1], [Schedule.ZB_V, Schedule.DUALPIPE, Schedule.ZB_V])
    end, middle = _held(80, plan, TORCHTITAN, 10.0)
    split_end, split_middle = _held(80, plan, SPLIT, 10.0)
    assert (end[0], middle[0]) == (9.0, 11.0)
    assert (end[1:], middle[1:]) == (split_end[1:], split_middle[1:])
    assert (split_end[2], split_middle[2]) == (80.0, 80.0)  # one stage holds every layer


def test_the_cut_belongs_to_the_balanced_units_stack_only() -> None:
    """ZB-V PP 8 at X = 10: cut by parameters, or on an even split, the rank holds the split's 10 and 10 (80 - 7 x 10
    for the end), not the units cut's 9 and 11."""
    plan = _plans([8], [Schedule.ZB_V])
    assert _held(80, plan, SPLIT, 10.0) == ([10.0], [10.0])
    even = TORCHTITAN.model_copy(update={"pipeline_split": "even"})  # (the units partition kept, unused)
    assert _held(80, plan, even, 10.0) == _held(80, plan, SPLIT, 10.0)


@pytest.mark.parametrize(("extra", "end"), [(0.0, 5.0), (1.5, 3.0)])
def test_the_end_bins_tables_take_its_room_at_the_pace(extra: float, end: float) -> None:
    """32 layers, PP 8 ZB-V, X = 5 (7 x 5 = 35 > 32): the end rank holds floor(5 - e) beside tables of e layers."""
    plan = _plans([8], [Schedule.ZB_V])
    got_end, got_middle = _held(32, plan, SPLIT, 5.0, extra)
    assert got_end == [end] and got_middle == [5.0]
