"""Host calls per micro-batch outside the layers: get_batch and the loss (training.step_time.micro_batch_host_time)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import shape_from_hf_config
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training import step_time as st
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.plan import PlanArrays

SHAPE = shape_from_hf_config({"model_type": "gpt2", "n_embd": 1024, "n_head": 16, "n_layer": 12,
                              "vocab_size": 51200, "n_positions": 2048}, "gpt-h1024")


def _plan(tp: int, pp: int, micro_batches: int) -> PlanArrays:
    dp = 8 // (tp * pp)
    return PlanArrays.build(tp=np.array([tp]), pp=np.array([pp]), dp=np.array([dp]), cp=1, ep=1, vpp=1,
                            micro_batch=np.array([1]), global_batch=np.array([dp * micro_batches]),
                            seq_len=np.array([1024]), recompute=Recompute.FULL, zero=0, dtype=Dtype.BF16,
                            attention=Attention.UNFUSED, order=RankOrder.TP_CP_DP_PP)


def test_megatron_2022_counts_get_batch_and_loss_calls():
    stack = load_stack("megatron-lm-2022")
    assert stack.batch_host_ops == 23 and stack.loss_host_ops == 21
    assert st.micro_batch_host_time(stack, 26e-6) == pytest.approx((23 * 26e-6, 21 * 26e-6))
    assert load_stack("megatron-core-0.8").batch_host_ops == 0.0  # not counted for that stack (yet)


def test_timer_synced_get_batch_is_exposed_once_per_micro_batch():
    # between the batch-generator timer's syncs nothing queued hides get_batch: m x its host time, at any TP
    cluster = Cluster.resolve("dgx-a100-superpod")
    with_ops = load_stack("megatron-lm-2022")
    without = with_ops.model_copy(update={"batch_host_ops": 0.0})
    dispatch = cluster.fabric.host_kernel_dispatch_s
    for tp in (1, 8):
        for m in (2, 8):
            plan = _plan(tp, 1, m)
            extra = (st.step_time(SHAPE, cluster, plan, with_ops)["step_time_s"][0]
                     - st.step_time(SHAPE, cluster, plan, without)["step_time_s"][0])
            assert extra == pytest.approx(m * 23 * dispatch, rel=1e-9)


def test_loss_calls_cost_only_where_the_lm_head_does_not_cover_them():
    # TP8, micro-batch 1: the last stage's LM head + loss kernels are short, so the loss calls are exposed;
    # the loss calls are charged only on the stage that holds the head
    cluster = Cluster.resolve("dgx-a100-superpod")
    with_ops = load_stack("megatron-lm-2022")
    without = with_ops.model_copy(update={"loss_host_ops": 0.0})
    plan = _plan(8, 1, 4)
    extra = (st.step_time(SHAPE, cluster, plan, with_ops)["step_time_s"][0]
             - st.step_time(SHAPE, cluster, plan, without)["step_time_s"][0])
    assert 0.0 < extra <= 4 * 21 * cluster.fabric.host_kernel_dispatch_s + 1e-12
