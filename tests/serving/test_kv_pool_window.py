"""vLLM's hybrid KV cache manager and SGLang's hybrid SWA pool for sliding-window layers (`serving.kv_pool_window`)."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.serving import kv_pool_window as kw
from infraplan.serving.kv_cache import kv_capacity


def test_vllm_groups_pad_to_the_group_size():
    oss = load_model("gpt-oss-120b")  # 18 full + 18 sliding: two groups of 18, no padding
    assert kw.vllm_group_shares(oss) == (0.5, 0.5)
    eagle = oss.model_copy(update={"num_layers": 25, "num_sliding_layers": 12})  # 13 full + 12 sw: size 13
    assert kw.vllm_group_shares(eagle) == (13 / 25, 13 / 25)
    gemma = oss.model_copy(update={"num_layers": 24, "num_sliding_layers": 19})  # 5 full + 19 sw: 4 sw groups of 5
    assert kw.vllm_group_shares(gemma) == (5 / 24, 20 / 24)


def test_vllm_window_is_nine_blocks_at_decode():
    oss = load_model("gpt-oss-120b")
    assert kw.vllm_window_tokens(oss, 16) == 144  # ceil(128 / 16) + 1 blocks


def test_vllm_pool_holds_windows_and_prices_the_full_groups(monkeypatch):
    h200, oss = load_accelerator("h200"), load_model("gpt-oss-120b")
    on = kv_capacity(oss, h200, 1, 1, "mxfp4", "bf16", 8192, 64, engine="vllm-0.x")
    monkeypatch.setattr(kw, "ENGINE_WINDOW_POOL", False)
    off = kv_capacity(oss, h200, 1, 1, "mxfp4", "bf16", 8192, 64, engine="vllm-0.x")
    assert on.kv_cache_bytes == off.kv_cache_bytes and on.kv_bytes_per_token == off.kv_bytes_per_token / 2
    held = 64 * off.kv_bytes_per_token / 2 * 144
    assert on.tokens == pytest.approx((off.kv_cache_bytes - held) / on.kv_bytes_per_token, abs=16)
    assert 1.9 < on.tokens / off.tokens < 2.0


def test_sglang_pool_splits_by_the_swa_ratio(monkeypatch):
    h200, oss = load_accelerator("h200"), load_model("gpt-oss-120b")
    on = kv_capacity(oss, h200, 1, 1, "mxfp4", "bf16", 8192, 64, engine="sglang-0.x")
    monkeypatch.setattr(kw, "ENGINE_WINDOW_POOL", False)
    off = kv_capacity(oss, h200, 1, 1, "mxfp4", "bf16", 8192, 64, engine="sglang-0.x")
    assert on.kv_bytes_per_token == pytest.approx(off.kv_bytes_per_token * (18 + 0.8 * 18) / 36)
    assert on.tokens == pytest.approx(off.tokens * 36 / 32.4, rel=1e-4)


def test_models_without_windows_and_trtllm_are_unchanged(monkeypatch):
    h200, llama, oss = load_accelerator("h200"), load_model("llama3-8b"), load_model("gpt-oss-120b")
    args = (h200, 1, 1, "bf16", "bf16", 8192, 64)
    before = [kv_capacity(llama, *args, engine=e) for e in ("vllm-0.x", "sglang-0.x")]
    trt = kv_capacity(oss, *args, engine="trtllm-0.x")
    monkeypatch.setattr(kw, "ENGINE_WINDOW_POOL", False)
    assert before == [kv_capacity(llama, *args, engine=e) for e in ("vllm-0.x", "sglang-0.x")]
    assert trt == kv_capacity(oss, *args, engine="trtllm-0.x")
