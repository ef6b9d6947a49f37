"""A finishing prompt's sampled row runs no decode attention; the short DSA path's gathers; one short-path test (hC65).

A prompt whose last chunk ends in an iteration samples its first token from that chunk's last position: vLLM 0.12.0
takes the logits at `query_start_loc[1:] - 1` of every request (v1/worker/gpu_model_runner.py:1452-1458), SGLang
0.5.6 at each extend sequence's last index (layers/logits_processor.py:405-426). That position's attention ran as one
of the chunk's prefill tokens: vLLM's MLA backends split the batch into decode and prefill tokens by query length
(v1/attention/backends/utils.py:849-892) and run each token through one path (mla/common.py:1949-2068); the sparse
(DSA) backend runs every token once through the same kernel (mla/flashmla_sparse.py:486-551); SGLang's NSA backend
runs an extend batch's tokens in `forward_extend` (layers/attention/nsa_backend.py:861-1027). So the row pays the LM
head, not a decode row's attention (`IterationCost.decode_row_s`): the DSA core over top-k keys and the clean
kernel's row, MLA's per-row terms, the sliding windows' reads, the measured absorbed-BMM rows.
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
from infraplan.serving.llm_iteration import build_iteration_cost, decode_time, prefill_time
from infraplan.serving.loop_stepping import cost_tables, decode_floor, iteration_seconds
from infraplan.serving.serving_engine import simulate_engine

H200 = Cluster.resolve("hgx-h200")
CASES = {  # (model, engine, stack, dtype, kv dtype)
    "v3.2-vllm": ("deepseek-v3.2", "vllm", "vllm-0.x", "fp8", "fp8"),  # DSA core + clean row
    "r1-trtllm": ("deepseek-r1", "trtllm", "trtllm-0.x", "fp8", "fp8"),  # MLA fit + measured BMM rows (not linear)
    "gpt-oss-vllm": ("gpt-oss-120b", "vllm", "vllm-0.x", "mxfp4", "bf16"),  # sliding windows' reads
}


def _cost(case: str, tp: int = 8, dp: int = 1):
    model, engine, stack, dtype, kv = CASES[case]
    dep = Deployment(tp=tp, ep=8, attention_dp=dp, dtype=dtype, kv_dtype=kv, engine=engine, stack=stack,
                     max_batch=64, token_budget=8192)
    return build_iteration_cost(load_model(model), H200.accelerator, H200.fabric, dep)


def _before(cost):
    """The pricing before hC65: every sampled row paid a decode row's attention."""
    return dataclasses.replace(cost, decode_row_s=None)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_finishing_prompt_pays_the_lm_head_only(case: str) -> None:
    cost = _cost(case)
    rows_s = cost.decode_row_s
    assert rows_s is not None and rows_s[0] == 0.0 and rows_s[-1] > 0.0
    assert np.all(rows_s <= cost.head_s)  # a part of the head table
    for length in (512, 4096):  # one prompt: its row's attention is gone
        assert float(prefill_time(cost, 1, length)) == pytest.approx(
            float(prefill_time(_before(cost), 1, length)) - rows_s[1], rel=1e-12)
    d, f, ctx, p, pairs = 6, 2, 6 * 3000.0, 6000, 6000 * 6001 / 2.0  # (above GPT-OSS's eager host floor)
    mixed = float(cost.time(p, d, ctx, pairs, rows=d + f))
    assert mixed == pytest.approx(float(_before(cost).time(p, d, ctx, pairs, rows=d + f))
                                  - (rows_s[d + f] - rows_s[d]), rel=1e-12)
    assert mixed < float(_before(cost).time(p, d, ctx, pairs, rows=d + f))
    # no finishing prompt, or pure decode: the same floats as before
    assert cost.time(p, d, ctx, pairs, rows=d) == _before(cost).time(p, d, ctx, pairs, rows=d)
    assert decode_time(cost, d, 3000) == decode_time(_before(cost), d, 3000)


def test_the_dsa_row_is_the_core_and_the_clean_row() -> None:
    """V3.2 on vLLM: one decode row's part is the sparse terms' `row_s` (no MLA fit; the measured BMMs' row terms
    start at the second row, `mla_absorb.decode_terms`)."""
    cost = _cost("v3.2-vllm")
    rows_s = cost.decode_row_s
    assert rows_s is not None
    dep = Deployment(tp=8, ep=8, attention_dp=1, dtype="fp8", kv_dtype="fp8", engine="vllm", stack="vllm-0.x",
                     max_batch=64, token_budget=8192)
    rates = KernelRates.for_dtype(H200.accelerator, "bf16")
    dsa = sparse_decode.sparse_terms(load_model("deepseek-v3.2"), H200.accelerator, rates, dep, 61, 61, 61)
    assert dsa is not None
    assert rows_s[1] == pytest.approx(dsa.row_s, rel=1e-12)
    assert 30e-6 < rows_s[1] < 60e-6  # 2,048 latents x 61 layers at 64 padded heads, 655 KB clean row a layer
    assert np.all(rows_s[2:9] > dsa.row_s * np.arange(2, 9))  # + the BMMs' measured rows


