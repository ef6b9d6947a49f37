"""SGLang's absorbed-MLA decode on Hopper (`serving.mla_decode`, "SGLang on Hopper"; hJ, session 56): the fa3 backend
over an fp8 latent cache casts the layer's whole buffer to bf16 first (sglang 0.5.6.post2 flashattention_backend.py:
1197-1199), measured by AIConfigurator 0.12.0 at 1.7-7x the bf16 kernel's time; h100-sxm / h200 / h800
`mla_decode_attention.sglang` (validation/calibration/aic_hopper_sglang_mla_decode.py). Off by default
(`SGLANG_HOPPER_MLA_FIT_DTYPES` empty: it worsens the Hopper MoE and disaggregated sets), but `serve` says which
kernel and cache path it priced (`deployment.mla_decode_kernel`)."""

from __future__ import annotations

import pytest
from test_mla_decode_blackwell import layer_seconds

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import mla_decode
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time
from infraplan.serving.serving_api import estimate_serving
from infraplan.validation import campaign_settings
from infraplan.validation import serving_hopper_moe as moe

H200 = Cluster.resolve("hgx-h200")
H100 = Cluster.resolve("h100-sxm")
BOTH = frozenset({"bf16", "fp8"})


def dep(heads: int, kv: str, engine: str = "sglang") -> Deployment:
    tp, adp = (1, 8) if heads == 128 else (8, 1)  # 128 local heads: attention DP; 16: TP8
    return Deployment(tp=tp, ep=8, attention_dp=adp, dtype="fp8", kv_dtype=kv, max_batch=256, token_budget=2048,
                      engine=engine, stack=f"{engine}-0.x")


# AIConfigurator 0.12.0 {h200_sxm,h100_sxm}/mla/sglang/0.5.14/generation_mla_perf.parquet (kernel_source
# flash_attention), ms per layer: (part, local heads, latent dtype, batch, context) -> measured (first repeated row)
MEASURED_MS = {("h200", 128, "fp8", 256, 2048): 1.156, ("h200", 128, "bf16", 256, 2048): 0.2818,
               ("h200", 16, "fp8", 256, 8192): 4.0495, ("h200", 16, "bf16", 256, 8192): 0.5647,
               ("h200", 16, "fp8", 64, 1024): 0.1535, ("h100", 128, "fp8", 1024, 8192): 18.2267,
               ("h100", 16, "bf16", 1024, 8192): 3.1873}


@pytest.mark.parametrize(("key", "measured_ms"), sorted(MEASURED_MS.items()))
def test_on_the_fit_reproduces_the_measured_kernel(monkeypatch, key, measured_ms):
    monkeypatch.setattr(mla_decode, "SGLANG_HOPPER_MLA_FIT_DTYPES", BOTH)
    part, heads, kv, batch, context = key
    cluster = H200 if part == "h200" else H100
    # the fits' mean |error| is 5-12 % on their rows (calibration JSON)
    assert layer_seconds(cluster, dep(heads, kv), batch, context) * 1e3 == pytest.approx(measured_ms, rel=0.2)


def test_the_fp8_latent_costs_more_than_bf16_on_hopper_sglang_only(monkeypatch):
    monkeypatch.setattr(mla_decode, "SGLANG_HOPPER_MLA_FIT_DTYPES", BOTH)
    for cluster in (H200, H100, Cluster.resolve("h800")):
        fp8 = layer_seconds(cluster, dep(16, "fp8"), 256, 8192)
        bf16 = layer_seconds(cluster, dep(16, "bf16"), 256, 8192)
        assert fp8 > 4 * bf16  # the cast of the pool, then the bf16 read (measured 5-7x at 256 x 8k)
    # TensorRT-LLM's own fp8 kernel reads the fp8 latent: faster than its bf16 one
    fp8 = layer_seconds(H200, dep(16, "fp8", "trtllm"), 256, 8192)
    assert fp8 < layer_seconds(H200, dep(16, "bf16", "trtllm"), 256, 8192)


