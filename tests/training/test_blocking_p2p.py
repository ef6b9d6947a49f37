"""Blocking pipeline p2p (`Stack.p2p_synchronize`, `training.step_assembly.pipeline_p2p_time`): Megatron-LM <= v3.0
waits on every send / recv and synchronises the device, so each micro-batch's exchanges are on the critical path;
overlapping stacks expose only the chain of one micro-batch."""

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
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.validation import sets

SHAPE = shape_from_hf_config({"model_type": "gpt2", "n_embd": 2048, "n_head": 16, "n_layer": 24,
                              "vocab_size": 51200, "n_positions": 2048}, "gpt-h2048")
CLUSTER = Cluster.resolve("dgx-a100-superpod")
BLOCKING = load_stack("megatron-lm-2022")
OVERLAPPED = BLOCKING.model_copy(update={"p2p_synchronize": False})


def _plan(pp: int, micro_batches: list[int], micro_batch: int = 2) -> PlanArrays:
    m = np.array(micro_batches)
    return PlanArrays.build(tp=2, pp=pp, dp=1, cp=1, ep=1, vpp=1, micro_batch=micro_batch,
                            global_batch=micro_batch * m, seq_len=1024, recompute=Recompute.FULL, zero=0,
                            dtype=Dtype.BF16, attention=Attention.UNFUSED, order=RankOrder.TP_CP_DP_PP)


def test_megatron_lm_stacks_block_and_megatron_core_stacks_overlap() -> None:
    assert load_stack("megatron-lm-2021").p2p_synchronize and load_stack("megatron-lm-2022").p2p_synchronize
    # DeepSpeed's pipeline engine blocks too (hK, session 53: pipe/p2p.py's blocking dist.send / dist.recv;
    # tests/training/test_deepspeed_p2p_hK53.py)
    assert load_stack("deepspeed").p2p_synchronize
    for name in ("megatron-core-0.8", "nemo-24.12", "nemo-26.04", "torchtitan"):
        assert not load_stack(name).p2p_synchronize, name


def test_every_micro_batch_pays_two_exchanges_and_their_host_calls() -> None:
    ms = [2, 4, 8, 16]
    plan = _plan(4, ms)
    blocking = st.step_time(SHAPE, CLUSTER, plan, BLOCKING)
    overlapped = st.step_time(SHAPE, CLUSTER, plan, OVERLAPPED)
    # overlapping p2p: the chain of one micro-batch, whatever m
    assert np.allclose(overlapped["pp_comm"], overlapped["pp_comm"][0], rtol=1e-12, atol=0.0)
    # (the step's p2p: the pp_comm row and its host calls, which the breakdown shows in host_exposed since hK59)
    assert np.all(overlapped["host_exposed_pp_comm"] == 0.0) and np.all(blocking["host_exposed_pp_comm"] > 0.0)
    extra = blocking["pp_comm"] + blocking["host_exposed_pp_comm"] - overlapped["pp_comm"]
    # blocking: 2 (m + p - 1) calls of (transfer t + host calls c) against 2 (p - 1) t: extra = 2 m t + 2 (m + p - 1) c
    calls_s = BLOCKING_P2P_HOST_CALLS * CLUSTER.fabric.host_kernel_dispatch_s
    m = np.array(ms, dtype=float)
    transfer = (extra - 2.0 * (m + 3.0) * calls_s) / (2.0 * m)
    assert transfer[0] > 0.0 and np.allclose(transfer, transfer[0], rtol=1e-9, atol=0.0)
    # the transfer is the boundary activation (micro-batch x sequence x hidden / TP, bf16) over NVLink: well
    # under a millisecond, while the host calls alone are 7 dispatches per call
    assert transfer[0] < 1e-3
    # each further micro-batch adds its two exchanges: 2 (t + c)
    assert (extra[3] - extra[2]) / 8.0 == pytest.approx(2.0 * (transfer[0] + calls_s), rel=1e-9)
    # nothing else in the step changes (the host row by the p2p calls; `other` closes the rows' sum on the step
    # within an ulp, `host_row._closing`)
    rest = {k for k in st.COMPONENTS if k not in ("pp_comm", "other", "host_exposed")}
    assert all(np.array_equal(blocking[k], overlapped[k]) for k in rest)
    assert np.allclose(blocking["other"], overlapped["other"], rtol=1e-12, atol=0.0)
    assert np.allclose(blocking["host_exposed"] - blocking["host_exposed_pp_comm"], overlapped["host_exposed"],
                       rtol=1e-12, atol=0.0)


