"""Lock-step attention-DP ranks (SGLang): the wait measured on the ranks' timelines against a lock-step reference."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import wide_ep_lockstep
from infraplan.serving.llm_iteration import Deployment, IterationCost, build_iteration_cost
from infraplan.serving.serving_sim import pool_memory, run_pool

H200 = Cluster.resolve("hgx-h200")
V3 = load_model("deepseek-v3")
WIDE = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=256, token_budget=8192,
                  engine="sglang", stack="sglang-0.x")  # SGLang: its ranks stall for each other's prefills


def _lockstep(cost: IterationCost, dep: Deployment, arrival: np.ndarray, prompt: np.ndarray,
              steps: np.ndarray, ranks: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference: `ranks` prefill-first engines stepped together, each iteration as long as the slowest rank's
    (SGLang's DP-attention sync, `wide_ep_lockstep` module docstring); open loop, no KV limit."""
    free = wide_ep_lockstep.with_others(cost, 0.0)
    n = len(arrival)
    first, finish = np.full(n, np.nan), np.full(n, np.nan)
    pending = [deque(range(e, n, ranks)) for e in range(ranks)]
    prefill: list[deque[list[int]]] = [deque() for _ in range(ranks)]
    running: list[dict[int, list[int]]] = [{} for _ in range(ranks)]  # request -> [steps left, context]
    clock, done = 0.0, 0
    while done < n:
        plans: list[list[int] | None] = []
        longest = 0.0
        for e in range(ranks):
            while pending[e] and arrival[pending[e][0]] <= clock and len(running[e]) + len(prefill[e]) < dep.max_batch:
                k = pending[e].popleft()
                prefill[e].append([k, int(prompt[k]), 0])
            if prefill[e]:
                budget, tokens, pairs, ended = dep.token_budget, 0, 0.0, []
                for entry in prefill[e]:
                    c = min(entry[1], budget)
                    pairs, tokens, budget = pairs + c * (entry[2] + (c + 1) / 2.0), tokens + c, budget - c
                    entry[1], entry[2] = entry[1] - c, entry[2] + c
                    if entry[1] == 0:
                        ended.append(entry[0])
                    if budget <= 0:
                        break
                plans.append(ended)
                longest = max(longest, float(free.time(tokens, 0, 0, pairs, rows=max(len(ended), 1))))
            elif running[e]:
                rows = len(running[e])
                context = sum(c for _, c in running[e].values())
                plans.append(None)
                longest = max(longest, float(free.time(0, rows, context, 0, rows=rows)))
            else:
                plans.append([])
        if longest == 0.0:
            clock = min(arrival[p[0]] for p in pending if p)
            continue
        clock += longest
        for e, plan in enumerate(plans):
            if plan is None:  # a decode step
                for k in list(running[e]):
                    running[e][k][0] -= 1
                    running[e][k][1] += 1
                    if running[e][k][0] == 0:
                        del running[e][k]
                        finish[k], done = clock, done + 1
            for k in plan or []:
                prefill[e].popleft()
                first[k] = clock
                running[e][k] = [int(steps[k]), int(prompt[k])]
    return first, finish


