"""Mutant-killing check of `scenario_sizing.first_training_count` (hJ, session 62): the service's stack sets the
bytes a parameter, as `train --stack` holds them: DeepSeek-V3 on H200 holds 12 B a parameter under nemo-26.04's
recipe (bf16 gradients and Adam moments) and 18 B under DeepSpeed (fp32 gradients, master, m and v beside bf16
weights): 57 devices' memory -> 64 first, 86 -> 128."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from infraplan.cluster import Cluster
from infraplan.planning.scenario_sizing import TRAINING_MIN_GPUS, first_training_count
from infraplan.training.estimate import estimate_training


@pytest.mark.parametrize(("stack", "held_bytes", "first"), [("nemo-26.04", 12.0, 64), ("deepspeed", 18.0, 128)])
def test_the_services_stack_sets_the_first_count(stack: str, held_bytes: float, first: int) -> None:
    e = estimate_training("deepseek-v3", "h200", 1, seq_len=4096, global_batch=8, zero=0, stack=stack)
    m = e.memory_breakdown_bytes
    assert (m.weights + m.gradients + m.optimizer) / e.parameters == pytest.approx(held_bytes)
    devices = held_bytes * e.parameters / Cluster.resolve("h200").accelerator.memory_bytes
    assert max(TRAINING_MIN_GPUS, 1 << math.ceil(math.log2(devices))) == first
    svc = SimpleNamespace(model="deepseek-v3", stack=stack, optimizer=None, dsa_stage=None, dsa_warmup_tokens=None)
    assert first_training_count(svc, SimpleNamespace(device="h200")) == first  # type: ignore[arg-type]
