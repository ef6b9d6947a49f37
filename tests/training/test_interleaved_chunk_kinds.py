"""The interleaved schedule with a middle rank the heaviest (the even split with the embedding and the loss counted
as layers, NeMo / Megatron-Bridge's large recipes, where the embedding and the LM head are lighter than a chunk's
layers), against list schedules of torch's transcribed ScheduleInterleaved1F1B order (Megatron's at m a multiple of
p; tests/training/test_torch_schedule_orders.py), exact fractions: the model's o / v plus
`schedules.interleaved_middle_heaviest_s` is the list's (hB2, session 36)."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
from bubble_forms import interleaved_grid_with_and_without
from test_torch_schedule_orders import _torch_looped_order, list_schedule

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training import exact_bubbles
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.schedule_models import PIPELINE_SCHEDULES
from infraplan.training.schedules import interleaved_middle_heaviest_s

INTERLEAVED = int(Schedule.INTERLEAVED)
Pass = tuple[Fraction, Fraction]  # a chunk's forward and backward


def _listed(p: int, v: int, m: int, plain: Pass, first: Pass, last: Pass) -> Fraction:
    """The order's makespan: chunk 0 (rank 0) `first`, chunk p v - 1 (rank p - 1) `last`, every other `plain`."""
    def cost(kind: str, stage: int) -> Fraction:
        chunk = first if stage == 0 else last if stage == p * v - 1 else plain
        return chunk[kind == "B"]
    return Fraction(list_schedule([_torch_looped_order(p, v, m, r, False) for r in range(p)], p * v, cost))


def _priced(p: int, v: int, m: int, plain: Pass, first: Pass, last: Pass, applied: bool = True) -> float:
    """m t_middle + the model's bubble on o + `interleaved_middle_heaviest_s`, in floats (ranks' sums per
    micro-batch: rank 0 (v - 1) plain + first, a middle v plain, the last (v - 1) plain + last)."""
    c = float(sum(plain))
    middle, t0, tl = v * c, (v - 1) * c + float(sum(first)), (v - 1) * c + float(sum(last))
    others = t0 + (p - 2) * middle + tl - middle
    bubble = float(PIPELINE_SCHEDULES[Schedule.INTERLEAVED].bubble(p, v, m, middle, others))
    if applied:
        bubble += float(interleaved_middle_heaviest_s(INTERLEAVED, p, v, m, middle, others, t0, v * float(plain[0]),
                                                      tl))
    return m * middle + bubble


def _lighter(rng: random.Random, plain: Pass) -> Pass:
    return plain[0] * Fraction(rng.randint(0, 8), 8), plain[1] * Fraction(rng.randint(0, 8), 8)


