"""Unfused attention at CP > 1 on a Megatron stack is refused by `train` and dropped by `search`
(training/unfused_cp_rule.py: megatron-core 0.16.1 DotProductAttention asserts CP 1)."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.training import unfused_cp_rule
from infraplan.training.estimate import estimate_training

PLAN = {"tp": 8, "pp": 1, "seq_len": 8192, "global_batch": 16, "micro_batch": 1}


def test_unfused_attention_at_cp_2_is_refused_on_a_megatron_stack() -> None:
    with pytest.raises(InputError, match=r"unfused attention does not run with context parallelism.*"
                                         r"dot_product_attention.py:57-59.*--attention flash, or --cp 1"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 32, cp=2, attention="unfused", stack="nemo-26.04",
                          **PLAN)
    fused = estimate_training("llama3-8b", "dgx-h100-superpod", 32, cp=2, attention="flash", stack="nemo-26.04",
                              **PLAN)
    alone = estimate_training("llama3-8b", "dgx-h100-superpod", 16, cp=1, attention="unfused", stack="nemo-26.04",
                              **PLAN)
    assert fused.step_time_s > 0 and alone.step_time_s > 0  # flash at CP 2, unfused at CP 1: priced


def test_the_rule_switched_off_prices_it_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unfused_cp_rule, "UNFUSED_CP_CHECKED", False)
    got = estimate_training("llama3-8b", "dgx-h100-superpod", 32, cp=2, attention="unfused", stack="nemo-26.04",
                            **PLAN)
    assert got.step_time_s > 0
