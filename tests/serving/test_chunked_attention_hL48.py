"""Llama 4's chunked-attention layers and QK norm in serving (`serving.chunked_attention`, `serving.kv_pool_window`,
`serving.engine_kernels`); the Llama 3.1 presets.

Independent references: brute-force sums over positions (x mod C keys a query at x reads in its chunk, transformers
masking_utils.py:102-111), training's layer model (`ops.layer.attention_keys`), hand counts from the configs, and
Meta's published parameter counts (Llama 3.1 model card: 8B / 70B / 405B; Hugging Face's safetensors totals
8.03 B / 70.6 B / 405.9 B)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.catalog.loader import read_entry
from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.cluster import Cluster
from infraplan.ops.layer import attention_keys
from infraplan.serving import chunked_attention as ca
from infraplan.serving import engine_kernels
from infraplan.serving import kv_pool_window as kw
from infraplan.serving.deployment import Deployment
from infraplan.serving.kv_cache import kv_bytes_per_token_layer, kv_capacity
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.serving_sim import simulate_deployment
from infraplan.serving.workloads import Requests

C = 8192


def _full(shape):
    """The same model with every layer at full attention (what serving priced before)."""
    return shape.model_copy(update={"num_chunked_layers": 0, "attention_chunk_size": 0})


def test_chunk_key_sum_matches_a_brute_force_sum():
    ends = np.arange(0, 60)
    brute = [sum(x % 8 for x in range(end)) for end in ends]
    assert ca.chunk_key_sum(ends, 8).tolist() == brute


def test_prefill_pairs_are_the_training_layer_models_chunks():
    """A prompt from position 0 to s pays sum (i mod C) + 1 pairs on a chunked layer; training's half-weight keys
    (n C^2 + r^2) / s are the same count less its diagonal: pairs per token = keys / 2 + 1 / 2."""
    scout = load_model("llama4-scout")
    f = scout.chunked_fraction()
    for s in (100, 8192, 20000, 32768, 40000):
        chunked_keys = (float(attention_keys(scout, s)) - (1 - f) * s) / f  # training's chunked layers alone
        serving = ca.prefill_keys_per_token(C, np.array([s]), np.array([0]))
        assert serving == pytest.approx(chunked_keys / 2 + 0.5, rel=1e-12)


def test_whole_run_reads_and_pairs_are_exact():
    rng = np.random.default_rng(7)
    prompt = rng.integers(1, 30000, size=20)
    cached = np.minimum(rng.integers(0, 5000, size=20), prompt - 1)
    steps = rng.integers(0, 3000, size=20)
    reads = sum(sum((p + s) % C for s in range(n)) for p, n in zip(prompt, steps, strict=True))
    assert ca.decode_key_total(C, prompt, steps) == pytest.approx(reads, rel=1e-12)
    pairs = sum(sum(i % C + 1 for i in range(c, p)) for p, c in zip(prompt, cached, strict=True))
    assert ca.prefill_keys_per_token(C, prompt, cached) * (prompt - cached).sum() == pytest.approx(pairs, rel=1e-12)


def _scout_cost(tp=1):
    scout = load_model("llama4-scout")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(8)
    dep = Deployment(tp=tp, ep=tp, dtype="fp8", kv_dtype="bf16", engine="vllm", stack="vllm-0.x")
    return scout, build_iteration_cost(scout, cluster.accelerator, cluster.fabric, dep)


def test_scout_decode_reads_a_third_at_36k_by_hand():
    """A decode row at x = 32,768 + 4,096: full attention reads 48 x 36,864 token-layers of 4 KiB (8 KV heads x 128
    x K and V x 2 B); chunked, 12 x 36,864 + 36 x 4,096 (x mod C), a third."""
    scout, cost = _scout_cost()
    assert kv_bytes_per_token_layer(scout, 1, "bf16") == 8 * 128 * 2 * 2
    x = 32768 + 4096
    priced = ca.for_requests(cost, scout, np.array([x]), np.array([x]), np.array([1]))
    full_s = cost.kv_token_s * x + cost.head_s[1]
    chunked_s = priced.kv_token_s * x + priced.head_s[1]
    read_full, read_chunked = 48 * x, 12 * x + 36 * 4096
    assert read_chunked / read_full == pytest.approx(0.3333, abs=1e-4)
    assert (chunked_s - cost.head_s[1]) / (full_s - cost.head_s[1]) == pytest.approx(read_chunked / read_full)
    assert priced.pair_s == pytest.approx(cost.pair_s / 4)  # the 12 NoPE layers' pairs stay quadratic
    prefilled = ca.for_requests(cost, scout, np.array([x]), np.array([0]), np.array([0]))
    pairs = 4 * C * (C + 1) / 2 + 4096 * 4097 / 2  # four whole chunks and a half one, by hand
    assert prefilled.per_prefill_token_s - cost.per_prefill_token_s == pytest.approx(
        0.75 * cost.pair_flop_s * pairs / x, rel=1e-12)


def test_a_model_without_chunks_keeps_its_cost():
    oss = load_model("llama3.1-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(1)
    cost = build_iteration_cost(oss, cluster.accelerator, cluster.fabric, Deployment(dtype="fp8"))
    assert ca.for_requests(cost, oss, np.array([40000]), np.array([0]), np.array([100])) is cost


def _serve(shape, inp, out, clients, requests):
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(8)
    dep = Deployment(tp=8, ep=8, dtype="fp8", kv_dtype="bf16", engine="vllm", stack="vllm-0.x")
    n = requests
    reqs = Requests(np.zeros(n), np.full(n, inp), np.full(n, out))
    return simulate_deployment(shape, cluster, dep, reqs, clients=clients)


def test_scout_at_long_context_decodes_faster_than_full_attention():
    scout = load_model("llama4-scout")
    chunked, full = (_serve(s, 32000, 400, 8, 16) for s in (scout, _full(scout)))
    assert chunked["tpot_s"]["mean"] < 0.95 * full["tpot_s"]["mean"]
    assert chunked["ttft_s"]["mean"] < full["ttft_s"]["mean"]


def test_within_one_chunk_a_lone_request_costs_what_full_attention_does():
    """Positions below C: x mod C = x, so the run's total equals full attention's; one request alone, its latency.
    Its first token too: a prompt's sampled row reads no cache (hC65, `IterationCost.decode_row_s`; it paid one row's
    mean reads before)."""
    scout = load_model("llama4-scout")
    chunked, full = (_serve(s, 3000, 300, 1, 1) for s in (scout, _full(scout)))
    assert chunked["e2e_s"]["mean"] == pytest.approx(full["e2e_s"]["mean"], rel=1e-9)
    assert chunked["ttft_s"]["mean"] == pytest.approx(full["ttft_s"]["mean"], rel=1e-12)


def test_engine_pools_for_chunked_layers():
    """vLLM 0.12.0 and TensorRT-LLM hold the whole context on the chunked layers; SGLang 0.5.8.post1's hybrid SWA
    pool charges a token (12 full + 0.8 x 36 chunked) / 48 = 0.85 of its bytes."""
    h200, scout = load_accelerator("h200"), load_model("llama4-scout")
    assert kw.sglang_token_bytes(scout, 1.0) == pytest.approx(0.85)
    for stack, ratio in (("vllm-0.x", 1.0), ("trtllm-0.x", 1.0), ("sglang-0.x", 0.85)):
        chunked, full = (kv_capacity(s, h200, 8, 1, "fp8", "bf16", 8192, 64, engine=stack, ep=8)
                         for s in (scout, _full(scout)))
        assert chunked.kv_cache_bytes == full.kv_cache_bytes
        assert chunked.kv_bytes_per_token == pytest.approx(ratio * full.kv_bytes_per_token)


def test_qk_norm_launches_on_the_rope_layers_share():
    scout, maverick, qwen = (load_model(m) for m in ("llama4-scout", "llama4-maverick", "qwen3-32b"))
    assert engine_kernels.qk_norm_kernels(scout, "sglang") == pytest.approx(2 * 36 / 48)
    assert engine_kernels.qk_norm_kernels(scout, "vllm") == pytest.approx(36 / 48)
    assert engine_kernels.qk_norm_kernels(maverick, "sglang") == 0.0  # use_qk_norm false
    assert engine_kernels.qk_norm_kernels(qwen, "sglang") == 2.0


@pytest.mark.parametrize(("name", "published"), [("llama3.1-8b", 8.03e9), ("llama3.1-70b", 70.6e9),
                                                  ("llama3.1-405b", 405.9e9)])
def test_llama31_parameters_within_1_percent_of_published(name, published):
    shape = load_model(name)
    assert abs(shape.total_params() / published - 1) < 0.01
    assert shape.max_seq_len == 131072  # rope_scaling llama3: the config states the scaled context already


@pytest.mark.parametrize(("v31", "v3"), [("llama3.1-8b", "llama3-8b"), ("llama3.1-70b", "llama3-70b")])
def test_llama31_is_llama3_with_a_128k_context(v31, v3):
    """What the validation's Llama 3.1 rows assumed (the Llama 3 preset with max_position_embeddings 131,072)."""
    data, _ = read_entry("models", v3)
    assumed = shape_from_hf_config({**data, "max_position_embeddings": 131072}, v31)
    assert load_model(v31).model_copy(update={"source": ""}) == assumed.model_copy(update={"source": ""})


