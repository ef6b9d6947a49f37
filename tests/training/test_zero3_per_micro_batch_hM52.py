"""ZeRO-3's per-layer collectives repeat on every micro-batch where the framework says so (hM, session 52).

torchtitan (0.3.0 trainer.py:885-930: no gradient-sync skip during accumulation; FSDP2 reshards after forward and
backward without a pipeline, distributed/fsdp.py:54-74) and DeepSpeed (0.14.4 zero/stage3.py:1213-1226, :1433-1437:
every backward reduce-scatters) re-gather every layer and reduce-scatter its gradients on each of the m
micro-batches: the step exposes m times one micro-batch's ZeRO-3 collectives (`Stack.zero3_collectives_per_micro_batch`,
`training.step_assembly`). Before this change the 70B plan below exposed 0.565 s at m = 1, 8 and 32 alike (hZ,
session 52); these tests fail there (ratio 1, not 8; the array path the same).
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

PLAN: dict[str, Any] = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=1024, tp=8, pp=1, seq_len=8192,
                             recompute="full", zero=3)


def _exposed(stack: Any, batch: int, **extra: Any) -> float:
    return float(estimate_training(**{**PLAN, **extra}, global_batch=batch, stack=stack)
                 .breakdown_s.dp_comm_exposed)


def test_torchtitan_zero3_prices_each_micro_batch() -> None:
    """m = 8 (batch 1,024 on DP 128) exposes 8x m = 1's (batch 128): the same collectives on the same windows."""
    one, eight = _exposed("torchtitan", 128), _exposed("torchtitan", 1024)
    assert one > 0.1
    assert eight == pytest.approx(8.0 * one, rel=1e-9)


def test_stack_field_switches_it() -> None:
    """The same stack with the field off prices the collectives once a step (today's pricing, meta-llama3's)."""
    off = load_stack("torchtitan").model_copy(update={"zero3_collectives_per_micro_batch": False})
    assert _exposed(off, 1024) == pytest.approx(_exposed(off, 128), rel=1e-9)
    assert _exposed(off, 1024) < _exposed("torchtitan", 1024) / 4.0
    assert load_stack("deepspeed").zero3_collectives_per_micro_batch
    assert not load_stack("meta-llama3").zero3_collectives_per_micro_batch


def test_zero2_and_pipeline_unchanged() -> None:
    """ZeRO-2 (gradients reduced once a step by this model) and a pipeline (gradient sync on the last backward)
    keep the once-a-step price."""
    off = load_stack("torchtitan").model_copy(update={"zero3_collectives_per_micro_batch": False})
    assert _exposed("torchtitan", 1024, zero=2) == _exposed(off, 1024, zero=2)
    piped = dict(pp=4, gpus=1024)
    assert _exposed("torchtitan", 1024, **piped) == _exposed(off, 1024, **piped)


def test_search_arrays_price_it_as_train() -> None:
    """The search's array path (`evaluate_plans` over several plans) gives `train`'s step for m = 1 and m = 8."""
    shape = load_model("llama3-70b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(1024).placed(1024)
    plans = PlanArrays.build(tp=8, pp=1, dp=128, cp=1, ep=1, vpp=1, micro_batch=1,
                             global_batch=np.array([128, 1024]), seq_len=8192, recompute=Recompute.FULL, zero=3,
                             dtype=Dtype.BF16)
    out = evaluate_plans(shape, cluster, plans, "torchtitan")
    train = [estimate_training(**PLAN, global_batch=b, stack="torchtitan").step_time_s for b in (128, 1024)]
    assert out["step_time_s"] == pytest.approx(np.array(train), rel=1e-6)
