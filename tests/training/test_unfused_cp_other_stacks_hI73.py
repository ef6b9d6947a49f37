"""The unfused-attention-at-CP rule (training/unfused_cp_rule.py) binds Megatron stacks only (hI73 mutant).

megatron-core 0.16.1's DotProductAttention asserts CP 1 (transformer/dot_product_attention.py:57-59); torchtitan's
attention was not read, so the rule's module prices it as before there. Dropping the stack-class test refused it on
every stack and passed the session-72 tests, which ran nemo-26.04 only.
"""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training

PLAN = {"tp": 8, "pp": 1, "seq_len": 8192, "global_batch": 16, "micro_batch": 1}


def test_torchtitan_prices_unfused_attention_at_cp_2() -> None:
    unfused = estimate_training("llama3-8b", "dgx-h100-superpod", 32, cp=2, attention="unfused", stack="torchtitan",
                                **PLAN)
    flash = estimate_training("llama3-8b", "dgx-h100-superpod", 32, cp=2, attention="flash", stack="torchtitan",
                              **PLAN)
    assert unfused.step_time_s > flash.step_time_s > 0  # the s x s scores written and read: slower than flash
    with pytest.raises(InputError, match="DotProductAttention asserts CP 1"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 32, cp=2, attention="unfused", stack="nemo-26.04", **PLAN)
