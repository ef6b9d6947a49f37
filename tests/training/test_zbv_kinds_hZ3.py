"""ZB-V with rank kinds: rank 0 holds chunk 0 (the embedding) and chunk 2p - 1 (the LM head + loss), every other
rank two plain chunks. List schedules of torch 2.14.1's ScheduleZBVZeroBubble order (transcribed below), exact
fractions, F = I = W = a third of each chunk (the model's `ZB_SPLIT`): from 2p - 1 micro-batches on the bubble is
`pipeline_bubble`'s plus `mirrored_stages.zb_v_end_chunks_s` (hZ3, session 39)."""

from __future__ import annotations

import random
from fractions import Fraction
from itertools import accumulate

import numpy as np
import pytest
from bubble_forms import bubble_with_and_without
from test_torch_schedule_orders import list_schedule
from tests.training.conftest import TORCHTITAN_EVEN

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.training import exact_bubbles
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.mirrored_stages import zb_v_end_chunks_s
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan_rules import valid_mask
from infraplan.training.schedule_models import PIPELINE_SCHEDULES
from infraplan.training.schedules import schedule_violations
from infraplan.training.search import enumerate_plans

ZB_V = int(Schedule.ZB_V)
Op = tuple[str, int, int]


def _zbv_order(p: int, m: int, rank: int) -> list[Op]:
    """torch 2.14.1 ScheduleZBVZeroBubble._calculate_single_rank_operations (torch/distributed/pipelining/
    schedules.py:3526-3648): (pass, stage, micro-batch) in rank `rank`'s order for max(2p - 1, m) micro-batches, the
    missing ones' slots dropped (torch leaves them None, idle); chunks `rank` and 2p - 1 - rank (the "v" mapping,
    _utils.py:515-545)."""
    n, c0, c1 = max(2 * p - 1, m), rank, 2 * p - 1 - rank
    ops: list[Op] = []
    f0 = f1 = b0 = b1 = 0
    for _ in range(2 * (p - rank) - 1):  # warmup_n1
        ops.append(("F", c0, f0))
        f0 += 1
    for _ in range(rank):  # warmup_n2
        ops += [("F", c1, f1), ("F", c0, f0)]
        f1, f0 = f1 + 1, f0 + 1
    for _ in range(p - rank):  # warmup_n3
        ops += [("F", c1, f1), ("I", c1, b1), ("W", c1, b1)]
        f1, b1 = f1 + 1, b1 + 1
    while f1 < f0 or f0 < n:  # stable phase
        if f0 < n:
            ops.append(("F", c0, f0))
            f0 += 1
        ops += [("I", c0, b0), ("W", c0, b0), ("F", c1, f1), ("I", c1, b1), ("W", c1, b1)]
        b0, f1, b1 = b0 + 1, f1 + 1, b1 + 1
    w0, w1 = b0, b1
    for _ in range(rank):  # cooldown_n1
        ops += [("I", c0, b0), ("I", c1, b1)]
        b0, b1 = b0 + 1, b1 + 1
    for _ in range(p - rank):  # cooldown_n2
        ops += [("I", c0, b0), ("W", c0, w0)]
        b0, w0 = b0 + 1, w0 + 1
    ops += [("W", c1, k) for k in range(w1, b1)] + [("W", c0, k) for k in range(w0, b0)]
    return [op for op in ops if op[2] < m]


def _list_bubble(p: int, m: int, c: Fraction, x: Fraction, y: Fraction) -> Fraction:
    """The list schedule's bubble: makespan less rank 0's m (2c + x + y); chunk 0 is c + x, chunk 2p - 1 c + y, the
    others c, each pass a third."""
    def cost(kind: str, stage: int) -> Fraction:
        return (c + (x if stage == 0 else 0) + (y if stage == 2 * p - 1 else 0)) / 3

    span = list_schedule([_zbv_order(p, m, r) for r in range(p)], 2 * p, cost)
    return Fraction(span) - m * (2 * c + x + y)


def _priced(p: int, m: int, c: Fraction, x: Fraction, y: Fraction, applied: bool = True) -> float:
    """The model's ZB-V bubble on o = 2 (p - 1) c, the heaviest rank 2c + x + y, plus the form (floats)."""
    o, th = float(2 * (p - 1) * c), float(2 * c + x + y)
    bubble = float(PIPELINE_SCHEDULES[Schedule.ZB_V].bubble(p, 2, m, th, o))
    return bubble + (float(zb_v_end_chunks_s(ZB_V, p, m, th, o, float(x))) if applied else 0.0)


