"""Every scheduled prompt chunk samples a row; bf16's short-path index build; no absorbed BMMs on SGLang's dense short
path (hC, session 66).

1. vLLM 0.12.0 (and 0.18.0) v1/worker/gpu_model_runner.py:1452-1458 (0.18.0 :1833-1841): `logits_indices =
   query_start_loc[1:] - 1`, one row for every scheduled request, "partial requests" of a chunked prefill too ("we do
   so for simplicity"; their tokens discarded, `discard_request_mask` :1423-1426); with drafts
   `_calc_spec_decode_metadata` (:1941-1975) gives a request without drafts one row too. SGLang 0.5.6
   layers/logits_processor.py:406-426: the last index of every extend sequence (`extend_seq_lens`), the chunked one
   too. So an iteration's LM head runs over its decode rows and every prompt chunk, finished or not; the chunk's row
   pays the LM head only (as a finishing prompt's, hC65), and on SGLang DSA each sequence past the first its indexer
   launches (`prefill_row_s`).
2. SGLang 0.5.6 model_executor/forward_batch_info.py:1014-1040 `fetch_mha_one_shot_kv_indices`: a bf16 cache's short
   extend with a cached prefix builds the batch's key indices once (kept after the first layer): 5 launches.
3. SGLang 0.5.6 nsa_backend.py:1429-1456: a MIXED batch may run MHA_ONE_SHOT ("Decode/verify always use MLA" is the
   decode-only batch); `forward_normal_prepare` (deepseek_v2.py:1600-1711) up-projects through kv_b_proj, so its
   decode rows run no absorbed BMM (`forward_absorb_prepare` :1893, `forward_absorb_core` :2075): the measured BMM's
   correction (`mla_absorb`) is not theirs there.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import mla_absorb, sparse_decode
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.lockstep_loop import lockstep_replica
from infraplan.serving.schedulers import FcfsScheduler, WholePromptScheduler
from infraplan.serving.serving_engine import simulate_engine

H200 = Cluster.resolve("hgx-h200")
LLAMA, V32 = load_model("llama3.1-8b"), load_model("deepseek-v3.2")
BUDGET = 8192


def _cost(model, engine: str, stack: str, tp: int = 1, kv: str = "bf16", dtype: str = "bf16", dp: int = 1):
    dep = Deployment(tp=tp, ep=tp * dp if model is V32 else 1, attention_dp=dp, dtype=dtype, kv_dtype=kv,
                     engine=engine, stack=stack, max_batch=64, token_budget=BUDGET)
    return build_iteration_cost(model, H200.accelerator, H200.fabric, dep)


def _chunks_by_hand(cost, prompt: int, cut_rows: int = 1) -> float:
    """A lone prompt prefilled in budget-sized chunks, each iteration sampling one row (`cut_rows` where the chunk
    does not finish the prompt)."""
    total, done = 0.0, 0
    while done < prompt:
        c = min(BUDGET, prompt - done)
        rows = 1 if done + c == prompt else cut_rows
        total += float(cost.time(c, 0, 0, c * (done + (c + 1) / 2.0), rows=rows, keys=done + c))
        done += c
    return total


@pytest.mark.parametrize("admission", ["reserve_full", "on_demand"])
def test_a_chunk_that_does_not_finish_samples_a_row(admission: str) -> None:
    """A 10,000-token prompt on an idle engine (budget 8,192): 8,192 then 1,808 tokens, each iteration one LM-head
    row; the FCFS loop (reserve_full) and the general loop (on_demand, vLLM's) alike. HEAD priced the first with no
    row: the LM head of Llama 3.1 8B at TP1 (128,256 x 4,096 bf16, ~1 GB read) less."""
    cost = _cost(LLAMA, "vllm", "vllm-0.x")
    run = simulate_engine(cost, np.zeros(1), np.array([10_000]), np.zeros(1, dtype=int), np.zeros(1, dtype=int),
                          max_batch=64, token_budget=BUDGET, kv_blocks=10_000, block_tokens=16,
                          kv_admission=admission)
    assert run.busy_s == pytest.approx(_chunks_by_hand(cost, 10_000), rel=1e-12)
    assert cost.head_s[1] > 1e-4  # the row it adds: ~0.2 ms on H200
    assert run.busy_s - _chunks_by_hand(cost, 10_000, cut_rows=0) == pytest.approx(cost.head_s[1], rel=1e-9)


def test_a_mixed_iteration_counts_the_cut_prompt() -> None:
    """Two prompts of 3,000 and 9,000 tokens and a decode-free start: iteration 1 holds 3,000 (finished) and 5,192
    (cut): 2 rows; iteration 2 the cut prompt's 3,808: 1 row. General loop (on_demand) = FCFS loop = by hand."""
    cost = _cost(LLAMA, "vllm", "vllm-0.x")
    first = float(cost.time(BUDGET, 0, 0, 3000 * 3001 / 2.0 + 5192 * 5193 / 2.0, rows=2))
    second = float(cost.time(3808, 0, 0, 3808 * (5192 + 3809 / 2.0), rows=1))
    for admission in ("reserve_full", "on_demand"):
        run = simulate_engine(cost, np.zeros(2), np.array([3000, 9000]), np.zeros(2, dtype=int),
                              np.zeros(2, dtype=int), max_batch=64, token_budget=BUDGET, kv_blocks=10_000,
                              block_tokens=16, kv_admission=admission)
        assert run.busy_s == pytest.approx(first + second, rel=1e-12)


def test_the_schedulers_count_their_prompt_chunks() -> None:
    """`schedule_prefill` keeps its prompt chunks, finished or cut, for the loops (`prompts`): FCFS cuts the third
    prompt (3 chunks, 2 finished); chunked prefill off, the third waits (2, 2)."""
    for policy, want in ((FcfsScheduler(), 3), (WholePromptScheduler(), 2)):
        queue = deque([[0, 100, 0], [1, 200, 0], [2, 900, 0]])
        policy.widest = 1000
        p_tok, _, finished = policy.schedule_prefill(queue, 500)
        assert (finished, policy.prompts) == ([0, 1], want)
        assert p_tok == 100 + 200 + (200 if want == 3 else 0)


def test_sglang_dsa_counts_the_cut_sequence_launches() -> None:
    """SGLang (prefill-first, the general loop's method path) on DeepSeek-V3.2, TP8 bf16 cache: the cut prompt is a
    sequence of the extend batch, so it adds a row and 11 indexer launches a layer (`prefill_row_s`); a lock-step
    rank (attention DP 1) the same."""
    cost = _cost(V32, "sglang", "sglang-0.x", tp=8, dtype="fp8")
    assert cost.prefill_row_s == pytest.approx(11 * 61 * H200.accelerator.efficiency.kernel_overhead_s, rel=1e-12)
    first = float(cost.time(BUDGET, 0, 0, 3000 * 3001 / 2.0 + 5192 * 5193 / 2.0, rows=2, longest=5192, keys=BUDGET))
    second = float(cost.time(3808, 0, 0, 3808 * (5192 + 3809 / 2.0), rows=1, longest=9000, keys=9000))
    args = (np.zeros(2), np.array([3000, 9000]), np.zeros(2, dtype=int), np.zeros(2, dtype=int))
    run = simulate_engine(cost, *args, max_batch=64, token_budget=BUDGET, kv_blocks=10_000, block_tokens=64,
                          scheduler="prefill-first")
    assert run.busy_s == pytest.approx(first + second, rel=1e-12)
    ranks = lockstep_replica(cost, *args, np.zeros(2, dtype=int), 1, 64, BUDGET, 10_000, 64, "prefill-first",
                             "reserve_full")
    assert ranks.busy_s == pytest.approx(first + second, rel=1e-12)


@pytest.mark.parametrize("tp", [1, 8])
def test_bf16_index_build_once(tp: int) -> None:
    """bf16 short extend with a cached key: 61 gathers (one a layer) + 5 launches once (torch.zeros, CUB's init and
    scan of torch.cumsum, the int32 copy into kv_indptr, the Triton index kernel); fp8: 2 a layer, none once."""
    launch = H200.accelerator.efficiency.kernel_overhead_s
    dp = 8 // tp
    bf16 = _cost(V32, "sglang", "sglang-0.x", tp=tp, dtype="fp8", dp=dp)
    fp8 = _cost(V32, "sglang", "sglang-0.x", tp=tp, dtype="fp8", kv="fp8", dp=dp)
    assert bf16.short_prefix_fixed_s == pytest.approx((61 + 5) * launch, rel=1e-12)
    assert fp8.short_prefix_fixed_s == pytest.approx(2 * 61 * launch, rel=1e-12)
    assert sparse_decode.INDEX_BUILD_KERNELS == {"fp8": 0.0, "bf16": 5.0}


def test_dense_short_path_decode_rows_run_no_absorbed_bmm(monkeypatch: pytest.MonkeyPatch) -> None:
    """SGLang V3.2 at attention DP 8 (128 local heads, where the measured bf16 BMM differs most from the roofline): a
    mixed iteration on the dense short path (500 prompt tokens, 4 decode rows of 1,000 cached tokens) costs the same
    with the measured BMM fit off, so its decode rows carry none of it; on the long path and in pure decode they do
    (the BMMs run there)."""
    with_fit = _cost(V32, "sglang", "sglang-0.x", dtype="fp8", kv="fp8", dp=8)
    monkeypatch.setattr(mla_absorb, "MEASURED_ABSORB_BMM", False)
    without = _cost(V32, "sglang", "sglang-0.x", dtype="fp8", kv="fp8", dp=8)
    p, d, ctx, pairs = 500, 4, 4000.0, 500 * 501 / 2.0

    def at(cost, longest: int) -> float:
        return float(cost.time(p, d, ctx, pairs, rows=d + 1, longest=longest, keys=p))

    bmm_fixed = with_fit.decode_fixed_s - without.decode_fixed_s  # the measured BMM's once part (< 0 here)
    assert abs(bmm_fixed) > 1e-5
    assert at(with_fit, 2048) == pytest.approx(at(without, 2048), rel=1e-12, abs=1e-12)
    assert with_fit.short_extend_terms[2:] == (0.0, pytest.approx(-bmm_fixed, rel=1e-9))
    assert at(with_fit, 2049) - at(without, 2049) == pytest.approx(
        bmm_fixed + with_fit.decode_row_s[d] - without.decode_row_s[d], rel=1e-9)
    decode = float(with_fit.time(0, d, ctx, 0, rows=d)) - float(without.time(0, d, ctx, 0, rows=d))
    assert abs(decode) > 1e-5
