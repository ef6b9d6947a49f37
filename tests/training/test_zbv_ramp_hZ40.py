"""ZB-V below 2p - 1 micro-batches (the ramp) with rank kinds: rank 0 holds chunk 0 (c + x, the embedding) and chunk
2p - 1 (c + y, the LM head + loss), every other chunk c, F = I = W a third of a chunk (`ZB_SPLIT`). torch 2.14.1's
ScheduleZBVZeroBubble builds its order for max(2p - 1, m) micro-batches and leaves the missing ones' slots idle
(the transcription and list schedule of tests/training/test_zbv_kinds_hZ3.py): the priced bubble is the list's at
every m (hZ40, session 40), and from 2p - 1 micro-batches on unchanged (hZ3's form)."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from test_zbv_kinds_hZ3 import PLAN, _case, _list_bubble, _priced

from infraplan.training import exact_bubbles
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training
from infraplan.training.mirrored_stages import _zb_v_ramp_passes, zb_v_end_chunks_s
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.schedule_models import PIPELINE_SCHEDULES, ZB_SPLIT

ZB_V = int(Schedule.ZB_V)


def test_ramp_bubble_is_torchs_order_below_2p_minus_1_micro_batches() -> None:
    """Random cases at p 2-16, m 1..2p - 2, rank 0's chunks at least a plain one: the priced bubble (the model's
    ramp plus `zb_v_end_chunks_s`) is the list schedule's; the model alone is over wherever rank 0 is heavier."""
    rng, over = random.Random(40), 0
    cases = [(p, rng.randint(1, 2 * p - 2)) for p in range(2, 17) for _ in range(5)]
    cases += [(p, m) for p in (2, 3, 5) for m in range(1, 2 * p - 1)]  # every m of a few
    for p, m in cases:
        c, x, y = _case(rng, p)
        listed = float(_list_bubble(p, m, c, x, y))
        assert _priced(p, m, c, x, y) == pytest.approx(listed, rel=1e-9, abs=1e-9 * float(c)), (p, m, c, x, y)
        over += _priced(p, m, c, x, y, applied=False) > listed + 1e-9 * float(c)
    assert over > len(cases) * 3 // 4


def test_ramp_form_in_exact_fractions() -> None:
    """The seven forms in integers (c, x, y whole numbers: no rounding) give the list's bubble exactly, including at
    x = y = 0 (the model's ramp, exact there: session 34) and at the ramp's end (m = 2p - 2, where the steady
    form A' = (p - 1) c of hZ3 takes over)."""
    rng = random.Random(12)
    for p, m in [(4, 1), (4, 3), (4, 4), (4, 6), (6, 9), (7, 11), (8, 14), (10, 15)]:
        for c, x, y in [(6, 0, 0), (6, 3, 0), (6, 0, 3), (30, 1, 1)] + [
                (rng.randint(1, 60), rng.randint(0, 40), rng.randint(0, 90)) for _ in range(3)]:
            passes = _zb_v_ramp_passes(p, m, c, x, y)  # whole numbers throughout (exact in doubles)
            assert Fraction(passes) / 3 == _list_bubble(p, m, Fraction(c), Fraction(x), Fraction(y)), (p, m, c, x, y)
    # worked: p 4, m 4, c 6: the model's ramp 12 is the list's at x = y = 0; with the head's chunk half a chunk
    # heavier (y 3) E = (2p - 1 - m) c = 18 passes: 6, half the model's
    assert _list_bubble(4, 4, Fraction(6), Fraction(0), Fraction(0)) == 12
    assert _list_bubble(4, 4, Fraction(6), Fraction(0), Fraction(3)) == 6
    assert _priced(4, 4, Fraction(6), Fraction(0), Fraction(3)) == pytest.approx(6.0)
    assert _priced(4, 4, Fraction(6), Fraction(0), Fraction(3), applied=False) == pytest.approx(12.0)


