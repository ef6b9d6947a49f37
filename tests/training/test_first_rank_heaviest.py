"""1F1B and ZB-H1 with the first rank the heaviest, against list schedules of torch's transcribed Schedule1F1B and
ScheduleInterleavedZeroBubble (one stage per rank) orders (tests/training/test_torch_schedule_orders.py), exact
fractions: `schedules.first_rank_heaviest_s` on top of the model's bubble (hZ3, session 35)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from test_torch_schedule_orders import Op, _torch_1f1b_order, _torch_looped_order, list_schedule

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training import exact_bubbles
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.schedule_models import PIPELINE_SCHEDULES
from infraplan.training.schedules import three_rank_kinds_s
from infraplan.training.search import enumerate_plans
from infraplan.training.search_bounds import step_time_floor_s

ONE_F_ONE_B, ZB_H1 = int(Schedule.ONE_F_ONE_B), int(Schedule.ZB_H1)


def first_rank_heaviest_s(code: Any, p: Any, m: Any, t0: Any, o: Any, last: Any, middle: Any, first_fwd: Any) -> Any:
    """hZ3's arguments on `three_rank_kinds_s` (hB, session 36): rank 0 the heaviest, middle ranks' F a third."""
    return three_rank_kinds_s(code, p, m, t0, o, t0, first_fwd, middle, middle / 3, last)
C = Fraction(3)  # a middle rank's F + B per micro-batch


def _makespan(orders: list[list[Op]], cost: dict[tuple[str, int], Fraction]) -> Fraction:
    """The orders list-scheduled (`list_schedule`), each pass `cost[(kind, stage)]` long."""
    return Fraction(list_schedule(orders, len(orders), lambda kind, stage: cost[(kind, stage)]))


def _ranks(p: int, d: Fraction, h: Fraction) -> list[Fraction]:
    return [C + d] + [C] * (p - 2) + [C + h]


def _one_f_one_b(p: int, m: int, d: Fraction, h: Fraction, fd: Fraction, fh: Fraction) -> Fraction:
    """1F1B makespan: middle ranks F 1, B 2; the first's excess d with F share fd, the last's h with fh."""
    cost = {}
    for s, (x, share) in enumerate([(d, fd)] + [(Fraction(0), Fraction(0))] * (p - 2) + [(h, fh)]):
        cost[("F", s)], cost[("B", s)] = 1 + x * share, 2 + x * (1 - share)
    return _makespan([_torch_1f1b_order(p, m, r) for r in range(p)], cost)


def _zb_h1(p: int, m: int, d: Fraction, h: Fraction) -> Fraction:
    """ZB-H1 makespan, F : I : W = 1 : 1 : 1 on every rank (`ZB_SPLIT`)."""
    cost = {(k, s): t / 3 for s, t in enumerate(_ranks(p, d, h)) for k in "FIW"}
    return _makespan([_torch_looped_order(p, 1, m, r, True) for r in range(p)], cost)


def _priced(code: int, p: int, m: int, d: Fraction, h: Fraction, fd: Fraction) -> float:
    ranks = _ranks(p, d, h)
    t0, o = float(ranks[0]), float(sum(ranks[1:]))
    first_fwd = float(1 + d * fd) if code == ONE_F_ONE_B else t0 / 3
    schedule = Schedule.ONE_F_ONE_B if code == ONE_F_ONE_B else Schedule.ZB_H1
    model = float(PIPELINE_SCHEDULES[schedule].bubble(p, 1, m, t0, o))
    return model + float(first_rank_heaviest_s(code, p, m, t0, o, float(ranks[-1]), float(C) if p > 2 else 0.0,
                                               first_fwd))


# first rank's excess d >= the last's h >= 0 (the last rank at least a middle one)
ENDS = [(Fraction(1, 2), Fraction(0)), (Fraction(2), Fraction(1)), (Fraction(3), Fraction(3)),
        (Fraction(6), Fraction(1, 2)), (Fraction(1), Fraction(0))]
SHARES = [Fraction(1, 3), Fraction(0), Fraction(9, 10)]


def test_one_f_one_b_first_rank_heaviest_is_the_transcribed_order() -> None:
    """p 2-8, m p..2p+1 and 3p, each end's F share 0, 1/3 or 9/10: the priced bubble is the list's."""
    for p in range(2, 9):
        for m in [*range(p, 2 * p + 2), 3 * p]:
            for d, h in ENDS:
                for fd in SHARES:
                    for fh in (Fraction(1, 3), Fraction(1, 2)):
                        bubble = _one_f_one_b(p, m, d, h, fd, fh) - m * (C + d)
                        assert _priced(ONE_F_ONE_B, p, m, d, h, fd) == pytest.approx(float(bubble), abs=1e-12), (
                            p, m, d, h, fd, fh)


def test_the_model_alone_counted_every_other_rank_as_a_wait() -> None:
    """p 4, m 8, middle ranks 3, the first 5 (F 5/3), the last 3: list bubble 4 over rank 0's 40 (its first
    backward's wait, 9 - 3 x 5/3), the model's o 9."""
    d, h = Fraction(2), Fraction(0)
    assert _one_f_one_b(4, 8, d, h, Fraction(1, 3), Fraction(1, 3)) - 8 * (C + d) == 4
    assert float(PIPELINE_SCHEDULES[Schedule.ONE_F_ONE_B].bubble(4, 1, 8, 5.0, 9.0)) == 9.0
    assert _priced(ONE_F_ONE_B, 4, 8, d, h, Fraction(1, 3)) == pytest.approx(4.0, abs=1e-12)


def test_zb_h1_first_rank_heaviest_is_the_transcribed_order() -> None:
    """p 2-6, every m >= p torch accepts up to 3p + 1."""
    for p in range(2, 7):
        for m in range(p, 3 * p + 2):
            if m % max(1, m // p):
                continue
            for d, h in ENDS:
                bubble = _zb_h1(p, m, d, h) - m * (C + d)
                assert _priced(ZB_H1, p, m, d, h, Fraction(1, 3)) == pytest.approx(float(bubble), abs=1e-12), (
                    p, m, d, h)


def test_not_applied_where_the_last_rank_is_lighter_than_a_middle_one_or_below_p() -> None:
    """There max(A, B) underpriced the list (p 4, m 8, ranks 3.5, 3, 3, 2: by 2/3); since hB (session 36)
    `three_rank_kinds_s` prices the list there too (tests/training/test_one_f_one_b_three_kinds.py); below p too
    since hB3 (session 37; tests/training/test_pipeline_few_microbatches.py)."""
    p, m, d, h = 4, 8, Fraction(1, 2), Fraction(-1)
    ranks = _ranks(p, d, h)
    t0, o = float(ranks[0]), float(sum(ranks[1:]))
    listed = _one_f_one_b(p, m, d, h, Fraction(1, 3), Fraction(1, 3)) - m * (C + d)
    assert 0 < listed < o
    assert o + float(first_rank_heaviest_s(ONE_F_ONE_B, p, m, t0, o, float(ranks[-1]), 3.0, t0 / 3)) == \
        pytest.approx(float(listed), abs=1e-12)
    below = float(PIPELINE_SCHEDULES[Schedule.ZB_H1].bubble(4, 1, 3, 5.0, 9.0))  # m < p: the list's (hB3)
    below += float(first_rank_heaviest_s(ZB_H1, 4, 3, 5.0, 9.0, 3.0, 3.0, 5 / 3))
    assert below == pytest.approx(float(_zb_h1(4, 3, Fraction(2), Fraction(0)) - 15), abs=1e-12)


def test_arrays_and_one_plans_floats_give_the_same_bits() -> None:
    codes = np.array([ONE_F_ONE_B, ONE_F_ONE_B, ZB_H1, ZB_H1, int(Schedule.INTERLEAVED), ONE_F_ONE_B])
    pp = np.array([4.0, 2.0, 4.0, 8.0, 4.0, 4.0])
    m = np.array([8.0, 5.0, 12.0, 8.0, 8.0, 8.0])
    t0 = np.array([0.0513, 0.031, 0.047, 0.05, 0.05, 0.05])
    o = np.array([0.136, 0.0207, 0.139, 0.33, 0.14, 0.14])
    last = np.array([0.046, 0.0207, 0.0465, 0.048, 0.04, -1.0])
    mid = np.array([0.045, 0.0, 0.046, 0.047, 0.05, 0.05])
    f0 = t0 / 3.1
    grid = first_rank_heaviest_s(codes, pp, m, t0, o, last, mid, f0)
    one = [first_rank_heaviest_s(int(c), *(float(x[i]) for x in (pp, m, t0, o, last, mid, f0)))
           for i, c in enumerate(codes)]
    assert grid.tolist() == one
    assert all(x < 0.0 for x in one[:4]) and one[4:] == [0.0, 0.0]


ONLY_LOSS = load_stack("nemo-26.04").model_copy(update={"account_for_loss_in_pipeline_split": True,
                                                      "pipeline_split_divisible": False})  # 33 slots (hR44)


def test_plans_price_it_and_search_floors_stay_below() -> None:
    """mixtral-8x7b with the loss counted as a layer (the first rank the heaviest): PP2 1F1B / ZB-H1 plans' bubble
    drops against the model alone (the last rank has no middle one to be lighter than), and so do PP > 2 ones at m >= p
    (their last rank a layer short of a middle one: the three rank kinds' form, hB); plans of fewer micro-batches
    than stages price it too (hB3, session 37), but one micro-batch under 1F1B (the ranks in turn: o exactly);
    every plan's step stays above its row's floor."""
    shape, cluster = load_model("mixtral-8x7b"), Cluster.resolve("dgx-h100-superpod")
    plans = enumerate_plans(shape, 64, 4096, 256, ["bf16"], max_tp=8, schedules=["1f1b", "zb-h1"])
    plans = plans.take(valid_mask(shape, plans) & (plans.pp > 1))
    priced = evaluate_plans(shape, cluster, plans, ONLY_LOSS)
    rows = replace(plans, vpp=np.ones_like(plans.vpp), zero=np.zeros_like(plans.zero),
                   schedule=np.full(len(plans), ONE_F_ONE_B))
    floor = step_time_floor_s(shape, cluster, rows, ONLY_LOSS)
    assert len(plans) > 50 and np.all(floor <= priced["step_time_s"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exact_bubbles, "three_rank_kinds_s", lambda *args: 0.0)
        alone = evaluate_plans(shape, cluster, plans, ONLY_LOSS)
    two = (plans.pp == 2) & (plans.micro_batches >= 2)  # (one micro-batch: below p, unchanged)
    assert two.sum() > 1000 and np.all(priced["pp_bubble"][two] < alone["pp_bubble"][two])
    one = (plans.micro_batches == 1) & (plans.schedule == ONE_F_ONE_B) & (plans.pp > 1)
    assert one.sum() > 0 and np.all(priced["pp_bubble"][one] == alone["pp_bubble"][one])
    # PP > 2 (the last rank a layer short of a middle one): the three rank kinds' form drops them at m >= p (hB)
    deeper = (plans.pp > 2) & (priced["pp_bubble"] < alone["pp_bubble"]) & (plans.micro_batches >= plans.pp)
    assert deeper.sum() > 100
    assert np.all(priced["pp_bubble"] >= 0.0)


@pytest.mark.parametrize("pp", [2, 4])
def test_one_plans_estimate_prices_it_as_the_grid_does(pp: int) -> None:
    """`estimate_training` (one plan's floats) gives the grid's bits: mixtral-8x7b TP8 PP2 (the first rank's bubble
    46.4 -> 40.9 ms at 1F1B) and PP4 (three rank kinds, hB), 1F1B and ZB-H1."""
    shape, cluster = load_model("mixtral-8x7b"), Cluster.resolve("dgx-h100-superpod")
    for schedule in ("1f1b", "zb-h1"):
        one = estimate_training("mixtral-8x7b", "dgx-h100-superpod", 64, stack=ONLY_LOSS, tp=8, pp=pp, vpp=1,
                                seq_len=4096, global_batch=256, micro_batch=1, dtype="bf16", schedule=schedule,
                                zero=1)
        c = one.config
        plan = PlanArrays.build(tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp, ep=c.ep, vpp=1, micro_batch=1, global_batch=256,
                                seq_len=4096, recompute=0, zero=1, dtype=0,
                                schedule=int(Schedule.ONE_F_ONE_B if schedule == "1f1b" else Schedule.ZB_H1))
        grid = evaluate_plans(shape, cluster, plan, ONLY_LOSS)
        assert one.breakdown_s.pp_bubble == float(grid["pp_bubble"][0])  # (lowered: the grid test above)
