"""SGLang's short DSA extend priced on the iteration's longest sequence (hC, session 64).

SGLang 0.5.6 (0.5.9 the same): an extend without speculation whose batch's longest sequence, cached + new
(`seq_lens_cpu.max()`), is <= index_topk (2,048) runs the indexer's key-only call (srt/layers/attention/nsa/
nsa_indexer.py:817-836, `_forward_cuda_k_only` :513-552: wk, k_norm, the rope, the Hadamard rotation, the fp8 cast,
the cache write). On SM90 / SM100 the attention runs dense MHA_ONE_SHOT (nsa_backend.py:1429-1456; models/
deepseek_v2.py:414-422, :2709-2731), whose prepare calls the indexer with return_indices=False (:1620-1631): no
logits, no top-k, no per-sequence gathers, no top-k core. Per target layer the model's long path is 30 launches
with one sequence (2 casts + 5 prologue + 23 op, hC63) + 11 a further sequence (hM63); the short one 6 (wk's cast,
the rope, and the op's 4: k_norm, Hadamard, fp8 cast, cache write): 24 fewer and the per-sequence ones. Elsewhere
(no SM90 / SM100) the MLA core stays and the key-only call adds its zero logits and top-k transform (:543-552).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.serving import sparse_decode
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost, prefill_time
from infraplan.serving.loop_stepping import cost_tables, engine_policy, fcfs_path, iteration_seconds
from infraplan.serving.serving_engine import simulate_engine

H200 = Cluster.resolve("hgx-h200")
V32, V3 = load_model("deepseek-v3.2"), load_model("deepseek-v3")
LAUNCH = KernelRates.for_dtype(H200.accelerator, "bf16").kernel_overhead_s
LAYERS = 61


def _cost(engine: str = "sglang", tp: int = 8, k: int = 0, model=V32, cluster=H200):
    dep = Deployment(tp=tp, ep=8, attention_dp=8 // tp, dtype="fp8", kv_dtype="fp8", engine=engine,
                     stack=f"{engine}-0.x", max_batch=64, token_budget=8192, speculative_tokens=k,
                     acceptance=0.85 if k else 0.0)
    return build_iteration_cost(model, cluster.accelerator, cluster.fabric, dep)


def _long(cost):
    return dataclasses.replace(cost, short_prefill_len=0)


def test_sglang_short_terms_by_hand() -> None:
    cost = _cost()
    per_pair, per_token, fixed = cost.short_prefill_terms
    assert cost.short_prefill_len == V32.index_topk == 2048
    # 30 -> 6 launches a target layer; + the fp8 page table's flattening once a batch (hC67)
    assert fixed == pytest.approx(-24 * LAUNCH * LAYERS + LAUNCH, rel=1e-12)
    # the dense MHA's pair is the dense MLA prefill's (DeepSeek-V3's, the same attention), in place of the indexer's
    assert per_pair + cost.pair_s == pytest.approx(_cost(model=V3).pair_s, rel=1e-12)
    # the top-k core per prompt token: 2,048 latents x max(656 B / bandwidth, 2 (2 x 512 + 64) FLOPs x 64 heads /
    # the fused-attention rate) x 61 (TP8's 16 heads padded to the 64-head tile)
    rates = KernelRates.for_dtype(H200.accelerator, "bf16")
    key_s = max(656.0 / rates.memory_bytes_per_s, 2.0 * (2 * 512 + 64) * 64 / rates.attention_flops_per_s)
    assert per_token == pytest.approx(-2048 * key_s * LAYERS - _query_side(rates) * LAYERS, rel=1e-9)


def _query_side(rates: KernelRates) -> float:
    """hO64: the key-only call skips the indexer's query side in the body's tables, a prompt token a layer: wq_b
    (2 x 1,536 x 64 x 128 FLOPs, fp8), weights_proj (2 x 7,168 x 64, bf16) and the prologue's query bytes (hU62's
    58,752 B a token less the key's LayerNorm and rotation, 2 x 128 x 2 B)."""
    fp8 = KernelRates.for_dtype(H200.accelerator, "fp8").matmul_flops_per_s if rates.fp8_tensor_cores else (
        rates.matmul_flops_per_s)
    return (2 * 1536 * 64 * 128 / fp8 + 2 * 7168 * 64 / rates.matmul_flops_per_s
            + (58_752 - 512) / rates.memory_bytes_per_s)


