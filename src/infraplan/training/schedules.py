"""Pipeline schedules: the bubble, the micro-batches in flight on the first stage, and when each applies.

Every schedule is one `ScheduleModel` registered in `PIPELINE_SCHEDULES`, looked up here per plan; `step_time`
(bubble) and
`memory_breakdown` (activations in flight) and `plan_violations` (validity) read the table, so a new
schedule is one model plus one table entry (and a `Schedule` member for its CLI name): 1F1B, interleaved,
ZB-H1, ZB-V and DualPipe, each modelled (bubble, micro-batches in flight, validity; their sources and the uneven
stages' bubble) in `training.schedule_models`. Every schedule is modelled for every number of micro-batches m,
not only m >= p.
Stage split (`heaviest_stage`, the stack's layer split) and the interleave chosen for a user
(`chosen_virtual_stages`): `training.stage_split` (importable from here).

A software stack runs only the schedules its framework ships (`Stack.pipeline_schedules`, each YAML citing the
framework's code: Megatron 1F1B + interleaved, DeepSpeed its 1F1B `TrainSchedule`, torchtitan torch's
pipelining schedules, DeepSeek DualPipe): `stack_schedules`, `searched_schedules` (what `search` tries) and
`stack_schedule_notes` (what `train` says of a schedule outside the stack), with the stack's other limits in
`training.stack_limits` (importable from here). A plan with PP = 1 runs no pipeline schedule (its code is 1F1B's),
so the list restricts pipelined plans only (`training.axes`).

All functions are vectorised over plans: arguments are arrays (or scalars) of pipeline stages `pp`, virtual
stages per stage `vpp`, micro-batches per step `micro_batches` and the heaviest stage's seconds per
micro-batch `stage_s`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infraplan.scalar_path import is_plain, to_float
from infraplan.training.enums import Schedule
from infraplan.training.mirrored_stages import zb_v_end_chunks_s as zb_v_end_chunks_s
from infraplan.training.rank_kind_bubbles import interleaved_first_chunk_s as interleaved_first_chunk_s
from infraplan.training.rank_kind_bubbles import interleaved_first_heaviest_s as interleaved_first_heaviest_s
from infraplan.training.rank_kind_bubbles import interleaved_last_heaviest_few_s as interleaved_last_heaviest_few_s
from infraplan.training.rank_kind_bubbles import interleaved_middle_heaviest_s as interleaved_middle_heaviest_s
from infraplan.training.rank_kind_bubbles import three_rank_kinds_s as three_rank_kinds_s
from infraplan.training.schedule_models import PIPELINE_SCHEDULES as PIPELINE_SCHEDULES
from infraplan.training.schedule_models import Array, ArrayLike, Mask
from infraplan.training.schedule_models import ScheduleModel as ScheduleModel
from infraplan.training.stack_limits import StackScheduleWarning as StackScheduleWarning
from infraplan.training.stack_limits import searched_schedules as searched_schedules
from infraplan.training.stack_limits import stack_schedule_notes as stack_schedule_notes
from infraplan.training.stack_limits import stack_schedules as stack_schedules
from infraplan.training.stage_split import CHOOSE_INTERLEAVE_FROM_PP as CHOOSE_INTERLEAVE_FROM_PP
from infraplan.training.stage_split import LAYERS_PER_CHUNK as LAYERS_PER_CHUNK
from infraplan.training.stage_split import PIPELINE_SPLITS as PIPELINE_SPLITS
from infraplan.training.stage_split import chosen_virtual_stages as chosen_virtual_stages
from infraplan.training.stage_split import heaviest_stage as heaviest_stage


def default_schedule(vpp: ArrayLike) -> NDArray[np.int64]:
    """The schedule a plan runs when none is named: interleaved with virtual stages, 1F1B without."""
    return np.where(np.asarray(vpp) > 1, int(Schedule.INTERLEAVED), int(Schedule.ONE_F_ONE_B)).astype(np.int64)


def _by_schedule(schedule: NDArray[np.int64], value: Callable[[ScheduleModel], Array]) -> Array:
    """`value` of each plan's schedule model, evaluated once per schedule present (one plan's code, a Python int
    of `PlanArrays.one_row`: its model's value as a float)."""
    if is_plain(schedule):
        model = PIPELINE_SCHEDULES.get(schedule)  # type: ignore[call-overload]  # an int finds its IntEnum key
        return 0.0 if model is None else float(value(model))  # type: ignore[return-value]  # one plan: a float
    out = np.zeros(schedule.shape)
    for code, model in PIPELINE_SCHEDULES.items():
        mask = schedule == int(code)
        if mask.all():  # (the plans' shape: a stack whose layer terms read ZeRO spreads them over its axis too)
            got = np.asarray(value(model), dtype=np.float64)
            return np.broadcast_to(got, np.broadcast_shapes(got.shape, schedule.shape))
        if mask.any():
            out = np.where(mask, value(model), out)
    return out


