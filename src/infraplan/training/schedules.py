"""Pipeline schedules: the bubble, the micro-batches in flight on the first stage, and when each applies.

Every schedule is one `ScheduleModel` registered in `PIPELINE_SCHEDULES`; `step_time` (bubble) and
`memory_breakdown` (activations in flight) and `plan_violations` (validity) read the table, so a new
schedule (zero-bubble ZB-H1, DualPipe, ...) is one model plus one table entry (and a `Schedule` member for
its CLI name).

* 1F1B (PipeDream-Flush; Narayanan et al. SC'21 Sec. 2.2.1): the bubble is (p - 1) stage times of one
  micro-batch (forward + backward); the first stage holds min(p, m) micro-batches of activations in flight.
* Interleaved 1F1B (Narayanan et al. SC'21 Sec. 2.2.2): v model chunks per stage cut the bubble to
  (p - 1) / v stage times; the warm-up keeps (1 + (p - 1) / (p v)) times as many activations in flight
  (Korthikanti et al. 2022 Sec. 4.2.3, Megatron-LM's warm-up count). Needs p > 1 and v > 1.

All functions are vectorised over plans: arguments are arrays (or scalars) of pipeline stages `pp`, virtual
stages per stage `vpp`, micro-batches per step `micro_batches` and the heaviest stage's seconds per
micro-batch `stage_s`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from infraplan.training.enums import Schedule

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]
ArrayLike = np.ndarray | float  # an array over plans, or one value for all (ints are floats to the checker)


def _f(x: ArrayLike) -> Array:
    return np.asarray(x, dtype=np.float64)


@dataclass(frozen=True)
class ScheduleModel:
    """One pipeline schedule.

    bubble(pp, vpp, micro_batches, stage_s): idle seconds per step on the heaviest stage.
    in_flight(pp, vpp, micro_batches): micro-batches whose activations the first stage holds at its peak.
    valid(pp, vpp): which plans the schedule can run; `requirement` says why the others cannot.
    """

    bubble: Callable[[ArrayLike, ArrayLike, ArrayLike, ArrayLike], Array]
    in_flight: Callable[[ArrayLike, ArrayLike, ArrayLike], Array]
    valid: Callable[[ArrayLike, ArrayLike], Mask]
    requirement: str


def _one_f_one_b_bubble(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike, stage_s: ArrayLike) -> Array:
    return (_f(pp) - 1.0) * _f(stage_s)


def _one_f_one_b_in_flight(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike) -> Array:
    return np.minimum(pp, micro_batches) * 1.0


def _one_f_one_b_valid(pp: ArrayLike, vpp: ArrayLike) -> Mask:
    return np.asarray(np.asarray(vpp) == 1, dtype=np.bool_)


def _interleaved_bubble(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike, stage_s: ArrayLike) -> Array:
    return (_f(pp) - 1.0) / vpp * _f(stage_s)


def _interleaved_in_flight(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike) -> Array:
    p = _f(pp)
    return np.minimum(p, _f(micro_batches)) * (1.0 + (p - 1.0) / (p * _f(vpp)))


def _interleaved_valid(pp: ArrayLike, vpp: ArrayLike) -> Mask:
    return (np.asarray(pp) > 1) & (np.asarray(vpp) > 1)


PIPELINE_SCHEDULES: dict[Schedule, ScheduleModel] = {
    Schedule.ONE_F_ONE_B: ScheduleModel(_one_f_one_b_bubble, _one_f_one_b_in_flight, _one_f_one_b_valid,
                                        "has no virtual stages (--vpp 1)"),
    Schedule.INTERLEAVED: ScheduleModel(_interleaved_bubble, _interleaved_in_flight, _interleaved_valid,
                                        "needs PP > 1 and --vpp > 1"),
}


def default_schedule(vpp: ArrayLike) -> NDArray[np.int64]:
    """The schedule a plan runs when none is named: interleaved with virtual stages, 1F1B without."""
    return np.where(np.asarray(vpp) > 1, int(Schedule.INTERLEAVED), int(Schedule.ONE_F_ONE_B)).astype(np.int64)


def _by_schedule(schedule: NDArray[np.int64], value: Callable[[ScheduleModel], Array]) -> Array:
    """`value` of each plan's schedule model, evaluated once per schedule present."""
    out = np.zeros(schedule.shape)
    for code, model in PIPELINE_SCHEDULES.items():
        mask = schedule == code
        if mask.all():
            return np.broadcast_to(np.asarray(value(model), dtype=np.float64), schedule.shape)
        if mask.any():
            out = np.where(mask, value(model), out)
    return out


def pipeline_bubble(schedule: NDArray[np.int64], pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike,
                    stage_s: ArrayLike) -> Array:
    """Bubble seconds per step, each plan by its own schedule."""
    return _by_schedule(schedule, lambda model: model.bubble(pp, vpp, micro_batches, stage_s))


def in_flight_micro_batches(schedule: NDArray[np.int64], pp: ArrayLike, vpp: ArrayLike,
                            micro_batches: ArrayLike) -> Array:
    """Micro-batches of activations the first stage holds at its peak, each plan by its own schedule."""
    return _by_schedule(schedule, lambda model: model.in_flight(pp, vpp, micro_batches))


def schedule_violations(schedule: NDArray[np.int64], pp: ArrayLike, vpp: ArrayLike) -> list[tuple[Mask, str]]:
    """(mask of invalid plans, reason) for an unknown schedule code and for every registered schedule's rule."""
    known = np.any([schedule == code for code in PIPELINE_SCHEDULES], axis=0)
    rules = [(~known, f"unknown pipeline schedule (one of {', '.join(str(c) for c in PIPELINE_SCHEDULES)})")]
    for code, model in PIPELINE_SCHEDULES.items():
        rules.append(((schedule == code) & ~model.valid(pp, vpp), f"the {code} pipeline schedule {model.requirement}"))
    return rules
