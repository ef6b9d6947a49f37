"""hI66 mutation wave: the loops' short DSA extend launches the cached-key gathers on a prefill-only batch too.

SGLang 0.5.6's dense short extend gathers every key of the batch once any sequence has a cached prefix
(`sum(extend_prefix_lens_cpu) != 0`, models/deepseek_v2.py:1692-1711, :2759-2807): a prompt whose earlier chunk is
cached needs it with no decode row beside it. The launches a target layer: fp8, `dequantize_k_cache_paged` (one
Triton kernel, nsa/dequant_k_cache.py:221-235) and the latent's `.contiguous()` copy (deepseek_v2.py:2802); bf16,
`get_mla_kv_buffer_triton` (mem_cache/memory_pool.py:1562). DeepSeek-V3.2 has 61 target layers (config.json
num_hidden_layers). The loops' test (`loop_stepping.iteration_seconds`) took them only with decode rows (mutant S12).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.loop_stepping import cost_tables, iteration_seconds

H200 = Cluster.resolve("hgx-h200")
LAYERS = 61  # DeepSeek-V3.2's target layers (the MTP draft layer's forwards aside)


@pytest.mark.parametrize(("kv", "kernels"), [("fp8", 2), ("bf16", 1)])
def test_a_prompts_cached_chunk_launches_the_gathers_in_the_loops(kv: str, kernels: int) -> None:
    dep = Deployment(tp=8, ep=8, attention_dp=1, dtype="fp8", kv_dtype=kv, engine="sglang", stack="sglang-0.x",
                     max_batch=64, token_budget=8192)
    cost = build_iteration_cost(load_model("deepseek-v3.2"), H200.accelerator, H200.fabric, dep)
    bare = dataclasses.replace(cost, short_prefix_fixed_s=0.0)
    tables = cost_tables(cost, 64)
    launch = H200.accelerator.efficiency.kernel_overhead_s
    # a 500-token chunk after 1,000 cached tokens of its prompt: no decode row, longest 1,500 <= 2,048 (short path)
    p, pairs = 500, 500 * (1000 + 501 / 2.0)
    cached = iteration_seconds(tables, cost, p, 0, 1, pairs, 0.0, 1500, 1500)[0]
    without = iteration_seconds(tables, bare, p, 0, 1, pairs, 0.0, 1500, 1500)[0]
    # plus bf16's once-a-batch index build (hC66: forward_batch_info.py:1014-1040, 5 launches; fp8 has none)
    index_build = {"fp8": 0, "bf16": 5}[kv]
    assert (cached - without) / launch == pytest.approx(kernels * LAYERS + index_build, abs=1e-6)
    # a fresh prompt (no cached key, no decode row): no gather
    fresh = iteration_seconds(tables, cost, p, 0, 1, p * 501 / 2.0, 0.0, 500, 500)[0]
    assert fresh == iteration_seconds(tables, bare, p, 0, 1, p * 501 / 2.0, 0.0, 500, 500)[0]


def test_the_mtp_draft_layer_gathers_nothing() -> None:
    """With MTP the draft layer also runs over the prompt (62 prompt forwards), but its pass is a DRAFT_EXTEND, the
    paged call (sglang 0.5.6 nsa_indexer.py:881-888, 0.5.9 :1070-1072), not the dense short extend: the gathers stay
    61 target layers' (mutant S26 priced them over the prompt's 62 forwards)."""
    dep = Deployment(tp=8, ep=8, attention_dp=1, dtype="fp8", kv_dtype="fp8", engine="sglang", stack="sglang-0.x",
                     max_batch=64, token_budget=8192, speculative_tokens=1, acceptance=0.85)
    cost = build_iteration_cost(load_model("deepseek-v3.2"), H200.accelerator, H200.fabric, dep)
    launch = H200.accelerator.efficiency.kernel_overhead_s
    assert cost.short_prefill_len == 2048  # the short path exists with MTP (its target layers)
    assert cost.short_prefix_fixed_s / launch == pytest.approx(2 * LAYERS, abs=1e-6)


@pytest.mark.parametrize("lockstep", [False, True])
def test_a_chunked_prompt_gathers_once_in_the_simulators(lockstep: bool) -> None:
    """One 1,500-token prompt at 1,000 tokens an iteration: its first chunk has no cached key (no gather), its second
    500 tokens after 1,000 cached (the gathers, once; no decode row in either). The general loop
    (`engine_loop.engine_steps`) and a lock-step rank price one iteration's gathers (mutant S34: the general loop
    took them only with decode rows)."""
    from infraplan.serving.lockstep_loop import lockstep_replica
    from infraplan.serving.serving_engine import simulate_engine

    dep = Deployment(tp=8, ep=8, attention_dp=1, dtype="fp8", kv_dtype="fp8", engine="sglang", stack="sglang-0.x",
                     max_batch=64, token_budget=1000)
    cost = build_iteration_cost(load_model("deepseek-v3.2"), H200.accelerator, H200.fabric, dep)
    bare = dataclasses.replace(cost, short_prefix_fixed_s=0.0)
    args = (np.zeros(1), np.array([1500]), np.zeros(1), np.array([1]))

    def busy(c: object) -> float:
        if lockstep:
            return lockstep_replica(c, *args, np.zeros(1, dtype=int), 1, 64, 1000, 10_000, 64, "fcfs",
                                    "reserve_full").busy_s
        return simulate_engine(c, *args, max_batch=64, token_budget=1000, kv_blocks=10_000, block_tokens=64,
                               scheduler="fcfs").busy_s

    launch = H200.accelerator.efficiency.kernel_overhead_s
    assert (busy(cost) - busy(bare)) / launch == pytest.approx(2 * LAYERS, abs=1e-3)