def pipeline_bubble(schedule: NDArray[np.int64], pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike,
                    stage_s: ArrayLike, others_s: ArrayLike | None = None) -> Array:
    """Bubble seconds per step, each plan by its own schedule; `others_s`: the other stages' seconds per
    micro-batch added up (None: p - 1 stages as heavy as the heaviest)."""
    if others_s is None:
        return _by_schedule(schedule, lambda model: model.bubble(pp, vpp, micro_batches, stage_s))
    return _by_schedule(schedule, lambda model: model.bubble(pp, vpp, micro_batches, stage_s, others_s))


def in_flight_micro_batches(schedule: NDArray[np.int64], pp: ArrayLike, vpp: ArrayLike,
                            micro_batches: ArrayLike) -> Array:
    """Micro-batches of activations the first stage holds at its peak, each plan by its own schedule."""
    return _by_schedule(schedule, lambda model: model.in_flight(pp, vpp, micro_batches))


def _mirrored_chunks(model: ScheduleModel, pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike) -> tuple[Any, ...]:
    """`stage_chunks` of a schedule with no per-stage counts, whose ranks may hold mirrored stages (ZB-V, DualPipe:
    rank 0 holds the first and the last stage): the first stage's `in_flight` micro-batches of v chunks.
    DualPipe: p + 1 chunks on every rank (Table 2's "PP+1" activations per device), counted on DualPipe's own order
    (dualpipe 1.0.0 dualpipe.py:358-396, `DualPipe.step`: rank r's warm-up 2 (p/2 - r - 1) + (r + 1) phase-0 and
    r + 1 phase-1 forwards, p chunks, then each overlapped F&B of step 4 one more before its backward frees one):
    rank 0 p of its first stage's (the embedding's) and one of the last stage's, priced as p + 1 first chunks; a
    middle rank (the middle kind) p + 1 chunks of its two middle stages (hO42: the middle kind held none, so a split
    with counted ends priced the peak on rank 0's short stages, below a middle rank's); the last kind none (on rank
    0). ZB-V from 2p - 1 micro-batches, as torch 2.14.1's ScheduleZBVZeroBubble order holds it
    (torch/distributed/pipelining/schedules.py:3526-3648; hZ41, counted on the order for p 2-12): every rank 2p
    chunks, rank 0's heaviest peak 2p - 1 chunk 0s (the embedding's) and one chunk 2p - 1, rank p - 1 (the middle
    kind) two plain chunks per micro-batch; the last kind none (on rank 0). Below 2p - 1 micro-batches
    `activation_memory.zb_v_rank_chunks` replaces them (min(2p - 1, m) chunk 0s: the same at m = 2p - 1)."""
    held = model.in_flight(pp, vpp, micro_batches)
    none = held * 0.0
    chunks = held * to_float(vpp)
    if model is PIPELINE_SCHEDULES[Schedule.ZB_V]:
        return chunks, chunks - 1.0, chunks, none, none
    return chunks, held, chunks, none, none


