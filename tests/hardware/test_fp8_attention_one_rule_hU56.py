"""fp8 fused attention's measured speed-up applied where it was measured, in training as in serving (hU session 56).

The catalog's `fp8_kv_context_attention_ratio` was measured on TensorRT-LLM's FP8 context FMHA at 128-wide heads
without MLA (`hardware.fp8_attention`'s docstring). Serving's prefill applied it there only; training's fp8
dot-product attention applied it at every head shape (DeepSeek-V3's MLA, Megatron's 160-wide heads). One rule now
serves both. Checked failing before the change: with training's `rates.fp8_attention_ratio` divided in at any head
size, DeepSeek-V3's and Megatron-1T's fp8 attention kernels ran at 1 / 1.32 of their bf16 time (the equalities below
fail by 24 % of the kernel time) and the two layers disagreed.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.catalog.stacks import load_stack
from infraplan.hardware import fp8_attention
from infraplan.hardware.fp8_attention import fp8_attention_speedup
from infraplan.hardware.kernels import KernelRates
from infraplan.serving import kv_cache
from infraplan.training.attention_core import attention_core_times, fp8_cast_times
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.plan import PlanArrays

SEQ = 8192
TP = 4.0


def _plan() -> PlanArrays:  # CP 1: TE 2.14 has no fp8 backend for MLA under context parallelism (utils.py:832)
    return PlanArrays.build(tp=np.full(1, TP), pp=1, dp=1, cp=np.full(1, 1.0), ep=1, vpp=1, micro_batch=1,
                            global_batch=8, seq_len=SEQ, recompute=Recompute.NONE, zero=1, dtype=Dtype.FP8,
                            attention=Attention.FLASH, order=RankOrder.TP_CP_DP_PP)


def _training_ratio(model: str, acc: str = "h100-sxm") -> float:
    """fp8 DPA's kernel speed-up in training: the forward fused-kernel time, bf16 over fp8, the casts removed (the
    ratio itself at d 128, where the exponential term is 0; 1 exactly where no speed-up applies)."""
    base = load_stack("nemo-24.12")
    on = base.model_copy(update={"fp8": base.fp8.model_copy(update={"dot_product_attention": True})})
    shape = load_model(model)
    rates = KernelRates.for_dtype(load_accelerator(acc), "bf16")
    plan = _plan()
    bf16 = float(np.ravel(attention_core_times(shape, rates, plan, SEQ, base)[0])[0])
    fp8 = float(np.ravel(attention_core_times(shape, rates, plan, SEQ, on)[0])[0])
    cast = float(np.ravel(fp8_cast_times(shape, rates, plan, SEQ)[0])[0])
    overhead = rates.kernel_overhead_s  # the fused kernel's one launch, not sped up
    return (bf16 - overhead) / (fp8 - cast - overhead)


def test_the_rule_gives_the_measured_ratio_at_128_wide_heads_without_mla_only():
    assert fp8_attention_speedup(1.32, load_model("llama2-70b")) == pytest.approx(1.32)
    for model in ("deepseek-v3", "kimi-k2", "megatron-1t", "korthikanti-22b"):  # MLA 192/128; d 160; d 96
        assert fp8_attention_speedup(1.32, load_model(model)) == 1.0, model
    assert fp8_attention_speedup(None, load_model("llama2-70b")) == 1.0


def test_training_fp8_attention_gains_only_where_measured():
    """Llama 2 70B (d 128) runs its fp8 kernel 1.32x faster on H100; DeepSeek-V3 (MLA) and Megatron-1T (d 160) pay
    the casts at the bf16 kernel rate (their exponential term cancels: it is in both times unchanged)."""
    assert _training_ratio("llama2-70b") == pytest.approx(1.32, rel=1e-6)
    assert _training_ratio("deepseek-v3") == pytest.approx(1.0, rel=1e-6)
    assert _training_ratio("megatron-1t") == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("model", ["llama2-70b", "deepseek-v3", "megatron-1t"])
@pytest.mark.parametrize("acc", ["h100-sxm", "b200"])
def test_training_and_serving_give_one_answer(model, acc):
    """The same kernel fact, one answer: training's fp8 DPA speed-up equals serving's fp8-cache prefill speed-up on
    a stack that runs the FP8 context FMHA (TensorRT-LLM)."""
    serving = kv_cache.context_fmha_speedup(load_model(model), load_accelerator(acc), "trtllm-0.x", "fp8")
    assert _training_ratio(model, acc) == pytest.approx(serving, rel=1e-6)


def test_the_toggle_applies_the_ratio_at_every_head_shape_in_both_layers(monkeypatch):
    monkeypatch.setattr(fp8_attention, "FP8_ATTENTION_MEASURED_HEADS", False)
    r1 = load_model("deepseek-v3")
    assert kv_cache.context_fmha_speedup(r1, load_accelerator("h200"), "trtllm-0.x", "fp8") == pytest.approx(1.32)
    assert _training_ratio("deepseek-v3") > 1.3  # 1.34: the ratio on the matmul FLOPs, MLA's faster exponentials kept
