"""Absorbed MLA decode attention: bound by its FLOPs at few TP ranks, by its latent reads at many."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.serving import mla_decode
from infraplan.serving.kv_cache import kv_bytes_per_token_layer
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time

B200 = Cluster.resolve("dgx-b200")
WIDE_EP = Deployment(tp=1, ep=8, attention_dp=8, dtype="nvfp4", kv_dtype="fp8", max_batch=512, token_budget=8192)


def test_flops_per_cached_token_follow_the_latent_and_the_local_heads():
    r1 = load_model("deepseek-r1")  # kv_lora 512, rope 64, 128 heads
    assert mla_decode.flops_per_cached_token(r1, 1, 1.0) == pytest.approx(2.0 * (576 + 512) * 128)
    assert mla_decode.flops_per_cached_token(r1, 8, 61.0) == pytest.approx(2176 * 16 * 61)
    assert mla_decode.flops_per_cached_token(load_model("llama3-8b"), 1, 32.0) == 0.0  # no latent: bytes only


def _kv_byte_s(shape, tp: int) -> float:
    rates = KernelRates.for_dtype(B200.accelerator, "bf16")
    return kv_bytes_per_token_layer(shape, tp, "fp8") * shape.num_layers / rates.memory_bytes_per_s


def test_attention_dp_decode_is_compute_bound_and_tp8_reads_memory():
    r1 = load_model("deepseek-r1")
    rates = KernelRates.for_dtype(B200.accelerator, "bf16")
    wide = build_iteration_cost(r1, B200.accelerator, B200.fabric, WIDE_EP)
    flop_s = mla_decode.cached_token_s(r1, rates, 1, r1.num_layers)
    assert flop_s > 2.0 * _kv_byte_s(r1, 1)  # 425 FLOP/B against a ridge of ~170 at the attention rate
    assert wide.kv_token_s == pytest.approx(flop_s)
    tp8 = build_iteration_cost(r1, B200.accelerator, B200.fabric, Deployment(tp=8, ep=8, dtype="nvfp4",
                                                                            kv_dtype="fp8", max_batch=512))
    assert tp8.kv_token_s == pytest.approx(_kv_byte_s(r1, 8))  # 16 heads per GPU: the latent read binds


def test_toggle_adds_the_attention_flops_to_a_large_long_context_decode_step(monkeypatch):
    r1 = load_model("deepseek-r1")
    rates = KernelRates.for_dtype(B200.accelerator, "bf16")
    expected = 155 * 2700 * (mla_decode.cached_token_s(r1, rates, 1, r1.num_layers) - _kv_byte_s(r1, 1))
    on = float(decode_time(build_iteration_cost(r1, B200.accelerator, B200.fabric, WIDE_EP), 155, 2700))
    monkeypatch.setattr(mla_decode, "MLA_DECODE_COMPUTE", False)
    off_cost = build_iteration_cost(r1, B200.accelerator, B200.fabric, WIDE_EP)
    off = float(decode_time(off_cost, 155, 2700))
    assert off_cost.kv_token_s == pytest.approx(_kv_byte_s(r1, 1))
    assert on - off == pytest.approx(expected, rel=1e-6)
    assert 3e-3 < on - off < 6e-3  # ~4 ms of the ~28 ms step


def test_speculative_queries_multiply_the_flops_not_the_bytes():
    r1 = load_model("deepseek-r1")
    mtp = build_iteration_cost(r1, B200.accelerator, B200.fabric,
                               Deployment(tp=1, ep=8, attention_dp=8, dtype="nvfp4", kv_dtype="fp8", max_batch=256,
                                          token_budget=8192, speculative_tokens=1, acceptance=0.8))
    plain = build_iteration_cost(r1, B200.accelerator, B200.fabric, WIDE_EP)
    # two target tokens per row through 61 layers, the MTP layer's first draft step over both verified positions
    assert mtp.kv_token_s / plain.kv_token_s == pytest.approx((2 * 61 + 2) / 61)
