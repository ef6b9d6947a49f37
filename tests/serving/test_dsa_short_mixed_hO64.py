"""SGLang's short DSA extend in a mixed iteration, its cached keys and its 128k cap (hO, session 64).

SGLang 0.5.6 (0.5.9 the same): `set_nsa_prefill_impl` (layers/attention/nsa_backend.py:1429-1456) runs dense
MHA_ONE_SHOT for an extend without speculation (EXTEND or MIXED) whose `seq_lens_cpu.max()` <= index_topk (2,048) and
`sum(seq_lens_cpu)` <= `get_max_chunk_capacity()` = 128 x 1,024 (model_executor/forward_batch_info.py:672-675). A MIXED
batch's `seq_lens_cpu` holds its decode rows too, each at its context + 1 (`mix_with_running` -> `merge_batch`
after `prepare_for_decode`: managers/schedule_batch.py:1507-1536, :1755-1760, :1858). With any cached prefix in the
batch the MHA prepare gathers every key of the batch and runs kv_b_proj over it (models/deepseek_v2.py:1692-1711):
`sparse_decode.prefix_key_s` a cached key and target layer. A decode row on that path is one more MHA query: its
context + 1 dense pairs, no indexer scores, no top-k core (a finishing prompt's sampled row: on neither path, hC65).
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
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.lockstep_loop import lockstep_replica
from infraplan.serving.loop_stepping import NEVER, cost_tables, decode_within, iteration_seconds
from infraplan.serving.serving_engine import simulate_engine

H200 = Cluster.resolve("hgx-h200")
V32, V3 = load_model("deepseek-v3.2"), load_model("deepseek-v3")
RATES = KernelRates.for_dtype(H200.accelerator, "bf16")
LAYERS = 61


def _cost(tp: int = 1, kv: str = "fp8", model=V32, cluster=H200):
    dep = Deployment(tp=tp, ep=8, attention_dp=8 // tp, dtype="fp8", kv_dtype=kv, engine="sglang",
                     stack="sglang-0.x", max_batch=64, token_budget=8192)
    return build_iteration_cost(model, cluster.accelerator, cluster.fabric, dep)


def _long(cost):
    return dataclasses.replace(cost, short_prefill_len=0)


@pytest.mark.parametrize(("tp", "kv", "latent"), [(1, "fp8", 656.0), (8, "bf16", 1152.0)])
def test_a_cached_key_by_hand(tp: int, kv: str, latent: float) -> None:
    """kv_b_proj (2 x 512 x heads x (128 + 128) FLOPs, bf16), the latent's gather (656 B fp8 / 1,152 B bf16 read,
    1,152 B bf16 written), K's concatenation and the MHA's read of K (192 wide) and V (128), per local head."""
    heads = 128 / tp
    bw = RATES.memory_bytes_per_s
    gemm = max(2 * 512 * heads * 256 / RATES.matmul_flops_per_s, (1024 + heads * 256 * 2) / bw)
    copy = 2 * 512 * 2 if kv == "fp8" else 0  # (hC65: the dequantised latent's `.contiguous()` copy)
    rest = (latent + 1152 + copy + heads * 128 * 2 + 128 + heads * 192 * 2 + heads * 320 * 2) / bw
    d_pair, key_s, _, _ = _cost(tp, kv).short_extend_terms
    assert key_s == pytest.approx((gemm + rest) * LAYERS, rel=1e-12)
    if tp == 1:  # attention DP: ~4.5 us a cached key on H200 over the 61 layers, compute-bound kv_b_proj
        assert 3e-6 < key_s < 6e-6


def test_decode_rows_pairs_and_core() -> None:
    """A decode row's pair is the dense MLA prefill's (DeepSeek-V3's: the same attention); its top-k core is dropped
    (its whole `decode_row_s` share, kept 0: hC66)."""
    cost, dense = _cost(), _cost(model=V3)
    d_pair, _, kept, _ = cost.short_extend_terms
    assert kept == 0.0
    assert d_pair == pytest.approx(dense.pair_flop_s, rel=1e-12)  # (without attention DP's stall term)
    assert d_pair == pytest.approx(cost.short_prefill_terms[0] + cost.pair_flop_s, rel=1e-12)  # the prompts' pair
    # the head table's per-row DSA term at one row (decode rows' top-k core over 2,048 latents, 61 layers)
    heads = 128  # TP1: 128 local heads, no padding
    key = max(656.0 / RATES.memory_bytes_per_s, 2 * (2 * 512 + 64) * heads / RATES.attention_flops_per_s)
    assert cost.decode_row_s[1] == pytest.approx(2048 * key * LAYERS, rel=1e-9)


def test_vllm_has_none() -> None:
    dep = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", engine="vllm", stack="vllm-0.x",
                     max_batch=64, token_budget=8192)
    cost = build_iteration_cost(V32, H200.accelerator, H200.fabric, dep)
    assert cost.short_extend_terms == (0.0, 0.0, 1.0, 0.0)


def test_a_mixed_iteration_by_hand() -> None:
    """500 prompt tokens beside 4 decode rows of 1,000 cached tokens each: short when the longest decode row's
    context + 1 is <= 2,048 (it is the caller's `longest`); the change by hand; 2,049: the long path."""
    cost = _cost()
    p, d, ctx, pairs = 500, 4, 4000.0, 500 * 501 / 2.0
    fixed = cost.short_prefill_terms[2] - cost.prefill_row_s * (d + 1 - 1)  # the per-row launches dropped too
    per_pair, per_token = cost.short_prefill_terms[:2]
    d_pair, key_s, _, once = cost.short_extend_terms
    short = float(cost.time(p, d, ctx, pairs, rows=d + 1, longest=2048, keys=p))
    long = float(cost.time(p, d, ctx, pairs, rows=d + 1, longest=2049, keys=p))
    assert long == float(_long(cost).time(p, d, ctx, pairs, rows=d + 1, longest=2048, keys=p))
    by_hand = (fixed - cost.decode_row_s[d] + once + cost.short_prefix_fixed_s + per_pair * pairs + per_token * p
               + key_s * ctx + d_pair * (ctx + d)
               - cost.kv_token_s * ctx)  # the decode rows' whole `decode_row_s` and the BMM's once part (hC66)
    assert short - long == pytest.approx(by_hand, rel=1e-9)
    # the prompt's 500 tokens save their top-k core (~70 us each at TP1); the decode rows' 4,000 cached keys cost
    # ~4.5 us each: here still shorter, and longer beside 16 decode rows of 2,000 cached keys
    assert short < long
    wide = (float(cost.time(p, 16, 32_000.0, pairs, rows=17, longest=2001, keys=p))
            - float(cost.time(p, 16, 32_000.0, pairs, rows=17, longest=2049, keys=p)))
    assert wide > 0.0


def test_the_128k_key_cap() -> None:
    """64 prompts of 2,000 cached + 48 new tokens: 131,072 keys, short (each cached key priced); 65: 133,120, long."""
    cost = _cost()
    key_s = cost.short_extend_terms[1]
    for n, short in ((64, True), (65, False)):
        p, keys = n * 48, n * 2048
        pairs = n * 48 * (2000 + 49 / 2.0)
        got = float(cost.time(p, 0, 0, pairs, rows=n, longest=2048, keys=keys))
        long = float(_long(cost).time(p, 0, 0, pairs, rows=n, longest=2048, keys=keys))
        if short:
            per_pair, per_token, fixed = cost.short_prefill_terms
            by_hand = (fixed - cost.prefill_row_s * (n - 1) + cost.short_prefix_fixed_s + per_pair * pairs
                       + per_token * p + key_s * (keys - p))
            assert got - long == pytest.approx(by_hand, rel=1e-9)
        else:
            assert got == long
    assert sparse_decode.MHA_KEY_CAP == 131_072


def test_decode_within() -> None:
    """Keys are last decode iteration x n + request; a row's context + 1 next iteration = end_ctx - last + done + 1."""
    n, end_ctx = 4, [1100, 3000, 0, 0]
    heap = [NEVER, 10 * n + 0, 1000 * n + 1]  # request 0 ends at iteration 10 with 1,100; 1 at 1,000 with 3,000
    # after 0 iterations: request 0 has 1,090 cached, request 1 has 2,000: their + 1 <= 2,048
    assert decode_within(heap, n, end_ctx, 2048 - 1 - 0)
    assert decode_within(heap, n, end_ctx, 2048 - 1 - 47)  # request 1: 2,047 + 1
    assert not decode_within(heap, n, end_ctx, 2048 - 1 - 48)  # 2,048 + 1


def _two_requests(cost, prompt: int, lockstep: bool = False) -> float:
    """Request A (`prompt` tokens, budget `prompt`) prefills alone, then B (500 tokens) joins A's first decode
    iteration: a mixed iteration whose decode row holds `prompt` + 1."""
    args = (np.zeros(2), np.array([prompt, 500]), np.zeros(2), np.array([8, 8]))
    if lockstep:
        return lockstep_replica(cost, *args, np.zeros(2, dtype=int), 1, 64, prompt, 10_000, 64, "fcfs",
                                "reserve_full").busy_s
    return simulate_engine(cost, *args, max_batch=64, token_budget=prompt, kv_blocks=10_000, block_tokens=64,
                           scheduler="fcfs").busy_s


@pytest.mark.parametrize("lockstep", [False, True])
def test_the_loops_read_the_decode_rows(lockstep: bool) -> None:
    """The general loop and a lock-step rank: the mixed iteration is short with A at 1,000 cached tokens (1,001 <=
    2,048), long at 2,048 (2,049); the prefill-only first iteration is short in both."""
    cost = _cost()
    for prompt, mixed_short in ((1000, True), (2048, False)):
        saved = _two_requests(cost, prompt, lockstep) - _two_requests(_long(cost), prompt, lockstep)
        first = (float(cost.time(prompt, 0, 0, prompt * (prompt + 1) / 2.0, rows=1, longest=prompt, keys=prompt))
                 - float(_long(cost).time(prompt, 0, 0, prompt * (prompt + 1) / 2.0, rows=1, longest=prompt,
                                          keys=prompt)))
        mixed = 0.0
        if mixed_short:
            args = (500, 1, float(prompt), 500 * 501 / 2.0)
            mixed = (float(cost.time(*args, rows=2, longest=prompt + 1, keys=500))
                     - float(_long(cost).time(*args, rows=2, longest=prompt + 1, keys=500)))
        assert saved == pytest.approx(first + mixed, rel=1e-6, abs=1e-12)
        assert (mixed != 0.0) == mixed_short


def test_iteration_seconds_takes_the_mixed_path() -> None:
    cost = _cost()
    tables = cost_tables(cost, 64)
    args = (500, 4, 5, 500 * 501 / 2.0, 4000.0)
    short = iteration_seconds(tables, cost, *args, 2048, 500)[0]
    long = iteration_seconds(tables, cost, *args, 2049, 500)[0]
    assert short - long == pytest.approx(float(cost.time(500, 4, 4000.0, args[3], rows=5, longest=2048, keys=500))
                                         - float(cost.time(500, 4, 4000.0, args[3], rows=5, longest=2049, keys=500)),
                                         rel=1e-9)
