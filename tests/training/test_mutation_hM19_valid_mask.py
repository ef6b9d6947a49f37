"""Mutation wave 3 (hM19, session 43) on `plan_rules.valid_mask` and `schedules.schedule_violations` (hP21): a plan
broken by two rules at once is invalid (the rules' union, not their parity), and the masks of a schedule no plan runs
have the broadcast shape its rules' masks have where a plan runs it."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.training.enums import Schedule
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import take_rows
from infraplan.training.plan_rules import plan_violations, valid_mask
from infraplan.training.schedules import schedule_violations


def _plans(tps: list[int]) -> PlanArrays:
    one = [PlanArrays.one_plan(tp=tp, pp=8, dp=1, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=16,
                               seq_len=2560, recompute=0, zero=1, dtype=0, attention=0, order=0, sequence_parallel=1,
                               schedule=int(Schedule.ONE_F_ONE_B)).one_row for tp in tps]
    return PlanArrays(**{f.name: np.concatenate([np.atleast_1d(np.asarray(getattr(p, f.name))) for p in one])
                         for f in fields(one[0])})


def test_a_plan_broken_twice_is_invalid() -> None:
    """GPT-3 175B has 96 attention heads and 96 KV heads: TP 5 divides neither, so two rules break (the heads'
    and the KV heads'; its 2,560-token sequence divides by 5), an even count; TP 8 divides both."""
    shape = load_model("gpt3-175b")
    plans = _plans([8, 5, 8])
    broken = np.sum([np.broadcast_to(bad, (3,)) for bad, _ in plan_violations(shape, plans)], axis=0)
    assert broken.tolist() == [0, 2, 0]
    assert valid_mask(shape, plans).tolist() == [True, False, True]


@pytest.mark.parametrize("pp, vpp, micro_batches, shapes", [
    ([[1], [2], [4], [8]], [[1, 2, 3]], [[1], [3], [8], [16]], {(4, 3)}),
    ([[1], [2], [4], [8]], [[1], [2], [1], [2]], [[1, 8, 16]], {(4, 1), (4, 3)}),  # (micro-batches widen)
])
def test_an_unrun_schedules_masks_have_the_run_ones_shapes(pp: list[list[int]], vpp: list[list[int]],
                                                            micro_batches: list[list[int]],
                                                            shapes: set[tuple[int, ...]]) -> None:
    """The masks of the schedules no plan runs (1F1B alone, codes (1, 1)) are shaped as where plans run them (codes
    (4, 1): `runs & ~valid(pp, vpp)`, and the micro-batch rule's with `micro_batches` too): numpy's broadcast of
    what each reads."""
    pp_, vpp_, mb = np.array(pp), np.array(vpp), np.array(micro_batches)
    one = schedule_violations(np.full((1, 1), int(Schedule.ONE_F_ONE_B)), pp_, vpp_, mb)
    every = np.array([[int(s)] for s in Schedule][:4])  # (4, 1): 1F1B, interleaved, ZB-H1, DualPipe each run
    run = schedule_violations(every, pp_, vpp_, mb)
    assert [why for _, why in one] == [why for _, why in run]
    for (bad, why), (ran, _) in zip(one[2:], run[2:], strict=True):  # (after the unknown code's and 1F1B's own)
        assert np.shape(bad) == np.shape(ran), why
    assert {np.shape(bad) for bad, _ in one[2:]} == shapes


def test_take_rows_takes_unsigned_positions_and_masks() -> None:
    """`take_rows` gathers rows at positions of any integer dtype (unsigned too: numpy's `take`) and at a boolean
    mask's True positions; a one-value column stays a broadcast view."""
    plans = _plans([8, 5, 8, 4])
    want = [4, 5, 8]  # rows 3, 1, 0
    for index in (np.array([3, 1, 0]), np.array([3, 1, 0], dtype=np.uint64), np.array([3, 1, 0], dtype=np.uint32)):
        assert take_rows(plans, index).tp.tolist() == want
    assert take_rows(plans, np.array([True, False, False, True])).tp.tolist() == [8, 4]