def stage_in_flight(schedule: NDArray[np.int64], pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike,
                    parts: tuple[int, ...] = (0, 1, 2, 3, 4)) -> tuple[Array, Array, Array, Array, Array]:
    """Model chunks of activations held at the peak of each stage kind, each plan by its own schedule: the first
    stage's, of them its (embedding's) first chunk's, the second stage's (the most of the middle ones), the last
    stage's, of them its (loss's) last chunk's (`stage_split.one_f_one_b_chunks`, `interleaved_chunks`; a schedule
    without them: `_mirrored_chunks`). Arrays: only the `parts` asked for are picked (the others 0)."""
    def kinds(model: ScheduleModel) -> tuple[Any, ...]:
        if model.stage_chunks is None:
            return _mirrored_chunks(model, pp, vpp, micro_batches)
        return model.stage_chunks(pp, vpp, micro_batches, parts)

    if is_plain(schedule):
        model = PIPELINE_SCHEDULES.get(schedule)  # type: ignore[call-overload]  # an int finds its IntEnum key
        if model is None:
            return 0.0, 0.0, 0.0, 0.0, 0.0  # type: ignore[return-value]
        return tuple(float(x) for x in kinds(model))  # type: ignore[return-value]
    out: list[Any] = [np.zeros(schedule.shape) for _ in range(5)]
    for code, model in PIPELINE_SCHEDULES.items():
        mask = schedule == int(code)
        if mask.all():
            return tuple(np.broadcast_to(np.asarray(x, dtype=np.float64), schedule.shape)  # type: ignore[return-value]
                         for x in kinds(model))
        if mask.any():
            values = kinds(model)
            for i in parts:
                out[i] = np.where(mask, values[i], out[i])
    return tuple(out)


def parameter_copies(schedule: NDArray[np.int64]) -> Array:
    """Copies of its stage's parameters each rank holds, each plan by its own schedule (DualPipe: 2)."""
    return _by_schedule(schedule, lambda model: np.asarray(model.parameter_copies, dtype=np.float64))


def schedule_violations(schedule: NDArray[np.int64], pp: ArrayLike, vpp: ArrayLike,
                        micro_batches: ArrayLike | None = None, rules: str = "megatron") -> list[tuple[Mask, str]]:
    """(mask of invalid plans, reason) for an unknown schedule code and for every registered schedule's rules.

    With `micro_batches`, also each schedule's rule on the micro-batch count, by the framework's rule set `rules`
    (`schedule_models.MICRO_BATCH_RULES`, a stack's `pipeline_micro_batch_rules`).
    """
    unknown, reasons = _reasons(rules)
    if is_plain(schedule):  # one plan's code (a Python int): only its own schedule's rules can apply
        found: list[tuple[Any, str]] = [(schedule not in reasons, unknown)]
        for code, (model, requirement, batches_requirement) in reasons.items():
            valid = code != schedule or bool(model.valid(pp, vpp))
            found.append((not valid, requirement))
            batches_valid = model.batch_rule(rules)[0]
            if micro_batches is not None and batches_requirement:
                found.append((valid and code == schedule and not bool(batches_valid(pp, vpp, micro_batches)),
                              batches_requirement))
        return found
    found = [(~np.any([schedule == code for code in reasons], axis=0), unknown)]
    for code, (model, requirement, batches_requirement) in reasons.items():
        runs = schedule == code
        if not runs.any():  # no plan runs it: its rules' masks are False throughout, in their shapes (a search's
            # rows run 1F1B alone; `plan_rules.valid_mask`)
            shape = np.broadcast_shapes(runs.shape, np.shape(pp), np.shape(vpp))
            found.append((np.zeros(shape, dtype=bool), requirement))
            if micro_batches is not None and batches_requirement:
                found.append((np.zeros(np.broadcast_shapes(shape, np.shape(micro_batches)), dtype=bool),
                              batches_requirement))
            continue
        found.append((runs & ~model.valid(pp, vpp), requirement))
        if micro_batches is not None and batches_requirement:
            found.append((runs & model.valid(pp, vpp) & ~model.batch_rule(rules)[0](pp, vpp, micro_batches),
                          batches_requirement))
    return found


