"""The interleaved schedule below p micro-batches (torch's one round of m; Megatron refuses it) with the last rank the
heaviest (its last chunk, with the LM head + loss, the heaviest chunk; rank 0's first chunk with the embedding),
against list schedules of torch's transcribed ScheduleInterleaved1F1B order (tests/training/
test_torch_schedule_orders.py), exact fractions: the model's wave plus `interleaved_last_heaviest_few_s` is the
list's (hB5, session 38)."""

from __future__ import annotations

import random
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from bubble_forms import bubble_with_and_without
from test_interleaved_chunk_kinds import Pass, _listed
from tests.training.conftest import TORCHTITAN_EVEN

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training import exact_bubbles
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.rank_kind_bubbles import interleaved_last_heaviest_few_s
from infraplan.training.schedule_models import PIPELINE_SCHEDULES
from infraplan.training.search import enumerate_plans
from infraplan.training.search_bounds import step_time_floor_s

INTERLEAVED = int(Schedule.INTERLEAVED)


def _priced(p: int, v: int, m: int, plain: Pass, excess: Fraction, last: Pass, applied: bool = True) -> float:
    """m t_last + the model's bubble on o + `interleaved_last_heaviest_few_s`, in floats (ranks' sums per
    micro-batch: rank 0 (v - 1) plain + a first chunk of c + `excess`, a middle v plain, the last (v - 1) plain +
    `last`)."""
    c = float(sum(plain))
    tl = (v - 1) * c + float(sum(last))
    others = (p - 1) * v * c + float(excess)
    bubble = float(PIPELINE_SCHEDULES[Schedule.INTERLEAVED].bubble(p, v, m, tl, others))
    if applied:
        bubble += float(interleaved_last_heaviest_few_s(INTERLEAVED, p, v, m, tl, others, v * c, v * float(plain[0]),
                                                        float(excess)))
    return m * tl + bubble


def _first(plain: Pass, excess: Fraction) -> Pass:
    """The first chunk: a plain one + `excess`, split as a plain chunk's passes."""
    share = plain[0] / (plain[0] + plain[1])
    return plain[0] + excess * share, plain[1] + excess * (1 - share)


def _case(rng: random.Random) -> tuple[Pass, Fraction, Pass]:
    """A plain chunk's F and B; the first chunk's excess (now and then negative: a counted embedding lighter than a
    layer; now and then several plain chunks); the last chunk at least the first and a plain one in total, its F
    and B split at random (either lighter than a plain chunk's pass)."""
    plain = (Fraction(rng.randint(1, 20), 4), Fraction(rng.randint(1, 20), 4))
    c = sum(plain)
    excess = Fraction(rng.randint(0, 40), 8)
    if rng.random() < 0.2:
        excess = c * Fraction(rng.randint(1, 12))
    if rng.random() < 0.15:
        excess = -c * Fraction(rng.randint(0, 8), 8)
    total = max(c, c + excess) + Fraction(rng.randint(0, 80), 8)
    split = Fraction(rng.randint(0, 16), 16)
    return plain, excess, (total * split, total * (1 - split))


def test_the_last_rank_heaviest_below_p_is_the_transcribed_order() -> None:
    """600 cases: p 2-8, v 2-4, every m < p (m = 1: the chunks of one micro-batch, the model's)."""
    rng = random.Random(38)
    moved = 0
    for _ in range(600):
        p, v = rng.randint(2, 8), rng.randint(2, 4)
        m = rng.randint(1, p - 1)
        plain, excess, last = _case(rng)
        listed = _listed(p, v, m, plain, _first(plain, excess), last)
        assert _priced(p, v, m, plain, excess, last) == pytest.approx(float(listed), rel=1e-12), (p, v, m)
        moved += _priced(p, v, m, plain, excess, last, applied=False) != pytest.approx(float(listed), rel=1e-12)
    assert moved > 300


