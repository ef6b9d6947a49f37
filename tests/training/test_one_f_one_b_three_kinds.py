"""1F1B and ZB-H1 on three rank kinds (rank 0, p - 2 equal middle ranks, the last) in any order of weight, against
list schedules of torch's transcribed Schedule1F1B and ScheduleInterleavedZeroBubble (one stage per rank) orders
(tests/training/test_torch_schedule_orders.py), exact fractions: the model's bubble plus
`schedules.three_rank_kinds_s` is the list's (hB, session 36)."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
from bubble_forms import bubble_with_and_without
from test_torch_schedule_orders import _torch_1f1b_order, _torch_looped_order, list_schedule

from infraplan.catalog.stacks import load_stack
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training
from infraplan.training.schedule_models import PIPELINE_SCHEDULES
from infraplan.training.schedules import three_rank_kinds_s

ONE_F_ONE_B, ZB_H1 = int(Schedule.ONE_F_ONE_B), int(Schedule.ZB_H1)
Kind = tuple[Fraction, Fraction]  # a rank kind's F and B (ZB-H1: F + B is its time, F = I = W = a third)


def _kind(rng: random.Random) -> Kind:
    """A rank kind's time 1/4..10 with F : B from 1 : 1 to 1 : 3."""
    t, share = Fraction(rng.randint(1, 40), 4), Fraction(rng.randint(25, 50), 100)
    return t * share, t * (1 - share)


def _ranks(p: int, first: Kind, middle: Kind, last: Kind) -> list[Kind]:
    return [first] + [middle] * (p - 2) + [last]


def _listed(code: int, p: int, m: int, ranks: list[Kind]) -> Fraction:
    if code == ONE_F_ONE_B:
        cost: dict[tuple[str, int], Fraction] = {(k, s): ranks[s][k == "B"] for s in range(p) for k in "FB"}
        orders = [_torch_1f1b_order(p, m, r) for r in range(p)]
    else:
        cost = {(k, s): (ranks[s][0] + ranks[s][1]) / 3 for s in range(p) for k in "FIW"}
        orders = [_torch_looped_order(p, 1, m, r, True) for r in range(p)]
    return Fraction(list_schedule(orders, p, lambda kind, stage: cost[(kind, stage)]))


def _priced(code: int, p: int, m: int, ranks: list[Kind]) -> float:
    """m t_heaviest + the model's bubble on o + `three_rank_kinds_s`, in floats."""
    times = [float(f + b) for f, b in ranks]
    heaviest = max(times)
    others = sum(times) - heaviest
    first, middle = ranks[0], ranks[1] if p > 2 else (Fraction(0), Fraction(0))
    schedule = Schedule.ONE_F_ONE_B if code == ONE_F_ONE_B else Schedule.ZB_H1
    bubble = float(PIPELINE_SCHEDULES[schedule].bubble(p, 1, m, heaviest, others))
    bubble += float(three_rank_kinds_s(code, p, m, heaviest, others, times[0], float(first[0]),
                                       float(sum(middle)), float(middle[0]), times[-1]))
    return m * heaviest + bubble


def test_one_f_one_b_is_the_transcribed_order_for_any_three_kinds() -> None:
    """5,000 cases: p 2-8, m p..3p + 2, each kind's time and F : B (1:1 to 1:3) at random, so every order of the
    three kinds' weights (the first, a middle or the last rank heaviest, the last lighter than a middle one)."""
    rng, heaviest = random.Random(36), set()
    for _ in range(5000):
        p = rng.randint(2, 8)
        m = rng.randint(p, 3 * p + 2)
        ranks = _ranks(p, _kind(rng), _kind(rng), _kind(rng))
        times = [sum(k) for k in ranks]
        heaviest.add(times.index(max(times)) if times[-1] < max(times) else p - 1)
        listed = _listed(ONE_F_ONE_B, p, m, ranks)
        assert _priced(ONE_F_ONE_B, p, m, ranks) == pytest.approx(float(listed), rel=1e-12, abs=1e-12), (p, m, ranks)
    assert {0, 1}.issubset(heaviest) and any(h > 1 for h in heaviest)


