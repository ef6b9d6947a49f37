"""Pipeline schedule models: each schedule's bubble, micro-batches in flight and validity, and their table.

Every schedule is one `ScheduleModel` in `PIPELINE_SCHEDULES` (looked up per plan by `training.schedules`, where
these names are importable as well).

* 1F1B (PipeDream-Flush; Narayanan et al. SC'21 Sec. 2.2.1): a step is (m + p - 1) stage times of one
  micro-batch (forward + backward) at every m: the bubble is (p - 1) stage times, and with m < p the stages
  cannot overlap at all (m = 1 runs the stages one after another). The first stage holds min(p, m)
  micro-batches of activations in flight (Megatron's warm-up count p - 1, plus one, capped at m).
* Interleaved 1F1B (Narayanan et al. SC'21 Sec. 2.2.2): v model chunks of t/v per stage. With m >= p the
  bubble is (p - 1) / v stage times. With m < p the p v chunks form a pipeline of p v virtual stages that
  m micro-batches traverse as a wave: no two chunks of one device collide, so the step is
  (m + p v - 1) chunk times and the bubble ((p - m) v + m - 1) / v stage times; at m = p both agree, at
  m = 1 it is the sequential p - 1 of 1F1B. In flight on the first stage: Megatron-LM's warm-up count
  (p - 1) * 2 + (v - 1) * p chunks plus one, capped at the m v chunks there are, divided by v chunks per
  stage -> p + (p - 1)/v = p (1 + (p - 1)/(p v)) for m >= p (Korthikanti et al. 2022 Sec. 4.2.3).
  Needs p > 1 and v > 1; Megatron-LM further refuses a step whose micro-batches are not a multiple of p
  ("number of microbatches is not divisible by pipeline-parallel size when using interleaved schedule",
  megatron/core/pipeline_parallel/schedules.py, forward_backward_pipelining_with_interleaving), so m < p
  is refused too. Megatron-Core 0.16.1 words it through `microbatch_group_size_per_vp_stage` N (default p,
  model_parallel_config.py lines 447-448): N must lie in [p, m] and m mod N be 0 or >= p (schedules.py lines
  995-1015), the same rule at the default N; a larger N (warm-up (v - 1) N, not modelled) is not offered.
  torch's ScheduleInterleaved1F1B (torch 2.13.0 torch/distributed/pipelining/schedules.py:2891-3004, torchtitan's)
  runs rounds of g = m // r micro-batches, r = max(1, m // p), and needs m a multiple of r: its warm-up is
  (v - 1) g + 2 (p - 1 - rank) chunk forwards (`_get_warmup_ops`, :2872-2888), Megatron's at g = p (so at every m
  Megatron accepts, g = p and the numbers are Megatron's); in flight and per stage kind are written on g. The
  bubble above is that order's at every m torch accepts (list-scheduled transcription, p 2-6, v 2-4, m 1-3p+1,
  session 34 hT, tests/training/test_torch_schedule_orders.py): at m < p the wave, m >= p the steady (p - 1)/v.

* ZB-H1 (zero bubble, Qi et al. 2023, arXiv:2401.10241 Sec. 3.1 "ZB-H1"): the backward is split into B (the
  input gradient, on the critical path) and W (the weight gradient, deferrable); W passes fill the cool-down
  bubble, so with m >= p the bubble is (p - 1)(T_F + T_B - T_W) where 1F1B has (p - 1)(T_F + T_B + T_W), at
  the same activation memory as 1F1B (min(p, m) in flight; W holds a little extra, not counted). In the
  DeepSeek-V3 report's notation (B the whole backward) that is (p - 1)(F + B - 2W) ("ZB1P", Table 2). With
  m < p the critical path is the last micro-batch's forward down the stages ((m + p - 1) T_F), the last stage's
  m backwards interleaved with its forwards, that B back up ((m + p - 1) T_B) and stage 0's last W: a step of
  (m + p - 1)(T_F + T_B) + T_W, so the bubble is (p - 1)(T_F + T_B) - (m - 1) T_W -- each of the first m - 1
  W passes fills an idle slot, the same count as the m >= p formula at m = p, so the two meet there (m = 1: the
  sequential (p - 1)(T_F + T_B); worked by hand and by list scheduling at p = 4, m = 1..4, review hA session 33;
  on uneven stages the m - 1 of p - 1 filled W shares of o). T_F : T_B : T_W = 1 : 1 : 1 of the stage time
  per micro-batch, the paper's working
  assumption for GEMM-dominated layers (`ZB_SPLIT`). Needs PP > 1 and no virtual stages. torch's
  ScheduleInterleavedZeroBubble at one stage per rank (schedules.py:3007-3196, torchtitan's zb-h1) gives this
  bubble at every m it accepts (transcribed and list-scheduled as above, F : I : W = 1 : 1 : 1).
* ZB-V (Qi et al., arXiv:2401.10241 Sec. 6 "ZB-V", ICLR 2024; the V-ZB building block of Qi et al. 2024,
  "Pipeline Parallelism with Controllable Memory", arXiv:2405.15362): the model is cut into 2p chunks and rank i
  holds chunks i and 2p-1-i, so a micro-batch's forward runs down the ranks and back up (a "V") and rank 0
  holds both the first and the last chunk; chunk passes take half the stage's T_F, T_B, T_W. Bubble, derived
  as ZB-H2's (p - 1)(T_F + T_B - 2 T_W) of that paper (Sec. 3.1) on chunks of half the size -- the V lets the
  last rank defer two W chunks per hop of the returning backward within 1F1B's memory -- and floored at the
  last rank's warm-up, (p - 1) T_F / 2, which cannot be filled because the step ends in a synchronised
  optimizer step here (the paper overlaps it with the next step only with its post-validation, Sec. 4):
  bubble = (p - 1) max(T_F, T_F + T_B - 2 T_W) / 2 -> (p - 1) t/6 at T_F = T_B = T_W = t/3, against ZB-H1's
  (p - 1) t/3 and 1F1B's (p - 1) t. Activation memory is 1F1B's peak, p micro-batches of a stage (2p chunk
  activations on rank 0, the paper's point: min(p, m) in flight); one stage's parameters per rank. Needs
  PP > 1 and exactly 2 chunks per rank (--vpp 2). Rank 0 fills its warm-up with 2p - 1 chunk forwards before
  the first micro-batch returns (Fig. 8). With fewer micro-batches the schedule still runs: torch's
  ScheduleZBVZeroBubble (torch 2.13.0 torch/distributed/pipelining/schedules.py:3268-3393, the only ZB-V among
  the stacks here, torchtitan's) builds its order for max(2p - 1, m) micro-batches and leaves the missing ones'
  slots idle; it checks only the 2 chunks per rank. List-scheduling that order (F, I, W per chunk in the order
  it writes, each waiting for its neighbour stage; p = 2..9, m = 1..2p + 1) gives the bubble
  max((p - 1)(T_F + T_B) - (m - 1) T_W, the steady bubble above) at 1 : 1 : 1 -- ZB-H1's ramp below p, here up
  to m = 2p - 1 -- and the steady bubble exactly at every m >= 2p - 2 (session 34, lead). With rank 0's two
  chunks heavier than a plain one (the embedding, the LM head + loss) that order's bubble is below o / 6 from
  2p - 1 micro-batches on, and below the ramp under it: `mirrored_stages.zb_v_end_chunks_s` on top (hZ3,
  session 39; the ramp hZ40, session 40).
* DualPipe (DeepSeek-V3, arXiv:2412.19437 Sec. 3.2.1, Table 2): micro-batches enter from both ends; rank i
  holds stages i and p-1-i, so every rank keeps 2x the parameters of a stage and p + 1 micro-batches of
  activations (Table 2); one forward and one backward chunk of opposite directions overlap ("F&B"), hiding
  the EP all-to-all and PP traffic. Bubble (p/2 - 1)(F&B + B - 3W) with B the whole backward and F&B ~ F + B
  (compute-bound chunks overlap communication, not each other) -> (p/2 - 1)(T_F + 2 T_B - T_W) of the split
  above. Needs an even PP > 1, no virtual stages (the two chunks are the schedule's own) and an even m >= 2p
  (micro-batches are fed in two halves, each at least PP: DeepSeek's DualPipe, `dualpipe/dualpipe.py` line 333 of
  the PyPI release 1.0.0, `DualPipe.step` asserts `num_chunks % 2 == 0 and num_chunks >= num_ranks * 2`).

Micro-batch rules (`MICRO_BATCH_RULES`, a stack's `pipeline_micro_batch_rules`): the counts m a framework accepts.
megatron: the rules above (`ScheduleModel.batches_valid`: interleaved m a multiple of p, DualPipe its own; 1F1B,
ZB-H1, ZB-V any m). torch (torch.distributed.pipelining 2.13.0, schedules.py): Schedule1F1B raises when m < p
(:1020-1024; its order for m >= p is Megatron's: p - rank warm-up forwards then B, F alternately, :1026-1177),
ScheduleInterleaved1F1B and ScheduleInterleavedZeroBubble need m % max(1, m // p) == 0 (:2935-2942, :3046-3053),
ScheduleZBVZeroBubble none; DualPipe keeps its own (torch's DualPipeV is another schedule).

Uneven stages. The stages are not equal: the last one also runs the LM head and loss, and a whole-layer split
leaves some stages a layer short. With stage times t_i (forward + backward of one micro-batch), 1F1B's critical
path is the first micro-batch's forward down all stages, m micro-batches on the heaviest stage and the last
one's backward back up: sum_i t_i + (m - 1) max_i t_i, exact when the heaviest stage is the last (the
makespan of a synchronous pipeline with unequal stages; with equal stages Narayanan et al.'s (m + p - 1) t).
So every bubble above is written on o = sum_{i != heaviest} t_i, the other stages' time, in place of
(p - 1) t_stage (equal stages: the same numbers): 1F1B o; interleaved o / v (m >= p) and, below p, all chunks
of one micro-batch plus (m - 1) chunk times of the heaviest stage, o - (m - 1)(1 - 1/v) t_stage, floored at
o / v; ZB-H1 / ZB-V o times their shares; DualPipe (p/2 - 1)/(p - 1) of o times its share. `step_time`
passes o from the stage split (`training.step_assembly`); 1F1B / ZB-H1 with the first rank the heaviest:
`schedules.three_rank_kinds_s` on top (the exact bubble of torch's order on the first, middle and last rank kinds;
below p micro-batches Megatron's 1F1B order and torch's ZB-H1, the latter whichever rank is the heaviest);
interleaved: `interleaved_first_chunk_s` (the last rank the heaviest; below p micro-batches, on whole chunks,
`interleaved_last_heaviest_few_s`), `interleaved_middle_heaviest_s` (a middle one, both end chunks lighter) or
`interleaved_first_heaviest_s` (rank 0, its first chunk heavier than a plain one) on top (the exact bubble of the
order on the first, plain and last chunk kinds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infraplan.scalar_path import is_plain, larger, pick, smaller, to_float
from infraplan.training.enums import Schedule
from infraplan.training.stage_split import interleaved_chunks, one_f_one_b_chunks

__all__ = ["MICRO_BATCH_RULES", "PIPELINE_SCHEDULES", "ZB_SPLIT", "Array", "ArrayLike", "Mask", "ScheduleModel",
           "round_size"]

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]
ArrayLike = np.ndarray | float  # an array over plans, or one value for all (ints are floats to the checker)


# `to_float` itself (a float for one plan's number, `PlanArrays.one_row`), typed for the formulas: no wrapper call
_f: Callable[[ArrayLike], Array] = to_float


def _a(x: ArrayLike) -> Any:
    """An array as numpy sees it; one plan's plain number as it is (the rules below then give a plain bool)."""
    return x if is_plain(x) else np.asarray(x)


