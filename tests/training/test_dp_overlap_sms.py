"""The SMs of the hidden DP collectives (`training.dp_overlap_sms`, built and left off): what it adds when on."""

from __future__ import annotations

import pytest

from infraplan.scalar_path import FLOAT_OPS
from infraplan.training import dp_overlap_sms
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo

TRAFFIC = {"allreduce": 0.9, "scatter": 0.4, "gather": 0.3, "gather_layers": 0.5, "scatter_layers": 0.6}


def test_hidden_dp_time_by_zero_stage_less_what_is_exposed() -> None:
    assert dp_overlap_sms.hidden_dp_seconds(0.0, TRAFFIC, 0.1, FLOAT_OPS) == pytest.approx(0.8)
    assert dp_overlap_sms.hidden_dp_seconds(1.0, TRAFFIC, 0.2, FLOAT_OPS) == pytest.approx(0.5)
    # ZeRO 3: the all-gathers forward and backward and the reduce-scatter
    assert dp_overlap_sms.hidden_dp_seconds(3.0, TRAFFIC, 0.0, FLOAT_OPS) == pytest.approx(1.6)
    assert dp_overlap_sms.hidden_dp_seconds(1.0, TRAFFIC, 5.0, FLOAT_OPS) == 0.0  # all exposed: nothing hidden


def test_off_by_default_and_the_sm_share_when_on(monkeypatch: pytest.MonkeyPatch) -> None:
    assert dp_overlap_sms.DP_OVERLAP_SMS is False
    assert dp_overlap_sms.dp_overlap_sm_seconds(1.0, TRAFFIC, 0.0, 132.0, FLOAT_OPS) == 0.0
    monkeypatch.setattr(dp_overlap_sms, "DP_OVERLAP_SMS", True)
    # 16 of 132 SMs held while 0.7 s of reduce-scatter + all-gather hide: the rest runs 16 / 116 longer
    assert dp_overlap_sms.dp_overlap_sm_seconds(1.0, TRAFFIC, 0.0, 132.0, FLOAT_OPS) == pytest.approx(0.7 * 16 / 116)
    assert dp_overlap_sms.dp_overlap_sm_seconds(1.0, TRAFFIC, 0.0, 16.0, FLOAT_OPS) == 0.0  # no SM left to tax


def test_fsdp_plan_computes_longer_by_its_hidden_collectives_share(monkeypatch: pytest.MonkeyPatch) -> None:
    kwargs = dict(tp=1, pp=1, seq_len=8192, global_batch=256, micro_batch=2, recompute="none", zero=3, dtype="fp8")
    clear_one_plan_memo()
    off = estimate_training("llama3-70b", "gb200-nvl72", 64, **kwargs)
    monkeypatch.setattr(dp_overlap_sms, "DP_OVERLAP_SMS", True)
    clear_one_plan_memo()
    on = estimate_training("llama3-70b", "gb200-nvl72", 64, **kwargs)
    clear_one_plan_memo()
    extra = on.breakdown_s.compute - off.breakdown_s.compute
    # ~0.6-0.7 s of per-layer all-gathers and reduce-scatters hidden on 148 SMs: x 16 / 132 ~ 0.08 s
    assert 0.03 < extra < 0.15
    assert on.step_time_s - off.step_time_s == pytest.approx(extra, rel=1e-6)
    assert on.breakdown_s.dp_comm_exposed == off.breakdown_s.dp_comm_exposed
