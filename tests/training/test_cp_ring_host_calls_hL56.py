"""Host calls of context parallelism's ring attention (training.host_time.CP_RING_HOST_CALLS, hL session 56).

Transformer Engine's `AttnFuncWithCPAndKVP2P` issues each of the CP steps' exchange, attention and corrections from
Python; at a few hundred tokens a GPU (Llama 2 70B LoRA on 1,024 H100, TP4 CP8, one micro-batch a step: MLPerf
Training v4.0's at-scale row) the host, not the GPU, sets the step. Checked failing before the change: the CP8
layer counted one host call more than CP1 (the CP all-gather) and the step was 0.178 s with 0.024 s "other".
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import shape_from_hf_config
from infraplan.training import estimate_training, host_time
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.host_time import CP_RING_HOST_CALLS
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import layer_kernel_counts

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # the one-plan memo forgotten around each test


SHAPE = shape_from_hf_config({"model_type": "gpt2", "n_embd": 1024, "n_head": 16, "n_layer": 24,
                              "vocab_size": 51200, "n_positions": 2048}, "gpt-1024")


def _counts(cp: float, recompute: Recompute = Recompute.NONE) -> tuple[float, float]:
    plan = PlanArrays.build(tp=np.array([2.0]), pp=np.array([1.0]), dp=np.array([1.0]), cp=np.array([cp]), ep=1,
                            vpp=1, micro_batch=np.array([1.0]), global_batch=np.array([8.0]),
                            seq_len=np.array([8192.0]), recompute=recompute, zero=0, dtype=Dtype.BF16,
                            attention=Attention.FLASH, order=RankOrder.TP_CP_DP_PP)
    fwd, bwd = layer_kernel_counts(SHAPE, plan)
    return float(np.ravel(fwd)[0]), float(np.ravel(bwd)[0])


def test_each_ring_step_adds_its_host_calls_in_place_of_the_one_attention_launch():
    fwd1, bwd1 = _counts(1.0)
    for cp in (2.0, 8.0):
        fwd, bwd = _counts(cp)
        # the op table's one fused attention launch (3 backward) and its CP collective launch (CP > 1 only: hence
        # -1, not -2, against CP 1) become the ring's steps
        assert fwd - fwd1 == pytest.approx(cp * CP_RING_HOST_CALLS[0] - 1.0)
        assert bwd - bwd1 == pytest.approx(cp * CP_RING_HOST_CALLS[1] - 3.0)
    # full recompute re-runs the forward ring in the backward
    full_fwd, full_bwd = _counts(8.0, Recompute.FULL)
    one_fwd, one_bwd = _counts(1.0, Recompute.FULL)
    assert full_bwd - one_bwd == pytest.approx(8.0 * (CP_RING_HOST_CALLS[0] + CP_RING_HOST_CALLS[1]) - 4.0)


def test_the_toggle_off_counts_the_ring_as_one_launch(monkeypatch):
    monkeypatch.setattr(host_time, "CP_RING_HOST_CALLS_ON", False)
    fwd8, bwd8 = _counts(8.0)
    fwd1, bwd1 = _counts(1.0)
    assert (fwd8 - fwd1, bwd8 - bwd1) == (1.0, 1.0)  # the CP collective's launch alone, as before the change


def _lora(gpus: int, tp: int, cp: int, gbs: int):
    return estimate_training("llama2-70b", "dgx-h100-superpod", gpus, lora_rank=16, tp=tp, cp=cp, pp=1,
                             dp=gpus // (tp * cp), seq_len=8192, global_batch=gbs, micro_batch=1, recompute="none",
                             zero=1, dtype="fp8", stack="nemo-24.12")


def test_lora_at_1024_gpus_cp8_is_host_bound_and_the_8_gpu_row_is_not(monkeypatch):
    at_scale = _lora(1024, 4, 8, 32)
    one_node = _lora(8, 4, 2, 8)
    # 80 layers x (8 x 11 - 2 forward + 8 x 16 - 4 backward) calls x 26 us ~ 0.44 s of host issue against ~0.18 s of
    # GPU work: ~0.38 s exposed (before: 0.024 s of "other", a 0.178 s step)
    assert at_scale.breakdown_s.host_exposed > 0.3  # (its own component since hK58: in `other` before)
    assert at_scale.step_time_s > 0.5
    monkeypatch.setattr(host_time, "CP_RING_HOST_CALLS_ON", False)
    clear_one_plan_memo()  # the memo keeps the patched physics' terms otherwise
    # the ring off: 0.178 s of GPU work, the adapters' host calls (`adapter_host.ADAPTER_HOST_CALLS`) ~0.01 s over it
    assert _lora(1024, 4, 8, 32).step_time_s == pytest.approx(0.188, abs=0.005)
    # one node, 8 micro-batches of 4,096 tokens a GPU: the GPU work hides the ring's calls (unchanged step)
    assert _lora(8, 4, 2, 8).step_time_s == pytest.approx(one_node.step_time_s, rel=1e-9)


def test_adapters_add_their_host_calls_less_the_frozen_wgrads(monkeypatch):
    """Megatron-Bridge's adapters issue their own calls (adapter_host.ADAPTER_CALLS); the frozen GEMMs launch no
    wgrad. Checked failing before: the LoRA step's host issue was full training's (0.554 s step at TP4 CP8)."""
    from infraplan.training import adapter_host

    on = _lora(1024, 4, 8, 32)
    monkeypatch.setattr(adapter_host, "ADAPTER_HOST_CALLS", False)
    clear_one_plan_memo()
    off = _lora(1024, 4, 8, 32)
    # 80 layers x (2 adapters x (8 + 7) + their TP collectives' launches - 4 frozen wgrads) x 26 us: ~70 ms exposed
    assert 0.05 < on.step_time_s - off.step_time_s < 0.1
    assert on.breakdown_s.compute == pytest.approx(off.breakdown_s.compute, rel=1e-12)


def test_adapter_host_calls_on_a_grid_equal_the_one_plan_count():
    from infraplan.catalog.loader import load_model
    from infraplan.catalog.stacks import load_stack
    from infraplan.training.adapter_host import adapter_host_calls
    from infraplan.training.frozen_base import lora_spec

    shape = load_model("llama2-70b")
    spec, stack = lora_spec(shape, 16), load_stack("nemo-24.12")
    args = dict(pp=1, ep=1, vpp=1, micro_batch=1, global_batch=64, seq_len=8192, recompute=Recompute.NONE, zero=1,
                dtype=Dtype.FP8, attention=Attention.FLASH, order=RankOrder.TP_CP_DP_PP)
    grid = PlanArrays.build(tp=np.array([2.0, 8.0]), dp=np.array([32.0, 8.0]), cp=np.array([2.0, 2.0]), **args)
    g_fwd, g_bwd = adapter_host_calls(shape, grid, spec, stack)
    for i, tp in enumerate((2, 8)):
        one = PlanArrays.build(tp=np.array([float(tp)]), dp=np.array([128.0 / tp]), cp=np.array([2.0]), **args)
        o_fwd, o_bwd = adapter_host_calls(shape, one.one_row, spec, stack)
        assert (float(np.ravel(g_fwd)[i]), float(np.ravel(g_bwd)[i])) == pytest.approx((o_fwd, o_bwd))
    assert o_fwd > 16.0  # 2 adapted projections x 8 calls, + launches at TP 8