def _hz3_form(p: np.ndarray, m: np.ndarray, th: np.ndarray, o: np.ndarray, x: np.ndarray) -> np.ndarray:
    """hZ3's form from 2p - 1 micro-batches on (session 39), as it was written."""
    f, b, w = ZB_SPLIT
    c = o / (2.0 * np.maximum(p - 1.0, 1.0))
    y = th - 2.0 * c - x
    inside, y = y >= -1e-9 * c, np.maximum(y, 0.0)
    fill = (p - 1.0) * c - (3.0 * m - 2.0 * p + 1.0) * x - (3.0 * m - 3.0 * p + 4.0) * y
    warm = (p - 2.0) * c - 2.0 * p * x - y
    return np.where(inside, f * np.maximum(np.maximum(fill, warm), 0.0) - o * max(f, f + b - 2.0 * w) / 2.0, 0.0)


def test_from_2p_minus_1_unchanged_and_below_moves_only_down() -> None:
    """From 2p - 1 micro-batches on the result is hZ3's bit for bit (arrays and one plan's floats); below it the
    correction is never positive (the model is never under the list there) and nonzero where rank 0 is heavier."""
    rng = np.random.default_rng(40)
    n = 600
    p = rng.integers(2, 17, n).astype(float)
    m = np.floor(p * rng.uniform(0.1, 4.0, n)) + 1.0
    o = rng.uniform(0.1, 5.0, n) * (p - 1.0)
    x = rng.uniform(0.0, 0.3, n) * (rng.uniform(size=n) < 0.8)
    th = o / (p - 1.0) + x + rng.uniform(-0.05, 2.0, n) * (rng.uniform(size=n) < 0.8)
    got = zb_v_end_chunks_s(np.full(n, ZB_V), p, m, th, o, x)
    steady = m >= 2.0 * p - 1.0
    assert np.count_nonzero(steady) > 100 and np.count_nonzero(~steady) > 100
    assert got[steady].tolist() == _hz3_form(p, m, th, o, x)[steady].tolist()
    for i in np.flatnonzero(steady)[:40]:
        one = zb_v_end_chunks_s(ZB_V, float(p[i]), float(m[i]), float(th[i]), float(o[i]), float(x[i]))
        assert float(one) == float(got[i])
    model = PIPELINE_SCHEDULES[Schedule.ZB_V].bubble(p, np.full(n, 2.0), m, th, o)
    assert np.all(got[~steady] <= 1e-12 * model[~steady])
    assert np.count_nonzero(got[~steady] < 0.0) > 0.5 * np.count_nonzero(~steady)
    assert np.all(model + got >= -1e-12 * model)


def test_llama3_8b_few_micro_batches_is_the_list_on_its_own_kinds() -> None:
    """llama3-8b, 64 H100, torchtitan, TP2 PP4 ZB-V at global batch 32: m = 4 < 2p - 1 = 7. The priced bubble is
    the list's on the plan's own kinds (c, x the embedding, y the LM head + loss), below the model's ramp."""
    seen: list[tuple[float, ...]] = []

    def spy(schedule: int, pp: float, m: float, th: float, o: float, x: float) -> float:
        seen.append((float(pp), float(m), float(o), float(x), float(th) - float(o) / (float(pp) - 1.0) - float(x)))
        return float(zb_v_end_chunks_s(schedule, pp, m, th, o, x))

    plan: dict[str, Any] = {**PLAN, "global_batch": 32}
    clear_one_plan_memo()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exact_bubbles, "zb_v_end_chunks_s", spy)
        bubble = estimate_training("llama3-8b", "dgx-h100-superpod", 64, **plan).breakdown_s.pp_bubble
        mp.setattr(exact_bubbles, "zb_v_end_chunks_s", lambda *args: 0.0)
        clear_one_plan_memo()
        alone = estimate_training("llama3-8b", "dgx-h100-superpod", 64, **plan).breakdown_s.pp_bubble
    clear_one_plan_memo()
    (p, m, o, x, y), = seen
    assert (p, m) == (4.0, 4.0) and x > 0.0 and y > 0.0
    c = Fraction(o) / (2 * (int(p) - 1))
    assert bubble == pytest.approx(float(_list_bubble(4, 4, c, Fraction(x), Fraction(y))), rel=1e-9)
    assert bubble < alone
