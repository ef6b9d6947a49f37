"""The per-request decode bookkeeping both general loops share (`serving.decode_book`, hL session 69): a preemption
by hand, both loops preempting alike, and an ended empty request never preempted (it was: the engine loop requeued
it and left another request unfinished, the lock-step loop raised StopIteration)."""

from __future__ import annotations

from collections import deque

import numpy as np

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import wide_ep_lockstep
from infraplan.serving.decode_book import DecodeBook
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.lockstep_loop import lockstep_replica
from infraplan.serving.loop_stepping import NEVER
from infraplan.serving.serving_engine import EngineResult, simulate_engine

H200 = Cluster.resolve("hgx-h200")
DEP = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=8192,
                 engine="sglang", stack="sglang-0.x")
COST = wide_ep_lockstep.with_others(build_iteration_cost(load_model("deepseek-v3"), H200.accelerator, H200.fabric,
                                                         DEP), 0.0)


def test_a_preemption_by_hand() -> None:
    # request 0 decodes (100-token prompt, 40 steps, joined at iteration 0), request 1 prefills (50 tokens on 20
    # cached), request 2 ended; 16-token blocks
    todo, ctx0, steps, need, fin = [100, 50, 0], [0, 20, 0], [40, 30, 0], [7, 5, 1], [0, 0, 0]
    first = [1.5, 0.0, 0.0]
    book = DecodeBook(todo, ctx0, steps, need, fin, first, 16, 1, True)
    heap, grow = [NEVER], [0] * 16
    book.join(0, 100, 0, heap, grow)
    assert (book.end_ctx[0], book.end_at[0], fin[0], book.key[0]) == (140, 40, 9, 13)  # (1 - 100) mod 16
    assert grow[13] == 1 and heap[0] == 40 * 3 + 0
    book.live[0] = book.live[1] = True
    order, prefill, waiting = [0, 1, 2], deque([[1, 50, 20]]), deque([7])
    # the newest running request (2 has ended: passed over) is the prompt: it restarts over its cached tokens too
    assert book.preempt(order, prefill, heap, grow, None, 10, waiting) == (5, 0, 0)
    assert (todo[1], ctx0[1], need[1], list(prefill), list(waiting)) == (70, 0, 5, [], [1, 7])
    # then the decoding one: 110 tokens in its cache after 10 of its 40 steps, 7 blocks freed, recomputed from them
    assert book.preempt(order, prefill, heap, grow, None, 10, waiting) == (7, 1, 110)
    assert (todo[0], steps[0], need[0], heap, grow[13], list(waiting)) == (111, 29, 7, [NEVER], 0, [0, 1, 7])
    assert (book.preemptions, book.recomputed, order) == (2, 70 + 111, [])
    first[0] = 9.0  # its prefill again ends later; its first token stays the first one
    book.restore_first()
    assert first[0] == 1.5


def _runs(arrival: np.ndarray, prompt: np.ndarray, cached: np.ndarray, steps: np.ndarray, blocks: int,
          block_tokens: int = DEP.block_tokens) -> tuple[EngineResult, EngineResult]:
    engine = simulate_engine(COST, arrival, prompt, cached, steps, DEP.max_batch, DEP.token_budget, blocks,
                             block_tokens, scheduler="fcfs", kv_admission="on_demand")
    ranked = lockstep_replica(COST, arrival, prompt, cached, steps, np.zeros(len(arrival), dtype=int), 1,
                              DEP.max_batch, DEP.token_budget, blocks, block_tokens, "fcfs", "on_demand")
    return engine, ranked


def test_both_loops_preempt_alike() -> None:
    rng = np.random.default_rng(1)
    n = 300
    arrival, prompt = np.cumsum(rng.exponential(1.0 / 3.0, n)), rng.integers(1, 3000, n)
    steps = DEP.decode_steps(rng.integers(1, 400, n))
    engine, ranked = _runs(arrival, prompt, np.zeros(n, dtype=int), steps, 1475)  # a pool 1/40 of the GPU's
    assert engine.preemptions > 10
    assert (ranked.preemptions, ranked.recomputed_tokens) == (engine.preemptions, engine.recomputed_tokens)
    np.testing.assert_allclose(ranked.first_token_s, engine.first_token_s, rtol=1e-9)
    np.testing.assert_allclose(ranked.finish_s, engine.finish_s, rtol=1e-9)


def test_an_ended_empty_request_is_never_preempted() -> None:
    # a decode-only request with no step (its cache in, one token) ends as it is admitted; five 300-step decodes
    # outgrow a pool of 12 64-token blocks, so the newest running request is preempted: never the ended one, first or
    # last to come
    runs: dict[int, list[EngineResult]] = {}
    for empty in (0, 5):
        cached, steps = np.full(6, 64), np.full(6, 300)
        cached[empty], steps[empty] = 100, 0
        for r in _runs(np.zeros(6), np.zeros(6, dtype=int), cached, steps, 12, 64):  # (64-token blocks)
            assert np.isfinite(r.finish_s).all()
            assert r.first_token_s[empty] == r.finish_s[empty] == 0.0
            runs.setdefault(empty, []).append(r)
    first = runs[0][0]
    assert first.preemptions > 0
    for empty, r in ((0, runs[0][1]), (5, runs[5][0]), (5, runs[5][1])):  # the same with the empty request last
        others = [j for j in range(6) if j != empty]
        assert (r.preemptions, r.recomputed_tokens) == (first.preemptions, first.recomputed_tokens)
        np.testing.assert_allclose(r.finish_s[others], first.finish_s[1:], rtol=1e-9)  # (the loops: to rounding)
