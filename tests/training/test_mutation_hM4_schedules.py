"""Mutation wave 4 (hM4, session 35): pipeline schedule validity (schedule_models.py).

The schedules' stated requirements (PIPELINE_SCHEDULES): interleaving "needs PP > 1 and --vpp > 1" (at PP 1 there
is no pipeline to interleave), ZB-V "exactly 2 chunks per rank (--vpp 2)". Fails on a one-line mutant the earlier
tests let through (validation/notes/test_suite_cost_tried.md, hM4).
"""

from __future__ import annotations

from infraplan.training.enums import Schedule
from infraplan.training.schedule_models import PIPELINE_SCHEDULES


def test_schedule_validity_masks() -> None:
    interleaved, zb_v = PIPELINE_SCHEDULES[Schedule.INTERLEAVED], PIPELINE_SCHEDULES[Schedule.ZB_V]
    assert not bool(interleaved.valid(1, 2)) and bool(interleaved.valid(2, 2))  # needs PP > 1 and --vpp > 1
    assert bool(zb_v.valid(4, 2)) and not bool(zb_v.valid(4, 3))  # exactly 2 chunks per rank
