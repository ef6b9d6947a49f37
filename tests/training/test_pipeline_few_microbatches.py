"""1F1B and ZB-H1 with fewer micro-batches than stages (m < p) on three rank kinds (rank 0 with the embedding, p - 2
equal middle ranks, the last with the LM head + loss), against list schedules of the transcribed orders with exact
fractions: the model's bubble plus `schedules.three_rank_kinds_s` is the list's (hB3, session 37).

1F1B below p is Megatron's order: megatron-core 0.16.1 megatron/core/pipeline_parallel/schedules.py:2093-2097
(`forward_backward_pipelining_without_interleaving`: min(p - rank - 1, m) warm-up forwards), :2191-2265 (the
steady state, a forward then a backward) and :2268-2288 (the cool-down backwards); torch's Schedule1F1B is that
order where it accepts m (m >= p) and refuses m < p. ZB-H1 below p is torch's ScheduleInterleavedZeroBubble at one
stage per rank, which accepts every m < p (one round of m; tests/training/test_torch_schedule_orders.py).
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from bubble_forms import bubble_with_and_without
from test_torch_schedule_orders import Op, _torch_1f1b_order, _torch_looped_order, list_schedule
from tests.training.conftest import TORCHTITAN_EVEN

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.schedule_models import PIPELINE_SCHEDULES
from infraplan.training.schedules import three_rank_kinds_s

ONE_F_ONE_B, ZB_H1 = int(Schedule.ONE_F_ONE_B), int(Schedule.ZB_H1)
Kind = tuple[Fraction, Fraction]  # a rank kind's F and B (ZB-H1: F + B is its time, F = I = W = a third)


def _megatron_1f1b_order(p: int, m: int, rank: int) -> list[Op]:
    """forward_backward_pipelining_without_interleaving (megatron-core 0.16.1 schedules.py:2093-2288): warm-up
    min(p - rank - 1, m) forwards, then m - warm-up (forward, backward) pairs, then warm-up backwards."""
    warm = min(p - rank - 1, m)
    ops: list[Op] = [("F", rank, k) for k in range(warm)]
    for i in range(m - warm):
        ops += [("F", rank, warm + i), ("B", rank, i)]
    return ops + [("B", rank, k) for k in range(m - warm, m)]


def _kind(rng: random.Random, any_share: bool = False) -> Kind:
    """A rank kind's time 1/4..10 with F : B from 1 : 1 to 1 : 3 (`any_share`: 0..10, any F share)."""
    t = Fraction(rng.randint(0 if any_share else 1, 40), 4)
    share = Fraction(rng.randint(0, 100), 100) if any_share else Fraction(rng.randint(25, 50), 100)
    return t * share, t * (1 - share)


def _ranks(p: int, first: Kind, middle: Kind, last: Kind) -> list[Kind]:
    return [first] + [middle] * (p - 2) + [last]


def _listed(code: int, p: int, m: int, ranks: list[Kind]) -> Fraction:
    if code == ONE_F_ONE_B:
        cost = {(k, s): ranks[s][k == "B"] for s in range(p) for k in "FB"}
        orders = [_megatron_1f1b_order(p, m, r) for r in range(p)]
    else:
        cost = {(k, s): (ranks[s][0] + ranks[s][1]) / 3 for s in range(p) for k in "FIW"}
        orders = [_torch_looped_order(p, 1, m, r, True) for r in range(p)]
    return Fraction(list_schedule(orders, p, lambda kind, stage: cost[(kind, stage)]))


def _priced(code: int, p: int, m: int, ranks: list[Kind], kinds: bool = True) -> float:
    """m t_heaviest + the model's bubble on o (+ `three_rank_kinds_s`, given the kinds as step_assembly does: not
    for 1F1B with the last rank the heaviest), in floats."""
    times = [float(f + b) for f, b in ranks]
    heaviest = max(times)
    others = sum(times) - heaviest
    middle = ranks[1] if p > 2 else (Fraction(0), Fraction(0))
    schedule = Schedule.ONE_F_ONE_B if code == ONE_F_ONE_B else Schedule.ZB_H1
    bubble = float(PIPELINE_SCHEDULES[schedule].bubble(p, 1, m, heaviest, others))
    last = -1.0 if code == ONE_F_ONE_B and times[-1] == heaviest else times[-1]
    if kinds:
        bubble += float(three_rank_kinds_s(code, p, m, heaviest, others, times[0], float(ranks[0][0]),
                                           float(sum(middle)), float(middle[0]), last))
    return m * heaviest + bubble


