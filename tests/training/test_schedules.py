"""Pipeline schedules are one table: the bubble, in-flight activations and validity each schedule defines."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest
from numpy.typing import ArrayLike
from tests.training.conftest import any_split

from infraplan.catalog import load_model
from infraplan.cluster.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training import schedule_models, schedules
from infraplan.training.enums import Dtype, Schedule
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import plan_violations, valid_mask
from infraplan.training.schedules import PIPELINE_SCHEDULES, ScheduleModel

CLUSTER = Cluster.resolve("dgx-h100-superpod")
SHAPE = load_model("llama3-8b")
TOY = 99  # an unused schedule code


def plan(**kw: object) -> PlanArrays:
    cols = dict(tp=2, pp=4, dp=8, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=256, seq_len=4096, recompute=0,
                zero=1, dtype=0)
    cols.update(kw)
    return PlanArrays.build(**cols)


def _no_bubble(pp: ArrayLike, vpp: ArrayLike, m: ArrayLike, stage_s: ArrayLike,
               others_s: ArrayLike | None = None) -> np.ndarray:
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
    # 1F1B holds min(pp, m) = 4 micro-batches of activations on the first stage, the toy one; a schedule without
    # per-stage counts holds mirrored stages (`schedules._mirrored_chunks`): its first rank the loss's logits (hZ)
    logits = 4096 * SHAPE.vocab_size / 2 * 4.0
    assert b["mem_activations"][0] == pytest.approx(a["mem_activations"][0] / 4 + logits, rel=1e-12)
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
    plain = estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=1, **kw)
    assert plain.config.schedule == "1f1b"
    assert interleaved.breakdown_s.pp_bubble < plain.breakdown_s.pp_bubble
    with pytest.raises(InputError, match="1f1b pipeline schedule has no virtual stages"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=2, schedule="1f1b", **kw)
    with pytest.raises(InputError, match="interleaved pipeline schedule needs"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=1, schedule="interleaved", **kw)
    with pytest.raises(InputError, match="--schedule must be one of 1f1b, interleaved, zb-h1, dualpipe, zb-v"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 64, schedule="zb-x", **kw)
    with pytest.raises(InputError, match="dualpipe pipeline schedule needs an even PP"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 48, tp=2, pp=3, seq_len=4096, global_batch=240,
                          schedule="dualpipe", stack=any_split("llama3-8b"))  # (32 layers on PP3: hR44)


def test_zero_bubble_and_dualpipe_bubbles_follow_their_papers() -> None:
    """ZB-H1: (p-1)(F+B-W) = (p-1) t/3 with F = B = W (Qi et al.); DualPipe: (p/2-1)(F&B+B-3W) with B the whole
    backward and F&B = F + B (DeepSeek-V3 Table 2) = (p/2-1) 2t/3; both below 1F1B's (p-1) t."""
    p, m, t = 8.0, 32.0, 3.0
    one_f_one_b = schedules.PIPELINE_SCHEDULES[Schedule.ONE_F_ONE_B].bubble(p, 1.0, m, t)
    zb = schedules.PIPELINE_SCHEDULES[Schedule.ZB_H1].bubble(p, 1.0, m, t)
    dual = schedules.PIPELINE_SCHEDULES[Schedule.DUALPIPE].bubble(p, 1.0, m, t)
    assert float(one_f_one_b) == pytest.approx(7 * 3.0)
    assert float(zb) == pytest.approx(7 * 1.0)
    assert float(dual) == pytest.approx(3 * 2.0)
    # too few micro-batches to fill the cool-down with W passes: (p-1)(F+B) - (m-1) W
    assert float(schedules.PIPELINE_SCHEDULES[Schedule.ZB_H1].bubble(p, 1.0, 2.0, t)) == pytest.approx(7 * 2.0 - 1.0)


