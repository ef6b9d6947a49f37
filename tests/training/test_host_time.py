"""Host issue time that no queued GPU work covers (training.step_time.host_exposed_time)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import TransformerShape, shape_from_hf_config
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.training import step_time as st
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import host_exposed_time

D = 26e-6


def gpt_h1024_on_8_a100(layers: int, global_batch: int,
                        recompute: Recompute) -> tuple[TransformerShape, Cluster, PlanArrays]:
    """A GPT-2-style h1024 model on one DGX A100 node, pure data parallel, micro-batch 1 of 1,024 tokens."""
    shape = shape_from_hf_config({"model_type": "gpt2", "n_embd": 1024, "n_head": 16, "n_layer": layers,
                                  "vocab_size": 51200, "n_positions": 2048}, "gpt-h1024")
    plan = PlanArrays.build(tp=np.array([1]), pp=np.array([1]), dp=np.array([8]), cp=1, ep=1, vpp=1,
                            micro_batch=np.array([1]), global_batch=np.array([global_batch]),
                            seq_len=np.array([1024]), recompute=recompute, zero=0, dtype=Dtype.BF16,
                            attention=Attention.UNFUSED, order=RankOrder.TP_CP_DP_PP)
    return shape, Cluster.resolve("dgx-a100-superpod"), plan


def test_gpu_bound_phases_expose_only_the_dispatch_after_each_sync():
    # PP: every phase starts after a sync -> 2 dispatches per micro-batch, nothing else
    assert host_exposed_time(1e-3, 2e-3, 5e-3, 9e-3, 4, True, D) == pytest.approx(4 * 2 * D)
    # no PP: one interval per step
    assert host_exposed_time(1e-3, 2e-3, 5e-3, 9e-3, 4, False, D) == pytest.approx(D)


def test_host_bound_phases_expose_the_excess():
    exposed = host_exposed_time(6e-3, 4e-3, 2e-3, 3e-3, 3, True, D)
    assert exposed == pytest.approx(3 * (4e-3 + 1e-3 + 2 * D))


def test_banked_gpu_time_hides_later_host_time_without_syncs():
    # forward host-bound by 1 ms, backward GPU-bound by 3 ms: only the first forward is exposed
    hf, hb, gf, gb = 3e-3, 1e-3, 2e-3, 4e-3
    banked = host_exposed_time(hf, hb, gf, gb, 8, False, D)
    synced = host_exposed_time(hf, hb, gf, gb, 8, True, D)
    assert banked == pytest.approx(1e-3 + D)
    assert synced == pytest.approx(8 * (1e-3 + 2 * D))
    assert np.all(banked < synced)


def test_small_models_at_low_tp_move_most_and_cuda_graphs_remove_it():
    eager = load_stack("megatron-lm-2022")
    graphs = eager.model_copy(update={"cuda_graphs": True})

    def ratio(model: str, tp: int) -> float:
        args = dict(model=model, system="dgx-a100-superpod", gpus=8, tp=tp, pp=2, seq_len=1024, global_batch=32,
                    attention="unfused", recompute="full", zero=0)
        return (estimate_training(**args, stack=eager).step_time_s  # type: ignore[arg-type]
                / estimate_training(**args, stack=graphs).step_time_s)  # type: ignore[arg-type]

    small, large = ratio("megatron-1.7b", 2), ratio("megatron-18.4b", 2)
    assert small > large >= 1.0  # a GPU-bound model loses nothing to the host
    assert small > 1.1


def test_eager_stacks_accumulate_each_bias_and_norm_gradient_with_its_own_kernel():
    shape, cluster, plan = gpt_h1024_on_8_a100(24, 16, Recompute.NONE)
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    precision = (np.array([rates.matmul_flops_per_s]), np.array([2.0]))
    eager, fused = load_stack("megatron-lm-2022"), load_stack("megatron-core-0.8")
    dispatch = 26e-6
    t_eager = st.layer_times(shape, rates, cluster.fabric, plan, precision, dispatch, eager)
    t_fused = st.layer_times(shape, rates, cluster.fabric, plan, precision, dispatch, fused)
    extra_bwd = (t_eager["host_bwd"] - t_fused["host_bwd"]) / dispatch
    assert extra_bwd[0] == pytest.approx(st.EAGER_EXTRA_KERNELS[1] + st.MAIN_GRAD_ADD_KERNELS)
    extra_fwd = (t_eager["host_fwd"] - t_fused["host_fwd"]) / dispatch
    assert extra_fwd[0] == pytest.approx(st.EAGER_EXTRA_KERNELS[0])


def test_a_sync_after_each_forward_exposes_the_lm_head_behind_host_bound_layers():
    # h1024 at TP1 micro-batch 1 is host-bound: banked, the head's GPU work hides under the layers' host slack;
    # with a sync closing every forward (Megatron-LM <= v3.0 timers) the head runs after the host has issued
    # everything, so each micro-batch pays its forward GPU time on top
    shape, cluster, plan = gpt_h1024_on_8_a100(12, 64, Recompute.FULL)
    synced = load_stack("megatron-lm-2022").model_copy(update={"batch_host_ops": 0.0, "loss_host_ops": 0.0})
    assert synced.phase_sync  # (get_batch / loss calls: tests/training/test_micro_batch_host.py)
    banked = synced.model_copy(update={"phase_sync": False})
    t_synced = st.step_time(shape, cluster, plan, synced)["step_time_s"][0]
    t_banked = st.step_time(shape, cluster, plan, banked)["step_time_s"][0]
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    head = st.head_times(shape, rates, plan, (np.array([rates.matmul_flops_per_s]), np.array([2.0])), synced,
                         cluster.fabric.host_kernel_dispatch_s)
    head_fwd_gpu = head["head_gpu_fwd"][0] - head["head_host_fwd"][0]
    assert head_fwd_gpu > 0.0
    # 8 micro-batches: each exposes the head's forward GPU time (and its own dispatches) on top
    assert t_synced - t_banked > 8 * head_fwd_gpu
    assert t_synced - t_banked < 8 * (head_fwd_gpu + 4 * cluster.fabric.host_kernel_dispatch_s)
