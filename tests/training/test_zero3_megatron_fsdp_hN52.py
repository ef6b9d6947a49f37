"""Megatron-FSDP (nemo-26.04, the default training stack) runs ZeRO-3's collectives on every micro-batch (hN, s52).

megatron-core 0.16.1 megatron/core/distributed/fsdp/src/megatron_fsdp/megatron_fsdp.py: every FSDP unit all-gathers
its parameters before each forward (:680-706) and backward (:808-829) and releases them after (:871-893, :594-612);
with optim_grads_params every gradient is reduce-scattered on each backward whatever `is_last_microbatch`
(:655-675), and `no_sync` (which the schedules wrap micro-batches 1..m-1 in, schedules.py:633-645) only clears that
flag (:1044-1056). So the step exposes m times one micro-batch's ZeRO-3 collectives
(`Stack.zero3_collectives_per_micro_batch`, `training.step_assembly`). Before this change nemo-26.04 priced them once
a step: the 70B plan below exposed the same seconds at m = 1 and m = 8 (these tests fail there: ratio 1, not 8).
"""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training

PLAN: dict[str, Any] = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=1024, tp=8, pp=1, seq_len=8192,
                             recompute="full", zero=3)


def _exposed(batch: int, **extra: Any) -> float:
    return float(estimate_training(**{**PLAN, **extra}, global_batch=batch).breakdown_s.dp_comm_exposed)


def test_default_stack_zero3_prices_each_micro_batch() -> None:
    """Without `stack` (nemo-26.04): m = 8 (batch 1,024 on DP 128) exposes 8x m = 1's (batch 128)."""
    assert load_stack("nemo-26.04").zero3_collectives_per_micro_batch
    one, eight = _exposed(128), _exposed(1024)
    assert one > 0.1
    assert eight == pytest.approx(8.0 * one, rel=1e-9)


def test_zero2_and_pipeline_keep_once_a_step() -> None:
    """ZeRO-2 keeps the once-a-step price; PP > 1 does where `zero3_pipeline_collectives_per_micro_batch` is off
    (updated by hI, s52: nemo-26.04 sets it, its pipelined schedules run the same hooks; the PP = 4 line below
    compared nemo-26.04 as shipped with the field off, 4.078 vs 0.127 s after that change)."""
    off = load_stack("nemo-26.04").model_copy(update={"zero3_collectives_per_micro_batch": False})
    pp_once = load_stack("nemo-26.04").model_copy(update={"zero3_pipeline_collectives_per_micro_batch": False})
    assert _exposed(1024, zero=2) == _exposed(1024, zero=2, stack=off)
    assert _exposed(1024, pp=4, stack=pp_once) == _exposed(1024, pp=4, stack=off)
    assert _exposed(1024, stack=off) == pytest.approx(_exposed(128, stack=off), rel=1e-9)