def test_dualpipe_memory_doubles_parameters_and_holds_pp_plus_one_micro_batches() -> None:
    kw = dict(tp=2, pp=4, seq_len=4096, global_batch=256)
    plain = estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=1, **kw)  # 1F1B
    zb = estimate_training("llama3-8b", "dgx-h100-superpod", 64, schedule="zb-h1", **kw)
    dual = estimate_training("llama3-8b", "dgx-h100-superpod", 64, schedule="dualpipe", **kw)
    mp, mz, md = plain.memory_breakdown_bytes, zb.memory_breakdown_bytes, dual.memory_breakdown_bytes
    assert mz == mp  # ZB-H1 keeps 1F1B's memory
    assert md.weights == pytest.approx(2 * mp.weights) and md.optimizer == pytest.approx(2 * mp.optimizer)
    # pp + 1 vs pp in flight; rank 0 also holds the reverse direction's last stage: its loss's fp32 logits (hZ)
    logits = 4096 * 128256 / 2 * 4.0
    assert md.activations - logits == pytest.approx(mp.activations * 5 / 4, rel=0.02)
    assert dual.breakdown_s.pp_bubble < zb.breakdown_s.pp_bubble * 2.01  # (p/2-1) 2t/3 = 2t/3 vs 3 t/3
    assert zb.breakdown_s.pp_bubble == pytest.approx(plain.breakdown_s.pp_bubble / 3, rel=1e-9)
    assert dual.step_time_s < plain.step_time_s and zb.step_time_s < plain.step_time_s


def test_enums_are_ints_with_cli_strings() -> None:
    assert Dtype.FP8 == 1 and str(Dtype.FP8) == "fp8" and f"{Schedule.ONE_F_ONE_B}" == "1f1b"
    assert Schedule.parse("interleaved", "--schedule") is Schedule.INTERLEAVED
    assert plan(dtype=Dtype.FP8).dtype.dtype == np.int64
    assert plan(vpp=2).row(0)["schedule"] == "interleaved"


def test_one_f_one_b_below_p_micro_batches_runs_the_stages_one_after_another() -> None:
    stage = 1.0
    for m in (1, 2, 3, 4, 8):
        bubble = schedules.pipeline_bubble(np.array([Schedule.ONE_F_ONE_B]), 4, 1, m, stage)
        assert m * stage + bubble[0] == pytest.approx((m + 4 - 1) * stage)


def test_interleaving_below_p_micro_batches_gives_no_benefit_at_one() -> None:
    code = np.array([Schedule.INTERLEAVED])
    # the case: PP4 x V16 with one micro-batch is the sequential p stage times, not p - 1 over v
    assert 1.0 + schedules.pipeline_bubble(code, 4, 16, 1, 1.0)[0] == pytest.approx(4.0)
    # continuous at m = p, and between the sequential and the steady-state value below it
    at_p = schedules.pipeline_bubble(code, 4, 2, 4, 1.0)[0]
    assert at_p == pytest.approx(3 / 2)
    two = schedules.pipeline_bubble(code, 4, 2, 2, 1.0)[0]
    assert 3 / 2 < two < 3.0 and two == pytest.approx(((4 - 2) * 2 + 2 - 1) / 2)


def test_in_flight_follows_megatron_warmup_and_caps_at_the_chunks_there_are() -> None:
    code = np.array([Schedule.INTERLEAVED])
    assert schedules.in_flight_micro_batches(code, 4, 2, 8)[0] == pytest.approx(4 * (1 + 3 / 8))
    assert schedules.in_flight_micro_batches(code, 4, 2, 1)[0] == pytest.approx(1.0)  # 2 chunks of one micro-batch
    one = np.array([Schedule.ONE_F_ONE_B])
    assert schedules.in_flight_micro_batches(one, 8, 1, 3)[0] == 3


def test_megatron_refuses_interleaving_when_micro_batches_are_not_a_multiple_of_pp() -> None:
    bad = plan(pp=4, vpp=2, dp=8, global_batch=8 * 6)  # 6 micro-batches on 4 stages
    reasons = [reason for mask, reason in plan_violations(SHAPE, bad) if mask[0]]
    assert any("multiple of PP" in r and "Megatron" in r for r in reasons), reasons
    assert valid_mask(SHAPE, plan(pp=4, vpp=2, dp=8, global_batch=8 * 8)).all()
    assert valid_mask(SHAPE, plan(pp=4, vpp=1, dp=8, global_batch=8 * 6)).all()  # 1F1B takes any m
    with pytest.raises(InputError, match="multiple of PP"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=2, pp=4, vpp=2, seq_len=4096, global_batch=48)


