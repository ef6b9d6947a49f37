"""`valid_mask` (the rules' union, inverted once) and `schedule_violations` (a schedule no plan runs: False masks
in their broadcast shape) against the rules one by one on a search's rows (hP21, session 43)."""

from __future__ import annotations

import numpy as np

from infraplan.catalog import load_model
from infraplan.training.axes import SearchSpace
from infraplan.training.enums import Dtype, Schedule
from infraplan.training.plan_rules import plan_violations, valid_mask
from infraplan.training.row_grid import enumerate_rows
from infraplan.training.schedules import schedule_violations
from infraplan.training.search import enumerate_plans


def test_valid_mask_is_every_rule_met() -> None:
    shape = load_model("gpt3-175b")
    rows = enumerate_rows(SearchSpace(shape, 4096, 2048, 2048, (Dtype.BF16, Dtype.FP8), 8, 16, ())).rows
    plans = enumerate_plans(shape, 512, 2048, 1536, ["bf16"], 8)  # every axis, valid or not
    for candidates, some_broken in ((rows, False), (plans, True)):
        mask = valid_mask(shape, candidates, 2)  # (the embedding and loss as pipeline layers)
        each = [np.broadcast_to(bad, mask.shape) for bad, _ in plan_violations(shape, candidates, 2)]
        assert mask.dtype == bool and mask.shape == (len(candidates),)
        assert np.array_equal(mask, ~np.any(each, axis=0))
        assert np.count_nonzero(mask) > 0 and (np.count_nonzero(mask) < mask.size) == some_broken


def test_schedules_no_plan_runs_break_nothing() -> None:
    pp = np.array([[1], [2], [4], [8]])  # (4, 1) against (1, 3) virtual stages: a (4, 3) grid
    vpp = np.array([[1, 2, 3]])
    micro_batches = np.array([[1], [3], [8], [16]])
    one_f_one_b = np.full((1, 1), int(Schedule.ONE_F_ONE_B))
    found = schedule_violations(one_f_one_b, pp, vpp, micro_batches)
    mixed = schedule_violations(np.array([[int(s) for s in Schedule][:3]]), pp, vpp, micro_batches)
    assert len(found) == len(mixed)
    for (bad, why), (_, why_mixed) in zip(found, mixed, strict=True):
        assert why == why_mixed
        assert np.broadcast_shapes(np.shape(bad), (4, 3)) == (4, 3)
    # only 1F1B's own rules can break where every plan runs it: vpp > 1 rows, nothing of any other schedule
    onefb = {why for bad, why in found if np.any(bad)}
    assert onefb and all(np.any(bad) == (why in onefb) for bad, why in found)
    runs_other = [why for (bad, why) in found[1:] if not np.any(bad)]
    assert runs_other