def test_the_model_alone_was_under() -> None:
    """p 4 v 2 m 3, a plain chunk F 1 / B 2 (c 3), the first one plain, the last F 2 / B 4 (the last rank 9 per
    micro-batch, o = 18): the list's bubble o - (m - 1)(v - 1) c = 12; the model's wave o - (m - 1)(1 - 1/v) 9 = 9,
    under by (m - 1)(1 - 1/v)(t_l - c) = 3 (it counts the last rank's average chunk where its last one runs). p 3
    v 2 m 2, plain F 1 / B 1, the first chunk F 3 / B 3, the last F 4 / B 4 (10 per micro-batch, o 12): rank 0's
    first chunk twice beats two plain ones in each pass: the list's bubble 12 = o - 2 + 1 + 1; the model's 7."""
    for p, m, plain, excess, last, listed, model in (
            (4, 3, (Fraction(1), Fraction(2)), Fraction(0), (Fraction(2), Fraction(4)), 12, 9.0),
            (3, 2, (Fraction(1), Fraction(1)), Fraction(4), (Fraction(4), Fraction(4)), 12, 7.0)):
        t = float(sum(plain)) + float(sum(last))
        assert _listed(p, 2, m, plain, _first(plain, excess), last) - Fraction(t) * m == listed
        assert _priced(p, 2, m, plain, excess, last, applied=False) == pytest.approx(t * m + model)
        assert _priced(p, 2, m, plain, excess, last) == pytest.approx(t * m + listed)


def test_not_applied_where_marked_from_p_on_outside_the_region_or_to_other_schedules() -> None:
    """The last rank 9 = a plain chunk of 3 + a last one of 6, plain ranks 6 (F 2), o 18: applied at m 3 (p 4,
    v 2); not where the plain rank is marked (-1), at m >= p, to other schedules, with a last chunk lighter than
    the first (excess 4: 7 > 6) or than a plain one (the last rank 5.5: 2.5 < 3)."""
    assert float(interleaved_last_heaviest_few_s(INTERLEAVED, 4, 2, 3, 9.0, 18.0, 6.0, 2.0, 0.0)) == 3.0
    one_f_one_b = int(Schedule.ONE_F_ONE_B)
    for code, m, plain, excess, stage in ((INTERLEAVED, 3, -1.0, 0.0, 9.0), (INTERLEAVED, 4, 6.0, 0.0, 9.0),
                                          (INTERLEAVED, 8, 6.0, 0.0, 9.0), (one_f_one_b, 3, 6.0, 0.0, 9.0),
                                          (int(Schedule.ZB_H1), 3, 6.0, 0.0, 9.0), (INTERLEAVED, 3, 6.0, 4.0, 9.0),
                                          (INTERLEAVED, 3, 6.0, 0.0, 5.5)):
        assert float(interleaved_last_heaviest_few_s(code, 4, 2, m, stage, 18.0, plain, 2.0, excess)) == 0.0


def test_arrays_and_one_plans_floats_give_the_same_bits() -> None:
    rng = np.random.default_rng(38)
    n = 200
    codes = rng.choice([INTERLEAVED, int(Schedule.ONE_F_ONE_B)], n, p=[0.85, 0.15])
    pp, vpp = rng.integers(2, 33, n).astype(float), rng.integers(2, 9, n).astype(float)
    m = np.floor(pp * rng.uniform(0.05, 1.2, n)) + 1.0
    plain = rng.uniform(0.1, 0.4, n)
    fplain = plain * rng.uniform(0.25, 0.5, n)
    excess = plain / vpp * rng.uniform(-0.2, 1.5, n)
    th = (vpp - 1) * plain / vpp + np.maximum(plain / vpp, plain / vpp + excess) * rng.uniform(0.98, 1.5, n)
    plain = np.where(rng.random(n) < 0.1, -1.0, plain)
    o = (pp - 1) * np.abs(plain) + excess
    values = (pp, vpp, m, th, o, plain, fplain, excess)
    grid = interleaved_last_heaviest_few_s(codes, *values)
    one = [interleaved_last_heaviest_few_s(int(c), *(float(z[i]) for z in values)) for i, c in enumerate(codes)]
    assert grid.tolist() == one
    assert sum(z > 0.0 for z in one) > 20


TITAN = TORCHTITAN_EVEN
KW: dict[str, Any] = dict(stack=TITAN, seq_len=2048, micro_batch=1, dtype="bf16")