def _chat(n: int, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (np.cumsum(rng.exponential(1.0 / rate, n)), rng.integers(200, 3000, n),
            rng.integers(50, 400, n))


def _run(cost: IterationCost, arrival: np.ndarray, prompt: np.ndarray, steps: np.ndarray):  # type: ignore[no-untyped-def]
    blocks = pool_memory(V3, H200.accelerator, WIDE)[0].blocks
    zeros = np.zeros_like(prompt)
    return wide_ep_lockstep.run_lockstep_pool(run_pool, cost, WIDE, blocks, arrival, prompt, zeros, steps,
                                              WIDE.engines_per_replica)


def _tpot_s(first: np.ndarray, finish: np.ndarray, steps: np.ndarray) -> float:
    return float(np.sum(finish - first) / np.sum(steps))


def test_an_offline_burst_of_equal_requests_keeps_the_ranks_in_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every rank prefills the same prompts in the same iterations: nobody waits, as if the ranks never stalled."""
    cost = build_iteration_cost(V3, H200.accelerator, H200.fabric, WIDE)
    arrival, prompt, steps = np.zeros(64), np.full(64, 1000), np.full(64, 199)
    pool = _run(cost, arrival, prompt, steps)
    alone = run_pool(wide_ep_lockstep.with_others(cost, 0.0), WIDE, pool_memory(V3, H200.accelerator, WIDE)[0].blocks,
                     arrival, prompt, np.zeros(64, dtype=np.int64), steps, WIDE.engines_per_replica)
    assert np.nanmax(pool.finish_s) == pytest.approx(np.nanmax(alone.finish_s), rel=1e-9)
    reference = _lockstep(cost, WIDE, arrival, prompt, steps, WIDE.engines_per_replica)
    assert np.nanmax(pool.finish_s) == pytest.approx(np.nanmax(reference[1]), rel=0.02)
    monkeypatch.setattr(wide_ep_lockstep, "LOAD_AWARE_STALL", False)  # the low-load rule: 7 others' prefills each
    assert np.nanmax(_run(cost, arrival, prompt, steps).finish_s) > 1.5 * np.nanmax(pool.finish_s)


def test_under_poisson_load_the_wait_lands_on_decode_as_in_lock_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mixed-length prompts at a light load (stall-free TPOT 18 ms, lock-step 25 ms): the other ranks' prefills
    stretch this rank's decode iterations, not its prefill; TPOT and mean TTFT follow the lock-step reference, the
    low-load rule's TTFT does not."""
    cost = build_iteration_cost(V3, H200.accelerator, H200.fabric, WIDE)
    arrival, prompt, steps = _chat(240, 1.0, 0)
    pool = _run(cost, arrival, prompt, steps)
    first, finish = _lockstep(cost, WIDE, arrival, prompt, steps, WIDE.engines_per_replica)
    tpot, ref_tpot = _tpot_s(pool.first_token_s, pool.finish_s, steps), _tpot_s(first, finish, steps)
    free = run_pool(wide_ep_lockstep.with_others(cost, 0.0), WIDE, pool_memory(V3, H200.accelerator, WIDE)[0].blocks,
                    arrival, prompt, np.zeros_like(prompt), steps, WIDE.engines_per_replica)
    assert _tpot_s(free.first_token_s, free.finish_s, steps) < tpot  # the others' prefills do stretch decode
    assert tpot == pytest.approx(ref_tpot, rel=0.2)
    ttft, ref_ttft = np.mean(pool.first_token_s - arrival), np.mean(first - arrival)
    assert ttft == pytest.approx(ref_ttft, rel=0.35)
    monkeypatch.setattr(wide_ep_lockstep, "LOAD_AWARE_STALL", False)
    low = _run(cost, arrival, prompt, steps)
    assert np.mean(low.first_token_s - arrival) > 3.0 * ref_ttft


def test_ranks_that_do_not_stall_run_as_before() -> None:
    """TensorRT-LLM's ranks run their context phases together (`attention_dp_prefill_stall: false`): no pass."""
    trt = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=256, token_budget=8192)
    cost = build_iteration_cost(V3, H200.accelerator, H200.fabric, trt)
    assert not wide_ep_lockstep.applies(cost) and wide_ep_lockstep.applies(
        build_iteration_cost(V3, H200.accelerator, H200.fabric, WIDE))
    arrival, prompt, steps = _chat(64, 4.0, 1)
    calls: list[IterationCost] = []

    def once(c, *args):  # type: ignore[no-untyped-def]
        calls.append(c)
        return run_pool(c, *args)

    wide_ep_lockstep.run_lockstep_pool(once, cost, trt, 10**6, arrival, prompt, np.zeros_like(prompt), steps, 8)
    assert calls == [cost]


def test_union_of_intervals() -> None:
    assert wide_ep_lockstep.union_s(np.array([0.0, 1.0, 5.0]), np.array([2.0, 3.0, 6.0])) == 4.0
    assert wide_ep_lockstep.union_s(np.zeros(0), np.zeros(0)) == 0.0


