"""Fused attention by head dimension: the softmax exponentials on the special-function units (`exp_seconds`).

Per score a fused kernel does 4 d tensor-core FLOPs forward (10 d backward) and one exponential each pass at
`attention_exp_per_s` (FlashAttention-3: 3.9 T/s on H100), the time being their sum, anchored so the catalog's
d = 128 rate is unchanged. Checks against NVIDIA AIConfigurator 0.12.0's context-FMHA tables (catalog `source`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.hardware import kernels
from infraplan.hardware.kernels import (
    ATTENTION_REFERENCE_HEAD_DIM,
    KernelRates,
    attention_seconds,
    attention_time,
    exp_seconds,
)


def _rates(name: str) -> KernelRates:
    return KernelRates.for_dtype(load_accelerator(name), "bf16")


def _forward_rate(rates: KernelRates, head_dim: float) -> float:
    """FLOP/s of a large forward pass (whole waves, no launch cost) at `head_dim`."""
    scores = 1e12
    flops = 4.0 * head_dim * scores
    units = 64.0 * rates.compute_units
    return flops / (attention_seconds(rates, flops, units, 0.0, scores, head_dim))


@pytest.mark.parametrize("name", ["h100-sxm", "h200", "h800", "b200", "gb200"])
def test_head_dim_128_keeps_the_catalog_rate_bit_for_bit(name: str) -> None:
    rates = _rates(name)
    flops, units = 3.7e13, 1000.0
    with_exps = attention_seconds(rates, flops, units, 3.0, flops / 512.0, 128.0)
    assert with_exps == attention_seconds(rates, flops, units, 3.0)
    assert exp_seconds(rates, 1e9, ATTENTION_REFERENCE_HEAD_DIM) == 0.0


def test_catalog_exp_rates_are_the_mufu_width_at_each_parts_sms_and_clock() -> None:
    assert _rates("h100-sxm").attention_exp_per_s == 3.9e12  # FlashAttention-3, sec. 1
    assert _rates("h200").attention_exp_per_s == _rates("h800").attention_exp_per_s == 3.9e12  # same die
    for name, peak_flops in (("b200", 2250e12), ("gb200", 2500e12)):
        clock_hz = peak_flops / (148 * 8192)  # Blackwell: 8,192 dense bf16 FLOP per clock per SM
        assert _rates(name).attention_exp_per_s == pytest.approx(16 * 148 * clock_hz, rel=0.01)


def test_hopper_head_dim_64_runs_at_the_measured_fraction_of_128() -> None:
    # AIConfigurator H100 context FMHA, rate(64) / rate(128): TensorRT-LLM 0.81, FA3 0.78 / 0.79
    for name in ("h100-sxm", "h200"):
        rates = _rates(name)
        assert 0.77 < _forward_rate(rates, 64.0) / _forward_rate(rates, 128.0) < 0.82


def test_blackwell_loses_more_at_head_dim_64_than_hopper() -> None:
    # twice the tensor cores per SM, the same 16 exp2 per clock (FlashAttention-4): the exponentials weigh more
    hopper, blackwell = _rates("h100-sxm"), _rates("b200")
    ratio_h = _forward_rate(hopper, 64.0) / _forward_rate(hopper, 128.0)
    ratio_b = _forward_rate(blackwell, 64.0) / _forward_rate(blackwell, 128.0)
    assert ratio_b < ratio_h - 0.08
    assert 0.60 < ratio_b < 0.72  # AIConfigurator B200: 0.60-0.62 (the catalog source's check)


def test_mla_width_runs_faster_than_128_as_the_mla_context_tables() -> None:
    # DeepSeek MLA: d_qk 192, d_v 128, so 4 x 160 FLOPs per score; AIConfigurator TensorRT-LLM context MLA over its
    # head-dim-128 MHA: 1.09 on H100 and on B200
    assert load_model("deepseek-v3").attention_head_dim == 160
    for name in ("h100-sxm", "b200"):
        rates = _rates(name)
        assert 1.03 < _forward_rate(rates, 160.0) / _forward_rate(rates, 128.0) < 1.12


def test_backward_is_less_exponential_bound_than_forward() -> None:
    rates, scores, units = _rates("h100-sxm"), 1e12, 64.0 * 132
    fwd = attention_seconds(rates, 4.0 * 64 * scores, units, 0.0, scores, 64.0)
    bwd = attention_seconds(rates, 10.0 * 64 * scores, units, 0.0, scores, 64.0)
    fwd_ref = attention_seconds(rates, 4.0 * 64 * scores, units, 0.0)
    bwd_ref = attention_seconds(rates, 10.0 * 64 * scores, units, 0.0)
    assert fwd / fwd_ref > bwd / bwd_ref > 1.0


def test_parts_without_an_exp_rate_and_the_switch_keep_one_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    assert math.isinf(_rates("mi300x").attention_exp_per_s)
    monkeypatch.setattr(kernels, "HEAD_DIM_EXPONENTIALS", False)
    rates = _rates("h100-sxm")
    assert math.isinf(rates.attention_exp_per_s)
    assert attention_seconds(rates, 1e13, 500.0, 1.0, 1e13 / 256, 64.0) == attention_seconds(rates, 1e13, 500.0)


def test_array_and_float_paths_agree_with_exponentials() -> None:
    rates = _rates("b200")
    flops = np.array([1e12, 3e13, 0.0, 7e11])
    units = np.array([10.0, 2000.0, 5.0, 149.0])
    exps = flops / 256.0
    arrays = attention_time(rates, flops, units, 3, exps, 64.0)
    floats = [attention_seconds(rates, f, u, 3.0, e, 64.0) for f, u, e in zip(flops, units, exps, strict=True)]
    assert arrays.tolist() == floats
    assert floats[2] == 0.0
