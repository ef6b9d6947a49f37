"""The interleaved schedule with rank 0 the heaviest (its first chunk, with the embedding, heavier than a plain chunk
in both passes; the last chunk lighter, or heavier by less than rank 0's excess), against list schedules of torch's
transcribed ScheduleInterleaved1F1B order (Megatron's at m a multiple of p; tests/training/
test_torch_schedule_orders.py), exact fractions: the model's o / v plus `schedules.interleaved_first_heaviest_s` is
the list's (hB4, session 37)."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
from bubble_forms import bubble_with_and_without, interleaved_grid_with_and_without
from test_interleaved_chunk_kinds import Pass, _listed

from infraplan.catalog import load_model
from infraplan.catalog.model_recipes import stack_for_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.plan import PlanArrays
from infraplan.training.schedule_models import PIPELINE_SCHEDULES
from infraplan.training.schedules import interleaved_first_heaviest_s

INTERLEAVED = int(Schedule.INTERLEAVED)


def _priced(p: int, v: int, m: int, plain: Pass, first: Pass, last: Pass, applied: bool = True) -> float:
    """m t_0 + the model's bubble on o + `interleaved_first_heaviest_s`, in floats (ranks' sums per micro-batch:
    rank 0 (v - 1) plain + first, a middle v plain, the last (v - 1) plain + last)."""
    c = float(sum(plain))
    t0, tl = (v - 1) * c + float(sum(first)), (v - 1) * c + float(sum(last))
    others = (p - 2) * v * c + tl
    bubble = float(PIPELINE_SCHEDULES[Schedule.INTERLEAVED].bubble(p, v, m, t0, others))
    if applied:
        first_fwd = (v - 1) * float(plain[0]) + float(first[0])
        bubble += float(interleaved_first_heaviest_s(INTERLEAVED, p, v, m, t0, others, first_fwd, v * c,
                                                     v * float(plain[0]), tl))
    return m * t0 + bubble


def _case(rng: random.Random, heavier_last: bool) -> tuple[Pass, Pass, Pass]:
    plain = (Fraction(rng.randint(1, 20), 4), Fraction(rng.randint(1, 20), 4))
    x, y = Fraction(rng.randint(0, 40), 8), Fraction(rng.randint(0, 40), 8)
    if rng.random() < 0.2:
        x, y = x * 10, y * rng.randint(1, 10)
    first = (plain[0] + x, plain[1] + y)
    if heavier_last:  # by u + w <= x + y: rank 0 stays the heaviest
        u, w = Fraction(rng.randint(0, 40), 8), Fraction(rng.randint(0, 40), 8)
        scale = min(Fraction(1), (x + y) / (u + w)) if u + w else Fraction(1)
        last = (plain[0] + u * scale, plain[1] + w * scale)
    else:
        last = (plain[0] * Fraction(rng.randint(0, 100), 100), plain[1] * Fraction(rng.randint(0, 100), 100))
    return plain, first, last


@pytest.mark.parametrize("heavier_last", [False, True])
def test_rank_0_the_heaviest_is_the_transcribed_order(heavier_last: bool) -> None:
    """600 cases per region: p 2-6, v 2-4, m p / 2p / 3p (Megatron's rule), a plain chunk's F and B at random, the
    first chunk's excess over it in each pass, the last chunk lighter (each pass 0-1 of a plain one's) or heavier
    (by at most the first's excess)."""
    rng = random.Random(37 + heavier_last)
    for _ in range(600):
        p, v = rng.randint(2, 6), rng.randint(2, 4)
        m = rng.choice((1, 2, 3)) * p
        plain, first, last = _case(rng, heavier_last)
        listed = _listed(p, v, m, plain, first, last)
        assert _priced(p, v, m, plain, first, last) == pytest.approx(float(listed), rel=1e-12), (p, v, m)


def test_the_model_alone_was_under_and_over() -> None:
    """p 4 v 2, a plain chunk F 1 / B 2, the first chunk F 2 / B 4 (rank 0 9 per micro-batch), m 4 (m t_0 = 36):
    the last chunk F 2 / B 3 (lighter than the first by a unit): the list's bubble 17 = (p - 1) c + p e, the
    model's o / v 10 (under: the last chunk's excess e runs p times on the path, once in o / v); an empty last
    chunk: 6 (the model's 7.5, over); at m 8 13 and 0 against 10 and 7.5."""
    plain, first = (Fraction(1), Fraction(2)), (Fraction(2), Fraction(4))
    for m, last, listed, model in ((4, (Fraction(2), Fraction(3)), 17, 10.0), (4, (Fraction(0), Fraction(0)), 6, 7.5),
                                   (8, (Fraction(2), Fraction(3)), 13, 10.0), (8, (Fraction(0), Fraction(0)), 0, 7.5)):
        assert _listed(4, 2, m, plain, first, last) - 9 * m == listed
        assert _priced(4, 2, m, plain, first, last, applied=False) == pytest.approx(9 * m + model)
        assert _priced(4, 2, m, plain, first, last) == pytest.approx(9 * m + listed)


def test_not_applied_where_marked_below_p_off_megatrons_rule_outside_the_region_or_to_other_schedules() -> None:
    """Rank 0 9 = (v - 1) 3 + a first chunk of 6 (F 2), plain ranks 6 (F 2 each): applied at m 8 (p 4, v 2); not
    where the last rank is marked (-1), below p, at m 6 (torch's rounds, not Megatron's), other schedules, a last
    chunk heavier than rank 0's excess (last rank 13 > 9), a first chunk lighter than a plain one in a pass."""
    args = (4, 2, 8, 9.0, 19.0, 4.0, 6.0, 2.0, 7.0)
    assert float(interleaved_first_heaviest_s(INTERLEAVED, *args)) != 0.0
    for code, m, last in ((INTERLEAVED, 8, -1.0), (INTERLEAVED, 3, 7.0), (INTERLEAVED, 6, 7.0),
                          (int(Schedule.ONE_F_ONE_B), 8, 7.0), (int(Schedule.ZB_V), 8, 7.0), (INTERLEAVED, 8, 13.0)):
        assert float(interleaved_first_heaviest_s(code, 4, 2, m, 9.0, 19.0, 4.0, 6.0, 2.0, last)) == 0.0
    assert float(interleaved_first_heaviest_s(INTERLEAVED, 4, 2, 8, 9.0, 19.0, 1.5, 6.0, 2.0, 7.0)) == 0.0


def test_arrays_and_one_plans_floats_give_the_same_bits() -> None:
    rng = np.random.default_rng(8)
    n = 160
    codes = rng.choice([INTERLEAVED, int(Schedule.ONE_F_ONE_B)], n)
    pp, vpp = rng.integers(2, 17, n).astype(float), rng.integers(2, 9, n).astype(float)
    m = pp * rng.integers(1, 9, n) - (rng.random(n) < 0.2)
    plain = rng.uniform(0.1, 0.4, n)
    fplain = plain * rng.uniform(0.25, 0.5, n)
    x, y = rng.uniform(0.0, 0.05, n), rng.uniform(0.0, 0.1, n)
    th, f0 = plain + x + y, fplain + x
    tl = plain + np.where(rng.random(n) < 0.5, -plain / vpp, x + y) * rng.uniform(0.0, 1.0, n)
    tl = np.where(rng.random(n) < 0.15, -1.0, tl)
    o = (pp - 2) * plain + np.maximum(tl, 0.0)
    grid = interleaved_first_heaviest_s(codes, pp, vpp, m, th, o, f0, plain, fplain, tl)
    one = [interleaved_first_heaviest_s(int(c), *(float(z[i]) for z in (pp, vpp, m, th, o, f0, plain, fplain, tl)))
           for i, c in enumerate(codes)]
    assert grid.tolist() == one
    assert sum(z > 0.0 for z in one) > 5 and sum(z < 0.0 for z in one) > 5


GPT3 = stack_for_model(load_stack("nemo-26.04"), "gpt3-175b")


def _both_ways(**kw: int) -> tuple[float, float]:
    """gpt3-175b on 1,024 H100 (nemo-26.04, seq 2048, gbs 512): the bubble priced, and with the model's o / v."""
    return bubble_with_and_without("interleaved_first_heaviest_s", "gpt3-175b", "dgx-h100-superpod", 1024,
                                   stack=GPT3, seq_len=2048, global_batch=512, micro_batch=1, dtype="bf16", **kw)


def test_gpt3_plans_with_rank_0_the_heaviest_move() -> None:
    """TP2 PP4 VP4 CP8 (rank 0, the embedding with CP, the heaviest; the last rank's head lighter than it): the
    bubble rises (the model alone under); TP2 PP4 VP3 (96 / 4 = 24 layers, whole chunks of 8) too; TP8 PP8 VP2
    without CP (the last rank the heaviest) is unchanged."""
    for kw in (dict(tp=2, pp=4, vpp=4, cp=8, zero=3), dict(tp=2, pp=4, vpp=3, cp=8, zero=3)):
        priced, alone = _both_ways(**kw)
        assert priced > alone + 1e-3, kw
    priced, alone = _both_ways(tp=8, pp=8, vpp=2)
    assert priced == alone > 0.0
    one = estimate_training("gpt3-175b", "dgx-h100-superpod", 1024, tp=2, pp=4, vpp=4, cp=8, zero=3, stack=GPT3,
                            seq_len=2048, global_batch=512, micro_batch=1, dtype="bf16")
    c = one.config
    plan = PlanArrays.build(tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp, ep=c.ep, vpp=4, micro_batch=1, global_batch=512,
                            seq_len=2048, recompute=0, zero=3, dtype=0, schedule=INTERLEAVED)
    grid = evaluate_plans(load_model("gpt3-175b"), Cluster.resolve("dgx-h100-superpod"), plan, GPT3)
    assert one.breakdown_s.pp_bubble == float(grid["pp_bubble"][0])  # the one plan's floats: the grid's bits


def test_grid_plans_move_only_where_rank_0_is_heaviest_and_floors_stay_below() -> None:
    """gpt3-175b on 1,024 H100 (nemo-26.04's recipe): interleaved plans move only at m a multiple of p on whole
    chunks, both ways; every bubble >= 0 and every step stays above its row's floor."""
    plans, priced, alone = interleaved_grid_with_and_without("interleaved_first_heaviest_s", "gpt3-175b", 1024, 2048,
                                                             GPT3, 2)
    assert len(plans) > 1000
    moved = priced["pp_bubble"] != alone["pp_bubble"]
    whole = (96 % plans.pp == 0) & ((96 // plans.pp) % plans.vpp == 0)
    assert moved.sum() > 1000 and np.all(whole[moved]) and np.all(plans.micro_batches[moved] % plans.pp[moved] == 0)
    assert (priced["pp_bubble"] > alone["pp_bubble"]).sum() > 100 and (priced["pp_bubble"] < alone["pp_bubble"]).sum()
    assert np.all(priced["pp_bubble"] >= 0.0)