def test_a_middle_heaviest_rank_is_the_transcribed_order() -> None:
    """3,000 cases: p 3-6, v 2-4, m p / 2p / 3p (Megatron's rule) and every other m >= p torch accepts, a plain
    chunk's F and B at random, each end chunk's passes 0-1 of a plain chunk's."""
    rng, n, torch_only = random.Random(36), 0, 0
    while n < 3000:
        p, v = rng.randint(3, 6), rng.randint(2, 4)
        m = rng.randint(p, 3 * p + 2)
        if m % max(1, m // p):
            continue
        n, torch_only = n + 1, torch_only + (m % p != 0)
        plain = (Fraction(rng.randint(1, 40), rng.randint(1, 4)), Fraction(rng.randint(1, 40), rng.randint(1, 4)))
        first, last = _lighter(rng, plain), _lighter(rng, plain)
        listed = _listed(p, v, m, plain, first, last)
        assert _priced(p, v, m, plain, first, last) == pytest.approx(float(listed), rel=1e-12), (p, v, m)
    assert torch_only > 300


def test_the_model_alone_was_over() -> None:
    """p 4 v 2, a plain chunk F 1 / B 2, m 4 and 8: the embedding's chunk empty, the LM head's F 1/2 B 1: the list's
    bubble over the middle rank's m 6 is 3 (the model's o / v 6.75); the first chunk a third of a plain one, the
    last a plain one: 7 (o / v 8). The model is never under here: the first chunk's passes run once on the path,
    the last's once or m times, and |F - B| <= c."""
    plain, empty, third = (Fraction(1), Fraction(2)), (Fraction(0), Fraction(0)), (Fraction(1, 3), Fraction(2, 3))
    half = (Fraction(1, 2), Fraction(1))
    for m in (4, 8):
        for first, last, listed, model in ((empty, half, 3, 6.75), (third, plain, 7, 8.0)):
            assert _listed(4, 2, m, plain, first, last) - 6 * m == listed
            assert _priced(4, 2, m, plain, first, last, applied=False) == pytest.approx(6 * m + model)
            assert _priced(4, 2, m, plain, first, last) == pytest.approx(6 * m + listed)


def test_not_applied_where_marked_below_p_or_to_other_schedules() -> None:
    for code, m, last in ((INTERLEAVED, 8, -1.0), (INTERLEAVED, 3, 2.5), (int(Schedule.ONE_F_ONE_B), 8, 2.5),
                          (int(Schedule.ZB_V), 8, 2.5)):
        assert float(interleaved_middle_heaviest_s(code, 4, 2, m, 6.0, 13.0, 4.5, 2.0, last)) == 0.0


def test_arrays_and_one_plans_floats_give_the_same_bits() -> None:
    rng = np.random.default_rng(7)
    n = 64
    codes = rng.choice([INTERLEAVED, int(Schedule.ONE_F_ONE_B)], n)
    pp, vpp = rng.integers(3, 17, n).astype(float), rng.integers(2, 9, n).astype(float)
    m = pp * rng.integers(1, 9, n) - rng.integers(0, 2, n)
    th = rng.uniform(0.1, 0.4, n)
    t0, tl = th * rng.uniform(0.8, 1.0, n), th * rng.uniform(0.8, 1.0, n)
    o = t0 + (pp - 2) * th + tl - th
    fm = th * rng.uniform(0.25, 0.5, n)
    tl = np.where(rng.random(n) < 0.2, -1.0, tl)
    grid = interleaved_middle_heaviest_s(codes, pp, vpp, m, th, o, t0, fm, tl)
    one = [interleaved_middle_heaviest_s(int(c), *(float(x[i]) for x in (pp, vpp, m, th, o, t0, fm, tl)))
           for i, c in enumerate(codes)]
    assert grid.tolist() == one
    assert sum(x < 0.0 for x in one) > 10


BOTH = load_stack("nemo-26.04").model_copy(update={"account_for_loss_in_pipeline_split": True,
                                                   "account_for_embedding_in_pipeline_split": True,
                                                   "pipeline_split_divisible": False})  # (PP16 VP7 below, hR44)
KW = dict(stack=BOTH, tp=8, seq_len=8192, global_batch=512, micro_batch=1, dtype="bf16", recompute="none", zero=1)


def _both_ways(pp: int, vpp: int) -> tuple[float, float]:
    """llama3-405b on 1,024 H100 at the recipe's counted ends: the bubble priced, and with the model's o / v."""
    priced = estimate_training("llama3-405b", "dgx-h100-superpod", 1024, pp=pp, vpp=vpp, **KW)  # type: ignore
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exact_bubbles, "interleaved_middle_heaviest_s", lambda *args: 0.0)
        clear_one_plan_memo()  # (the single estimate's memo keeps a plan's pricing)
        alone = estimate_training("llama3-405b", "dgx-h100-superpod", 1024, pp=pp, vpp=vpp, **KW)  # type: ignore
        clear_one_plan_memo()
    return priced.breakdown_s.pp_bubble, alone.breakdown_s.pp_bubble


def test_the_405b_recipes_split_is_priced_and_an_uneven_one_keeps_the_model() -> None:
    """126 layers + 2 counted ends: PP16 VP4 / VP8 and PP8 VP8 split whole chunks (2, 1, 2 slots) with a middle rank
    the heaviest (the embedding and the LM head each lighter than a layer): the bubble drops (VP4 991.7 -> 914.3 ms,
    the embedding's chunk a layer short, o / v counted it once in v); PP16 VP7 (128 slots on 112 chunks, which
    Megatron refuses) keeps the model's o / v; the one plan's floats are the grid's bits."""
    for pp, vpp in ((16, 4), (16, 8), (8, 8)):
        priced, alone = _both_ways(pp, vpp)
        assert 0.0 < priced < alone - 0.05, (pp, vpp)
    priced, alone = _both_ways(16, 7)
    assert priced == alone > 0.0
    one = estimate_training("llama3-405b", "dgx-h100-superpod", 1024, pp=16, vpp=4, **KW)  # type: ignore
    c = one.config
    plan = PlanArrays.build(tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp, ep=c.ep, vpp=4, micro_batch=1, global_batch=512,
                            seq_len=8192, recompute=0, zero=1, dtype=0,
                            schedule=INTERLEAVED)
    grid = evaluate_plans(load_model("llama3-405b"), Cluster.resolve("dgx-h100-superpod"), plan, BOTH)
    assert one.breakdown_s.pp_bubble == float(grid["pp_bubble"][0])


def test_grid_plans_drop_only_where_a_middle_rank_is_heaviest_and_floors_stay_below() -> None:
    """llama3-405b on 1,024 H100 with both ends counted: interleaved plans whose split gives whole chunks with a
    middle rank the heaviest drop against the model alone at m >= p, no other plan moves, every bubble >= 0 and
    every step stays above its row's floor."""
    plans, priced, alone = interleaved_grid_with_and_without("interleaved_middle_heaviest_s", "llama3-405b", 1024,
                                                             8192, BOTH, 3)
    assert len(plans) > 50
    lower = priced["pp_bubble"] < alone["pp_bubble"]
    whole = (126 + 2) % (plans.pp * plans.vpp) == 0
    assert lower.sum() > 10 and np.all(whole[lower]) and np.all(plans.micro_batches[lower] >= plans.pp[lower])
    assert np.all(priced["pp_bubble"][~lower] == alone["pp_bubble"][~lower])
    assert np.all(priced["pp_bubble"] >= 0.0)
