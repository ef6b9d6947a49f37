"""The Blackwell parts' measured absorbed-MLA decode kernel (`serving.mla_decode`, `MEASURED_MLA_DECODE_BLACKWELL`):
the b200 / gb200 / b300 `mla_decode_attention` fits (validation/calibration/aic_blackwell_mla_decode.py), off by
default (they worsen the gated Blackwell serving set and the MLPerf v5.1 DeepSeek-R1 rows; notes, "hB (session 56)")."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.serving import decode_kernels, mla_decode
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time

GB200 = Cluster.resolve("gb200-nvl72")
B200 = Cluster.resolve("dgx-b200")


def dep(engine: str, heads: int, kv: str) -> Deployment:
    stack = {"sglang": "sglang-0.x", "trtllm": "trtllm-0.x"}[engine]
    tp, adp = (1, 8) if heads == 128 else (8, 1)  # 128 local heads: attention DP; 16: TP8
    return Deployment(tp=tp, ep=8, attention_dp=adp, dtype="fp8", kv_dtype=kv, max_batch=256, token_budget=2048,
                      engine=engine, stack=stack)


# AIConfigurator 0.12.0 <system>/mla/{sglang/0.5.14,trtllm/1.3.0rc20}/generation_mla_perf.parquet, ms per layer:
# (cluster, engine, local heads, latent dtype, batch, context) -> measured (the first of repeated rows)
MEASURED_MS = {("gb200", "sglang", 128, "fp8", 256, 2048): 0.1006, ("gb200", "sglang", 128, "fp8", 1024, 8192): 1.0040,
               ("gb200", "sglang", 16, "fp8", 64, 1024): 0.0188, ("gb200", "sglang", 128, "bf16", 256, 2048): 0.1521,
               ("b200", "trtllm", 128, "fp8", 256, 2048): 0.0993, ("b200", "trtllm", 16, "fp8", 64, 1024): 0.0155,
               ("b200", "trtllm", 128, "bf16", 1024, 8192): 1.6458}


def layer_seconds(cluster: Cluster, d: Deployment, batch: int, context: int) -> float:
    """One layer's MLA decode attention as the model prices it (fixed + per-row + per-token terms), seconds;
    shared with test_mla_decode_sglang_hopper."""
    acc, shape = cluster.accelerator, load_model("deepseek-v3")
    rates = KernelRates.for_dtype(acc, "bf16")
    fixed_s, bytes_per_s = decode_kernels.attention_terms(acc, rates, d.engine, d.kv_dtype, shape, d.stack)
    token_s, row_s = mla_decode.decode_terms(shape, acc, rates, d, 1.0)
    latent = 576 if d.kv_dtype == "fp8" else 1152
    return fixed_s + batch * row_s + batch * context * max(latent / bytes_per_s, token_s)


@pytest.mark.parametrize(("key", "measured_ms"), sorted(MEASURED_MS.items()))
def test_on_the_fit_reproduces_the_measured_kernel(monkeypatch, key, measured_ms):
    monkeypatch.setattr(mla_decode, "MEASURED_MLA_DECODE_BLACKWELL", True)
    system, engine, heads, kv, batch, context = key
    cluster = GB200 if system == "gb200" else B200
    # the fits' mean |error| is 10-12 % on their rows (calibration JSON); B200 TensorRT-LLM TP8 b64 reads +15 %
    assert layer_seconds(cluster, dep(engine, heads, kv), batch, context) * 1e3 == pytest.approx(measured_ms, rel=0.2)


def test_an_fp8_latent_runs_the_compute_bound_kernel_twice_as_fast(monkeypatch):
    # SGLang quantises the query to fp8 over an fp8 cache (trtllm_mla_backend.py:765-772 in 0.5.9): both MMAs fp8
    monkeypatch.setattr(mla_decode, "MEASURED_MLA_DECODE_BLACKWELL", True)
    shape = load_model("deepseek-v3")
    for acc in (GB200.accelerator, B200.accelerator):
        for engine in ("sglang", "trtllm"):
            fp8 = mla_decode.measured_fit(shape, acc, engine, "fp8")
            bf16 = mla_decode.measured_fit(shape, acc, engine, "bf16")
            assert fp8 is not None and bf16 is not None
            assert 1.7 < fp8.flops_per_s / bf16.flops_per_s < 2.1
    # the roofline it replaces runs both latents at attention_max_fraction x the bf16 peak
    rates = KernelRates.for_dtype(GB200.accelerator, "bf16")
    fit = mla_decode.measured_fit(shape, GB200.accelerator, "sglang", "fp8")
    assert fit is not None and fit.flops_per_s > 2 * rates.attention_flops_per_s


def test_off_by_default_the_blackwell_step_is_the_roofline_one(monkeypatch):
    shape = load_model("deepseek-v3")
    assert mla_decode.MEASURED_MLA_DECODE_BLACKWELL is False
    assert mla_decode.measured_fit(shape, GB200.accelerator, "sglang", "fp8") is None
    d = dep("sglang", 128, "fp8")
    off = float(decode_time(build_iteration_cost(shape, GB200.accelerator, GB200.fabric, d), 256, 2100))
    monkeypatch.setattr(mla_decode, "MEASURED_MLA_DECODE", False)  # every measured MLA fit off: the same step
    assert float(decode_time(build_iteration_cost(shape, GB200.accelerator, GB200.fabric, d), 256, 2100)) == off
    monkeypatch.setattr(mla_decode, "MEASURED_MLA_DECODE", True)
    monkeypatch.setattr(mla_decode, "MEASURED_MLA_DECODE_BLACKWELL", True)
    on = float(decode_time(build_iteration_cost(shape, GB200.accelerator, GB200.fabric, d), 256, 2100))
    assert on < 0.97 * off  # 128 local heads at 2,100 tokens: the fp8 kernel's rate binds, faster than the roofline
    # Hopper keeps its fits whatever this toggle says
    h200 = Cluster.resolve("hgx-h200").accelerator
    assert mla_decode.measured_fit(shape, h200, "trtllm", "fp8") is not None
