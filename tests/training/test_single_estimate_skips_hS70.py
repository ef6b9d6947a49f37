"""hS70 (session 49): a single estimate's terms that read nothing of its sequence kept, and terms its answer drops not
computed, each held to the code it skips (bit for bit) and to a rebuilt schedule table.

* `grid_in_flight._one_plan_in_flight`: one plan's chunks in flight by (schedule, PP, V, micro-batches, parts),
  kept with the schedule's model (a model registered or replaced later is priced anew).
* `schedules.one_plan_schedule_reason`: a valid verdict kept with the model it was asked of.
* `rank_kind_bubbles.three_rank_kinds_s`: 0.0 at once for one plan of a schedule other than 1F1B / ZB-H1;
  `interleaved_first_chunk_s`: a non-positive excess does not read the round size.
* `estimate.finish_training`: the causal-scores ratio read only for a ceiling published with the causal half.
* `communicator_buffers.communicator_buffer_bytes`: one plan's kept by the degrees and group strides it reads.
* `attention_core.softmax_falls_back` False at once for one plan on a fused kernel, `activation_memory.
  recomputed_layers` 0.0 at once for one plan without full recompute (what their last `&` / `pick` gives).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.published_mfu import PublishedMfu
from infraplan.training import communicator_buffers, estimate, grid_in_flight, schedules
from infraplan.training.activation_memory import recomputed_layers
from infraplan.training.attention_core import softmax_falls_back
from infraplan.training.enums import Attention, Recompute, Schedule
from infraplan.training.estimate import estimate_training
from infraplan.training.flops import causal_flops_ratio
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.rank_kind_bubbles import interleaved_first_chunk_s, three_rank_kinds_s
from infraplan.training.results import published_mfu_flag
from infraplan.training.schedules import PIPELINE_SCHEDULES, ScheduleModel, stage_in_flight

TOY = 97  # a code no schedule registers


def _bits(values: Any) -> list[str]:
    return [float(v).hex() for v in values]


def _toy(in_flight: float, valid: bool = True) -> ScheduleModel:
    return ScheduleModel(lambda pp, vpp, m, stage_s, others_s=None: np.zeros(np.shape(stage_s)),
                         lambda pp, vpp, m: np.full(np.shape(pp), in_flight),
                         lambda pp, vpp: np.full(np.shape(pp), valid), "needs nothing" if valid else "runs nowhere")


@pytest.fixture
def toy_code() -> Iterator[int]:
    try:
        yield TOY
    finally:
        PIPELINE_SCHEDULES.pop(TOY, None)  # type: ignore[call-overload]


PARTS = [(0, 1, 2, 3, 4), (0, 3), (0, 2, 3)]


@pytest.mark.parametrize("code", [int(s) for s in Schedule])
def test_kept_chunks_in_flight_are_the_priced_ones(code: int) -> None:
    for pp, vpp, m in [(1, 1, 8), (2, 1, 1), (4, 1, 3), (4, 2, 8), (8, 4, 64), (16, 8, 128), (3, 2, 5)]:
        for parts in PARTS:
            kept = grid_in_flight._one_plan_in_flight(code, pp, vpp, m, parts)
            assert _bits(kept) == _bits(stage_in_flight(code, pp, vpp, m, parts))  # type: ignore[arg-type]
            assert grid_in_flight._one_plan_in_flight(code, pp, vpp, m, parts) is kept  # (kept)


def test_a_schedule_registered_again_is_priced_anew(toy_code: int) -> None:
    PIPELINE_SCHEDULES[toy_code] = _toy(1.0)  # type: ignore[index]
    first = grid_in_flight._one_plan_in_flight(toy_code, 4, 1, 8, PARTS[0])
    assert first[0] == 1.0 and grid_in_flight._one_plan_in_flight(toy_code, 4, 1, 8, PARTS[0]) is first
    PIPELINE_SCHEDULES[toy_code] = _toy(3.0)  # type: ignore[index]  # another model under the same code
    assert grid_in_flight._one_plan_in_flight(toy_code, 4, 1, 8, PARTS[0])[0] == 3.0
    del PIPELINE_SCHEDULES[toy_code]  # type: ignore[arg-type]
    assert grid_in_flight._one_plan_in_flight(toy_code, 4, 1, 8, PARTS[0]) == (0.0,) * 5  # unknown: nothing


def test_a_kept_valid_verdict_follows_its_model(toy_code: int) -> None:
    assert schedules.one_plan_schedule_reason(int(Schedule.INTERLEAVED), 4, 2, 8) is None
    assert schedules._VALID[(int(Schedule.INTERLEAVED), 4, 2, 8, "megatron")] is PIPELINE_SCHEDULES[
        Schedule.INTERLEAVED]
    assert schedules.one_plan_schedule_reason(int(Schedule.INTERLEAVED), 4, 2, 8) is None  # (kept)
    assert schedules.one_plan_schedule_reason(int(Schedule.INTERLEAVED), 4, 3, 2) is not None  # m < p: not kept
    PIPELINE_SCHEDULES[toy_code] = _toy(1.0)  # type: ignore[index]
    assert schedules.one_plan_schedule_reason(toy_code, 4, 1, 8) is None
    PIPELINE_SCHEDULES[toy_code] = _toy(1.0, valid=False)  # type: ignore[index]
    assert schedules.one_plan_schedule_reason(toy_code, 4, 1, 8) == f"the {toy_code} pipeline schedule runs nowhere"
    del PIPELINE_SCHEDULES[toy_code]  # type: ignore[arg-type]
    assert schedules.one_plan_schedule_reason(toy_code, 4, 1, 8).startswith("unknown pipeline schedule")  # type: ignore[union-attr]


# (p, m, stage, others, first, first fwd, middle, middle fwd, last) of three rank kinds, m >= p and below
KINDS = [(4.0, 8.0, 1.0, 2.5, 1.0, 0.3, 0.8, 0.25, 0.7), (4.0, 2.0, 1.2, 2.9, 0.9, 0.3, 1.2, 0.4, 0.8)]


@pytest.mark.parametrize("code", [int(s) for s in Schedule])
def test_three_rank_kinds_of_one_plan_are_the_grids(code: int) -> None:
    for p, m, *rest in KINDS:
        one = three_rank_kinds_s(code, p, m, *rest)
        grid = three_rank_kinds_s(np.array([code]), p, m, *rest)
        assert float(one).hex() == float(np.ravel(grid)[0]).hex()
        if code not in (int(Schedule.ONE_F_ONE_B), int(Schedule.ZB_H1)):
            assert type(one) is float and one == 0.0 and not math.copysign(1.0, one) < 0.0
        elif m >= p:
            assert one != 0.0  # (the kinds above make a bubble of their own: the case is not vacuous)


@pytest.mark.parametrize("excess", [0.0, -0.0, -3.5e-4, 2.0e-3, float("nan")])
def test_the_first_chunks_excess_of_one_plan_is_the_grids(excess: float) -> None:
    for code in (int(Schedule.INTERLEAVED), int(Schedule.ONE_F_ONE_B)):
        for pp, vpp, m in [(4, 2, 8), (4, 3, 6), (8, 2, 12), (2, 4, 2)]:
            one = interleaved_first_chunk_s(code, pp, vpp, m, excess)
            grid = float(np.ravel(interleaved_first_chunk_s(np.array([code]), np.array([pp]), np.array([vpp]),
                                                            np.array([m]), np.array([excess])))[0])
            assert type(one) is float
            assert (math.isnan(one) and math.isnan(grid)) or one.hex() == grid.hex(), (code, pp, vpp, m)


PLAN = dict(tp=4, pp=4, vpp=2, seq_len=8192, global_batch=512, dtype="fp8")


@pytest.mark.parametrize("convention", ["causal_scores", "full_scores"])
def test_the_mfu_flag_reads_the_causal_ratio_only_for_a_causal_figure(convention: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    free = estimate_training("llama3-70b", "dgx-h100-superpod", 512, **PLAN)  # type: ignore[arg-type]
    causal = float(causal_flops_ratio(load_model("llama3-70b"), 8192))
    assert causal < 1.0
    # a ceiling between the causal-counted MFU and the plan's own: flagged only where the ratio is not applied
    ceiling = PublishedMfu(family="hopper", stack="megatron", dtype="fp8", mfu=free.mfu * (1.0 + causal) / 2.0,
                           flop_convention=convention, source="a test figure")  # type: ignore[arg-type]
    monkeypatch.setattr(estimate, "mfu_ceiling", lambda *args: ceiling)
    clear_one_plan_memo()
    flagged = estimate_training("llama3-70b", "dgx-h100-superpod", 512, **PLAN)  # type: ignore[arg-type]
    assert flagged.mfu == free.mfu
    assert flagged.beyond_published_mfu is (convention == "full_scores")
    want = published_mfu_flag(free.mfu, ceiling, causal_ratio=causal)
    assert flagged.beyond_published_mfu_reason == want.get("beyond_published_mfu_reason")


CASES = [("llama3-70b", "dgx-h100-superpod", 512, dict(tp=8, pp=4, seq_len=4096, global_batch=256)),  # 1F1B
         ("llama3-405b", "meta-genai-roce-24k", 16384,
          dict(tp=8, pp=16, vpp=8, seq_len=8192, global_batch=2048, zero=3)),  # interleaved, the benchmark's
         ("llama3-70b", "dgx-h100-superpod", 512, dict(tp=8, pp=8, schedule="zb-v", seq_len=4096,
                                                       global_batch=512))]


@pytest.mark.parametrize("case", CASES, ids=["1f1b", "interleaved", "zb-v"])
def test_an_answer_after_kept_terms_is_the_cold_one(case: tuple[str, str, int, dict[str, Any]]) -> None:
    model, system, gpus, plan = case
    estimate_training(model, system, gpus, **{**plan, "seq_len": plan["seq_len"] - 256})  # keeps its terms
    clear_one_plan_memo(pricings=False)
    warm = estimate_training(model, system, gpus, **plan)
    clear_one_plan_memo()
    grid_in_flight._IN_FLIGHT.clear()
    schedules._VALID.clear()
    cold = estimate_training(model, system, gpus, **plan)
    assert warm.model_dump_json() == cold.model_dump_json() and repr(warm) == repr(cold)


BUFFER_PLANS = [dict(tp=8, pp=16, dp=128, cp=1, ep=1), dict(tp=2, pp=4, dp=16, cp=2, ep=8),
                dict(tp=1, pp=1, dp=64, cp=1, ep=1, zero_shard=8), dict(tp=2, pp=2, dp=8, cp=1, ep=4, etp=1),
                dict(tp=4, pp=8, dp=2, cp=4, ep=2, order=1)]


@pytest.mark.parametrize("fields", BUFFER_PLANS)
@pytest.mark.parametrize("moe", [False, True])
def test_kept_communicator_buffers_are_the_counted_ones(fields: dict[str, int], moe: bool) -> None:
    base = dict(etp=None, vpp=1, micro_batch=1, global_batch=4096, recompute=0, zero=1, dtype=0, attention=0,
                order=0, sequence_parallel=1)
    communicator_buffers._BUFFERS.clear()
    kept = None
    for seq_len in (4096, 8192):  # plans that differ only in their sequence: one count
        plan = PlanArrays.one_plan(**{**base, **fields, "seq_len": seq_len})  # type: ignore[arg-type]
        one = communicator_buffers.communicator_buffer_bytes(plan.one_row, moe)
        grid = float(np.ravel(communicator_buffers.communicator_buffer_bytes(plan, moe))[0])  # (its arrays)
        assert type(one) is float and one.hex() == grid.hex()
        assert one.hex() == float(communicator_buffers._buffer_bytes(plan.one_row, moe)).hex()
        assert kept is None or one is kept
        kept = one
    assert len(communicator_buffers._BUFFERS) == 1


def test_plans_differing_in_one_read_field_keep_their_own_buffers() -> None:
    base = dict(etp=None, vpp=1, micro_batch=1, global_batch=4096, seq_len=4096, recompute=0, zero=1, dtype=0,
                attention=0, order=0, sequence_parallel=1)
    communicator_buffers._BUFFERS.clear()
    seen = set()
    for fields in [*BUFFER_PLANS, dict(tp=8, pp=16, dp=128, cp=1, ep=1, zero_shard=64),
                   dict(tp=8, pp=16, dp=128, cp=1, ep=1, order=1), dict(tp=2, pp=4, dp=16, cp=2, ep=4)]:
        for moe in (False, True):  # (each kept beside the others: a key missing a read field would share a value)
            plan = PlanArrays.one_plan(**{**base, **fields})  # type: ignore[arg-type]
            one = communicator_buffers.communicator_buffer_bytes(plan.one_row, moe)
            assert one == float(np.ravel(communicator_buffers.communicator_buffer_bytes(plan, moe))[0])
            seen.add(one)
    assert len(seen) > 8  # (the plans' counts differ: the check compares distinct values)


@pytest.mark.parametrize("attention", [int(a) for a in Attention])
@pytest.mark.parametrize("recompute", [int(r) for r in Recompute])
def test_one_plans_softmax_fallback_and_recomputed_layers_are_the_grids(attention: int, recompute: int) -> None:
    base = dict(pp=2, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=64, zero=1, dtype=0, order=0,
                sequence_parallel=1)
    shape = load_model("llama3-8b")
    falls = []
    for tp, seq_len, layers in [(2, 2048, 0), (8, 4096, 2), (4, 8192, 0), (1, 1024, 3)]:
        block = layers if recompute == int(Recompute.FULL) else 0
        plan = PlanArrays.one_plan(**{**base, "tp": tp, "dp": 4, "seq_len": seq_len, "attention": attention,  # type: ignore[arg-type]
                                      "recompute": recompute, "recompute_layers": block})
        one, grid = softmax_falls_back(shape, plan.one_row), softmax_falls_back(shape, plan)
        assert type(one) is bool and one is bool(np.ravel(grid)[0])
        falls.append(one)
        for stage_layers in (0.0, 3.0, 16.0):
            kept = recomputed_layers(plan.one_row, stage_layers)
            assert float(kept).hex() == float(np.ravel(recomputed_layers(plan, np.array([stage_layers])))[0]).hex()
            assert (kept != 0.0) is (recompute == int(Recompute.FULL) and stage_layers > 0.0)
    if attention == int(Attention.UNFUSED):
        assert any(falls) and not all(falls)  # (the unfused kernel falls back at some of these shapes only)