def test_the_loops_price_it() -> None:
    """The general loop (DSA on vLLM), the FCFS loop and a lock-step rank: a lone prompt's prefill is cheaper by its
    row's attention; the FCFS loop and the general loop agree to the float on mixed iterations (R1, nonlinear rows)."""
    cost = _cost("v3.2-vllm")
    args = (np.zeros(1), np.full(1, 3000), np.zeros(1), np.zeros(1))
    runs = [simulate_engine(c, *args, max_batch=64, token_budget=8192, kv_blocks=10_000, block_tokens=64)
            for c in (cost, _before(cost))]
    assert runs[1].busy_s - runs[0].busy_s == pytest.approx(cost.decode_row_s[1], rel=1e-9)
    r1 = _cost("r1-trtllm")
    rng = np.random.default_rng(65)
    n = 200
    work = (np.sort(rng.uniform(0, 20, n)), rng.integers(200, 3000, n), np.zeros(n), rng.integers(50, 400, n))
    kw = {"max_batch": 64, "token_budget": 2048, "kv_blocks": 100_000, "block_tokens": 64}
    fcfs = simulate_engine(r1, *work, **kw)
    general = simulate_engine(r1, *work, jump=False, **kw)  # the general loop, every iteration stepped
    old = simulate_engine(_before(r1), *work, **kw)
    assert fcfs.busy_s < old.busy_s
    assert general.iterations == fcfs.iterations
    assert general.busy_s == pytest.approx(fcfs.busy_s, rel=1e-9)
    np.testing.assert_allclose(general.first_token_s, fcfs.first_token_s, rtol=1e-9)
    tables = cost_tables(r1, 64)
    for p_tok, d, rows in ((900, 5, 7), (900, 0, 2), (900, 5, 5)):
        t = iteration_seconds(tables, r1, p_tok, d, rows, 900 * 450.0, d * 2000.0)[0]
        assert t == float(r1.time(p_tok, d, d * 2000.0, 900 * 450.0, rows=rows)) or t == pytest.approx(
            float(r1.time(p_tok, d, d * 2000.0, 900 * 450.0, rows=rows)), rel=1e-14)


def test_a_lock_step_decode_step_has_no_prefill_row_launches() -> None:
    """SGLang's V3.2 at attention DP 8: `decode_floor` measured a pure decode step's host gap against the prefill
    iterations' head table, which carries SGLang's per-sequence indexer launches (`prefill_row_s`, 2.68 ms a row past
    the first), so every lock-step decode step of k rows was charged 2.68 ms x (k - 1) more (the gap came out
    negative and was subtracted). Now no gap without a host floor."""
    dep = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", engine="sglang", stack="sglang-0.x",
                     max_batch=64, token_budget=8192)
    cost = build_iteration_cost(load_model("deepseek-v3.2"), H200.accelerator, H200.fabric, dep)
    assert cost.prefill_row_s > 2e-3
    tables = cost_tables(cost, 64)
    for k in (1, 2, 4, 16):
        assert decode_floor(tables, cost, k) == (0.0, 0.0)


@pytest.mark.parametrize(("kv", "kernels", "once"), [("fp8", 2, 0), ("bf16", 1, 5)])
def test_the_short_paths_cached_key_gathers_launch(kv: str, kernels: int, once: int) -> None:
    """SGLang's dense short extend with a cached prefix: fp8 `dequantize_k_cache_paged` (one Triton kernel,
    nsa/dequant_k_cache.py:221-235) and the latent's `.contiguous()` copy (models/deepseek_v2.py:2802); bf16
    `get_mla_kv_buffer_triton` (mem_cache/memory_pool.py:1562): a target layer, once an iteration with any; bf16's
    index build once (hC66, tests/serving/test_short_path_rows_hC66.py)."""
    dep = Deployment(tp=8, ep=8, attention_dp=1, dtype="fp8", kv_dtype=kv, engine="sglang", stack="sglang-0.x",
                     max_batch=64, token_budget=8192)
    cost = build_iteration_cost(load_model("deepseek-v3.2"), H200.accelerator, H200.fabric, dep)
    launch = H200.accelerator.efficiency.kernel_overhead_s
    assert cost.short_prefix_fixed_s == pytest.approx((kernels * 61 + once) * launch, rel=1e-12)
    p, pairs = 500, 500 * (1000 + 501 / 2.0)
    key_s = cost.short_extend_terms[1]
    with_prefix = float(cost.time(p, 0, 0, pairs, rows=1, longest=1500, keys=1500))
    without = float(dataclasses.replace(cost, short_prefix_fixed_s=0.0).time(p, 0, 0, pairs, rows=1, longest=1500,
                                                                             keys=1500))
    assert with_prefix - without == pytest.approx((kernels * 61 + once) * launch, rel=1e-9)
    fresh = float(cost.time(p, 0, 0, p * 501 / 2.0, rows=1, longest=500, keys=500))  # no cached key: none
    assert fresh == float(dataclasses.replace(cost, short_prefix_fixed_s=0.0).time(p, 0, 0, p * 501 / 2.0, rows=1,
                                                                                  longest=500, keys=500))
    assert key_s > 0.0


def test_one_short_path_test() -> None:
    """`sparse_decode.short_extend` decides as the loops' and `IterationCost.time`'s inline tests did (hC64, hO64)."""
    cap, short_len = sparse_decode.MHA_KEY_CAP, 2048
    grid = [(p, d, longest, keys, ctx) for p in (0, 1, 500) for d in (0, 1, 16) for longest in (1, 2048, 2049)
            for keys in (0, 500, 131_072, 131_073) for ctx in (0.0, 1000.0, 130_000.0)]
    for p, d, longest, keys, ctx in grid:
        old = bool(p and short_len and longest <= short_len and keys + (ctx + d if d else 0) <= cap)
        assert bool(sparse_decode.short_extend(short_len, p, longest, keys, d, ctx)) is old
    p, d, longest, keys, ctx = (np.array(x) for x in zip(*grid, strict=True))
    old_arr = (p > 0) & (longest <= short_len) & (keys + np.where(d > 0, ctx + d, 0) <= cap)
    assert np.array_equal(sparse_decode.short_extend(short_len, p, longest, keys, d, ctx), old_arr)