def test_stall_of_reads_the_low_load_stall_of_the_cost() -> None:
    from infraplan.serving.llm_iteration import stall_others

    wide = build_iteration_cost(V3, H200.accelerator, H200.fabric, WIDE)
    token_s, pair_s, others = wide_ep_lockstep.stall_of(wide)
    assert others == WIDE.attention_dp - 1 == stall_others(WIDE) and token_s > 0 and pair_s >= 0
    # the stall is what the cost adds per prefill token over the stall-free cost
    free = wide_ep_lockstep.with_others(wide, 0.0)
    assert wide.per_prefill_token_s - free.per_prefill_token_s == pytest.approx(token_s)
    trt = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=256, token_budget=8192)
    assert wide_ep_lockstep.stall_of(build_iteration_cost(V3, H200.accelerator, H200.fabric, trt)) == (0.0, 0.0, 0)


def test_prefill_spans_group_by_first_token_and_chunk_by_budget() -> None:
    cost = build_iteration_cost(V3, H200.accelerator, H200.fabric, WIDE)
    free = wide_ep_lockstep.with_others(cost, 0.0)
    first = np.array([1.0, 1.0, 3.0, np.nan, 5.0])
    prompt = np.array([1000, 3000, 20000, 500, 0])  # a NaN (not started) and a prefill of 0 place no span
    start, end = wide_ep_lockstep.prefill_spans(cost, 8192, first, prompt, np.zeros(5))
    np.testing.assert_array_equal(end, [1.0, 3.0])
    together = float(free.time(4000, 0, 0, 1000 * 1001 / 2 + 3000 * 3001 / 2, rows=2))  # one batch of both
    assert end[0] - start[0] == pytest.approx(together)
    chunked = 3 * float(free.time(6667, 0, 0, 20000 * 20001 / 2 / 3, rows=1))  # 20,000 tokens in 3 chunks
    assert end[1] - start[1] == pytest.approx(chunked)
    assert chunked > float(free.time(20000, 0, 0, 20000 * 20001 / 2, rows=1))  # chunks pay a fixed cost each
    empty = wide_ep_lockstep.prefill_spans(cost, 8192, np.array([np.nan]), np.array([10]), np.zeros(1))
    assert empty[0].size == empty[1].size == 0


def test_decode_wait_is_the_others_prefill_over_a_ranks_decode_iterations() -> None:
    """Two ranks: rank 0 decodes over [10, 20] s in 10 steps while rank 1 prefills one prompt ending at 15 s; rank 1
    decodes one step over [15, 16] while nobody else prefills. The wait: rank 1's prefill span over 10 + 1 steps."""
    cost = build_iteration_cost(V3, H200.accelerator, H200.fabric, WIDE)
    first, finish = np.array([10.0, 15.0]), np.array([20.0, 16.0])
    prompt, steps, engine_of = np.array([2000, 4000]), np.array([10, 1]), np.array([0, 1])
    start, end = wide_ep_lockstep.prefill_spans(cost, 8192, first[1:], prompt[1:], np.zeros(1))
    span = float(end[0] - start[0])
    assert 0 < span < 5.0
    wait = wide_ep_lockstep.decode_wait_s(cost, 8192, first, finish, prompt, np.zeros(2), steps, engine_of, 2)
    assert wait == pytest.approx(span / 11)
    # as two replicas of one rank each nobody waits for anybody
    assert wide_ep_lockstep.decode_wait_s(cost, 8192, first, finish, prompt, np.zeros(2), steps, engine_of, 1) == 0.0
    assert wide_ep_lockstep.decode_wait_s(cost, 8192, first, finish, prompt, np.zeros(2), steps,
                                          np.zeros(0, dtype=int), 2) == 0.0


def test_engine_of_requests_routes_round_robin_or_by_client() -> None:
    np.testing.assert_array_equal(wide_ep_lockstep.engine_of_requests(10, 4, 0), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
    by_client = wide_ep_lockstep.engine_of_requests(60, 4, 6)
    for client in range(6):  # a closed loop's client keeps one engine
        assert len(set(by_client[client::6])) == 1
    assert sorted(set(by_client)) == [0, 1, 2, 3]
