"""hS2-77: an on-demand preemption takes the preempted sequence out of the decode batch's finish heap in O(log n)
(`decode_book.drop_key`: its slot refilled by the last key and sifted; it was `remove` + `heapify`, O(n) each) and
its prompt out of the prefill queue from the right (`drop_prompt`; it was a scan from the left), the same answer:
the heap pops the same keys in the same order, and an engine run that preempts thousands of times gives the same
bits either way. A vLLM serve-plan at --max-batch 16384 spent 41 s of 135 s in `heapify` (llama3-70b fp8 H200,
128/128 tokens, 200 req/s: 194,856 decode preemptions, 417,609 prompt restarts)."""

from __future__ import annotations

import heapq
from collections import deque

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import decode_book
from infraplan.serving.decode_book import drop_key, drop_prompt
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.loop_stepping import NEVER
from infraplan.serving.output_reserve import RETRACT_STEPS, OutputReserve
from infraplan.serving.serving_engine import simulate_engine

H100 = Cluster.resolve("dgx-h100-superpod")
DEP = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=4096, token_budget=8192, engine="vllm",
                 stack="vllm-0.x")
COST = build_iteration_cost(load_model("llama3-8b"), H100.accelerator, H100.fabric, DEP)


def _drained(heap: list[int]) -> list[int]:
    return [heapq.heappop(heap) for _ in range(len(heap))]


def test_a_sifted_removal_pops_as_remove_and_heapify() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        keys = rng.choice(100_000, size=int(rng.integers(1, 300)), replace=False).tolist()
        sifted, rebuilt = list(keys), list(keys)
        heapq.heapify(sifted)
        heapq.heapify(rebuilt)
        for key in rng.permutation(keys)[: len(keys) // 2].tolist():
            drop_key(sifted, key, True)
            drop_key(rebuilt, key, False)
            assert all(sifted[(i - 1) // 2] <= sifted[i] for i in range(1, len(sifted)))  # still a heap
            assert sifted[0] == rebuilt[0]
        assert _drained(sifted) == _drained(rebuilt)


def test_a_prompt_is_taken_out_wherever_it_sits() -> None:
    queue = deque([[3, 10, 0], [5, 20, 4], [9, 30, 8]])
    drop_prompt(queue, 9)  # the newest: the last entry
    drop_prompt(queue, 3)  # the oldest
    assert list(queue) == [[5, 20, 4]]


def _run() -> tuple[np.ndarray, np.ndarray, int, int]:
    rng = np.random.default_rng(3)
    n = 3000
    prompt, steps = rng.integers(64, 512, n), rng.integers(100, 600, n)
    r = simulate_engine(COST, np.zeros(n), prompt, np.zeros(n, dtype=int), steps, DEP.max_batch, DEP.token_budget,
                        6000, DEP.block_tokens, scheduler="fcfs", kv_admission="on_demand")  # 96,000 KV tokens
    return r.first_token_s, r.finish_s, r.preemptions, r.recomputed_tokens


def test_an_engine_run_is_the_same_bits_without_heapify(monkeypatch: pytest.MonkeyPatch) -> None:
    heapified = [0]
    plain = heapq.heapify

    def counted(heap: list[int]) -> None:
        heapified[0] += 1
        plain(heap)

    monkeypatch.setattr(decode_book.heapq, "heapify", counted)  # (the module's heapq: the one `drop_key` calls)
    sifted = _run()
    assert sifted[2] > 1000 and heapified[0] == 0  # thousands of preemptions, no O(n) rebuild (was one each)
    monkeypatch.setattr(decode_book, "drop_key", lambda heap, key, sift: drop_key(heap, key, False))
    rebuilt = _run()
    assert heapified[0] > 100  # the old removal ran
    np.testing.assert_array_equal(sifted[0], rebuilt[0])
    np.testing.assert_array_equal(sifted[1], rebuilt[1])
    assert sifted[2:] == rebuilt[2:]


def test_sglangs_ratio_after_a_retraction_is_the_loops() -> None:
    """`OutputReserve.retracted` sums max_new_tokens and the tokens decoded over the heap's keys in whole numbers
    (hS2-77: numpy's divmod, not a Python divmod a key): the ratio the loop over the keys gave, bit for bit."""
    rng = np.random.default_rng(11)
    for _ in range(100):
        n, now = int(rng.integers(1, 5000)), int(rng.integers(0, 10_000))
        rows = rng.choice(n, size=int(rng.integers(0, min(n, 400) + 1)), replace=False).tolist()
        heap = [(now + int(rng.integers(1, 3000))) * n + j for j in rows] + [NEVER]
        heapq.heapify(heap)
        reserve = OutputReserve([0] * n, [0] * n, float(rng.uniform(0.01, 2.0)), 16)
        reserve.max_new = {j: int(rng.integers(1, 5000)) for j in rows}
        decoded = total = kept = 0
        for k in heap:  # the loop it was
            if k < NEVER:
                e, j = divmod(k, n)
                kept, total, decoded = kept + 1, total + reserve.max_new[j], decoded + reserve.max_new[j] - (e - now)
        reserve.retracted(now, heap, n)
        assert reserve.base == min(1.0, (decoded * reserve.g + RETRACT_STEPS * kept) / (total * reserve.g + 1))
