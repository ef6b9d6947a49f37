"""TensorRT-LLM's non-KV memory from NVIDIA AIConfigurator's model (`serving.kv_pool_trtllm`)."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.serving import kv_pool_trtllm as kp
from infraplan.serving.kv_cache import kv_capacity


def test_activation_memory_follows_aiconfigurator_formula():
    oss = load_model("gpt-oss-120b")  # 64 heads x 64 dims, MoE: coefficient 22 at TP1
    assert kp.attention_width(oss) == 64 * 64
    assert kp.activation_bytes(oss, 1, 8192) == pytest.approx(2 * 8192 * 4096 * 22)
    assert kp.activation_bytes(oss, 8, 8192) == pytest.approx(2 * 8192 * 4096 * 10)
    assert kp.activation_bytes(oss, 16, 8192) == kp.activation_bytes(oss, 8, 8192)  # TP clamped to 8
    llama = load_model("llama3-8b")  # dense: the Llama table, 11 at TP1
    assert kp.activation_bytes(llama, 1, 8192) == pytest.approx(2 * 8192 * 4096 * 11)
    assert kp.activation_bytes(llama, 1, 1) == kp.MIN_ACTIVATION_BYTES  # 70 MiB floor


def test_mla_moe_pays_the_dispatch_workspace():
    ds = load_model("deepseek-v3")
    h = ds.hidden_size
    base = 2 * 4096 * h * 10
    dispatch = 4096 * h * ds.num_experts * ds.experts_per_token / 8 / 128 * 4
    assert kp.activation_bytes(ds, 8, 4096) == pytest.approx(base + dispatch)


def test_reserve_by_tp():
    assert kp.reserve_bytes(1) == kp.OTHER_BYTES  # no NCCL buffers on one GPU
    assert kp.reserve_bytes(8) - kp.reserve_bytes(2) == pytest.approx(411_041_792 - 358_612_992)


def test_trtllm_pool_uses_the_model_and_others_do_not(monkeypatch):
    h200, oss = load_accelerator("h200"), load_model("gpt-oss-120b")
    monkeypatch.setattr(kp, "SLIDING_WINDOW_POOL", False)  # the reserve alone (the windows: the next test)
    on = kv_capacity(oss, h200, 1, 1, "mxfp4", "bf16", 2588, 64, engine="trtllm-0.x")
    vllm_on = kv_capacity(oss, h200, 1, 1, "mxfp4", "bf16", 2588, 64, engine="vllm-0.x")
    monkeypatch.setattr(kp, "NVIDIA_MEMORY_MODEL", False)
    off = kv_capacity(oss, h200, 1, 1, "mxfp4", "bf16", 2588, 64, engine="trtllm-0.x")
    vllm_off = kv_capacity(oss, h200, 1, 1, "mxfp4", "bf16", 2588, 64, engine="vllm-0.x")
    assert vllm_on == vllm_off
    assert on.reserve_bytes == kp.OTHER_BYTES and on.workspace_bytes == kp.activation_bytes(oss, 1, 2588)
    free = 0.9 * (h200.memory_bytes - on.weights_bytes - on.workspace_bytes - on.reserve_bytes)
    assert on.kv_cache_bytes == pytest.approx(free)
    assert 0.9 < on.tokens / off.tokens < 1.0  # ~3 GB more held outside the cache of ~77 GB


def test_sliding_layers_hold_their_window_only(monkeypatch):
    h200, oss = load_accelerator("h200"), load_model("gpt-oss-120b")  # 18 of 36 layers slide over 128 tokens
    on = kv_capacity(oss, h200, 1, 1, "mxfp4", "bf16", 2588, 64, engine="trtllm-0.x")
    monkeypatch.setattr(kp, "SLIDING_WINDOW_POOL", False)
    off = kv_capacity(oss, h200, 1, 1, "mxfp4", "bf16", 2588, 64, engine="trtllm-0.x")
    assert on.kv_cache_bytes == off.kv_cache_bytes and on.kv_bytes_per_token == off.kv_bytes_per_token / 2
    held = 64 * off.kv_bytes_per_token / 2 * 128  # the windows of 64 sequences
    assert on.tokens == pytest.approx((off.kv_cache_bytes - held) / on.kv_bytes_per_token, abs=16)
    assert 1.9 < on.tokens / off.tokens < 2.0
    dense = load_model("llama3-8b")  # no sliding layers: unchanged
    assert kp.window_capped_pool(dense, 1e9, 1e5, 64) == (1e9, 1e5)


def test_every_layer_sliding_keeps_the_uncapped_pool_hU(monkeypatch):
    """Mistral 7B v0.1's config.json slides every layer (window 4096): no full layer, so no full-layer pool to
    cap; it was billed 0 bytes per token and `serve` died dividing by zero (hU, session 35)."""
    h100 = load_accelerator("h100-sxm")
    every = load_model("llama3-8b").model_copy(update={"sliding_window": 4096, "num_sliding_layers": 32})
    assert kp.window_capped_pool(every, 1e9, 1e5, 64) == (1e9, 1e5)
    on = kv_capacity(every, h100, 1, 1, "bf16", "bf16", 8192, 256, engine="trtllm-0.x")
    monkeypatch.setattr(kp, "SLIDING_WINDOW_POOL", False)
    assert on == kv_capacity(every, h100, 1, 1, "bf16", "bf16", 8192, 256, engine="trtllm-0.x")
    assert on.tokens > 100_000