def test_on_by_default_an_fp8_latent_is_the_measured_cast_kernel(monkeypatch):
    """ON since session 56 for an fp8 latent (the lead: `serve --kv-dtype fp8` on Hopper SGLang must not read as a
    halved byte read); bf16 keeps the roofline; off, the step is the one with every measured MLA fit off."""
    shape = load_model("deepseek-r1")
    assert frozenset({"fp8"}) == mla_decode.SGLANG_HOPPER_MLA_FIT_DTYPES
    assert mla_decode.measured_fit(shape, H200.accelerator, "sglang", "bf16") is None  # bf16 not in the set
    d = dep(16, "fp8")
    on = float(decode_time(build_iteration_cost(shape, H200.accelerator, H200.fabric, d), 64, 5000))
    monkeypatch.setattr(mla_decode, "SGLANG_HOPPER_MLA_FIT_DTYPES", frozenset())
    assert mla_decode.measured_fit(shape, H200.accelerator, "sglang", "fp8") is None
    off = float(decode_time(build_iteration_cost(shape, H200.accelerator, H200.fabric, d), 64, 5000))
    monkeypatch.setattr(mla_decode, "MEASURED_MLA_DECODE", False)  # every measured MLA fit off: the same step
    assert float(decode_time(build_iteration_cost(shape, H200.accelerator, H200.fabric, d), 64, 5000)) == off
    assert on > 1.3 * off  # the measured cast-then-bf16 kernel: far slower than a halved byte read


def test_serve_says_which_kernel_and_cache_path_it_priced(monkeypatch):
    def kernel(kv: str, stack: str = "sglang-0.x") -> str:
        r = estimate_serving("deepseek-r1", "hgx-h200", 8, tp=8, dtype="fp8", kv_dtype=kv, input_len=1024,
                             output_len=64, concurrency=8, requests=8, stack=stack)
        assert r.deployment.mla_decode_kernel is not None
        return r.deployment.mla_decode_kernel

    on = kernel("fp8")
    assert "cast whole to bf16" in on and "measured sglang MLA decode kernel" in on and "0.06 of HBM" in on
    assert "optimistic" not in kernel("bf16")
    assert kernel("fp8", "trtllm-0.x").startswith("measured trtllm MLA decode kernel, fp8 latent")
    vllm = kernel("fp8", "vllm-0.x")  # FlashMLA over fp8 on sm90, measured slower than bf16's FA-MLA: said, not priced
    assert vllm.startswith("roofline") and "FlashMLA" in vllm and "optimistic" in vllm
    monkeypatch.setattr(mla_decode, "SGLANG_HOPPER_MLA_FIT_DTYPES", frozenset())
    off = kernel("fp8")
    assert off.startswith("roofline") and "optimistic" in off and "flashattention_backend.py, lines 1197-1199" in off
    dense = estimate_serving("llama3.1-8b", "hgx-h200", 1, tp=1, dtype="bf16", input_len=128, output_len=16,
                             concurrency=1, requests=1, stack="sglang-0.x")
    assert dense.deployment.mla_decode_kernel is None  # no MLA: nothing to say


def test_the_set_can_run_sglangs_auto_kv_on_deepseeks_own_checkpoints(monkeypatch):
    rows, own = moe.load_rows(), campaign_settings.AUTO_KV_BF16_CHECKPOINTS  # DeepSeek's own block-fp8 releases
    sglang = next(r for r in rows if r["backend"] == "sglang" and r["model_path"] in own
                  and moe.why_not(r) is None)
    trtllm = next(r for r in rows if r["backend"] == "trtllm" and r["model_path"] in own
                  and moe.why_not(r) is None)
    assert campaign_settings.SGLANG_AUTO_KV_MLA is True  # on with the fp8 fit since session 56 (notes)
    assert moe.moe_deployment(sglang).kv_dtype == "bf16"  # kv_cache_dtype auto: the config names no KV format
    assert moe.moe_deployment(trtllm).kv_dtype == "fp8"  # other engines' rows as before
    blackwell = {**sglang, "system": "b200_sxm"}  # the Blackwell rows keep the fp8 latent (campaign_settings)
    assert campaign_settings.engine_kv_dtype(blackwell, "fp8", "fp8") == ("fp8", "fp8")
    monkeypatch.setattr(campaign_settings, "SGLANG_AUTO_KV_MLA", False)
    assert moe.moe_deployment(sglang).kv_dtype == "fp8"
