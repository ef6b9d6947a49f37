"""DeepSpeed's pipeline engine blocks on every p2p call, one call per direction and kind (hK, session 53):
`Stack.p2p_synchronize` and `Stack.p2p_transfers_per_micro_batch` in `training.step_assembly.pipeline_p2p_time`.
DeepSpeed 0.5.10 / 0.14.4 pipe/p2p.py send / recv are blocking `dist.send` / `dist.recv`; its TrainSchedule issues
RecvActivation, SendGrad, SendActivation and RecvGrad as separate calls: 4 transfers a micro-batch on a stage with two
neighbours (validation/notes/out_of_sample_s52/ds_sched_read.py simulates it), where Megatron-LM batches 2."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog import shape_from_hf_config
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training import step_time as st
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.host_time import BLOCKING_P2P_HOST_CALLS
from infraplan.training.plan import PlanArrays

SHAPE = shape_from_hf_config({"model_type": "gpt2", "n_embd": 2048, "n_head": 16, "n_layer": 24,
                              "vocab_size": 51200, "n_positions": 2048}, "gpt-h2048")
CLUSTER = Cluster.resolve("dgx-a100-superpod")
DS = load_stack("deepspeed")
BATCHED = DS.model_copy(update={"p2p_transfers_per_micro_batch": 2.0})  # Megatron-LM's batched exchanges
OVERLAPPED = DS.model_copy(update={"p2p_synchronize": False})


def _plan(pp: int, micro_batches: list[int]) -> PlanArrays:
    m = np.array(micro_batches)
    return PlanArrays.build(tp=2, pp=pp, dp=1, cp=1, ep=1, vpp=1, micro_batch=2, global_batch=2 * m, seq_len=1024,
                            recompute=Recompute.FULL, zero=1, dtype=Dtype.BF16, attention=Attention.UNFUSED,
                            order=RankOrder.TP_CP_DP_PP)


def test_deepspeed_blocks_on_four_transfers_a_micro_batch() -> None:
    assert DS.p2p_synchronize and DS.p2p_transfers_per_micro_batch == 4.0
    assert load_stack("megatron-lm-2021").p2p_transfers_per_micro_batch == 2.0  # the field's default


def test_each_micro_batch_pays_four_calls_on_a_middle_stage() -> None:
    ms = [4, 8, 16]
    plan = _plan(4, ms)
    # the step's p2p: the pp_comm row and its blocking calls' host time (the host row's phase since hK59)
    four, two, chain = (out["pp_comm"] + out["host_exposed_pp_comm"] for out in (
        st.step_time(SHAPE, CLUSTER, plan, s) for s in (DS, BATCHED, OVERLAPPED)))
    calls_s = BLOCKING_P2P_HOST_CALLS * CLUSTER.fabric.host_kernel_dispatch_s
    # the overlapped chain (2 (p - 1) t and the tied embedding's sync) is the same whatever m
    assert np.allclose(chain, chain[0], rtol=1e-12, atol=0.0)
    m = np.array(ms, dtype=float)
    # batched (Megatron-LM): 2 (m + p - 1) (t + c) in place of 2 (p - 1) t: 2 m t + 2 (m + p - 1) c more
    transfer = (two - chain - 2.0 * (m + 3.0) * calls_s) / (2.0 * m)
    assert transfer[0] > 0.0 and np.allclose(transfer, transfer[0], rtol=1e-9, atol=0.0)
    # DeepSpeed: (4 m + 2 (p - 1)) (t + c): 4 m t + (4 m + 6) c more than the chain
    assert np.allclose(four - chain, 4.0 * m * transfer[0] + (4.0 * m + 6.0) * calls_s, rtol=1e-9, atol=0.0)
    # nothing else in the step moves
    a, b = st.step_time(SHAPE, CLUSTER, plan, DS), st.step_time(SHAPE, CLUSTER, plan, BATCHED)
    assert all(np.array_equal(a[k], b[k]) for k in st.COMPONENTS if k not in ("pp_comm", "other", "host_exposed"))
    # (`other` closes the rows' sum on the step: within rounding; the host row by the calls)
    assert np.allclose(a["other"], b["other"], rtol=1e-12, atol=0.0)
    assert np.allclose(a["host_exposed"] - a["host_exposed_pp_comm"], b["host_exposed"] - b["host_exposed_pp_comm"],
                       rtol=1e-12, atol=0.0)


def test_two_stages_have_one_neighbour_each() -> None:
    plan = _plan(2, [4, 16])
    four, two = (st.step_time(SHAPE, CLUSTER, plan, s)["pp_comm"] for s in (DS, BATCHED))
    assert np.array_equal(four, two)


def test_one_plan_and_the_grid_agree() -> None:
    from infraplan.training.estimate import estimate_training

    one = estimate_training(SHAPE, CLUSTER.system, 8, tp=2, pp=4, dp=1, seq_len=1024, global_batch=32, micro_batch=2,
                            recompute="full", zero=1, dtype="bf16", attention="unfused", vpp=1, stack=DS,
                            order="tp-cp-dp-pp")
    grid = st.step_time(SHAPE, CLUSTER, _plan(4, [16]), DS)
    assert one.breakdown_s.pp_comm == pytest.approx(float(grid["pp_comm"][0]), rel=1e-9)


# DeepSpeed activation checkpointing's `partition_activations` (`Stack.partition_checkpointed_activations`): off by
# default (DeepSpeed's config default); on, each fully recomputed layer's stored input is split over TP and
# all-gathered before its recompute (activation_checkpointing/checkpointing.py, 0.5.10 / 0.14.4)
PARTITIONED = DS.model_copy(update={"partition_checkpointed_activations": True})


def _mtnlg(stack: Any, **kw: Any) -> Any:
    from infraplan.training.estimate import estimate_training

    plan: dict[str, Any] = dict(tp=8, pp=35, dp=8, seq_len=2048, global_batch=1920, micro_batch=1, recompute="full",
                                zero=1, dtype="bf16", attention="unfused", vpp=1, sequence_parallel=False) | kw
    return estimate_training("megatron-529.6b", "dgx-a100-superpod", 2240, stack=stack, **plan)


def test_partitioned_checkpoints_are_off_unless_set() -> None:
    assert not DS.partition_checkpointed_activations
    assert not load_stack("megatron-lm-2021").partition_checkpointed_activations


def test_partitioned_checkpoints_gather_each_recomputed_input_once() -> None:
    from infraplan.network.collectives import collective_seconds

    on, off = _mtnlg(PARTITIONED), _mtnlg(DS)
    # 240 micro-batches x 3 layers a stage x one all-gather of the 2048 x 20480 bf16 input over the node's 8 GPUs
    gather = collective_seconds(CLUSTER.fabric, "all_gather", 2048 * 20480 * 2.0, 8, 1)
    assert on.breakdown_s.tp_comm - off.breakdown_s.tp_comm == pytest.approx(240 * 3 * gather, rel=1e-6)
    assert on.breakdown_s.compute == off.breakdown_s.compute
    assert on.breakdown_s.other > off.breakdown_s.other  # the slice clone, the zeros and the copy-in
    # the stored inputs are split over TP: activations fall by about TP (one working layer stays whole)
    ratio = on.memory_breakdown_bytes.activations / off.memory_breakdown_bytes.activations
    assert 1 / 8 < ratio < 1 / 4


def test_partitioned_checkpoints_change_nothing_with_sp_or_without_full_recompute() -> None:
    for kw in ({"sequence_parallel": True}, {"recompute": "selective", "attention": "flash", "tp": 8, "pp": 35}):
        on, off = _mtnlg(PARTITIONED, **kw), _mtnlg(DS, **kw)
        assert on.step_time_s == off.step_time_s
        assert on.memory_breakdown_bytes.activations == off.memory_breakdown_bytes.activations


def test_partitioned_checkpoints_one_plan_and_the_grid_agree() -> None:
    plan = PlanArrays.build(tp=8, pp=35, dp=8, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=1920, seq_len=2048,
                            recompute=Recompute.FULL, zero=1, dtype=Dtype.BF16, attention=Attention.UNFUSED,
                            order=RankOrder.TP_CP_DP_PP, sequence_parallel=False)
    from infraplan.catalog import load_model

    grid = st.step_time(load_model("megatron-529.6b"), CLUSTER, plan, PARTITIONED)
    one = _mtnlg(PARTITIONED)
    assert one.breakdown_s.tp_comm == pytest.approx(float(grid["tp_comm"][0]), rel=1e-9)
    assert one.step_time_s == pytest.approx(float(grid["step_time_s"][0]), rel=1e-9)