def test_search_never_picks_an_interleaved_plan_megatron_would_refuse() -> None:
    from infraplan.training.search import enumerate_plans

    cands = enumerate_plans(SHAPE, 64, 4096, 64, ["bf16"], 8)
    ok = cands.take(valid_mask(SHAPE, cands))
    inter = ok.schedule == Schedule.INTERLEAVED
    assert inter.any()
    assert (ok.micro_batches[inter] % ok.pp[inter] == 0).all()


def test_stage_balance_moves_layers_off_the_end_stages_like_llama3() -> None:
    # 126 layers on 16 stages, head + loss worth 0.9 layer on the last: the middle stages hold 8
    seconds, layers, last, first = schedules.heaviest_stage(126, 16, 1.0, 0.0, 0.9)
    assert float(seconds) == pytest.approx(8.0) and float(layers) == 8 and not bool(last)
    # a heavy head (3 layers' worth) on 8 stages: uniform ceil(126/8) = 16 + head would be 19 on the last
    seconds, layers, last, _ = schedules.heaviest_stage(126, 8, 1.0, 0.0, 3.0)
    assert float(seconds) == pytest.approx(17.0)
    # the balanced split never loses to the uniform one, and never beats the average
    rng = np.random.default_rng(7)
    for _ in range(50):
        p, head = int(rng.integers(2, 17)), float(rng.uniform(0.0, 5.0))
        t = float(schedules.heaviest_stage(126, p, 1.0, 0.0, head)[0])
        uniform = max(np.ceil(126 / p), np.floor(126 / p) + head)
        assert (126 + head) / p - 1e-9 <= t <= uniform + 1e-9


def test_train_chooses_an_interleave_for_large_pp_and_says_so() -> None:
    r = estimate_training("llama3-70b", "dgx-h100-superpod", 64, tp=4, pp=8, vpp=None, seq_len=8192,
                          global_batch=256, dtype="fp8")
    assert r.config.vpp == 5 and r.config.schedule == "interleaved"  # NeMo's Llama 3 70B PP8 VP5
    assert r.notes and "chose 5 virtual stages" in r.notes[0]
    small = estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=2, pp=2, vpp=None, seq_len=4096,
                              global_batch=256)
    assert small.config.vpp == 1 and small.notes == []
    refused = estimate_training("llama3-70b", "dgx-h100-superpod", 64, tp=4, pp=8, vpp=None, seq_len=8192,
                                global_batch=2 * 12)
    assert refused.config.vpp == 1 and "12 micro-batches per step: interleaving needs" in refused.notes[0]
    assert "to be a multiple of PP (Megatron-LM" in refused.notes[0]


def test_zb_v_bubble_is_below_zb_h1_and_1f1b_with_the_hand_value() -> None:
    """ZB-V: (p-1) max(F, F+B-2W)/2 with F = B = W = t/3 -> (p-1) t/6; ZB-H1 (p-1) t/3; 1F1B (p-1) t."""
    table = schedules.PIPELINE_SCHEDULES
    for p in (2.0, 4.0, 8.0, 16.0):
        m, t = 4.0 * p, 3.0
        zb_v = float(table[Schedule.ZB_V].bubble(p, 2.0, m, t))
        zb_h1 = float(table[Schedule.ZB_H1].bubble(p, 1.0, m, t))
        one = float(table[Schedule.ONE_F_ONE_B].bubble(p, 1.0, m, t))
        assert 0.0 < zb_v < zb_h1 < one
        assert zb_v == pytest.approx((p - 1) * 0.5)  # (p-1) * 1 s / 2
    # the floor: a light W cannot make the bubble shorter than the last rank's warm-up (p-1) F/2
    old = schedule_models.ZB_SPLIT
    try:
        schedule_models.ZB_SPLIT = (0.25, 0.25, 0.5)  # F + B - 2W = -0.25 t < F
        assert float(table[Schedule.ZB_V].bubble(8.0, 2.0, 32.0, 4.0)) == pytest.approx(7 * 1.0 / 2)
        schedule_models.ZB_SPLIT = (0.25, 0.5, 0.25)  # F + B - 2W = 0.25 t = F: either term
        assert float(table[Schedule.ZB_V].bubble(8.0, 2.0, 32.0, 4.0)) == pytest.approx(7 * 1.0 / 2)
        schedule_models.ZB_SPLIT = (0.2, 0.6, 0.2)  # F + B - 2W = 0.4 t > F = 0.2 t
        assert float(table[Schedule.ZB_V].bubble(8.0, 2.0, 32.0, 1.0)) == pytest.approx(7 * 0.4 / 2)
    finally:
        schedule_models.ZB_SPLIT = old