def _mask(x: Any) -> Mask:
    """A rule's verdicts as a boolean array, or one plan's verdict as a plain bool."""
    return bool(x) if is_plain(x) else np.asarray(x, dtype=np.bool_)  # type: ignore[return-value]


def _always(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike) -> Mask:
    if is_plain(pp) and is_plain(vpp) and is_plain(micro_batches):
        return True  # type: ignore[return-value]  # one plan
    return np.ones(np.broadcast(np.asarray(pp), np.asarray(vpp), np.asarray(micro_batches)).shape, dtype=np.bool_)


@dataclass(frozen=True)
class ScheduleModel:
    """One pipeline schedule.

    bubble(pp, vpp, micro_batches, stage_s, others_s=None): idle seconds per step on the heaviest stage;
    `others_s` the other stages' seconds per micro-batch added up (None: (p - 1) stage_s, equal stages).
    in_flight(pp, vpp, micro_batches): micro-batches whose activations the first stage holds at its peak.
    parameter_copies: stage parameters (weights, gradients, optimizer state) each rank holds (DualPipe: 2).
    stage_chunks(pp, vpp, micro_batches, parts): model chunks in flight at the peak of each stage kind (the `parts`
    of `stage_in_flight`; the others may be 0);
    None: a rank holds mirrored stages (ZB-V, DualPipe), every rank at the first stage's `in_flight`.
    valid(pp, vpp): which plans the schedule can run; `requirement` says why the others cannot.
    batches_valid(pp, vpp, micro_batches): which micro-batch counts the framework accepts;
    `batches_requirement` is the framework's rule (Megatron's: the `megatron` rule set).
    other_batch_rules: (rule set, batches_valid, requirement) where another framework's rule differs
    (`MICRO_BATCH_RULES`); `batch_rule(rules)` picks one.
    """

    bubble: Callable[..., Array]
    in_flight: Callable[[ArrayLike, ArrayLike, ArrayLike], Array]
    valid: Callable[[ArrayLike, ArrayLike], Mask]
    requirement: str
    batches_valid: Callable[[ArrayLike, ArrayLike, ArrayLike], Mask] = _always
    batches_requirement: str = ""
    parameter_copies: float = 1.0
    stage_chunks: Callable[[ArrayLike, ArrayLike, ArrayLike, tuple[int, ...]], tuple[Any, ...]] | None = None
    other_batch_rules: tuple[tuple[str, Callable[[ArrayLike, ArrayLike, ArrayLike], Mask], str], ...] = ()

    def batch_rule(self, rules: str = "megatron") -> tuple[Callable[[ArrayLike, ArrayLike, ArrayLike], Mask], str]:
        """(batches_valid, requirement) of the rule set `rules` (`MICRO_BATCH_RULES`): its own where it has one,
        else the schedule's (Megatron's); an empty requirement: no rule on m."""
        for name, valid, requirement in self.other_batch_rules:
            if name == rules:
                return valid, requirement
        return self.batches_valid, self.batches_requirement


