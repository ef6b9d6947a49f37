"""fp8 dot-product attention in training (`Fp8Recipe.dot_product_attention`, hP session 56).

Transformer Engine's `fp8_dpa` (Megatron's `fp8_dot_product_attention`) runs the attention core on cuDNN's FP8
fused attention: its tensor-core time at the accelerator's measured fp8 / bf16 fused-attention ratio
(`fp8_kv_context_attention_ratio`), plus the casts around the kernel (Q K V cat + quantize, O dequantize forward;
dO quantize, dQ dK dV cat + dequantize backward: `FP8_DPA_CAST_BYTES`). Off in every shipped stack. Checked failing
before the change: `Fp8Recipe` had no such field (the `model_copy` below set an attribute nothing read, so every
time was the bf16 attention's and the step did not move).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.catalog.stacks import load_stack
from infraplan.hardware.kernels import KernelRates, memory_bound_time
from infraplan.training import fp8_dpa
from infraplan.training.attention_core import FP8_DPA_CAST_BYTES, FP8_DPA_CAST_KERNELS, attention_core_times
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.plan import PlanArrays

SEQ = 8192


pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # the one-plan memo forgotten around each test


def _stacks():
    base = load_stack("nemo-24.12")
    return base, base.model_copy(update={"fp8": base.fp8.model_copy(update={"dot_product_attention": True})})


def _plan(dtype: Dtype, n: int = 1, tp: float = 4.0, cp: float = 2.0) -> PlanArrays:
    return PlanArrays.build(tp=np.full(n, tp), pp=1, dp=1, cp=np.full(n, cp), ep=1, vpp=1, micro_batch=1,
                            global_batch=8, seq_len=SEQ, recompute=Recompute.NONE, zero=1, dtype=dtype,
                            attention=Attention.FLASH, order=RankOrder.TP_CP_DP_PP)


def _times(shape, acc: str, stack, dtype: Dtype) -> tuple[float, float]:
    rates = KernelRates.for_dtype(load_accelerator(acc), "bf16")
    fwd, bwd = attention_core_times(shape, rates, _plan(dtype), SEQ / 2.0, stack)
    return float(np.ravel(fwd)[0]), float(np.ravel(bwd)[0])


def test_shipped_stacks_keep_bf16_attention():
    for name in ("nemo-24.12", "nemo-26.04", "megatron-core-0.8", "torchtitan", "deepseek-v3"):
        assert load_stack(name).fp8.dot_product_attention is False


def test_fp8_attention_time_is_the_measured_ratio_plus_the_casts():
    """Llama 2 70B, TP4 CP2, 8,192 tokens on H100: the matmul FLOPs at 1 / 1.32 of their bf16 time (head dim 128:
    no exponential term), plus 7 + 3 B (forward) / 5 + 3 B (backward) per Q K V / O element in 3 kernels each."""
    shape = load_model("llama2-70b")
    off, on = _stacks()
    rates = KernelRates.for_dtype(load_accelerator("h100-sxm"), "bf16")
    assert rates.fp8_attention_ratio == pytest.approx(1.32)
    bf16, fp8 = _times(shape, "h100-sxm", off, Dtype.FP8), _times(shape, "h100-sxm", on, Dtype.FP8)
    tokens, d = SEQ / 2.0, 128.0
    o = tokens * 64 / 4 * d
    qkv = o + 2.0 * tokens * max(8 / 4, 1) * d
    for i, (b_qkv, b_o) in enumerate(FP8_DPA_CAST_BYTES):
        cast = float(np.ravel(memory_bound_time(rates, b_qkv * qkv + b_o * o, kernels=FP8_DPA_CAST_KERNELS))[0])
        kernel = bf16[i] - (1.0 if i == 0 else 3.0) * rates.kernel_overhead_s  # fused kernels' launches
        assert fp8[i] == pytest.approx(kernel / 1.32 + (1.0 if i == 0 else 3.0) * rates.kernel_overhead_s + cast,
                                       rel=1e-9)
    assert fp8[0] + fp8[1] < 0.9 * (bf16[0] + bf16[1])  # at 8,192 tokens the faster kernel outweighs the casts


def test_bf16_plans_sinks_and_the_toggle_keep_bf16_attention(monkeypatch):
    off, on = _stacks()
    llama = load_model("llama2-70b")
    assert _times(llama, "h100-sxm", on, Dtype.BF16) == _times(llama, "h100-sxm", off, Dtype.BF16)
    gpt_oss = load_model("gpt-oss-120b")  # sinks + sliding window: TE drops fused fp8 attention for both
    assert _times(gpt_oss, "h100-sxm", on, Dtype.FP8) == _times(gpt_oss, "h100-sxm", off, Dtype.FP8)
    monkeypatch.setattr(fp8_dpa, "FP8_DPA", False)  # (the toggle moved to training.fp8_dpa in hA57)
    assert _times(llama, "h100-sxm", on, Dtype.FP8) == _times(llama, "h100-sxm", off, Dtype.FP8)


def test_an_accelerator_without_a_measured_ratio_pays_only_the_casts():
    """GB200's catalog has no fp8 fused-attention ratio (1): fp8 attention there is the bf16 kernel + its casts."""
    off, on = _stacks()
    shape = load_model("llama2-70b")
    bf16, fp8 = _times(shape, "gb200", off, Dtype.FP8), _times(shape, "gb200", on, Dtype.FP8)
    assert fp8[0] > bf16[0] and fp8[1] > bf16[1]


def test_grid_path_equals_the_one_plan_path_and_the_lora_step_is_faster():
    off, on = _stacks()
    shape = load_model("llama2-70b")
    rates = KernelRates.for_dtype(load_accelerator("h200"), "bf16")
    grid = attention_core_times(shape, rates, _plan(Dtype.FP8, n=3, tp=2.0, cp=4.0), SEQ / 4.0, on)
    one = attention_core_times(shape, rates, _plan(Dtype.FP8, tp=2.0, cp=4.0).one_row, SEQ / 4.0, on)
    assert [float(np.ravel(g)[0]) for g in grid] == pytest.approx([float(np.ravel(x)[0]) for x in one], rel=1e-12)
    plan = dict(tp=4, cp=2, pp=1, dp=1, seq_len=SEQ, global_batch=8, micro_batch=1, recompute="none", zero=1,
                dtype="fp8", lora_rank=16)
    slow = estimate_training("llama2-70b", "dgx-h100-superpod", 8, stack=off, **plan).step_time_s
    fast = estimate_training("llama2-70b", "dgx-h100-superpod", 8, stack=on, **plan).step_time_s
    assert fast < 0.985 * slow  # 4.113 -> 4.011 s
