"""`plan`'s first device count for a training service under a deadline (`scenario_sizing.first_training_count`, hP61):
where the weights, gradients and optimizer state fit, at the bytes a parameter `train`'s memory model holds for the
service's optimizer (it assumed Adam's 16 B whatever the optimizer)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from infraplan.cluster import Cluster
from infraplan.planning.scenario_sizing import TRAINING_MIN_GPUS, first_training_count
from infraplan.training.estimate import estimate_training


def _count(model: str, device: str, optimizer: str | None) -> int:
    svc = SimpleNamespace(model=model, stack=None, optimizer=optimizer, dsa_stage=None, dsa_warmup_tokens=None)
    return first_training_count(svc, SimpleNamespace(device=device))  # type: ignore[arg-type]


def _held_bytes_per_param(model: str, device: str, optimizer: str) -> float:
    """Weights + gradients + optimizer state per parameter of an unsharded one-device plan (`train`'s memory)."""
    e = estimate_training(model, device, 1, seq_len=4096, global_batch=8, zero=0, optimizer=optimizer)
    m = e.memory_breakdown_bytes
    return (m.weights + m.gradients + m.optimizer) / e.parameters


@pytest.mark.parametrize("optimizer", ["adam", "muon"])
def test_first_count_is_where_the_memory_models_training_state_fits(optimizer: str) -> None:
    """llama3-405b on B200: the power of two at or above the devices holding the state fully sharded, at the bytes
    `train` holds a parameter (Adam 18 B: bf16 weights, fp32 grads, master, m, v; Muon one moment: 14 B on the
    matrices, its tables' AdamW state above that by under 1 %)."""
    held = _held_bytes_per_param("llama3-405b", "b200", optimizer)
    memory = Cluster.resolve("b200").accelerator.memory_bytes
    params = estimate_training("llama3-405b", "b200", 1, seq_len=4096, global_batch=8, zero=0).parameters
    want = max(TRAINING_MIN_GPUS, 1 << math.ceil(math.log2(held * params / memory)))
    assert _count("llama3-405b", "b200", optimizer) == want


def test_a_muon_service_starts_below_an_adam_one() -> None:
    """Muon keeps one fp32 moment (4 B a parameter fewer): llama3-405b on B200 starts at 32 devices, Adam at 64;
    no model starts Muon above Adam."""
    assert (_count("llama3-405b", "b200", "muon"), _count("llama3-405b", "b200", "adam")) == (32, 64)
    for model, device in (("llama3-70b", "h100-sxm"), ("deepseek-v3", "h100-sxm"), ("kimi-k2", "h200")):
        assert _count(model, device, "muon") <= _count(model, device, "adam")


def test_the_service_optimizer_unset_is_the_stacks() -> None:
    """No optimizer: the stack's (its model recipe's), Adam on llama3-405b: as `train` without --optimizer."""
    assert _count("llama3-405b", "b200", None) == _count("llama3-405b", "b200", "adam")