def test_interleaving_multiplies_the_blocking_calls_by_the_chunks() -> None:
    base = dict(tp=2, pp=4, dp=1, cp=1, ep=1, micro_batch=1, global_batch=8, seq_len=1024,
                recompute=Recompute.FULL, zero=0, dtype=Dtype.BF16, attention=Attention.UNFUSED,
                order=RankOrder.TP_CP_DP_PP)
    calls_s = BLOCKING_P2P_HOST_CALLS * CLUSTER.fabric.host_kernel_dispatch_s
    def p2p(v: int, stack: Any) -> float:  # the step's p2p: the row and its host calls (in host_exposed: hK59)
        out = st.step_time(SHAPE, CLUSTER, PlanArrays.build(vpp=v, **base), stack)  # type: ignore[arg-type]
        return float(out["pp_comm"][0] + out["host_exposed_pp_comm"][0])

    one, two = (p2p(v, BLOCKING) - p2p(v, OVERLAPPED) for v in (1, 2))
    # v = 1: 2 m t + 2 (m + p - 1) c; v = 2: 2 m v t + 2 (m v + p v - 1) c, same transfer t (m = 8, p = 4)
    transfer = (one - 2.0 * 11.0 * calls_s) / 16.0
    assert two == pytest.approx(32.0 * transfer + 2.0 * 23.0 * calls_s, rel=1e-9)


def test_one_stage_has_no_p2p() -> None:
    plan = _plan(1, [4, 16])
    blocking = st.step_time(SHAPE, CLUSTER, plan, BLOCKING)
    overlapped = st.step_time(SHAPE, CLUSTER, plan, OVERLAPPED)
    assert np.array_equal(blocking["step_time_s"], overlapped["step_time_s"])
    assert np.all(blocking["pp_comm"] == 0.0)


def test_one_plan_floats_equal_the_array_path_with_blocking_p2p() -> None:
    clear_one_plan_memo()
    array = st.step_time(SHAPE, CLUSTER, _plan(4, [8, 16]), BLOCKING)  # numpy arrays over two plans
    one = st.step_time(SHAPE, CLUSTER, _plan(4, [8]), BLOCKING)  # one plan: Python floats
    assert _plan(4, [8]).is_one and not _plan(4, [8, 16]).is_one
    for key in ("pp_comm", "step_time_s"):
        assert float(one[key][0]) == float(array[key][0]) > 0.0


def test_blocking_p2p_brings_vtrain_pipeline_rows_toward_their_measurements(monkeypatch: pytest.MonkeyPatch) -> None:
    """vTrain ran Megatron-LM v3.0: its PP rows were predicted too fast by a time that grows with the number of
    micro-batches; the blocking p2p closes part of it and leaves the PP1 rows as they were."""
    rows = np.array(sets.load_vtrain_rows(), dtype=float)
    pp = rows[:, 9]
    with_sync, measured, _ = sets.vtrain_predictions()
    monkeypatch.setattr(sets, "VTRAIN_STACK", OVERLAPPED)
    clear_one_plan_memo()
    without, _, _ = sets.vtrain_predictions()
    assert np.array_equal(with_sync[pp == 1], without[pp == 1])
    piped = pp > 1
    err_with = np.abs(with_sync[piped] / measured[piped] - 1.0).mean()
    err_without = np.abs(without[piped] / measured[piped] - 1.0).mean()
    assert err_with < err_without
    assert np.median(without[piped] / measured[piped]) < np.median(with_sync[piped] / measured[piped]) < 1.0