def _torch_zbv_order(p: int, m: int, rank: int) -> list[tuple[str, int, int]]:
    """torch 2.13.0 ScheduleZBVZeroBubble._calculate_single_rank_operations (schedules.py:3268-3393), transcribed:
    (pass, stage, micro-batch) in the order rank `rank` issues them; the order is built for max(2p - 1, m)
    micro-batches and the missing ones' slots are dropped (idle)."""
    n, c0, c1 = max(2 * p - 1, m), rank, 2 * p - 1 - rank
    ops: list[tuple[str, int, int]] = []
    f0 = f1 = b0 = b1 = 0
    for _ in range(2 * (p - rank) - 1):
        ops.append(("F", c0, f0)); f0 += 1  # noqa: E702
    for _ in range(rank):
        ops += [("F", c1, f1), ("F", c0, f0)]; f1 += 1; f0 += 1  # noqa: E702
    for _ in range(p - rank):
        ops += [("F", c1, f1), ("I", c1, b1), ("W", c1, b1)]; f1 += 1; b1 += 1  # noqa: E702
    while f1 < f0 or f0 < n:
        if f0 < n:
            ops.append(("F", c0, f0)); f0 += 1  # noqa: E702
        ops += [("I", c0, b0), ("W", c0, b0), ("F", c1, f1), ("I", c1, b1), ("W", c1, b1)]
        b0 += 1; f1 += 1; b1 += 1  # noqa: E702
    w0, w1 = b0, b1
    for _ in range(rank):
        ops += [("I", c0, b0), ("I", c1, b1)]; b0 += 1; b1 += 1  # noqa: E702
    for _ in range(p - rank):
        ops += [("I", c0, b0), ("W", c0, w0)]; b0 += 1; w0 += 1  # noqa: E702
    ops += [("W", c1, k) for k in range(w1, b1)] + [("W", c0, k) for k in range(w0, b0)]
    return [op for op in ops if op[2] < m]


def _torch_zbv_makespan(p: int, m: int) -> float:
    """List schedule of that order, every chunk pass (F, I, W) one unit: F waits for the previous stage's F, I for
    the next stage's I (the last stage's for its own F), W for its own I; a rank runs its passes in order."""
    orders, done = {r: _torch_zbv_order(p, m, r) for r in range(p)}, {}
    nxt, free = dict.fromkeys(range(p), 0), dict.fromkeys(range(p), 0.0)
    while any(nxt[r] < len(orders[r]) for r in range(p)):
        moved = False
        for r in range(p):
            while nxt[r] < len(orders[r]):
                kind, s, j = orders[r][nxt[r]]
                dep = {"F": ("F", s - 1, j) if s else None, "W": ("I", s, j),
                       "I": ("I", s + 1, j) if s < 2 * p - 1 else ("F", s, j)}[kind]
                if dep is not None and dep not in done:
                    break
                done[(kind, s, j)] = free[r] = max(free[r], done[dep] if dep else 0.0) + 1.0
                nxt[r], moved = nxt[r] + 1, True
        assert moved, "the transcribed order deadlocked"
    return max(free.values())


def test_zb_v_bubble_is_torchs_order_at_every_micro_batch_count() -> None:
    """Below 2p - 1 micro-batches torch still runs ZB-V (slots left idle); the model's bubble is that order's at
    every m (a stage per micro-batch = 6 chunk passes of one unit at 1 : 1 : 1)."""
    zb_v = PIPELINE_SCHEDULES[Schedule.ZB_V]
    for p in range(2, 7):
        for m in range(1, 2 * p + 2):
            measured = _torch_zbv_makespan(p, m) - 6.0 * m
            assert float(zb_v.bubble(p, 2, m, 6.0)) == pytest.approx(measured), (p, m)
    assert float(zb_v.bubble(4, 2, 1, 6.0)) == pytest.approx(12.0)  # m = 1: ZB-H1's unfilled (p - 1)(F + B)