# whose rules on the micro-batches per step a stack's schedules keep (`Stack.pipeline_micro_batch_rules`)
MICRO_BATCH_RULES = ("megatron", "torch")


def round_size(pp: ArrayLike, micro_batches: ArrayLike) -> Any:
    """Micro-batches per round g of torch's interleaved schedules: m // max(1, m // p) (torch 2.13.0
    schedules.py:2935-2936, `microbatches_per_round`); p wherever m is a multiple of p (Megatron's group)."""
    p, m = _f(pp), _f(micro_batches)
    return m // larger(m // larger(p, 1.0), 1.0)


def _others(pp: ArrayLike, stage_s: ArrayLike, others_s: ArrayLike | None) -> Array:
    """Seconds per micro-batch of all stages but the heaviest, added up: (p - 1) t_stage for equal stages."""
    return (_f(pp) - 1.0) * _f(stage_s) if others_s is None else _f(others_s)


def _one_f_one_b_bubble(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike, stage_s: ArrayLike,
                        others_s: ArrayLike | None = None) -> Array:
    return _others(pp, stage_s, others_s)  # sum_i t_i + (m - 1) max_i t_i = m t_stage + the other stages


def _one_f_one_b_in_flight(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike) -> Array:
    return smaller(pp, micro_batches) * 1.0  # type: ignore[no-any-return]


