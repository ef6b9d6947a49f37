"""The interleaved bubble with a heavier (or lighter) first chunk and the LM head + loss on the last, against a list
schedule of torch's transcribed ScheduleInterleaved1F1B order (tests/training/test_torch_schedule_orders.py), chunk
passes weighted F : B = 1 : 2; and 1F1B's with heavier ends (hZ2, session 35)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from test_torch_schedule_orders import Op, _torch_1f1b_order, _torch_looped_order, list_schedule

from infraplan.training.enums import Schedule
from infraplan.training.schedule_models import PIPELINE_SCHEDULES
from infraplan.training.schedules import interleaved_first_chunk_s

C = Fraction(3)  # one plain chunk's F + B (F 1, B 2)


def _weighted_makespan(orders: list[list[Op]], stages: int, extra: dict[int, Fraction]) -> Fraction:
    """`list_schedule` of test_torch_schedule_orders with chunk s's F 1/3 and B 2/3 of C + extra[s] (exact
    fractions)."""
    def cost(kind: str, s: int) -> Fraction:
        return (C + extra.get(s, Fraction(0))) * (Fraction(1, 3) if kind == "F" else Fraction(2, 3))
    return Fraction(list_schedule(orders, stages, cost))


def _list_bubble(p: int, v: int, m: int, first: Fraction, last: Fraction) -> tuple[Fraction, Fraction, Fraction]:
    """(list-scheduled bubble over the heaviest rank's m micro-batches, heaviest rank's seconds, the others' sum)."""
    extra = {0: first, p * v - 1: last}
    orders = ([_torch_looped_order(p, v, m, r, False) for r in range(p)] if v > 1
              else [_torch_1f1b_order(p, m, r) for r in range(p)])
    ranks = [v * C + (first if r == 0 else 0) + (last if r == p - 1 else 0) for r in range(p)]
    heaviest = max(ranks)
    return _weighted_makespan(orders, p * v, extra) - m * heaviest, heaviest, sum(ranks) - heaviest


def _priced(p: int, v: int, m: int, t: Fraction, o: Fraction, first: Fraction) -> float:
    model = PIPELINE_SCHEDULES[Schedule.INTERLEAVED]
    code = int(Schedule.INTERLEAVED)
    return float(model.bubble(p, v, m, float(t), float(o))) + float(interleaved_first_chunk_s(code, p, v, m,
                                                                                             float(first)))


# first chunk's excess d (the embedding; negative: a counted embedding's chunk a layer short), LM head excess h >= d
ENDS = [(Fraction(1, 2), Fraction(1, 2)), (Fraction(2), Fraction(5)), (Fraction(0), Fraction(2)),
        (Fraction(-1), Fraction(1)), (Fraction(1), Fraction(1))]


@pytest.mark.parametrize("v", [2, 3, 4])
def test_interleaved_bubble_with_end_chunks_is_the_transcribed_orders(v: int) -> None:
    """Heaviest rank the last: bubble (p - 1) c + g d (d >= 0) or + d (d < 0), g torch's round; at every m >= p
    torch accepts (p 2-6: m p..3p+1; p 7-8: m = p, 2p, 3p)."""
    for p in range(2, 9):
        counts = range(p, 3 * p + 2) if p <= 6 else (p, 2 * p, 3 * p)
        for m in counts:
            if m % max(1, m // p):
                continue
            for first, last in ENDS:
                bubble, t, o = _list_bubble(p, v, m, first, last)
                assert _priced(p, v, m, t, o, first) == pytest.approx(float(bubble), rel=1e-12, abs=1e-12), (
                    p, v, m, first, last)


def test_the_model_alone_counted_the_first_chunk_once_divided_by_v() -> None:
    """The o / v model (before hZ2) is off by (p - 1/v) d at p 4, v 2, d = 2: 17 list vs 10 model."""
    bubble, t, o = _list_bubble(4, 2, 8, Fraction(2), Fraction(5))
    assert bubble == 17
    assert float(PIPELINE_SCHEDULES[Schedule.INTERLEAVED].bubble(4, 2, 8, float(t), float(o))) == 10.0
    assert _priced(4, 2, 8, t, o, Fraction(2)) == 17.0


def test_first_chunk_term_is_the_same_on_arrays_and_one_plans_floats() -> None:
    """Array-first, the one-plan floats the same bits; only interleaved plans with m >= p get it."""
    codes = np.array([int(Schedule.INTERLEAVED)] * 4 + [int(Schedule.ONE_F_ONE_B), int(Schedule.ZB_V)])
    pp = np.array([4.0, 4.0, 8.0, 4.0, 4.0, 4.0])
    vpp = np.array([2.0, 3.0, 2.0, 2.0, 1.0, 2.0])
    m = np.array([8.0, 10.0, 4.0, 16.0, 8.0, 8.0])
    d = np.array([0.0021, 0.0013, 0.003, -0.05, 0.002, 0.002])
    grid = interleaved_first_chunk_s(codes, pp, vpp, m, d)
    one = [interleaved_first_chunk_s(int(c), float(a), float(b), float(k), float(x))
           for c, a, b, k, x in zip(codes, pp, vpp, m, d, strict=True)]
    assert grid.tolist() == one
    g = 10 // max(1, 10 // 4)  # torch's round at m 10, p 4: 5
    assert one[:2] == [(4 - 1 / 2) * 0.0021, (g - 1 / 3) * 0.0013]
    assert one[2] == 0.0  # m < p: the wave, unchanged
    assert one[3] == (1 - 1 / 2) * -0.05
    assert one[4:] == [0.0, 0.0]


def test_one_f_one_b_bubble_is_the_transcribed_orders_with_the_last_rank_heaviest() -> None:
    """1F1B (v = 1): o, the first stage's excess counted once, exact while the last rank is the heaviest."""
    model = PIPELINE_SCHEDULES[Schedule.ONE_F_ONE_B]
    for p in range(2, 9):
        for m in (p, 2 * p, 3 * p):
            for first, last in ENDS:
                bubble, t, o = _list_bubble(p, 1, m, first, last)
                assert float(model.bubble(p, 1, m, float(t), float(o))) == pytest.approx(float(bubble)), (p, m)