def test_zb_v_needs_two_chunks_per_rank_but_runs_few_micro_batches() -> None:
    code = np.array([Schedule.ZB_V] * 5)
    pp, vpp, m = np.array([4, 4, 4, 1, 4]), np.array([2, 1, 4, 2, 2]), np.array([7, 8, 8, 8, 6])
    bad = schedules.schedule_violations(code, pp, vpp, m)
    invalid = np.any([mask for mask, _ in bad], axis=0)
    assert list(invalid) == [False, True, True, True, False]
    kw = dict(tp=2, pp=4, seq_len=4096)
    with pytest.raises(InputError, match="zb-v pipeline schedule needs PP > 1 and exactly 2 chunks"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=1, schedule="zb-v", global_batch=256, **kw)
    few = estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=2, schedule="zb-v", global_batch=8 * 4, **kw)
    full = estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=2, schedule="zb-v", global_batch=8 * 7, **kw)
    assert few.config.micro_batches == 4 and full.config.micro_batches == 7  # 4 < 2p - 1: a ramp
    assert few.breakdown_s.pp_bubble > full.breakdown_s.pp_bubble


def test_zb_v_keeps_1f1b_memory_and_beats_interleaving_at_the_same_vpp() -> None:
    kw = dict(tp=2, pp=4, seq_len=4096, global_batch=256)
    plain = estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=1, **kw)  # 1F1B
    zb_h1 = estimate_training("llama3-8b", "dgx-h100-superpod", 64, schedule="zb-h1", **kw)
    inter = estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=2, **kw)
    zb_v = estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=2, schedule="zb-v", **kw)
    assert zb_v.config.schedule == "zb-v"
    # p micro-batches of a stage in flight, as 1F1B (interleaving holds p (1 + (p-1)/(p v)))
    flight = schedules.in_flight_micro_batches(np.array([Schedule.ZB_V] * 2), 4, 2, np.array([8, 3]))
    np.testing.assert_allclose(flight, [4.0, 3.0])
    # ... and rank 0 holds the last chunk too: its loss's fp32 logits of one micro-batch (torch's V mapping, hZ)
    logits = 4096 * 128256 / 2 * 4.0
    assert zb_v.memory_breakdown_bytes.activations == pytest.approx(plain.memory_breakdown_bytes.activations + logits)
    # ... and its LM head's table beside the embedding's (llama3-8b untied: V h / TP bf16 weights more, hZ2)
    table = 128256 * 4096 / 2 * 2.0
    assert zb_v.memory_breakdown_bytes.weights == pytest.approx(plain.memory_breakdown_bytes.weights + table)
    assert inter.memory_breakdown_bytes.activations > zb_v.memory_breakdown_bytes.activations
    bubbles = [r.breakdown_s.pp_bubble for r in (zb_v, zb_h1, inter, plain)]
    assert bubbles == sorted(bubbles) and bubbles[0] < bubbles[1]
    # below 1F1B's o / 6: rank 0's end chunks (embedding, LM head) are heavier, torch's order absorbs them (hZ3,
    # session 39: tests/training/test_zbv_kinds_hZ3.py)
    assert 0.0 < zb_v.breakdown_s.pp_bubble < plain.breakdown_s.pp_bubble / 6
    # rank 0 runs the embedding and the LM head + loss of every micro-batch (chunks 0 and 2p-1): on llama3-8b's
    # 128k vocabulary that costs ZB-V its lead over interleaving (1.789 vs 1.785 s, session 35 hZ); 1F1B it beats
    assert zb_v.step_time_s < plain.step_time_s


def _one_f_one_b_makespan(fwd: list[float], bwd: list[float], m: int) -> float:
    """Megatron's 1F1B run event by event: stage i does p - i - 1 warm-up forwards, then one forward and one
    backward alternately, then the remaining backwards; a forward waits for the previous stage's, a backward for
    the next stage's (and its own forward)."""
    p = len(fwd)
    order = []
    for i in range(p):
        warm = min(p - i - 1, m)
        ops = [("F", k) for k in range(warm)]
        for k in range(m - warm):
            ops += [("F", warm + k), ("B", k)]
        order.append(ops + [("B", k) for k in range(m - warm, m)])
    done: dict[tuple[str, int, int], float] = {}
    clock, nxt = [0.0] * p, [0] * p
    while any(nxt[i] < len(order[i]) for i in range(p)):
        for i in range(p):
            while nxt[i] < len(order[i]):
                kind, k = order[i][nxt[i]]
                deps = ([("F", i - 1, k)] if kind == "F" and i > 0 else
                        [("B", i + 1, k)] if kind == "B" and i < p - 1 else [("F", i, k)] if kind == "B" else [])
                if any(d not in done for d in deps):
                    break
                start = max([clock[i], *(done[d] for d in deps)])
                clock[i] = start + (fwd[i] if kind == "F" else bwd[i])
                done[(kind, i, k)] = clock[i]
                nxt[i] += 1
    return max(clock)


