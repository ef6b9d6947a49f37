"""The draft module's memory (`serving.speculative.memory_draft_layers`, `serving.kv_cache.draft_layer_bytes`):
TensorRT-LLM's pool gives up the MTP layer's weights and one more KV layer a token; SGLang's pool keeps the target's
own sizing under a fraction 2 GiB lower (`serving.sglang_memory.mem_fraction_static`)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import speculative
from infraplan.serving.kv_cache import draft_layer_bytes, kv_bytes_per_token, kv_capacity
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.serving_sim import pool_memory
from infraplan.serving.sglang_memory import GIB_MIB, MIB, mem_fraction_static

R1 = load_model("deepseek-r1")
H200 = Cluster.resolve("hgx-h200").accelerator
TP8 = Deployment(tp=8, ep=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=4096, engine="trtllm",
                 stack="trtllm-0.x")
MTP = replace(TP8, speculative_tokens=1, acceptance=0.85)


def test_the_draft_layer_weighs_one_moe_layer_and_its_projection_a_gpu() -> None:
    """Hand count: DeepSeek-R1's MTP module resident at TP8 in fp8 is one MoE layer (params_per_layer, 1 B a
    parameter plus the block scales) and the 7,168 x 14,336 projection in bf16, an eighth each: ~1.38 GiB, not the
    checkpoint's ~13 B parameters with its embedding and head copies (shared with the target)."""
    hand = R1.params_per_layer() / 8 * 1.0 + 2 * R1.hidden_size ** 2 / 8 * 2.0
    got = draft_layer_bytes(R1, 8, "fp8")
    assert hand <= got <= 1.02 * hand  # fp8 block scales: 4 B per 128 x 128 block, 0.02 % of the weights


def test_tensorrt_llms_pool_gives_up_the_draft_layers_weights_and_one_more_kv_layer() -> None:
    """With one MTP token the weights grow by the draft layer, the KV bytes a token by 62 / 61, and the pool's tokens
    fall by both; the toggle off restores the plain pool."""
    plain = kv_capacity(R1, H200, 8, 1, "fp8", "fp8", 4096, 64, engine="trtllm-0.x")
    drafted = kv_capacity(R1, H200, 8, 1, "fp8", "fp8", 4096, 64, engine="trtllm-0.x", draft_layers=1)
    assert drafted.weights_bytes - plain.weights_bytes == pytest.approx(draft_layer_bytes(R1, 8, "fp8"))
    assert drafted.kv_bytes_per_token / plain.kv_bytes_per_token == pytest.approx(62 / 61)
    assert drafted.kv_bytes_per_token == pytest.approx(kv_bytes_per_token(R1, 8, 1, "fp8") * 62 / 61)
    # free_after_weights: the pool's bytes fall by the fraction of the draft's weights, its tokens by the 62 / 61 too
    assert plain.kv_cache_bytes - drafted.kv_cache_bytes == pytest.approx(
        0.9 * draft_layer_bytes(R1, 8, "fp8"), rel=0.1)
    tokens = drafted.blocks * drafted.block_tokens / (plain.blocks * plain.block_tokens)
    expected = drafted.kv_cache_bytes / plain.kv_cache_bytes * 61 / 62
    assert tokens == pytest.approx(expected, abs=2e-4) and tokens < 0.97
    assert pool_memory(R1, H200, MTP)[0] == drafted and pool_memory(R1, H200, TP8)[0] == plain
    saved = speculative.DRAFT_MEMORY
    try:
        speculative.DRAFT_MEMORY = False
        assert pool_memory(R1, H200, MTP)[0] == plain
    finally:
        speculative.DRAFT_MEMORY = saved


def test_sglang_keeps_its_pool_over_the_target_and_reserves_2_gib_more_in_its_fraction() -> None:
    """SGLang 0.5.9: reserved_mem + 2 GiB for an EAGLE / MTP draft after the 10 GiB floor (server_args.py:1051-1057),
    the draft's cache outside the target's pool: the KV bytes a token and the weights stay, the pool shrinks by
    about 2 GiB x the fraction's share of the memory."""
    gpu_mib = H200.memory_bytes / MIB
    plain_f = mem_fraction_static("sglang-0.5.6", H200.memory_bytes, 8)
    drafted_f = mem_fraction_static("sglang-0.5.6", H200.memory_bytes, 8, drafts=True)
    assert abs(drafted_f - (plain_f - 2 * GIB_MIB / gpu_mib)) <= 1e-3  # each rounded to three decimals
    plain = kv_capacity(R1, H200, 8, 1, "fp8", "fp8", 4096, 64, engine="sglang-0.x")
    drafted = kv_capacity(R1, H200, 8, 1, "fp8", "fp8", 4096, 64, engine="sglang-0.x", draft_layers=1)
    assert (drafted.weights_bytes, drafted.kv_bytes_per_token) == (plain.weights_bytes, plain.kv_bytes_per_token)
    lost_gib = (plain.kv_cache_bytes - drafted.kv_cache_bytes) / 2 ** 30
    assert lost_gib == pytest.approx((plain_f - drafted_f) * gpu_mib / GIB_MIB, rel=0.02)  # f x free: free < total
    assert 1.7 <= lost_gib <= 2.1
