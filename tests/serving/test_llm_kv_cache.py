"""KV cache bytes, paged capacity and the memory that bounds the batch."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.serving.kv_cache import (
    blocks_for,
    kv_bytes_per_token,
    kv_bytes_per_token_model,
    kv_capacity,
    weight_bytes_per_gpu,
)

H100 = load_accelerator("h100-sxm")


def test_kv_bytes_per_token_from_the_shape():
    shape = load_model("llama3-70b")  # 80 layers, 8 KV heads of 128
    assert kv_bytes_per_token_model(shape, "bf16") == 80 * 2 * 8 * 128 * 2
    assert kv_bytes_per_token(shape, 2, 1, "bf16") == 80 * 2 * 4 * 128 * 2
    assert kv_bytes_per_token(shape, 2, 1, "fp8") == kv_bytes_per_token(shape, 2, 1, "bf16") / 2
    # KV heads are replicated once TP exceeds them
    assert kv_bytes_per_token(shape, 16, 1, "bf16") == kv_bytes_per_token(shape, 8, 1, "bf16")
    assert kv_bytes_per_token(shape, 1, 4, "bf16") == kv_bytes_per_token_model(shape, "bf16") / 4


def test_weights_shrink_with_tp_pp_and_precision():
    shape = load_model("llama3-70b")
    bf16 = weight_bytes_per_gpu(shape, 1, 1, "bf16")
    assert bf16 == pytest.approx(2 * shape.total_params(), rel=0.01)
    assert weight_bytes_per_gpu(shape, 2, 1, "bf16") == pytest.approx(bf16 / 2, rel=0.01)
    assert weight_bytes_per_gpu(shape, 1, 1, "int4") < 0.3 * bf16


def test_paged_capacity_and_fit():
    shape = load_model("llama3-70b")
    tight = kv_capacity(shape, H100, 2, 1, "bf16", "bf16", 8192, 256)
    roomy = kv_capacity(shape, H100, 2, 1, "fp8", "fp8", 8192, 256)
    assert tight.fits and roomy.tokens > 2 * tight.tokens  # half the weights and half the bytes per token
    assert tight.tokens % tight.block_tokens == 0
    assert tight.kv_cache_bytes >= tight.blocks * tight.block_tokens * tight.kv_bytes_per_token
    assert not kv_capacity(shape, H100, 1, 1, "bf16", "bf16", 8192, 256).fits  # 141 GB of weights


def test_blocks_round_up():
    assert blocks_for(1, 16) == 1 and blocks_for(16, 16) == 1 and blocks_for(17, 16) == 2