def test_the_prefill_of_a_prompt_up_to_topk_runs_it() -> None:
    cost = _cost()
    per_pair, per_token, fixed = cost.short_prefill_terms
    for prompts, length in ((1, 2048), (4, 2048), (2, 1000)):
        pairs = prompts * length * (length + 1) / 2.0
        saved = float(prefill_time(cost, prompts, length)) - float(prefill_time(_long(cost), prompts, length))
        by_hand = (fixed - 11 * LAUNCH * LAYERS * (prompts - 1) + per_pair * pairs
                   + per_token * prompts * length)  # (a sampled row's top-k core: on neither path since hC65)
        assert saved == pytest.approx(by_hand, rel=1e-9)
        assert saved < 0.0
    # one token past it: the long path
    assert float(prefill_time(cost, 1, 2049)) == float(prefill_time(_long(cost), 1, 2049))


def test_the_draft_pass_keeps_its_paged_call() -> None:
    """With MTP the target's prefill is an EXTEND (short), the draft's pass a DRAFT_EXTEND (its indexer and core stay):
    the same target-layer terms as without drafts."""
    plain, drafting = _cost().short_prefill_terms, _cost(k=1).short_prefill_terms
    assert drafting == pytest.approx(plain, rel=1e-9)


def test_vllm_has_no_short_path() -> None:
    cost = _cost("vllm")
    assert cost.short_prefill_len == 0 and cost.short_prefill_terms == (0.0, 0.0, 0.0)
    assert sparse_decode.indexer_calls("vllm").key_only == 0.0
    assert sparse_decode.indexer_calls("sglang", "sglang-0.5.9").key_only == 4.0


def test_a_part_without_sm90_sm100_keeps_the_core() -> None:
    """MI300X: no MHA_ONE_SHOT; the key-only call returns indices (zero logits + top-k transform, 6 op launches)."""
    cluster = Cluster.resolve("mi300x-cluster")
    cost = _cost(cluster=cluster)
    per_pair, per_token, fixed = cost.short_prefill_terms
    launch = KernelRates.for_dtype(cluster.accelerator, "bf16").kernel_overhead_s
    mi300x = KernelRates.for_dtype(cluster.accelerator, "bf16")
    fp8 = KernelRates.for_dtype(cluster.accelerator, "fp8").matmul_flops_per_s
    query = (2 * 1536 * 64 * 128 / fp8 + 2 * 7168 * 64 / mi300x.matmul_flops_per_s
             + (58_752 - 512) / mi300x.memory_bytes_per_s)
    assert per_token == pytest.approx(-query * LAYERS, rel=1e-9)  # the core stays; the query side is skipped (hO64)
    assert per_pair == pytest.approx(-cost.pair_s, rel=1e-12)  # no indexer scores, no dense pairs
    assert fixed == pytest.approx(-(23 - 6 + 5) * launch * LAYERS, rel=1e-12)


def test_the_general_loop_prices_the_iteration_by_its_longest_sequence() -> None:
    """Four 2,048-token prompts arriving together: one prefill iteration of 8,192 tokens, short (33 further-row
    launches a layer dropped too); four 2,049-token ones: the long path (bit-identical to the cost without it)."""
    cost = _cost()
    per_pair, per_token, fixed = cost.short_prefill_terms
    assert not fcfs_path(engine_policy(cost, 64, 8192, "fcfs", "reserve_full"), True, "reserve_full", cost)
    n = 4
    for length, short in ((2048, True), (2049, False)):
        args = (np.zeros(n), np.full(n, length), np.zeros(n), np.zeros(n))  # prefill only
        runs = [simulate_engine(c, *args, max_batch=64, token_budget=8192, kv_blocks=10_000, block_tokens=64,
                                scheduler="prefill-first") for c in (cost, _long(cost))]
        saved = runs[0].busy_s - runs[1].busy_s
        if short:
            pairs = n * length * (length + 1) / 2.0
            by_hand = (fixed - 3 * 11 * LAUNCH * LAYERS + per_pair * pairs
                       + per_token * n * length)  # (the sampled rows' top-k core: on neither path, hC65)
            assert saved == pytest.approx(by_hand, rel=1e-9)
        else:
            assert saved == 0.0