def _case(rng: random.Random, p: int) -> tuple[Fraction, Fraction, Fraction]:
    c = Fraction(rng.randint(1, 60))
    x = Fraction(rng.randint(0, 30), rng.choice([1, 10, 100])) if rng.random() < 0.8 else Fraction(0)
    y = Fraction(rng.randint(0, 90), rng.choice([1, 10, 100])) if rng.random() < 0.8 else Fraction(0)
    return c, x, y


def test_end_chunks_bubble_is_torchs_order_from_2p_minus_1_micro_batches() -> None:
    """p 2-8 (and 12, 16), every m from 2p - 1 to 4p, random chunk kinds with rank 0's chunks at least a plain one:
    the priced bubble is the list's; the model alone (o / 6) is over wherever rank 0 is heavier."""
    rng, over = random.Random(39), 0
    cases = [(p, rng.randint(2 * p - 1, 4 * p)) for p in range(2, 9) for _ in range(6)] + [(12, 23), (16, 40)]
    for p, m in cases:
        c, x, y = _case(rng, p)
        listed = _list_bubble(p, m, c, x, y)
        assert _priced(p, m, c, x, y) == pytest.approx(float(listed), rel=1e-9, abs=1e-9 * float(c)), (p, m, c, x, y)
        model = _priced(p, m, c, x, y, applied=False)
        assert model >= float(listed) - 1e-9 * float(c)
        over += model > float(listed) + 1e-9 * float(c)
    assert over > len(cases) // 2
    # worked: p 4, m 16, c 6, the head's chunk half a chunk heavier: (p - 2) c - y = 9 of 3-unit passes, not 18
    assert _list_bubble(4, 16, Fraction(6), Fraction(0), Fraction(3)) == 3
    assert _priced(4, 16, Fraction(6), Fraction(0), Fraction(3)) == pytest.approx(3.0)
    assert _priced(4, 16, Fraction(6), Fraction(0), Fraction(3), applied=False) == pytest.approx(6.0)


def test_not_applied_to_a_lighter_end_chunk_or_another_schedule() -> None:
    """Below 2p - 1 micro-batches the priced bubble is the list's too (hZ40's closed form, test_zbv_ramp_hZ40.py); a
    lighter end chunk (x or y < 0: a counted layer) and other schedules get nothing."""
    rng = random.Random(7)
    for p in range(2, 7):
        for m in range(p, 2 * p - 1):
            c, x, y = _case(rng, p)
            assert _priced(p, m, c, x, y) == pytest.approx(float(_list_bubble(p, m, c, x, y)), abs=1e-9 * float(c))
    assert float(zb_v_end_chunks_s(ZB_V, 4, 16, 14.5, 36.0, -0.5)) == 0.0  # x < 0
    assert float(zb_v_end_chunks_s(ZB_V, 4, 16, 12.0, 36.0, 0.5)) == 0.0  # y = 12 - 12 - 0.5 < 0
    assert float(zb_v_end_chunks_s(int(Schedule.ZB_H1), 4, 16, 15.0, 36.0, 0.0)) == 0.0
    assert float(zb_v_end_chunks_s(ZB_V, 4, 16, 15.0, 36.0, 0.0)) == pytest.approx(-3.0)


def test_array_and_one_plan_floats_give_the_same_bits() -> None:
    rng = np.random.default_rng(3)
    n = 400
    p = rng.integers(2, 17, n).astype(float)
    m = np.floor(p * rng.uniform(0.5, 4.0, n))
    o = rng.uniform(0.1, 5.0, n) * (p - 1.0)
    x = rng.uniform(-0.1, 0.3, n)
    th = o / (p - 1.0) + x + rng.uniform(-0.1, 2.0, n)
    code = rng.choice([ZB_V, int(Schedule.ZB_H1)], n)
    grid = zb_v_end_chunks_s(code, p, m, th, o, x)
    one = [float(zb_v_end_chunks_s(int(code[i]), float(p[i]), float(m[i]), float(th[i]), float(o[i]), float(x[i])))
           for i in range(n)]
    assert grid.tolist() == one
    assert np.count_nonzero(grid) > 50