def test_gpt3_plans_below_p_move_and_megatron_refuses_them() -> None:
    """gpt3-175b on 1,024 H100 under torchtitan: TP8 PP8 VP4, batch 64 (4 micro-batches on 8 ranks; 96 / 8 = 12
    layers, whole chunks of 3; the last rank, with the LM head, the heaviest) rises; TP8 PP16 VP2 at 16
    micro-batches (m >= p) does not; nemo-26.04 refuses the first (Megatron's rule, m a multiple of p)."""
    priced, alone = bubble_with_and_without("interleaved_last_heaviest_few_s", "gpt3-175b", "dgx-h100-superpod",
                                            1024, tp=8, pp=8, vpp=4, global_batch=64, **KW)
    assert priced > alone + 1e-3
    priced, alone = bubble_with_and_without("interleaved_last_heaviest_few_s", "gpt3-175b", "dgx-h100-superpod",
                                            1024, tp=8, pp=16, vpp=2, global_batch=128, **KW)
    assert priced == alone > 0.0
    with pytest.raises(InputError, match="multiple of PP"):
        estimate_training("gpt3-175b", "dgx-h100-superpod", 1024, tp=8, pp=8, vpp=4, global_batch=64,
                          seq_len=2048, stack="nemo-26.04")
    one = estimate_training("gpt3-175b", "dgx-h100-superpod", 1024, tp=8, pp=8, vpp=4, global_batch=64, **KW)
    c = one.config
    assert (c.dp, c.zero, c.recompute, c.micro_batches) == (16, 2, "none", 4)
    plan = PlanArrays.build(tp=8, pp=8, dp=16, cp=1, ep=1, vpp=4, micro_batch=1, global_batch=64, seq_len=2048,
                            recompute=0, zero=2, dtype=0, schedule=INTERLEAVED)
    grid = evaluate_plans(load_model("gpt3-175b"), Cluster.resolve("dgx-h100-superpod"), plan, TITAN)
    assert one.breakdown_s.pp_bubble == float(grid["pp_bubble"][0])  # the one plan's floats: the grid's bits


def test_405b_uneven_ranks_keep_the_wave() -> None:
    """llama3-405b's 126 layers on 8 ranks (16 and 15): not whole ranks, the model's wave stays."""
    priced, alone = bubble_with_and_without("interleaved_last_heaviest_few_s", "llama3-405b", "dgx-h100-superpod",
                                            512, tp=8, pp=8, vpp=2, global_batch=32, **KW)
    assert priced == alone > 0.0


def test_grid_plans_move_only_below_p_on_whole_chunks_and_floors_stay_below() -> None:
    """gpt3-175b on 1,024 H100, batch 64, torchtitan (torch's rules): interleaved plans move only at m < p on whole
    chunks (up: the model alone under); every bubble >= 0 and every step stays above its row's floor."""
    shape, cluster = load_model("gpt3-175b"), Cluster.resolve("dgx-h100-superpod")
    plans = enumerate_plans(shape, 1024, 2048, 64, ["bf16"], max_tp=8, schedules=["interleaved"])
    plans = plans.take(valid_mask(shape, plans, rules="torch") & (plans.pp >= 2))
    priced = evaluate_plans(shape, cluster, plans, TITAN)
    rows = replace(plans, vpp=np.ones_like(plans.vpp), zero=np.zeros_like(plans.zero),
                   schedule=np.full(len(plans), int(Schedule.ONE_F_ONE_B)))
    assert np.all(step_time_floor_s(shape, cluster, rows, TITAN) <= priced["step_time_s"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exact_bubbles, "interleaved_last_heaviest_few_s", lambda *args: 0.0)
        alone = evaluate_plans(shape, cluster, plans, TITAN)
    moved = priced["pp_bubble"] != alone["pp_bubble"]
    whole = (96 % plans.pp == 0) & ((96 // plans.pp) % plans.vpp == 0)
    assert moved.sum() > 100 and np.all(whole[moved]) and np.all(plans.micro_batches[moved] < plans.pp[moved])
    assert np.all(priced["pp_bubble"][moved] > alone["pp_bubble"][moved]) and np.all(priced["pp_bubble"] >= 0.0)