def test_lock_step_ranks_read_it() -> None:
    cost = _cost(tp=1)  # attention DP 8: `serving.lockstep_loop`'s `iteration_seconds`
    tables = cost_tables(cost, 64)
    pairs = 2048 * 2049 / 2.0
    short = iteration_seconds(tables, cost, 2048, 0, 1, pairs, 0.0, 2048)[0]
    long = iteration_seconds(tables, cost, 2048, 0, 1, pairs, 0.0, 2049)[0]
    per_pair, per_token, fixed = cost.short_prefill_terms
    assert short - long == pytest.approx(fixed + per_pair * pairs + per_token * 2048,
                                         rel=1e-9)  # (the sampled row's top-k core: on neither path, hC65)
    assert long == iteration_seconds(tables, cost, 2048, 0, 1, pairs, 0.0)[0]  # no longest given: the long path


# vLLM 0.12.0's prefill logits (model_executor/models/deepseek_v2.py:656-691): per chunk of prefill requests,
# `fp8_mqa_logits` over [the chunk's query tokens, every key of its requests] (k gathered to `chunk.total_seq_lens`
# rows, :657-673; "Logits tensor of shape [M, N]", vllm/utils/deep_gemm.py:225-254), called with DeepGEMM's default
# clean_logits=True, whose kernel writes a 4 B -inf to every logit outside the row's [ks, ke) (smxx_clean_logits.cuh,
# hC63 / hM63): p_tok x keys - pairs masked logits an iteration, keys = its prompts' cached + chunk tokens.
def _clean(cost):
    return dataclasses.replace(cost, prefill_clean_s=0.0)


@pytest.mark.parametrize(("k", "forwards"), [(0, 61), (1, 62)])
def test_vllm_prefill_clean_pass_by_hand(k: int, forwards: int) -> None:
    cost = _cost("vllm", k=k)
    rates = KernelRates.for_dtype(H200.accelerator, "bf16")
    assert cost.prefill_clean_s == pytest.approx(4.0 * forwards / rates.memory_bytes_per_s, rel=1e-12, abs=0)
    assert _cost("sglang", k=k).prefill_clean_s == 0.0  # SGLang passes clean_logits=False
    for prompts, length in ((1, 2048), (4, 2048), (1, 8192)):
        pairs = prompts * length * (length + 1) / 2.0
        extra = float(prefill_time(cost, prompts, length)) - float(prefill_time(_clean(cost), prompts, length))
        assert extra == pytest.approx(cost.prefill_clean_s * ((prompts * length) ** 2 - pairs), rel=1e-9)


def test_the_loops_count_the_keys_of_the_iteration() -> None:
    """Four 2,048-token prompts, one with 1,000 cached tokens, prefilled in one iteration (the general loop, to which
    `fcfs_path` sends the cost), and one lock-step rank's iteration."""
    cost = _cost("vllm")
    assert not fcfs_path(engine_policy(cost, 64, 8192, "fcfs", "reserve_full"), True, "reserve_full", cost)
    cached = np.array([0, 1000, 0, 0])
    args = (np.zeros(4), np.full(4, 2048), cached, np.zeros(4))
    runs = [simulate_engine(c, *args, max_batch=64, token_budget=8192, kv_blocks=10_000, block_tokens=64)
            for c in (cost, _clean(cost))]
    pairs = 4 * 2048 * 2049 / 2.0 + 2048 * 1000
    keys = 4 * 2048 + 1000
    assert runs[0].busy_s - runs[1].busy_s == pytest.approx(cost.prefill_clean_s * (8192 * keys - pairs), rel=1e-9)
    tables = cost_tables(cost, 64)
    with_keys = iteration_seconds(tables, cost, 8192, 0, 4, pairs, 0.0, keys=keys)[0]
    without = iteration_seconds(tables, _clean(cost), 8192, 0, 4, pairs, 0.0, keys=keys)[0]
    assert with_keys - without == pytest.approx(cost.prefill_clean_s * (8192 * keys - pairs), rel=1e-12)