def test_megatrons_order_is_torchs_where_torch_runs_it() -> None:
    for p in range(2, 7):
        for m in range(1, 3 * p + 2):
            for r in range(p):
                if m >= p:
                    assert _megatron_1f1b_order(p, m, r) == _torch_1f1b_order(p, m, r), (p, m, r)
                else:
                    with pytest.raises(ValueError):
                        _torch_1f1b_order(p, m, r)


@pytest.mark.parametrize("code", [ONE_F_ONE_B, ZB_H1])
def test_below_p_is_the_listed_order_for_any_three_kinds(code: int) -> None:
    """3,000 cases each: p 2-8, m 1..p - 1, each kind's time and F : B at random (a third with any F share and
    zero times), so every order of the three kinds' weights; the model alone misses most of them."""
    rng, heaviest, missed = random.Random(37 + code), set(), 0
    for i in range(3000):
        p = rng.randint(2, 8)
        m = rng.randint(1, p - 1)
        any_share = i % 3 == 0
        ranks = _ranks(p, _kind(rng, any_share), _kind(rng, any_share), _kind(rng, any_share))
        times = [sum(k) for k in ranks]
        heaviest.add(times.index(max(times)) if times[-1] < max(times) else p - 1)
        listed = float(_listed(code, p, m, ranks))
        assert _priced(code, p, m, ranks) == pytest.approx(listed, rel=1e-12, abs=1e-12), (p, m, ranks)
        missed += _priced(code, p, m, ranks, kinds=False) != pytest.approx(listed, rel=1e-9, abs=1e-9)
    assert {0, 1}.issubset(heaviest) and any(h > 1 for h in heaviest)
    assert missed > 1000


def test_the_model_is_the_order_with_equal_ranks_and_1f1b_with_the_last_the_heaviest() -> None:
    """Equal ranks: (m + p - 1) t (1F1B) and the model's ZB-H1 ramp; 1F1B with the last rank the heaviest: o,
    exactly, so step_assembly passes no kinds there (ZB-H1's ramp is not the order's: it does)."""
    rng = random.Random(3)
    for p in range(2, 9):
        for m in range(1, p):
            one = (Fraction(1), Fraction(2))
            assert _listed(ONE_F_ONE_B, p, m, _ranks(p, one, one, one)) == 3 * (m + p - 1)
            assert _priced(ZB_H1, p, m, _ranks(p, one, one, one), kinds=False) == pytest.approx(
                float(_listed(ZB_H1, p, m, _ranks(p, one, one, one))), abs=1e-12)
            first, middle = _kind(rng), _kind(rng)
            most = max(first[0] + first[1], middle[0] + middle[1])
            last = (most / 3, most * 2 / 3 + 1)
            ranks = _ranks(p, first, middle, last)
            assert _priced(ONE_F_ONE_B, p, m, ranks, kinds=False) == pytest.approx(
                float(_listed(ONE_F_ONE_B, p, m, ranks)), rel=1e-12)


def test_the_first_rank_heaviest_where_the_model_overprices() -> None:
    """PP 4, m 2: rank 0 3.5 (F 7/6), middles 3 (F 1), the last 2.5: the list's step 14.5 = t_0 + (q + m - 2) t_m +
    max(f_0, f_m, t_l) + max(b_0, b_m, t_l) (rank 0's first forward, the middle ranks' passes, the last rank's whole
    micro-batch on each side), the model's m t_0 + o = 7 + 8.5."""
    ranks = _ranks(4, (Fraction(7, 6), Fraction(7, 3)), (Fraction(1), Fraction(2)), (Fraction(5, 6), Fraction(5, 3)))
    assert _listed(ONE_F_ONE_B, 4, 2, ranks) == Fraction(29, 2)
    assert _priced(ONE_F_ONE_B, 4, 2, ranks, kinds=False) == 15.5
    assert _priced(ONE_F_ONE_B, 4, 2, ranks) == pytest.approx(14.5, abs=1e-12)


