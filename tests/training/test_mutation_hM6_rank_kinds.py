"""Mutation wave 6 (hM6): `training.schedules.three_rank_kinds_s` where the split's ceil gives the kinds more
layers than the model has and a middle rank is the heaviest: the difference comes off the LAST rank (its
docstring: "off the middle ranks where they are not the heaviest, ..., else off the last rank")."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training import exact_bubbles
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.schedules import three_rank_kinds_s


def test_the_gap_comes_off_the_last_rank_when_a_middle_rank_is_the_heaviest() -> None:
    """1F1B, p 4, m 4 (q = 2, K = 1): rank 0 t 3 (F 1), middle ranks t 6 (F 2) = the heaviest, last t 3; the
    model's o = 10 where the kinds add to 3 + 2 x 6 + 3 - 6 = 12: gap -2 off the last rank, t_l = 1.
    P = max(1, 2, 1) + max(2, 4, 1) = 6; the step is the max of 3 + 12 + 4 x 1 = 19, 3 + 4 x 6 + 6 = 33,
    1 x 3 + 2 x 2 x 6 + 6 = 33, 3 + 12 + max(3 x 2 + 2, 3 x 1 + 4) = 23, 4 x 3 = 12: 33; bubble 33 - 4 x 6 = 9,
    added less o: -1. (Off the middle ranks instead, each 6 - 1 = 5: a step of 29.33, -4.67.)"""
    add = three_rank_kinds_s(int(Schedule.ONE_F_ONE_B), 4.0, 4.0, 6.0, 10.0, 3.0, 1.0, 6.0, 2.0, 3.0)
    assert add == -1.0


def test_at_pp2_there_is_no_middle_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    """`three_rank_kinds_s` takes p - 2 middle ranks, `middle_s` "0 at p = 2": the estimate passes 0 there (a middle
    time at PP2 would enter its (m + p - 4) t_m path, (m - 2) t_m of a rank that does not exist). mixtral-8x7b with
    the loss counted as a layer, TP8 PP2 on 64 H100: rank 0 (the embedding and 16 layers) the heaviest."""
    seen: list[tuple[float, ...]] = []
    real = three_rank_kinds_s  # (what exact_bubbles imports)

    def spy(*args: object) -> object:
        seen.append(tuple(float(a) for a in args[1:]))  # type: ignore[arg-type]
        return real(*args)  # type: ignore[arg-type]

    stack = load_stack("nemo-26.04").model_copy(update={"account_for_loss_in_pipeline_split": True,
                                                        "pipeline_split_divisible": False})  # 33 slots (hR44)
    monkeypatch.setattr(exact_bubbles, "three_rank_kinds_s", spy)
    clear_one_plan_memo()  # (the single estimate's memo keeps a plan's pricing)
    estimate_training("mixtral-8x7b", "dgx-h100-superpod", 64, tp=8, pp=2, vpp=1, seq_len=4096, global_batch=256,
                      schedule="1f1b", stack=stack)
    clear_one_plan_memo()
    assert seen and all(s[0] == 2.0 for s in seen)
    stage, first, middle, middle_fwd, last = (seen[0][i] for i in (2, 4, 6, 7, 8))
    assert (middle, middle_fwd) == (0.0, 0.0) and last >= 0.0 and stage == first  # rank 0 the heaviest, priced


def test_the_bubble_is_kept_at_least_zero() -> None:
    """1F1B at p 2, m 2: rank 0 t 3 (F 1), the last rank 6 the heaviest, but the model's o is 1 where the kinds
    add to 3 + 6 - 6 = 3: the gap -2 comes off the last rank (q = 0), t_l = 4. P = max(1, 4) + max(2, 4) = 8; the
    step is the max of 3 + 2 x 4 = 11, 3 + 0 + 8 = 11, 1 x 3 + 8 = 11, 2 x 3 = 6, 3 + max(2 + 4, 1 + 4) = 9: 11,
    below m t_h = 12, so the bubble is max(11 - 12, 0) = 0 and the addition -o = -1 (the model's o + it = 0,
    not -1)."""
    add = three_rank_kinds_s(int(Schedule.ONE_F_ONE_B), 2.0, 2.0, 6.0, 1.0, 3.0, 1.0, 0.0, 0.0, 6.0)
    assert add == -1.0
