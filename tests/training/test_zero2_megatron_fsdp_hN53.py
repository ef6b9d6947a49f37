"""Megatron-FSDP's ZeRO-2 (optim_grads, nemo-26.04) reduce-scatters gradients on every micro-batch (hN, session 53).

megatron-core 0.16.1 megatron_fsdp.py: every gradient's post-accumulate hook reduce-scatters when
`grad_reduce_every_bprop` (strategy optim_grads or optim_grads_params) whatever `is_last_microbatch` (:655-675), and
`no_sync` only clears that flag (:1044-1056); its parameters are replicated and all-gathered once after the optimizer
step. So a ZeRO-2 step exposes m times one micro-batch's exposed reduce-scatter, the gather once
(`Stack.zero2_grad_reduce_per_micro_batch`, `training.step_assembly`). Before this change ZeRO-2 was priced once a
step: Llama 3 8B on 1,024 H100 at seq 1,024 exposed 0.0585 s at m = 1, 4 and 8 (the ratio test fails there).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training.enums import Dtype, Recompute
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.plan import PlanArrays

PLAN: dict[str, Any] = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=1024, tp=1, pp=1, seq_len=1024,
                            recompute="none", micro_batch=1, zero=2)


def _exposed(**extra: Any) -> float:
    return float(estimate_training(**{**PLAN, **extra}).breakdown_s.dp_comm_exposed)


def test_megatron_fsdp_zero2_reduce_scatters_each_micro_batch() -> None:
    """DP 1,024, micro-batch 1: batch 1,024 / 4,096 / 8,192 run m = 1 / 4 / 8; each micro-batch past the first adds
    the same exposed reduce-scatter (so m = 8 adds 7/3 of what m = 4 adds), and it is not 0 on this plan."""
    assert load_stack("nemo-26.04").zero2_grad_reduce_per_micro_batch
    one, four, eight = (_exposed(global_batch=b) for b in (1024, 4096, 8192))
    assert four > one + 0.05
    assert eight - one == pytest.approx(7.0 / 3.0 * (four - one), rel=1e-9)
    once = load_stack("nemo-26.04").model_copy(update={"zero2_grad_reduce_per_micro_batch": False})
    assert _exposed(global_batch=8192, stack=once) == pytest.approx(one, rel=1e-12)  # once a step, as before


def test_zero1_and_other_stacks_keep_once_a_step() -> None:
    """The distributed optimizer (ZeRO-1) reduces once a step; of the other shipped stacks only deepspeed sets the
    field since DeepSpeed's ZeRO-2 was read (hK session 54: its engine reduces after every backward at stage 2;
    tests/training/test_deepspeed_grad_all_reduce_hK54.py), torchtitan's is left to its own reading."""
    assert _exposed(zero=1, global_batch=8192) == pytest.approx(_exposed(zero=1, global_batch=1024), rel=1e-12)
    assert load_stack("deepspeed").zero2_grad_reduce_per_micro_batch
    for name in ("torchtitan", "meta-llama3", "nemo-24.12", "megatron-core-0.8"):
        assert not load_stack(name).zero2_grad_reduce_per_micro_batch, name


def test_search_arrays_price_it_as_train() -> None:
    """The search's array path (`evaluate_plans`, a plan built without an order: the stack's) gives `train`'s exposed
    DP seconds and step at m = 1, 4 and 8."""
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(1024).placed(1024)
    batches = np.array([1024, 4096, 8192])
    plans = PlanArrays.build(tp=1, pp=1, dp=1024, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=batches,
                             seq_len=1024, recompute=Recompute.NONE, zero=2, dtype=Dtype.BF16)
    out = evaluate_plans(shape, cluster, plans, "nemo-26.04")
    priced = [estimate_training(**{**PLAN, "global_batch": int(b)}) for b in batches]
    assert out["dp_comm_exposed"] == pytest.approx(np.array([e.breakdown_s.dp_comm_exposed for e in priced]),
                                                   rel=1e-9)
    assert out["step_time_s"] == pytest.approx(np.array([e.step_time_s for e in priced]), rel=1e-9)