def pair_violations(real: np.ndarray, pp: np.ndarray, vpp: np.ndarray, schedule: np.ndarray,
                    micro_batches: np.ndarray, slots: int, rules: str) -> np.ndarray:
    """The invalid (vpp, schedule) pairs of a search's pair tables, element-wise: padding (`real` False), PP x V
    beyond the pipeline slots, V > 1 without PP, and every schedule's rules (`schedule_violations`, on the
    micro-batch count too): as the search's blocks (`search_bounds.invalid_pairs`) and the branch and bound's
    (`search_bounds._bound_block`) both check them."""
    bad: np.ndarray = ~real | (pp * vpp > slots) | ((vpp > 1) & (pp == 1))
    for rule, _ in schedule_violations(schedule, pp, vpp, micro_batches, rules):
        bad = bad | rule
    return bad


def one_plan_schedule_reason(schedule: int, pp: int, vpp: int, micro_batches: int,
                             rules: str = "megatron") -> str | None:
    """The first of `schedule_violations`' reasons one plan's Python ints break, or None: only its own schedule's
    rules can (the unknown code, its schedule's rule, then its rule on the micro-batches under `rules`), so the
    others are not listed (`plan_rules.check_single_plan`, issue 18); the reasons are looked up only for a broken
    rule."""
    model = PIPELINE_SCHEDULES.get(schedule)  # type: ignore[call-overload]  # an int finds its IntEnum key
    key = (schedule, pp, vpp, micro_batches, rules)
    if model is not None and _VALID.get(key) is model:  # (a verdict kept with the model it was asked of)
        return None
    if model is not None and bool(model.valid(pp, vpp)):
        batches_valid, requirement = model.batch_rule(rules)
        if not requirement or bool(batches_valid(pp, vpp, micro_batches)):
            if len(_VALID) >= _VALID_KEPT:
                _VALID.clear()
            _VALID[key] = model
            return None
    unknown, reasons = _reasons(rules)
    own = reasons.get(schedule)
    if own is None:
        return unknown
    _, requirement, batches_requirement = own
    return batches_requirement if bool(own[0].valid(pp, vpp)) else requirement


# the plans `one_plan_schedule_reason` found valid, by (schedule code, PP, V, micro-batches, rule set): the model they
# were checked against (a hit asks that it `is` the one registered now; plans differing in nothing else, e.g. in
# their sequence length, check once: issue 18), emptied at `_VALID_KEPT` entries
_VALID: dict[tuple[Any, ...], ScheduleModel] = {}
_VALID_KEPT = 4096

# the reasons of `schedule_violations` by rule set, formatted once for the table as it stands (its codes and the
# identities of its models, which the entry holds, so their ids are not reused while it is kept), not on every check
_REASONS: dict[str, tuple[tuple[object, ...], tuple[str, dict[int, tuple[ScheduleModel, str, str]]]]] = {}


def _reasons(rules: str = "megatron") -> tuple[str, dict[int, tuple[ScheduleModel, str, str]]]:
    """The unknown-schedule reason and, by schedule code (a plain int), each schedule's model and the reasons of
    its two rules (the micro-batch one under the rule set `rules`; "" where it has none)."""
    key = (*PIPELINE_SCHEDULES, *map(id, PIPELINE_SCHEDULES.values()))
    kept = _REASONS.get(rules)
    if kept is not None and kept[0] == key:
        return kept[1]
    reasons = (f"unknown pipeline schedule (one of {', '.join(str(c) for c in PIPELINE_SCHEDULES)})",
               {int(code): (model, f"the {code} pipeline schedule {model.requirement}",
                            f"the {code} pipeline schedule {why}" if (why := model.batch_rule(rules)[1]) else "")
                for code, model in PIPELINE_SCHEDULES.items()})
    _REASONS[rules] = (key, reasons)
    return reasons
