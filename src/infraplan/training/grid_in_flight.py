"""The memory's passes over a search grid (`memory.memory_total`), at the bits of pricing every plan alone.

- The schedule's model chunks in flight per stage kind (`schedules.stage_in_flight`), priced once per distinct
  (PP, micro-batches) row and gathered back (moved out of training/memory.py whole, hO42, session 42; written by
  hP18, session 41).
- The schedules' parameter copies by code (`grid_param_copies`) and the stage kinds' peak (`peak_total`: a kind
  dominating a row summed once, the maxima elsewhere; moved out of training/memory.py with it, hP20, session 42).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.scalar_path import is_plain
from infraplan.training.plan import PlanArrays
from infraplan.training.schedules import PIPELINE_SCHEDULES, parameter_copies, stage_in_flight

__all__ = ["DISTINCT_IN_FLIGHT_ROWS", "peak_total"]

# grid columns from which `in_flight_chunks` prices the in-flight chunks once per distinct (PP, micro-batches) column
DISTINCT_IN_FLIGHT_ROWS = 256


def in_flight_chunks(plan: PlanArrays, parts: tuple[int, ...]) -> tuple[Any, ...]:
    """`schedules.stage_in_flight` of the plans' (schedule, PP, V, micro-batches), on a search's (ZeRO, pairs, rows)
    grid once per distinct (PP, micro-batches) row and gathered back, where the rows sharing them share their
    (vpp, schedule) pairs too (the search's pair table is by PP: checked, else priced as it is). Element-wise in those
    four inputs, so each plan gets the same bits (GPT-3 175B on 4,096 H100: 4,266 rows, 28 distinct)."""
    schedule, pp, vpp, m = plan.schedule, plan.pp, plan.vpp, plan.micro_batches
    if type(schedule) is int and type(pp) is int and type(vpp) is int and type(m) is int:  # type: ignore[comparison-overlap]
        return _one_plan_in_flight(schedule, pp, vpp, m, parts)  # (a `one_row`'s ints: kept)
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


def _one_plan_in_flight(schedule: int, pp: int, vpp: int, micro_batches: int,
                        parts: tuple[int, ...]) -> tuple[Any, ...]:
    """`stage_in_flight` of one plan's Python ints (a `one_row`'s schedule code, PP, V and micro-batches: all it
    reads besides its schedule's model), kept: plans that differ in nothing else (a sweep's sequence lengths or
    precisions, the benchmark's never-seen plans) share its Python floats (immutable) instead of walking the
    schedule's formulas again (issue 18; ~2 % of a single estimate's instructions). Each entry holds the model it
    was priced with and a hit asks that it `is` the one registered now (a schedule registered or replaced later,
    as tests/training/test_schedules.py's toy one, is priced anew)."""
    key = (schedule, pp, vpp, micro_batches, parts)
    model = PIPELINE_SCHEDULES.get(schedule)  # type: ignore[call-overload]  # an int finds its IntEnum key
    kept = _IN_FLIGHT.get(key)
    if kept is not None and kept[0] is model:
        return kept[1]
    if len(_IN_FLIGHT) >= _IN_FLIGHT_KEPT:  # (emptied, not evicted: cheap to price again; `identity_memo`'s rule)
        _IN_FLIGHT.clear()
    chunks = stage_in_flight(schedule, pp, vpp, micro_batches, parts)  # type: ignore[arg-type]  # (a code)
    _IN_FLIGHT[key] = (model, chunks)
    return chunks


_IN_FLIGHT_KEPT = 4096
_IN_FLIGHT: dict[tuple[Any, ...], tuple[Any, tuple[Any, ...]]] = {}


def grid_param_copies(schedule: np.ndarray) -> np.ndarray:
    """`schedules.parameter_copies` of an array of schedule codes, as one lookup in a table by code (0 for a code
    no schedule registers, as there) instead of a pass per registered schedule."""
    codes = [int(code) for code in PIPELINE_SCHEDULES]
    low, high = int(schedule.min()), int(schedule.max())
    if low < 0 or high > max(codes) + 64:  # codes far outside the table's range: the schedules' own lookup
        return np.asarray(parameter_copies(schedule), dtype=np.float64)
    table = np.zeros(max(high, *codes) + 1)
    for code, model in PIPELINE_SCHEDULES.items():
        table[int(code)] = model.parameter_copies
    copies: np.ndarray = table[schedule]
    return copies


def peak_total(parts: list[tuple[Any, Any]]) -> Any:
    """The most of the kinds' state + activations (`memory_total`): np.maximum of each kind's sum in turn, its grid
    passes only on the rows where no kind dominates. A kind whose state and activations are both >= every other
    kind's at each of a row's plans has that row's largest sum (a rounded sum is non-decreasing in each term), the
    value the maxima give; its state (ZeRO, 1, rows) and activations (1, pairs, rows) are picked per row and summed in
    one pass. Rows without such a kind (or a NaN) get the maxima of the sums, as before."""
    arrays = all(type(x) is np.ndarray and x.ndim == 3 and x.dtype == np.float64 for part in parts for x in part)
    rows = np.shape(parts[0][1])[-1] if arrays else 0
    if len(parts) > 1 and arrays and all(x.shape[-1] == rows for part in parts for x in part):
        dominant = [np.ones(rows, dtype=bool) for _ in parts]
        for i, (state, act) in enumerate(parts):
            for j, (other_state, other_act) in enumerate(parts):
                if i != j:
                    dominant[i] &= (state >= other_state).all(axis=(0, 1)) & (act >= other_act).all(axis=(0, 1))
        chosen_state, chosen_act = parts[-1]
        for (state, act), rows_of in zip(parts[-2::-1], dominant[-2::-1], strict=True):  # the first dominant kind
            chosen_state, chosen_act = np.where(rows_of, state, chosen_state), np.where(rows_of, act, chosen_act)
        total = chosen_state + chosen_act
        rest = np.flatnonzero(~np.logical_or.reduce(dominant))
        if rest.size:
            total[..., rest] = _maxima([(state[..., rest], act[..., rest]) for state, act in parts])
        return total
    return _maxima(parts)


def _maxima(parts: list[tuple[Any, Any]]) -> Any:
    """np.maximum of each kind's state + activations in turn (`peak_total`)."""
    total: Any = None
    for state, act in parts:
        kind_total = state + act
        if total is None:
            total = kind_total
        elif type(total) is np.ndarray and total.dtype == np.float64 and np.shape(kind_total) == total.shape:
            np.maximum(total, kind_total, out=total)  # (the same maxima, into the grid already made)
        else:
            total = np.maximum(total, kind_total)
    return total