@pytest.mark.parametrize("m", [1, 2, 3, 4, 8])
def test_one_f_one_b_with_a_heavier_last_stage_matches_the_simulated_schedule(m: int) -> None:
    """The last stage runs the LM head and loss: the step is sum_i t_i + (m - 1) t_last, i.e. m t_last plus a
    bubble of the other stages' time (not (p - 1) t_last), as the event-by-event 1F1B run gives."""
    fwd, bwd = [1.0, 1.0, 1.0, 1.6], [2.0, 2.0, 2.0, 3.1]
    stage = [f + b for f, b in zip(fwd, bwd, strict=True)]
    others = sum(stage) - stage[-1]
    bubble = schedules.pipeline_bubble(np.array([Schedule.ONE_F_ONE_B]), 4, 1, m, stage[-1], others)[0]
    assert m * stage[-1] + bubble == pytest.approx(_one_f_one_b_makespan(fwd, bwd, m), rel=1e-12)
    # the equal-stage formula overcharges: (p - 1) t_last
    assert bubble < schedules.pipeline_bubble(np.array([Schedule.ONE_F_ONE_B]), 4, 1, m, stage[-1])[0]


def test_every_schedule_takes_the_other_stages_and_keeps_equal_stages_as_they_were() -> None:
    """Equal stages (others = (p - 1) t) give every schedule's own formula; lighter other stages a smaller bubble;
    one plan's floats and the array path agree."""
    p, t = 8.0, 3.0
    for code, (v, m) in {Schedule.ONE_F_ONE_B: (1, 32), Schedule.INTERLEAVED: (2, 32), Schedule.ZB_H1: (1, 32),
                         Schedule.ZB_V: (2, 32), Schedule.DUALPIPE: (1, 32)}.items():
        model = PIPELINE_SCHEDULES[code]
        equal = float(model.bubble(p, float(v), float(m), t))
        assert float(model.bubble(p, float(v), float(m), t, (p - 1) * t)) == pytest.approx(equal, rel=1e-12)
        lighter = float(model.bubble(p, float(v), float(m), t, (p - 1) * t * 0.5))
        assert lighter == pytest.approx(equal * 0.5, rel=1e-12), code
        grid = schedules.pipeline_bubble(np.array([code, code]), np.array([p, p]), np.array([v, v]),
                                         np.array([m, m]), np.array([t, t]), np.array([3.5 * t, 3.5 * t]))
        assert grid[0] == float(model.bubble(p, float(v), float(m), t, 3.5 * t))


def test_interleaved_below_p_with_uneven_stages_never_beats_the_steady_state() -> None:
    code = np.array([Schedule.INTERLEAVED])
    # a last stage far heavier than the others: the wave formula would go negative; floored at others / v
    assert schedules.pipeline_bubble(code, 4, 2, 2, 10.0, 0.3)[0] == pytest.approx(0.3 / 2)
    # equal stages: the wave of p v chunks as before
    assert schedules.pipeline_bubble(code, 4, 2, 2, 1.0, 3.0)[0] == pytest.approx(((4 - 2) * 2 + 2 - 1) / 2)


def test_step_time_charges_the_pipeline_the_other_stages_not_p_minus_one_heaviest() -> None:
    """A PP4 1F1B plan: the bubble is the three other stages' time, below (p - 1) x the heaviest (the last, with
    the LM head)."""
    r = evaluate_plans(SHAPE, CLUSTER, plan(schedule=Schedule.ONE_F_ONE_B, global_batch=16))
    m = 16 / 8
    stage = sum(r[k][0] for k in ("compute", "tp_comm", "cp_comm", "ep_comm", "other")) / m
    assert 0.5 * 3 * stage < r["pp_bubble"][0] < 3 * stage  # llama3-8b: the 128k-vocabulary head is heavy
