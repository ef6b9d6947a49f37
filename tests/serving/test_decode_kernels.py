"""Decode-step kernels from measured tables (`serving.decode_kernels`, `hardware.kernels.weight_read_rates`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.hardware.kernels import KernelRates, gemm_time, weight_read_rates
from infraplan.network.collectives import Fabric
from infraplan.serving import decode_kernels
from infraplan.serving.kv_cache import kv_bytes_per_token_layer
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time


@pytest.fixture
def h200():
    return load_accelerator("h200")


def test_attention_terms_read_the_catalog_fit_per_engine_and_kv_dtype(h200, monkeypatch):
    monkeypatch.setattr(decode_kernels, "MEASURED_DECODE_ATTENTION", True)
    rates, llama = KernelRates.for_dtype(h200, "bf16"), load_model("llama3-8b")
    fixed_s, bytes_per_s = decode_kernels.attention_terms(h200, rates, "vllm", "fp8", llama)
    fit = h200.efficiency.decode_attention["vllm"]["fp8"]
    assert fixed_s == fit.fixed_s > rates.kernel_overhead_s
    assert bytes_per_s == pytest.approx(fit.kv_read_fraction * 4.8e12)
    # Hopper's fp8-cache decode kernels read slower than their bf16 ones (H200: 0.57 vs 0.81 of HBM on vLLM)
    assert bytes_per_s < decode_kernels.attention_terms(h200, rates, "vllm", "bf16", llama)[1]


def test_attention_terms_fall_back_to_the_roofline(h200, monkeypatch):
    monkeypatch.setattr(decode_kernels, "MEASURED_DECODE_ATTENTION", True)
    rates, llama, mla = KernelRates.for_dtype(h200, "bf16"), load_model("llama3-8b"), load_model("deepseek-v3")
    # the roofline: the attention core's launch and vLLM's reshape_and_cache_flash (`serving.engine_kernels`)
    roofline = (2 * rates.kernel_overhead_s, rates.memory_bytes_per_s)
    assert decode_kernels.attention_terms(h200, rates, "vllm", "int8", llama) == roofline  # no measured int8 rows
    assert decode_kernels.attention_terms(h200, rates, "vllm", "fp8", mla) == roofline  # MLA: mla_decode
    a100 = load_accelerator("a100-80gb")  # no AIC fit in its catalog
    a100_rates = KernelRates.for_dtype(a100, "bf16")
    assert decode_kernels.attention_terms(a100, a100_rates, "vllm", "bf16", llama) == (
        2 * a100_rates.kernel_overhead_s, a100_rates.memory_bytes_per_s)
    monkeypatch.setattr(decode_kernels, "MEASURED_DECODE_ATTENTION", False)
    assert decode_kernels.attention_terms(h200, rates, "vllm", "fp8", llama) == roofline


def test_weight_read_rates_slow_only_the_memory_bound_gemm(h200):
    rates = KernelRates.for_dtype(h200, "bf16")
    fp8 = weight_read_rates(rates, h200, "vllm", "fp8")
    assert fp8.memory_bytes_per_s == pytest.approx(h200.efficiency.weight_read_fraction["vllm"]["fp8"] * 4.8e12)
    assert replace(fp8, memory_bytes_per_s=rates.memory_bytes_per_s) == rates  # nothing else changes
    rate = h200.peak("fp8") * h200.matmul_fraction("fp8")
    decode = [float(gemm_time(r, 8, 8192, 8192, 1.0, rate)) for r in (rates, fp8)]
    prefill = [float(gemm_time(r, 8192, 8192, 8192, 1.0, rate)) for r in (rates, fp8)]
    moved = 8 * 8192 * 2 + 8192 * 8192  # weight reads bind at M = 8, after the launch
    assert decode == pytest.approx([4e-6 + moved / (f * 4.8e12) for f in (0.88, 0.73)])
    assert prefill[1] == prefill[0]  # compute-bound
    assert weight_read_rates(rates, h200, "vllm", "int4") is rates
    assert weight_read_rates(rates, load_accelerator("a100-80gb"), "vllm", "bf16") is rates


def test_gemm_rates_toggle(h200, monkeypatch):
    rates = KernelRates.for_dtype(h200, "bf16")
    assert decode_kernels.gemm_rates(h200, rates, "sglang", "int4") is rates  # W4A16: not measured here
    monkeypatch.setattr(decode_kernels, "MEASURED_WEIGHT_READS", False)
    assert decode_kernels.gemm_rates(h200, rates, "sglang", "fp8") is rates


def _cost(accelerator, engine: str, kv_dtype: str = "fp8"):
    shape = load_model("llama3-8b")
    dep = Deployment(tp=1, dtype="fp8", kv_dtype=kv_dtype, max_batch=64, token_budget=2048, engine=engine,
                     stack=f"{engine}-0.x")
    fabric = Fabric.from_system(load_system("hgx-h200"), accelerator)
    return shape, dep, build_iteration_cost(shape, accelerator, fabric, dep)


def test_iteration_prices_the_measured_decode_attention(h200, monkeypatch):
    monkeypatch.setattr(decode_kernels, "MEASURED_DECODE_ATTENTION", False)
    shape, dep, roofline = _cost(h200, "vllm")
    monkeypatch.setattr(decode_kernels, "MEASURED_DECODE_ATTENTION", True)
    _, _, measured = _cost(h200, "vllm")
    fit = h200.efficiency.decode_attention["vllm"]["fp8"]
    kv_read = kv_bytes_per_token_layer(shape, 1, "fp8") * shape.num_layers
    assert measured.kv_token_s == pytest.approx(kv_read / (fit.kv_read_fraction * 4.8e12))
    assert measured.decode_fixed_s == pytest.approx(fit.fixed_s * shape.num_layers)
    assert measured.prefill_fixed_s == roofline.prefill_fixed_s
    np.testing.assert_array_equal(measured.body_s, roofline.body_s)
    # a decode step of 32 sequences at 2,048 tokens: 0.57 vs 0.88 of HBM for ~4.3 GB of cache reads
    assert float(decode_time(measured, 32, 2048) - decode_time(roofline, 32, 2048)) > 0.5e-3


def test_iteration_reads_small_m_weights_at_the_measured_rate(h200, monkeypatch):
    monkeypatch.setattr(decode_kernels, "MEASURED_WEIGHT_READS", False)
    _, _, roofline = _cost(h200, "vllm")
    monkeypatch.setattr(decode_kernels, "MEASURED_WEIGHT_READS", True)
    _, _, measured = _cost(h200, "vllm")
    assert measured.body_s[8] > roofline.body_s[8] * 1.05  # decode: fp8 weights at 0.73 of HBM, not 0.88
    assert measured.body_s[2048] == pytest.approx(roofline.body_s[2048], rel=1e-3)  # prefill chunk: compute
