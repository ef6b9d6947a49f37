"""The engine's measured absorbed-MLA decode kernel (`serving.mla_decode`, the catalog's `mla_decode_attention`)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.serving import decode_kernels, mla_absorb, mla_decode
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time

H200 = Cluster.resolve("hgx-h200")
TP8 = Deployment(tp=8, ep=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=2048)
DP8 = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=2048)

# AIConfigurator 0.12.0 h200_sxm/mla/trtllm/1.3.0rc20/generation_mla_perf.parquet, fp8 latent cache (ms per layer):
# (local heads, batch, context) -> measured
MEASURED_MS = {(16, 4, 1024): 0.0153, (16, 64, 1024): 0.0318, (16, 1024, 8192): 1.6342,
               (128, 4, 1024): 0.0198, (128, 64, 4096): 0.1244, (128, 1024, 8192): 3.3122}


def _layer_s(shape, dep: Deployment, batch: int, context: int) -> float:
    """One layer's MLA decode attention as the iteration prices it: fixed + per row + max(bytes, FLOPs)."""
    acc = H200.accelerator
    rates = KernelRates.for_dtype(acc, "bf16")
    fixed_s, bytes_per_s = decode_kernels.attention_terms(acc, rates, dep.engine, dep.kv_dtype, shape)
    token_s, row_s = mla_decode.decode_terms(shape, acc, rates, dep, 1.0)
    return fixed_s + batch * row_s + batch * context * max(576 / bytes_per_s, token_s)


@pytest.mark.parametrize(("key", "measured_ms"), sorted(MEASURED_MS.items()))
def test_the_fit_reproduces_the_measured_kernel(key, measured_ms):
    heads, batch, context = key
    dep = TP8 if heads == 16 else DP8
    assert _layer_s(load_model("deepseek-v3"), dep, batch, context) * 1e3 == pytest.approx(measured_ms, rel=0.15)


def test_small_batches_pay_the_measured_fixed_time_not_one_launch(monkeypatch):
    monkeypatch.setattr(mla_absorb, "MEASURED_ABSORB_BMM", False)  # its decode-row BMMs also add a fixed part
    v3 = load_model("deepseek-v3")
    fit = H200.accelerator.efficiency.mla_decode_attention["trtllm"]["fp8"]
    rates = KernelRates.for_dtype(H200.accelerator, "bf16")
    assert fit.fixed_s > 3 * rates.kernel_overhead_s  # ~15 us against the roofline's 4 us launch
    on = build_iteration_cost(v3, H200.accelerator, H200.fabric, TP8)
    assert on.decode_fixed_s == pytest.approx(fit.fixed_s * v3.num_layers)


def test_only_the_measured_engine_and_the_toggle_move(monkeypatch):
    v3 = load_model("deepseek-v3")
    on = float(decode_time(build_iteration_cost(v3, H200.accelerator, H200.fabric, TP8), 4, 1536))
    # SGLang over a bf16 latent: no fit used (`SGLANG_HOPPER_MLA_FIT_DTYPES` is fp8 only since session 56)
    sglang = Deployment(tp=8, ep=8, dtype="fp8", kv_dtype="bf16", max_batch=64, token_budget=2048, engine="sglang",
                        stack="sglang-0.x")
    assert mla_decode.measured_fit(v3, H200.accelerator, "sglang", "bf16") is None
    assert mla_decode.measured_fit(load_model("llama3-8b"), H200.accelerator, "trtllm", "fp8") is None  # not MLA
    sglang_on = float(decode_time(build_iteration_cost(v3, H200.accelerator, H200.fabric, sglang), 4, 1536))
    monkeypatch.setattr(mla_decode, "MEASURED_MLA_DECODE", False)
    off = float(decode_time(build_iteration_cost(v3, H200.accelerator, H200.fabric, TP8), 4, 1536))
    assert float(decode_time(build_iteration_cost(v3, H200.accelerator, H200.fabric, sglang), 4, 1536)) == sglang_on
    # TP8 at 4 sequences: ~16 us of kernel per layer against ~5 us (one launch + the latent read): ~0.6 ms a step
    assert 0.4e-3 < on - off < 0.9e-3


def test_each_decode_row_pays_the_measured_time_per_query_head_in_the_iteration(monkeypatch):
    # the fit's query_head_s x local heads x layers per decode row reaches the iteration's per-row (head) table
    v3 = load_model("deepseek-v3")
    fit = H200.accelerator.efficiency.mla_decode_attention["trtllm"]["fp8"]
    on = build_iteration_cost(v3, H200.accelerator, H200.fabric, DP8)  # attention DP: all 128 heads per rank
    monkeypatch.setattr(mla_decode, "MEASURED_MLA_DECODE", False)
    off = build_iteration_cost(v3, H200.accelerator, H200.fabric, DP8)
    rows = np.arange(len(on.head_s))
    np.testing.assert_allclose(on.head_s - off.head_s, fit.query_head_s * v3.num_heads * v3.num_layers * rows,
                               rtol=1e-9, atol=1e-15)
    # and each cached token the larger of its 576 fp8 latent bytes at f x HBM and 2,176 FLOPs per head at R
    latent_s = 576 * v3.num_layers / (fit.kv_read_fraction * H200.accelerator.memory_bandwidth_bytes_per_s)
    flops_s = 2176 * v3.num_heads * v3.num_layers / fit.flops_per_s
    assert on.kv_token_s == pytest.approx(max(latent_s, flops_s), rel=1e-12) and on.kv_token_s != off.kv_token_s
