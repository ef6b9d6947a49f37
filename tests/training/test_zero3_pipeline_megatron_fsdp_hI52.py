"""Megatron-FSDP (nemo-26.04) runs ZeRO-3's collectives on every micro-batch with a pipeline too (hI, s52).

megatron-core 0.16.1 pipeline_parallel/schedules.py: the pipelined schedules wrap micro-batches in the model's
`no_sync` until the last backward (:935-974 interleaved, :2071-2090 without interleaving), as the no-pipeline
schedule does (:633-645); Megatron-FSDP's `no_sync` does not stop the reduce-scatters of optim_grads_params
(megatron_fsdp.py:655-675, :1044-1056) and its unit hooks gather parameters on every forward / backward
(:680-706, :808-829). So with PP > 1 the step exposes m times one micro-batch's ZeRO-3 collectives
(`Stack.zero3_pipeline_collectives_per_micro_batch`, `training.step_assembly`). Before this change PP > 1 priced
them once a step: the PP = 4 plan below exposed the same seconds with the field on and off (the test fails there).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training.enums import Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.plan import PlanArrays

PLAN: dict[str, Any] = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=1024, tp=8, pp=4, vpp=1,
                            seq_len=8192, recompute="full", zero=3, global_batch=1024)


def _exposed(**extra: Any) -> float:
    return float(estimate_training(**{**PLAN, **extra}).breakdown_s.dp_comm_exposed)


def test_megatron_fsdp_zero3_with_pipeline_prices_each_micro_batch() -> None:
    """PP 4, DP 32, batch 1,024: m = 32 micro-batches, each exposing once-a-step's ZeRO-3 exposure."""
    nemo = load_stack("nemo-26.04")
    assert nemo.zero3_pipeline_collectives_per_micro_batch
    once = nemo.model_copy(update={"zero3_pipeline_collectives_per_micro_batch": False})
    est = estimate_training(**PLAN)
    m = est.config.micro_batches
    assert m == 32
    assert _exposed(stack=once) > 0.01
    assert _exposed() == pytest.approx(m * _exposed(stack=once), rel=1e-9)


def test_other_stacks_and_stages_keep_pipeline_once_a_step() -> None:
    """torchtitan (pipelining defers FSDP's reshard / sync) keeps PP > 1 once a step; ZeRO-2 is unchanged; the
    pipeline field alone does nothing without `zero3_collectives_per_micro_batch`."""
    assert not load_stack("torchtitan").zero3_pipeline_collectives_per_micro_batch
    assert not load_stack("deepspeed").zero3_pipeline_collectives_per_micro_batch
    nemo = load_stack("nemo-26.04")
    once = nemo.model_copy(update={"zero3_pipeline_collectives_per_micro_batch": False})
    neither = nemo.model_copy(update={"zero3_collectives_per_micro_batch": False})
    assert _exposed(zero=2) == _exposed(zero=2, stack=once)
    assert _exposed(stack=neither) == _exposed(stack=once)


def test_search_arrays_price_it_as_train() -> None:
    """The search's array path (`evaluate_plans`) gives `train`'s exposed DP seconds and step for PP 4 at m = 4 and
    m = 32, on the same rank order (nemo-26.04's tp-cp-dp-pp; `PlanArrays.build` defaulted to tp-cp-pp-dp, which put
    the pipeline peers elsewhere and was read as a 1.4e-4 s gap between the paths: hS, session 52; since hN53 a plan
    built without an order takes its stack's)."""
    shape = load_model("llama3-70b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(1024).placed(1024)
    plans = PlanArrays.build(tp=8, pp=4, dp=32, cp=1, ep=1, vpp=1, micro_batch=1,
                             global_batch=np.array([128, 1024]), seq_len=8192, recompute=Recompute.FULL, zero=3,
                             dtype=Dtype.BF16, order=RankOrder.TP_CP_DP_PP)
    out = evaluate_plans(shape, cluster, plans, "nemo-26.04")
    priced = [estimate_training(**{**PLAN, "global_batch": b}) for b in (128, 1024)]
    train = [e.breakdown_s.dp_comm_exposed for e in priced]
    assert out["dp_comm_exposed"] == pytest.approx(np.array(train), rel=1e-9)
    assert out["step_time_s"] == pytest.approx(np.array([e.step_time_s for e in priced]), rel=1e-9)
    assert train[1] == pytest.approx(8.0 * train[0], rel=1e-9)
