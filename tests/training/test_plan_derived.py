"""Derived plan columns are cached per PlanArrays and enum members act in numpy exactly as their integer codes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute, Schedule
from infraplan.training.plan import PlanArrays


def _plans() -> PlanArrays:
    return PlanArrays.build(tp=[1, 2, 4, 8], pp=[1, 2, 4, 2], dp=[16, 8, 4, 2], cp=1, ep=[1, 2, 4, 2],
                            etp=None, vpp=1, micro_batch=1, global_batch=64, seq_len=4096,
                            recompute=Recompute.NONE, zero=1, dtype=Dtype.BF16, order=[0, 1, 0, 1])


def test_derived_columns_follow_a_replaced_plan() -> None:
    plans = _plans()
    before = (plans.gpus.copy(), plans.dp_stride.copy(), plans.edp.copy(), plans.micro_batches.copy())
    wider = replace(plans, tp=plans.tp * 2, dp=plans.dp * 3)
    assert np.array_equal(wider.gpus, before[0] * 6)
    assert np.array_equal(wider.edp, wider.dp // wider.ep)
    assert np.array_equal(wider.micro_batches, 64 // (wider.dp * wider.micro_batch))
    assert not np.array_equal(wider.dp_stride, before[1])
    taken = wider.take([1, 3])
    assert np.array_equal(taken.expert_tp, wider.tp[[1, 3]])
    assert np.array_equal(plans.gpus, before[0])  # the original's cached columns are untouched


def test_enum_members_in_numpy_match_their_codes() -> None:
    codes = np.arange(5, dtype=np.int64)
    for kind in (Dtype, Recompute, Attention, RankOrder, Schedule):
        for member in kind:
            code = int(member)
            assert np.array_equal(codes == member, codes == code)
            assert np.array_equal(np.where(codes > 2, member, 0.5), np.where(codes > 2, code, 0.5))
            assert np.array_equal(np.maximum(codes, member), np.maximum(codes, code))
            assert np.asarray([member, member]).dtype == np.asarray([code, code]).dtype
            assert str(member) == member.label