def test_order_holds_the_models_activations_and_runs_any_micro_batch_count() -> None:
    """Memory: the most chunks in flight (forwards whose W has not run) on any rank is 2 min(p, m), the model's
    min(p, m) micro-batches of a stage; rank 0 (embedding, logits) holds min(2p, m + 1) chunks, fewer below 2p - 1.
    torch checks only the 2 chunks per rank: any m, below p or not a multiple of it, runs (the plan rules agree)."""
    for p in range(2, 9):
        for m in range(1, 4 * p + 1):
            held = [max(accumulate({"F": 1, "I": 0, "W": -1}[k] for k, _, _ in _zbv_order(p, m, r)))
                    for r in range(p)]
            assert max(held) == 2 * min(p, m) == 2 * PIPELINE_SCHEDULES[Schedule.ZB_V].in_flight(p, 2, m)
            assert held[0] == min(2 * p, m + 1)
    bad = schedule_violations(np.full(3, ZB_V), np.array([4, 4, 4]), np.full(3, 2), np.array([3, 6, 10]), "torch")
    assert not np.any([mask for mask, _ in bad])


TORCHTITAN = TORCHTITAN_EVEN
PLAN = dict(tp=2, pp=4, vpp=2, seq_len=8192, global_batch=256, schedule="zb-v", stack=TORCHTITAN_EVEN)


def test_llama3_8b_bubble_is_the_list_on_its_own_kinds() -> None:
    """llama3-8b, 64 H100, torchtitan (even split, no counted ends: 8 chunks of 4 layers), TP2 PP4 ZB-V, m 32: the
    priced bubble is the list's on the plan's own kinds (c, x the embedding, y the LM head + loss) and drops from
    the model's o / 6 (49.4 ms) to 19.0 ms; 55.2 -> 22.9 ms since hK (session 56): torchtitan runs SDPA's
    FlashAttention-2 on Hopper (`attention_kernel: fa2`, 0.29 of peak against cuDNN's 0.50), so each chunk is longer;
    22.9 -> 21.4 ms since hI58: torchtitan's loss is DTensor's loss_parallel at TP 2 (76 B per logit in 47 kernels, was
    Megatron's 52 B in 13: `training.head_time.TORCH_CROSS_ENTROPY_PASSES`), the LM head's chunk y longer."""
    seen: list[tuple[float, ...]] = []

    def spy(schedule: int, pp: float, m: float, th: float, o: float, x: float) -> float:
        seen.append((float(pp), float(m), float(o), float(x), float(th) - float(o) / (float(pp) - 1.0) - float(x)))
        return float(zb_v_end_chunks_s(schedule, pp, m, th, o, x))

    clear_one_plan_memo()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exact_bubbles, "zb_v_end_chunks_s", spy)
        bubble = estimate_training("llama3-8b", "dgx-h100-superpod", 64, **PLAN).breakdown_s.pp_bubble
    clear_one_plan_memo()
    (p, m, o, x, y), = seen
    assert (p, m) == (4.0, 32.0) and x > 0.0 and y > 0.0
    c = Fraction(o) / (2 * (int(p) - 1))
    assert bubble == pytest.approx(float(_list_bubble(4, 32, c, Fraction(x), Fraction(y))), rel=1e-9)
    priced, alone = bubble_with_and_without("zb_v_end_chunks_s", "llama3-8b", "dgx-h100-superpod", 64, **PLAN)
    assert alone == pytest.approx(0.055245, rel=1e-3) and priced == pytest.approx(0.021416, rel=1e-3)


def test_grid_rows_are_one_plans_bits_and_move_only_where_it_applies() -> None:
    """Every valid llama3-8b ZB-V plan on 64 H100 under torchtitan: a plan priced alone gives its grid row's bubble
    bit for bit; the bubble drops (from 2p - 1 micro-batches on, and below: hZ40), never below 0."""
    shape, cluster = load_model("llama3-8b"), Cluster.resolve("dgx-h100-superpod")
    plans = enumerate_plans(shape, 64, 8192, 256, ["bf16"], max_tp=8, schedules=["zb-v"])
    plans = plans.take(valid_mask(shape, plans, rules="torch") & (plans.schedule == ZB_V))
    priced = evaluate_plans(shape, cluster, plans, TORCHTITAN)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exact_bubbles, "zb_v_end_chunks_s", lambda *args: 0.0)
        alone = evaluate_plans(shape, cluster, plans, TORCHTITAN)
    m = plans.global_batch // (plans.dp * plans.micro_batch)
    moved = priced["pp_bubble"] != alone["pp_bubble"]
    assert np.any(moved & (m >= 2 * plans.pp - 1)) and np.any(moved & (m < 2 * plans.pp - 1))
    assert np.all(priced["pp_bubble"][moved] < alone["pp_bubble"][moved]) and np.all(priced["pp_bubble"] >= 0.0)
    for i in np.flatnonzero(moved)[:4]:
        one = evaluate_plans(shape, cluster, plans.take([int(i)]), TORCHTITAN)["pp_bubble"]
        assert float(one[0]) == float(priced["pp_bubble"][i])