def test_arrays_and_one_plans_floats_give_the_same_bits() -> None:
    rng = np.random.default_rng(37)
    n = 96
    codes = rng.choice([ONE_F_ONE_B, ZB_H1, int(Schedule.INTERLEAVED)], n)
    pp = rng.integers(2, 9, n).astype(float)
    m = np.maximum(pp + rng.integers(-7, 3, n), 1.0)  # mostly below p, some at or above
    t0, tm, tl = (rng.uniform(0.01, 0.06, n) for _ in range(3))
    tm = np.where(pp > 2, tm, 0.0)
    heaviest = np.maximum(np.maximum(t0, tm), tl)
    o = t0 + (pp - 2) * tm + tl - heaviest
    f0, fm = t0 * rng.uniform(0.25, 0.5, n), tm * rng.uniform(0.25, 0.5, n)
    tl = np.where((tl == heaviest) & (codes == ONE_F_ONE_B), -1.0, tl)
    grid = three_rank_kinds_s(codes, pp, m, heaviest, o, t0, f0, tm, fm, tl)
    one = [three_rank_kinds_s(int(c), *(float(x[i]) for x in (pp, m, heaviest, o, t0, f0, tm, fm, tl)))
           for i, c in enumerate(codes)]
    assert grid.tolist() == one
    assert sum(x != 0.0 for x, few in zip(one, m < pp, strict=True) if few) > 20


def _estimate(model: str, gpus: int, **kw: Any) -> tuple[float, float]:
    """(priced, without `three_rank_kinds_s`) bubble seconds of one plan."""
    return bubble_with_and_without("three_rank_kinds_s", model, "dgx-h100-superpod", gpus, vpp=1, micro_batch=1,
                                   dtype="bf16", **kw)


def test_plans_below_p_price_the_order() -> None:
    """llama3-405b TP8 PP16 on nemo-26.04 (its recipe counts both ends: a middle rank the heaviest), m 8: 1F1B
    bubble 3,966.8 -> 3,954.5 ms; llama3-8b TP2 PP4 torchtitan ZB-H1 at m 2 (the last rank the heaviest: the
    model's ramp over the order) 165.7 -> 147.4 ms; mixtral-8x7b with the loss counted (rank 0 the heaviest) PP8 m 4:
    82.8 -> 75.6 ms; llama3-70b PP8 1F1B m 4 (the last the heaviest): o, unchanged."""
    loss = load_stack("nemo-26.04").model_copy(update={"account_for_loss_in_pipeline_split": True,
                                                       "pipeline_split_divisible": False})  # 33 slots (hR44)
    priced, alone = _estimate("llama3-405b", 1024, stack="nemo-26.04", tp=8, pp=16, seq_len=8192, global_batch=64,
                              schedule="1f1b")
    assert priced < alone - 0.01
    priced, alone = _estimate("llama3-8b", 64, stack=TORCHTITAN_EVEN, tp=2, pp=4, seq_len=8192, global_batch=16,
                              schedule="zb-h1")
    assert priced < alone - 0.015
    priced, alone = _estimate("mixtral-8x7b", 64, stack=loss, tp=8, pp=8, seq_len=4096, global_batch=4,
                              schedule="1f1b")
    assert priced < alone - 0.005
    priced, alone = _estimate("llama3-70b", 64, stack="nemo-26.04", tp=8, pp=8, seq_len=8192, global_batch=4,
                              schedule="1f1b")
    assert priced == alone > 0.0


@pytest.mark.parametrize("schedule", ["1f1b", "zb-h1"])
def test_one_plans_estimate_prices_it_as_the_grid_does(schedule: str) -> None:
    """`estimate_training` (one plan's floats) gives the grid's bits below p: llama3-8b TP2 PP4 torchtitan, m 2
    (ZB-H1; torch refuses 1F1B there, so its 1F1B plan is Megatron's: nemo-26.04 with the loss counted)."""
    shape, cluster = load_model("llama3-8b"), Cluster.resolve("dgx-h100-superpod")
    stack = TORCHTITAN_EVEN if schedule == "zb-h1" else load_stack("nemo-26.04").model_copy(
        update={"account_for_loss_in_pipeline_split": True, "pipeline_split_divisible": False})  # 33 slots (hR44)
    clear_one_plan_memo()
    one = estimate_training("llama3-8b", "dgx-h100-superpod", 64, stack=stack, tp=2, pp=4, vpp=1, seq_len=8192,
                            global_batch=16, micro_batch=1, dtype="bf16", schedule=schedule, zero=1)
    c = one.config
    assert c.micro_batches == 2
    # two rows (m 2 and m 4 = p): the arrays' path, not one plan's
    plan = PlanArrays.build(tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp, ep=c.ep, vpp=1, micro_batch=1,
                            global_batch=np.array([16, 32]), seq_len=8192, recompute=0, zero=1, dtype=0,
                            schedule=ONE_F_ONE_B if schedule == "1f1b" else ZB_H1)
    assert not plan.is_one
    grid = evaluate_plans(shape, cluster, plan, stack)
    assert one.breakdown_s.pp_bubble == float(grid["pp_bubble"][0])