def test_zb_h1_is_the_transcribed_order_for_any_three_kinds() -> None:
    """1,500 cases at every m >= p torch accepts (p 2-8), F = I = W."""
    rng, n = random.Random(37), 0
    while n < 1500:
        p = rng.randint(2, 8)
        m = rng.randint(p, 3 * p + 2)
        if m % max(1, m // p):
            continue
        n += 1
        ranks = _ranks(p, _kind(rng), _kind(rng), _kind(rng))
        listed = _listed(ZB_H1, p, m, ranks)
        assert _priced(ZB_H1, p, m, ranks) == pytest.approx(float(listed), rel=1e-12, abs=1e-12), (p, m, ranks)


def test_the_loss_counted_case_the_model_overpriced() -> None:
    """PP 4 with the loss counted as a layer: middle ranks 3 (F 1), rank 0 3.5 (F 7/6), the last a layer short with
    its head, 2.5: the list's bubble over rank 0's m t_0 is 6.5 at every m, the model's o 8.5; the last rank the
    heaviest (4.5): the model's o 9.5, exactly, and nothing added."""
    first, middle = (Fraction(7, 6), Fraction(7, 3)), (Fraction(1), Fraction(2))
    for m in (4, 8, 12):
        ranks = _ranks(4, first, middle, (Fraction(5, 6), Fraction(5, 3)))
        assert _listed(ONE_F_ONE_B, 4, m, ranks) - m * Fraction(7, 2) == Fraction(13, 2)
        assert float(PIPELINE_SCHEDULES[Schedule.ONE_F_ONE_B].bubble(4, 1, m, 3.5, 8.5)) == 8.5
        assert _priced(ONE_F_ONE_B, 4, m, ranks) == pytest.approx(m * 3.5 + 6.5, abs=1e-12)
        heavy_last = _ranks(4, first, middle, (Fraction(3, 2), Fraction(3)))
        assert _listed(ONE_F_ONE_B, 4, m, heavy_last) - m * Fraction(9, 2) == Fraction(19, 2)
    assert float(three_rank_kinds_s(ONE_F_ONE_B, 4, 8, 4.5, 9.5, 3.5, 7 / 6, 3.0, 1.0, -1.0)) == 0.0


def test_not_applied_to_other_schedules() -> None:
    """(Below p micro-batches it applies too since hB3, session 37: test_pipeline_few_microbatches.py.)"""
    for code, m in ((int(Schedule.INTERLEAVED), 8), (int(Schedule.DUALPIPE), 8), (int(Schedule.INTERLEAVED), 3)):
        assert float(three_rank_kinds_s(code, 4, m, 3.5, 8.5, 3.5, 7 / 6, 3.0, 1.0, 2.5)) == 0.0


def test_arrays_and_one_plans_floats_give_the_same_bits() -> None:
    rng = np.random.default_rng(5)
    n = 64
    codes = rng.choice([ONE_F_ONE_B, ZB_H1, int(Schedule.INTERLEAVED)], n)
    pp = rng.integers(2, 9, n).astype(float)
    m = pp + rng.integers(-1, 12, n)
    t0, tm, tl = (rng.uniform(0.01, 0.06, n) for _ in range(3))
    tm = np.where(pp > 2, tm, 0.0)
    heaviest = np.maximum(np.maximum(t0, tm), tl)
    o = t0 + (pp - 2) * tm + tl - heaviest
    f0, fm = t0 * rng.uniform(0.25, 0.5, n), tm * rng.uniform(0.25, 0.5, n)
    tl = np.where(tl == heaviest, -1.0, tl)
    grid = three_rank_kinds_s(codes, pp, m, heaviest, o, t0, f0, tm, fm, tl)
    one = [three_rank_kinds_s(int(c), *(float(x[i]) for x in (pp, m, heaviest, o, t0, f0, tm, fm, tl)))
           for i, c in enumerate(codes)]
    assert grid.tolist() == one
    assert sum(x < 0.0 for x in one) > 10


ONLY_LOSS = load_stack("nemo-26.04").model_copy(update={"account_for_loss_in_pipeline_split": True,
                                                      "pipeline_split_divisible": False})


def test_a_heaviest_middle_rank_on_an_uneven_split_keeps_the_models_o() -> None:
    """mixtral-8x7b with both ends counted, PP8: 34 slots on 8 ranks (Megatron refuses it; the ceil prices 5
    layers a middle rank, the heaviest), so the middle ranks are not equal: the model's o stays."""
    both = load_stack("nemo-26.04").model_copy(update={"account_for_loss_in_pipeline_split": True,
                                                       "account_for_embedding_in_pipeline_split": True,
                                                       "pipeline_split_divisible": False})  # (priced anyway, hR44)
    kw = dict(stack=both, tp=8, pp=8, vpp=1, seq_len=4096, global_batch=256, dtype="bf16", schedule="1f1b")
    priced, alone = bubble_with_and_without("three_rank_kinds_s", "mixtral-8x7b", "dgx-h100-superpod", 64, **kw)
    loss = estimate_training("mixtral-8x7b", "dgx-h100-superpod", 64, **{**kw, "stack": ONLY_LOSS})  # type: ignore
    assert loss.breakdown_s.pp_bubble < 0.075  # (loss counted: first rank the heaviest, priced: 70.6 -> 58.4 ms)
    assert priced == alone > 0.0
