"""Megatron's FusedScaleMaskSoftmax falls back to eager fp32 passes where its fused kernel refuses the shape.

`is_kernel_available` (Megatron-LM megatron/model/fused_softmax.py, v2.x-v3.0): 16-bit scores, 16 < s_k <= 4096,
s_q and s_k multiples of 4, b x heads per GPU a multiple of 4 (and of the kernel's batches per block). Otherwise
`forward_torch_softmax` runs upcast, scale, mask fill, softmax and downcast: 37 B per score in 5 kernels forward,
41 B in 5 backward, for the fused kernel's 1 kernel and 3 / 4 B (`attention_core.SOFTMAX_FALLBACK_BYTES`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model, shape_from_hf_config
from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates, memory_bound_time
from infraplan.training import attention_core, layer_time
from infraplan.training.attention_core import SOFTMAX_FALLBACK_BYTES, attention_core_times, softmax_falls_back
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import layer_times
from infraplan.validation.runner import load_cases

GPT2 = shape_from_hf_config({"model_type": "gpt2", "n_embd": 1024, "n_head": 16, "n_layer": 24,
                             "vocab_size": 51200, "n_positions": 2048}, "gpt2-h1024")


def _plans(tp: Any, micro_batch: Any, seq_len: Any = 2048, attention: Attention = Attention.UNFUSED) -> PlanArrays:
    return PlanArrays.build(tp=tp, pp=1, dp=1, cp=1, ep=1, vpp=1, micro_batch=micro_batch, global_batch=64,
                            seq_len=seq_len, recompute=Recompute.FULL, zero=0, dtype=Dtype.BF16, attention=attention,
                            order=RankOrder.TP_CP_DP_PP)


def test_the_fused_kernel_refuses_attention_batches_off_a_multiple_of_four() -> None:
    # 16 heads: TP8 holds 2 per GPU, so micro-batch 1 gives 2 attention batches (eager), 2 gives 4 (fused)
    plans = _plans(np.array([8, 8, 4, 8, 8]), np.array([1, 2, 1, 3, 2]), np.array([2048, 2048, 2048, 2048, 8192]))
    assert softmax_falls_back(GPT2, plans).tolist() == [True, False, False, True, True]  # 8192 > 4096 keys
    assert not softmax_falls_back(GPT2, _plans(8, 1, attention=Attention.FLASH).one_row)  # no softmax kernel
    assert softmax_falls_back(GPT2, _plans(8, 1).one_row) is True  # one plan: a plain bool


def test_sc21_cases_at_their_script_micro_batches_run_the_fused_kernel() -> None:
    for case in load_cases():
        if case["id"].startswith("megatron-sc21"):
            shape, plan = load_model(case["model"]), case["plan"]
            p = _plans(plan["tp"], plan["micro_batch"], plan["seq_len"])
            assert not softmax_falls_back(shape, p.one_row), case["id"]


def test_the_eager_softmax_costs_its_fp32_passes_and_launches(monkeypatch: pytest.MonkeyPatch) -> None:
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-a100-superpod").accelerator, "bf16")
    plans = _plans(np.array([8.0, 8.0]), np.array([1, 1]))
    fwd, bwd = attention_core_times(GPT2, rates, plans, 2048.0)
    scores = 1 * 2 * 2048 * 2048  # micro-batch 1, 2 heads per GPU
    monkeypatch.setattr(attention_core, "softmax_falls_back", lambda shape, plan, stack=None: plan.attention < 0)
    clear_one_plan_memo()
    fused_fwd, fused_bwd = attention_core_times(GPT2, rates, plans, 2048.0)
    pairs = ((fwd, fused_fwd, SOFTMAX_FALLBACK_BYTES[0]), (bwd, fused_bwd, SOFTMAX_FALLBACK_BYTES[1]))
    for eager, fused, extra in pairs:
        added = float(np.ravel(memory_bound_time(rates, extra * scores, kernels=4.0))[0])
        np.testing.assert_allclose(eager - fused, added, rtol=1e-9)
    assert SOFTMAX_FALLBACK_BYTES == (34.0, 37.0)


def test_the_eager_softmax_launches_four_more_kernels_each_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Host issue time: +4 launches forward, +4 backward and +4 for the recomputed forward (full recompute)."""
    cluster = Cluster.resolve("dgx-a100-superpod")
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    plans = _plans(np.array([8.0]), np.array([1]))
    stack = resolve_stack("megatron-lm-2022", "training")
    dispatch = 1e-5
    eager = layer_times(GPT2, rates, cluster.fabric, plans, (rates.matmul_flops_per_s, 2.0), dispatch, stack)
    monkeypatch.setattr(layer_time, "softmax_falls_back", lambda shape, plan, stack=None: plan.attention < 0)
    fused = layer_times(GPT2, rates, cluster.fabric, plans, (rates.matmul_flops_per_s, 2.0), dispatch, stack)
    np.testing.assert_allclose(eager["host_fwd"] - fused["host_fwd"], 4 * dispatch, rtol=1e-9)
    np.testing.assert_allclose(eager["host_bwd"] - fused["host_bwd"], 8 * dispatch, rtol=1e-9)