def _one_f_one_b_valid(pp: ArrayLike, vpp: ArrayLike) -> Mask:
    return _mask(_a(vpp) == 1)


def _interleaved_bubble(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike, stage_s: ArrayLike,
                        others_s: ArrayLike | None = None) -> Array:
    v, m, t = _f(vpp), _f(micro_batches), _f(stage_s)
    o = _others(pp, stage_s, others_s)
    steady = o / v  # m >= p: the warm-up and cool-down of one chunk per stage
    # m < p: every chunk of one micro-batch, then (m - 1) chunk times of the heaviest stage, minus its m t of work
    wave = larger(o - (m - 1.0) * (1.0 - 1.0 / v) * t, steady)
    return pick(m >= _f(pp), steady, wave)  # type: ignore[no-any-return]


def _interleaved_in_flight(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike) -> Array:
    p, v, m = _f(pp), _f(vpp), _f(micro_batches)
    g = round_size(pp, micro_batches)  # p at every m Megatron accepts; torch's round otherwise
    chunks = smaller(m * v, (p - 1.0) * 2.0 + (v - 1.0) * g + 1.0)  # warm-up + 1, capped at m v
    return chunks / v  # type: ignore[no-any-return]


def _interleaved_valid(pp: ArrayLike, vpp: ArrayLike) -> Mask:
    return _mask((_a(pp) > 1) & (_a(vpp) > 1))


