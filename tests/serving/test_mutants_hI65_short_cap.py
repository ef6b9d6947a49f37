"""hI65 mutation wave on SGLang's short DSA extend and vLLM's prefill clean pass (hC64 / hO64), from SGLang 0.5.6's
and vLLM's code paths as hC64 / hO64 read them:
* the 128k cap is on the whole batch's keys, `sum(seq_lens_cpu) <= get_max_chunk_capacity()` (forward_batch_info.py
  :672-675), and a mixed batch's seq_lens_cpu holds its decode rows' context + 1 (schedule_batch.py `merge_batch`):
  60 decode rows at 2,046 cached tokens (2,047 each) and 5 short prompts, 60 x 2,047 = 122,820 keys, so the prompts'
  cached + chunk keys may be 8,252 (131,072 in all: short) but not 8,253 (`loop_stepping.iteration_seconds`);
* the longest sequence is cached + new tokens (`seq_lens_cpu.max()`, the scheduler's `longest`);
* vLLM's draft prompt pass is a prefill call: its clean pass over 61 + 1 forwards with MTP."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.loop_stepping import cost_tables, iteration_seconds
from infraplan.serving.serving_engine import simulate_engine

H200 = Cluster.resolve("hgx-h200")


def test_the_cap_counts_the_decode_rows_keys() -> None:
    dep = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", engine="sglang", stack="sglang-0.x",
                     max_batch=64, token_budget=8192)
    cost = build_iteration_cost(load_model("deepseek-v3.2"), H200.accelerator, H200.fabric, dep)
    tables = cost_tables(cost, 64)
    d, sum_ctx, p_tok, rows = 60, 60 * 2046.0, 500, 64
    pairs = 5 * 100 * (1550 + 101 / 2.0)  # 5 prompts of 100 new tokens after 1,550 cached (1,650 <= 2,048)

    def seconds(keys: int, longest: int = 2048) -> float:
        return float(iteration_seconds(tables, cost, p_tok, d, rows, pairs, sum_ctx, longest, keys)[0])

    for keys, short in ((8252, True), (8253, False)):
        assert keys + sum_ctx + d <= 131_072 if short else keys + sum_ctx + d > 131_072
        assert (seconds(keys) != seconds(keys, longest=2049)) is short  # 2,049: the long path, whatever the keys
        by_time = float(cost.time(p_tok, d, sum_ctx, pairs, rows=rows, longest=2048, keys=keys))
        assert seconds(keys) == pytest.approx(by_time, rel=1e-12)


def _sglang(k: int = 0, engine: str = "sglang"):  # type: ignore[no-untyped-def]
    dep = Deployment(tp=8, ep=8, attention_dp=1, dtype="fp8", kv_dtype="fp8", engine=engine, stack=f"{engine}-0.x",
                     max_batch=64, token_budget=8192, speculative_tokens=k, acceptance=0.85 if k else 0.0)
    return build_iteration_cost(load_model("deepseek-v3.2"), H200.accelerator, H200.fabric, dep)


def test_the_longest_sequence_counts_its_cached_tokens() -> None:
    """SGLang reads `seq_lens_cpu.max()`, each sequence's cached + new tokens (`prefix_lens + extend_lens`): two
    prompts of 1,000 cached + 1,500 new tokens in one iteration are 2,500 long, over 2,048: the long path, the same
    seconds as the cost without the short path (1,500 new tokens alone would be short)."""
    cost = _sglang()
    n = 2
    args = (np.zeros(n), np.full(n, 1500), np.full(n, 1000), np.zeros(n))  # arrivals, new tokens, cached, outputs
    runs = [simulate_engine(c, *args, max_batch=64, token_budget=8192, kv_blocks=10_000, block_tokens=64,
                            scheduler="prefill-first") for c in (cost, dataclasses.replace(cost, short_prefill_len=0))]
    assert runs[0].busy_s == runs[1].busy_s
    short = [simulate_engine(c, np.zeros(n), np.full(n, 1500), np.zeros(n), np.zeros(n), max_batch=64,
                             token_budget=8192, kv_blocks=10_000, block_tokens=64, scheduler="prefill-first")
             for c in (cost, dataclasses.replace(cost, short_prefill_len=0))]
    assert short[0].busy_s != short[1].busy_s  # (1,500 tokens, nothing cached: the short path)


@pytest.mark.parametrize(("k", "forwards"), [(0, 61), (1, 62)])
def test_vllms_prefill_clean_pass_runs_on_every_prompt_forward(k: int, forwards: int) -> None:
    """vLLM's MTP draft runs its prompt pass as a prefill call (`IndexerCalls.paged_draft_prompt` False), so the
    clean pass's 4 B a masked logit is paid over 61 target layers + 1 draft layer with speculation. (Compared in
    layers: the seconds are ~6e-11, inside pytest.approx's default abs 1e-12 of a one-layer error.)"""
    rates = KernelRates.for_dtype(H200.accelerator, "bf16")
    assert _sglang(k, "vllm").prefill_clean_s * rates.memory_bytes_per_s / 4.0 == pytest.approx(forwards, rel=1e-12)