def test_the_answer_says_how_the_chunks_were_priced(monkeypatch):
    scout = load_model("llama4-scout")
    (note,) = ca.chunked_note(scout)
    assert "36 of 48 layers" in note and "mean keys in the chunk" in note
    monkeypatch.setattr(ca, "CHUNKED_ATTENTION", False)
    assert "as full attention" in ca.chunked_note(scout)[0]
    assert ca.chunked_note(load_model("llama3.1-70b")) == []


def test_a_disaggregated_pair_prices_each_pool_its_own_half():
    """The prefill pool decodes nothing (no per-row reads), the decode pool prefills nothing (no per-token pairs);
    served split, Scout at long context still decodes faster than full attention."""
    scout, cost = _scout_cost()
    inp, steps = np.array([30000, 12000]), np.array([500, 900])
    pre = ca.for_requests(cost, scout, inp, np.zeros(2), np.zeros(2))
    dec = ca.for_requests(cost, scout, inp, inp, steps)
    assert np.array_equal(pre.head_s, cost.head_s) and pre.per_prefill_token_s > cost.per_prefill_token_s
    assert dec.per_prefill_token_s == cost.per_prefill_token_s and dec.head_s[1] > cost.head_s[1]
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(16)
    dep = Deployment(tp=8, ep=8, replicas=2, dtype="fp8", kv_dtype="bf16", engine="vllm", stack="vllm-0.x")
    reqs = Requests(np.zeros(8), np.full(8, 32000), np.full(8, 300))
    chunked, full = (simulate_deployment(s, cluster, dep, reqs, prefill_replicas=1, clients=4)
                     for s in (scout, _full(scout)))
    assert chunked["deployment"]["disaggregated"]
    assert chunked["tpot_s"]["mean"] < full["tpot_s"]["mean"] and chunked["ttft_s"]["mean"] < full["ttft_s"]["mean"]