def _interleaved_batches_valid(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike) -> Mask:
    p, m = _a(pp), _a(micro_batches)
    return _mask((m >= p) & (m % larger(p, 1) == 0))


def _torch_rounds_valid(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike) -> Mask:
    p, m = _a(pp), _a(micro_batches)
    return _mask(m % larger(m // larger(p, 1), 1) == 0)  # torch: m a multiple of its rounds max(1, m // p)


def _torch_one_f_one_b_valid(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike) -> Mask:
    return _mask(_a(micro_batches) >= _a(pp))


_TORCH_ROUNDS = ("needs micro-batches per step (global batch / (DP x micro-batch)) to be a multiple of its rounds, "
                 "max(1, micro-batches // PP) (torch.distributed.pipelining 2.13: \"requires the number of "
                 "microbatches to be a multiple of the number of rounds\")")


# T_F : T_B : T_W (forward, input gradient, weight gradient) as shares of the stage time per micro-batch
ZB_SPLIT = (1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0)


def _zb_h1_bubble(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike, stage_s: ArrayLike,
                  others_s: ArrayLike | None = None) -> Array:
    p, m, o = _f(pp), _f(micro_batches), _others(pp, stage_s, others_s)
    f, b, w = ZB_SPLIT
    filled = smaller(m - 1.0, p - 1.0) / larger(p - 1.0, 1.0)  # W passes off the critical path, of p - 1
    return o * (f + b - w * filled)  # type: ignore[no-any-return]


def _zb_v_bubble(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike, stage_s: ArrayLike,
                 others_s: ArrayLike | None = None) -> Array:
    p, m, o = _f(pp), _f(micro_batches), _others(pp, stage_s, others_s)
    f, b, w = ZB_SPLIT
    steady = o * max(f, f + b - 2.0 * w) / 2.0  # chunk passes are half the stage's
    # fewer than 2p - 1 micro-batches: torch's order with idle slots; each of the first m - 1 W passes fills one
    ramp = o * (f + b - w * (m - 1.0) / larger(p - 1.0, 1.0))
    return larger(ramp, steady)  # type: ignore[no-any-return]


def _zb_v_valid(pp: ArrayLike, vpp: ArrayLike) -> Mask:
    return _mask((_a(pp) > 1) & (_a(vpp) == 2))


def _pipeline_no_chunks(pp: ArrayLike, vpp: ArrayLike) -> Mask:
    return _mask((_a(pp) > 1) & (_a(vpp) == 1))


def _dualpipe_bubble(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike, stage_s: ArrayLike,
                     others_s: ArrayLike | None = None) -> Array:
    p, o = _f(pp), _others(pp, stage_s, others_s)
    f, b, w = ZB_SPLIT
    # (p/2 - 1) of the p - 1 other stages' times, each (F&B + B - 3W) = (T_F + 2 T_B - T_W) of a stage
    return larger(p / 2.0 - 1.0, 0.0) / larger(p - 1.0, 1.0) * o * ((f + (b + w)) + (b + w) - 3.0 * w)  # type: ignore[no-any-return]


def _dualpipe_in_flight(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike) -> Array:
    return smaller(_f(pp) + 1.0, _f(micro_batches))  # type: ignore[no-any-return]


def _dualpipe_valid(pp: ArrayLike, vpp: ArrayLike) -> Mask:
    p = _a(pp)
    return _mask((p > 1) & (p % 2 == 0) & (_a(vpp) == 1))


def _dualpipe_batches_valid(pp: ArrayLike, vpp: ArrayLike, micro_batches: ArrayLike) -> Mask:
    m = _a(micro_batches)
    return _mask((m >= 2 * _a(pp)) & (m % 2 == 0))


PIPELINE_SCHEDULES: dict[Schedule, ScheduleModel] = {
    Schedule.ONE_F_ONE_B: ScheduleModel(
        _one_f_one_b_bubble, _one_f_one_b_in_flight, _one_f_one_b_valid, "has no virtual stages (--vpp 1)",
        stage_chunks=one_f_one_b_chunks, other_batch_rules=((
            "torch", _torch_one_f_one_b_valid, "needs at least PP micro-batches per step (global batch / (DP x "
            "micro-batch)) (torch.distributed.pipelining 2.13 Schedule1F1B: \"Number of microbatches must be "
            "greater than or equal to the number of stages\")"),)),
    Schedule.INTERLEAVED: ScheduleModel(
        _interleaved_bubble, _interleaved_in_flight, _interleaved_valid, "needs PP > 1 and --vpp > 1",
        _interleaved_batches_valid,
        "needs micro-batches per step (global batch / (DP x micro-batch)) to be a multiple of PP "
        "(Megatron-LM: number of microbatches must be divisible by pipeline-parallel size)",
        stage_chunks=interleaved_chunks, other_batch_rules=(("torch", _torch_rounds_valid, _TORCH_ROUNDS),)),
    Schedule.ZB_H1: ScheduleModel(_zb_h1_bubble, _one_f_one_b_in_flight, _pipeline_no_chunks,
                                  "needs PP > 1 and no virtual stages (--vpp 1)", stage_chunks=one_f_one_b_chunks,
                                  other_batch_rules=(("torch", _torch_rounds_valid, _TORCH_ROUNDS),)),
    Schedule.ZB_V: ScheduleModel(
        _zb_v_bubble, _one_f_one_b_in_flight, _zb_v_valid, "needs PP > 1 and exactly 2 chunks per rank (--vpp 2)"),
    Schedule.DUALPIPE: ScheduleModel(
        _dualpipe_bubble, _dualpipe_in_flight, _dualpipe_valid, "needs an even PP > 1 and --vpp 1",
        _dualpipe_batches_valid, "needs an even number of micro-batches per step, at least 2 PP (fed from both ends, "
        "each half at least PP: DualPipe.step asserts num_chunks >= num_ranks * 2)",
        parameter_copies=2.0),
}
