"""SGLang's DSA indexer prefill launches as a function of the iteration's sequences (hM, session 63).

SGLang 0.5.6 `Indexer._get_topk_ragged` (srt/layers/attention/nsa/nsa_indexer.py:352-457) loops over the extend
batch's sequences (:385-409): per sequence `GetK.torch_fast` (index_buf_accessor.py:40-65: a multiply, an arange, an
add, the gather), `GetS.torch_fast` (:95-119: a multiply, an arange, two adds, the gather), `torch.full` (:399) and an
add (:402): 11 launches. hC63's prefill call (23) holds one; each further sequence adds 11, charged per sampled row
past the first of an iteration holding prefill tokens (`IterationCost.prefill_row_s`): 12 + 11 x max(rows, 1) a
layer. A mixed batch (`ForwardMode.MIXED`, forward_batch_info.py:96-104, :163-168) runs the ragged path over its
decode rows too, so they count; a pure decode step runs the paged path (no per-sequence loop): nothing. vLLM 0.12.0
gathers a chunk's keys in one `cp_gather_indexer_k_quant_cache` (deepseek_v2.py:667): nothing per sequence.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost, decode_time, prefill_time
from infraplan.serving.loop_stepping import cost_tables
from infraplan.serving.serving_engine import simulate_engine
from infraplan.validation.inference import scaled_cost

CLUSTER = Cluster.resolve("hgx-h200")
V32 = load_model("deepseek-v3.2")
LAUNCH = KernelRates.for_dtype(CLUSTER.accelerator, "bf16").kernel_overhead_s
LAYERS = 61
STACKS = {"vllm": "vllm-0.x", "sglang": "sglang-0.x"}


def _cost(engine: str, k: int = 0):
    dep = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", engine=engine, stack=STACKS[engine],
                     max_batch=64, token_budget=8192, speculative_tokens=k, acceptance=0.85 if k else 0.0)
    return build_iteration_cost(V32, CLUSTER.accelerator, CLUSTER.fabric, dep)


@pytest.mark.parametrize("k", [0, 1])
def test_sglang_pays_11_launches_a_layer_per_further_prompt(k: int) -> None:
    cost = _cost("sglang", k)
    assert cost.prefill_row_s == pytest.approx(11 * LAUNCH * LAYERS, rel=1e-12)  # target layers: the draft's
    flat = dataclasses.replace(cost, prefill_row_s=0.0)  # prompt pass is a DRAFT_EXTEND, the paged path
    for prompts in (1, 2, 4):  # 4,096 tokens: past index_topk, the long path (2,048 runs the key-only one, hC64)
        extra = float(prefill_time(cost, prompts, 4096)) - float(prefill_time(flat, prompts, 4096))
        assert extra == pytest.approx(11 * LAUNCH * LAYERS * (prompts - 1), rel=1e-9, abs=1e-15)
    # a pure decode step: the paged path, no per-sequence loop
    assert float(decode_time(cost, 32, 4096)) == float(decode_time(flat, 32, 4096))


def test_vllm_gathers_a_chunk_at_once() -> None:
    assert _cost("vllm").prefill_row_s == 0.0


def test_the_tables_charge_prefill_iterations_only() -> None:
    cost = _cost("sglang")
    flat = dataclasses.replace(cost, prefill_row_s=0.0)
    body, head, _, decode, _, decode_head = cost_tables(cost, 64)[:6]
    f_body, f_head, _, f_decode, _, f_decode_head = cost_tables(flat, 64)[:6]
    assert (decode, decode_head, body) == (f_decode, f_decode_head, f_body)
    rows = np.arange(len(head))
    np.testing.assert_allclose(np.subtract(head, f_head), 11 * LAUNCH * LAYERS * np.maximum(rows - 1, 0),
                               rtol=1e-9, atol=1e-15)


def test_four_prompts_prefilled_together_in_the_simulator() -> None:
    """Three 2,730-token prompts arriving together prefill in one iteration (8,190 tokens): 22 launches a layer more
    (past index_topk: the long path; four 2,048-token ones run SGLang's key-only path, hC64)."""
    cost = _cost("sglang")
    flat = dataclasses.replace(cost, prefill_row_s=0.0)
    n = 3
    args = (np.zeros(n), np.full(n, 2730), np.zeros(n), np.full(n, 8))
    runs = {}
    for name, c in (("rows", cost), ("flat", flat)):
        for jump in (True, False):  # the FCFS loop and the general loop read the same tables
            runs[name, jump] = simulate_engine(c, *args, max_batch=64, token_budget=8192, kv_blocks=10_000,
                                               block_tokens=64, jump=jump)
    for jump in (True, False):
        busy = runs["rows", jump].busy_s - runs["flat", jump].busy_s
        assert busy == pytest.approx(2 * 11 * LAUNCH * LAYERS, rel=1e-9)


def test_a_scaled_cost_scales_it() -> None:
    """`validation.inference.scaled_cost` multiplies every seconds term, this one too."""
    cost = _cost("sglang")
    assert scaled_cost(cost, 2.0).prefill_row_s == pytest.approx(2.0 * cost.prefill_row_s, rel=1e-15)
