"""Pipeline schedules are one table: the bubble, in-flight activations and validity each schedule defines."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest
from numpy.typing import ArrayLike

from infraplan.catalog import load_model
from infraplan.cluster.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training import schedules
from infraplan.training.enums import Dtype, Schedule
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.plan import PlanArrays, plan_violations, valid_mask
from infraplan.training.schedules import PIPELINE_SCHEDULES, ScheduleModel

CLUSTER = Cluster.resolve("dgx-h100-superpod")
SHAPE = load_model("llama3-8b")
TOY = 99  # an unused schedule code


def plan(**kw: object) -> PlanArrays:
    cols = dict(tp=2, pp=4, dp=8, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=256, seq_len=4096, recompute=0,
                zero=1, dtype=0)
    cols.update(kw)
    return PlanArrays.build(**cols)


def _no_bubble(pp: ArrayLike, vpp: ArrayLike, m: ArrayLike, stage_s: ArrayLike) -> np.ndarray:
    return np.zeros(np.shape(stage_s))


def _one_in_flight(pp: ArrayLike, vpp: ArrayLike, m: ArrayLike) -> np.ndarray:
    return np.ones(np.shape(pp))


@pytest.fixture
def toy_schedule() -> Iterator[int]:
    """A made-up schedule (no bubble, one micro-batch in flight, PP > 1 only), registered for one test."""
    PIPELINE_SCHEDULES[TOY] = ScheduleModel(_no_bubble, _one_in_flight,  # type: ignore[index]
                                            lambda pp, vpp: (np.asarray(pp) > 1) & (np.asarray(vpp) == 1),
                                            "needs PP > 1")
    try:
        yield TOY
    finally:
        del PIPELINE_SCHEDULES[TOY]  # type: ignore[arg-type]


def test_a_schedule_registered_in_the_table_drives_step_time_and_memory(toy_schedule: int) -> None:
    base = plan(schedule=Schedule.ONE_F_ONE_B)
    toy = dataclasses.replace(base, schedule=np.array([toy_schedule]))
    assert valid_mask(SHAPE, toy).all()
    a, b = evaluate_plans(SHAPE, CLUSTER, base), evaluate_plans(SHAPE, CLUSTER, toy)
    assert a["pp_bubble"][0] > 0 and b["pp_bubble"][0] == 0.0
    assert b["step_time_s"][0] == pytest.approx(a["step_time_s"][0] - a["pp_bubble"][0], rel=1e-12)
    # 1F1B holds min(pp, m) = 4 micro-batches of activations on the first stage, the toy one
    assert b["mem_activations"][0] == pytest.approx(a["mem_activations"][0] / 4, rel=1e-12)
    assert b["mem_weights"][0] == a["mem_weights"][0]
    # and its validity rule applies
    single = dataclasses.replace(plan(pp=1, dp=32), schedule=np.array([toy_schedule]))
    reasons = [reason for bad, reason in plan_violations(SHAPE, single) if bad[0]]
    assert reasons == ["the 99 pipeline schedule needs PP > 1"]


def test_the_toy_schedule_is_gone_after_the_test() -> None:
    assert TOY not in PIPELINE_SCHEDULES
    bad = dataclasses.replace(plan(), schedule=np.array([TOY]))
    assert not valid_mask(SHAPE, bad).any()


def test_default_schedule_follows_vpp_and_reproduces_the_bubble() -> None:
    p = plan(pp=4, vpp=np.array([1, 2, 4]), dp=8)
    assert list(p.schedule) == [Schedule.ONE_F_ONE_B, Schedule.INTERLEAVED, Schedule.INTERLEAVED]
    stage = np.array([2.0, 2.0, 2.0])
    bubble = schedules.pipeline_bubble(p.schedule, p.pp, p.vpp, p.micro_batches, stage)
    np.testing.assert_allclose(bubble, [3 * 2.0, 3 / 2 * 2.0, 3 / 4 * 2.0], rtol=1e-15)
    flight = schedules.in_flight_micro_batches(p.schedule, p.pp, p.vpp, p.micro_batches)
    np.testing.assert_allclose(flight, [4.0, 4 * (1 + 3 / 8), 4 * (1 + 3 / 16)], rtol=1e-15)


def test_schedule_validity_and_the_cli_option() -> None:
    kw = dict(tp=2, pp=4, seq_len=4096, global_batch=256)
    interleaved = estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=2, **kw)
    assert interleaved.config.schedule == "interleaved"
    plain = estimate_training("llama3-8b", "dgx-h100-superpod", 64, **kw)
    assert plain.config.schedule == "1f1b"
    assert interleaved.breakdown.pp_bubble < plain.breakdown.pp_bubble
    with pytest.raises(InputError, match="1f1b pipeline schedule has no virtual stages"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=2, schedule="1f1b", **kw)
    with pytest.raises(InputError, match="interleaved pipeline schedule needs"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 64, schedule="interleaved", **kw)
    with pytest.raises(InputError, match="--schedule must be one of 1f1b, interleaved"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 64, schedule="zb-h1", **kw)


def test_enums_are_ints_with_cli_strings() -> None:
    assert Dtype.FP8 == 1 and str(Dtype.FP8) == "fp8" and f"{Schedule.ONE_F_ONE_B}" == "1f1b"
    assert Schedule.parse("interleaved", "--schedule") is Schedule.INTERLEAVED
    assert plan(dtype=Dtype.FP8).dtype.dtype == np.int64
    assert plan(vpp=2).row(0)["schedule"] == "interleaved"
