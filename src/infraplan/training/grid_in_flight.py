"""The schedule's model chunks in flight per stage kind on a search grid (`schedules.stage_in_flight`), priced once per
distinct (PP, micro-batches) row and gathered back: the memory's in-flight counts (`training.memory`) at the bits of
pricing every row. Moved out of training/memory.py whole (hO42, session 42; written by hP18, session 41).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.scalar_path import is_plain
from infraplan.training.plan import PlanArrays
from infraplan.training.schedules import stage_in_flight

__all__ = ["DISTINCT_IN_FLIGHT_ROWS"]

# grid columns from which `_grid_in_flight` prices the in-flight chunks once per distinct (PP, micro-batches) column
DISTINCT_IN_FLIGHT_ROWS = 256


def _grid_in_flight(plan: PlanArrays, parts: tuple[int, ...]) -> tuple[Any, ...]:
    """`schedules.stage_in_flight` of the plans' (schedule, PP, V, micro-batches), on a search's (ZeRO, pairs, rows)
    grid once per distinct (PP, micro-batches) row and gathered back, where the rows sharing them share their
    (vpp, schedule) pairs too (the search's pair table is by PP: checked, else priced as it is). Element-wise in those
    four inputs, so each plan gets the same bits (GPT-3 175B on 4,096 H100: 4,266 rows, 28 distinct)."""
    schedule, pp, vpp, m = plan.schedule, plan.pp, plan.vpp, plan.micro_batches
    if is_plain(schedule) or np.ndim(schedule) != 3 or np.shape(schedule)[-1] < DISTINCT_IN_FLIGHT_ROWS:
        return stage_in_flight(schedule, pp, vpp, m, parts)  # (one plan, a small grid)
    rows = np.shape(schedule)[-1]
    if {np.shape(x) for x in (pp, m)} != {(1, 1, rows)} or np.shape(vpp) != np.shape(schedule):
        return stage_in_flight(schedule, pp, vpp, m, parts)
    _, first, inverse = np.unique(pp.reshape(-1) * (int(m.max()) + 1) + m.reshape(-1), return_index=True,
                                  return_inverse=True)
    inverse = inverse.reshape(-1)
    spread = first[inverse]  # each row's first row of its (PP, micro-batches): `[..., first][..., inverse]` in one
    if first.size * 2 > rows or not (np.array_equal(schedule[..., spread], schedule)
                                     and np.array_equal(vpp[..., spread], vpp)):
        return stage_in_flight(schedule, pp, vpp, m, parts)
    held = stage_in_flight(schedule[..., first], pp[..., first], vpp[..., first], m[..., first], parts)
    at = np.shape(schedule)[:-1] + (first.size,)  # (each part in the schedule's shape, as `stage_in_flight` gives it)
    # the parts gathered in one pass (stacked first; each a view of its own slice, its values copied), C-ordered: the
    # grid terms they meet run along the rows (a fancy index's order runs them 16 apart); a part not asked for that
    # `stage_in_flight` left +0.0 everywhere is not gathered: a read-only +0.0 view of the grid's shape
    zero = [i not in parts and not (np.any(x) or np.any(np.signbit(x))) for i, x in enumerate(held)]
    gathered = iter(np.take(np.stack([np.broadcast_to(x, at) for x, z in zip(held, zero, strict=True) if not z]),
                            inverse, axis=-1))
    nothing = np.broadcast_to(np.zeros(()), np.shape(schedule))
    return tuple(nothing if z else next(gathered) for z in zero)

