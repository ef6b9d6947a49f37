"""Lock-step attention-DP ranks (SGLang): the lock-step loop and the mean-wait rule against a lock-step reference."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import lockstep_loop, wide_ep_lockstep
from infraplan.serving.llm_iteration import Deployment, IterationCost, build_iteration_cost
from infraplan.serving.lockstep_loop import shared_experts_s
from infraplan.serving.serving_sim import pool_memory, run_pool

H200 = Cluster.resolve("hgx-h200")
V3 = load_model("deepseek-v3")
WIDE = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=256, token_budget=8192,
                  engine="sglang", stack="sglang-0.x")  # SGLang: its ranks stall for each other's prefills


def _lockstep(cost: IterationCost, dep: Deployment, arrival: np.ndarray, prompt: np.ndarray,
              steps: np.ndarray, ranks: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference: `ranks` prefill-first engines stepped together, each iteration as long as the slowest rank's
    (SGLang's DP-attention sync, `wide_ep_lockstep` module docstring), the routed experts on the ranks' mean tokens
    (`lockstep_loop.SHARED_EXPERTS`); open loop, no KV limit."""
    free = wide_ep_lockstep.with_others(cost, 0.0)
    routed = shared_experts_s(cost)
    n = len(arrival)
    first, finish = np.full(n, np.nan), np.full(n, np.nan)
    pending = [deque(range(e, n, ranks)) for e in range(ranks)]
    prefill: list[deque[list[int]]] = [deque() for _ in range(ranks)]
    running: list[dict[int, list[int]]] = [{} for _ in range(ranks)]  # request -> [steps left, context]
    clock, done = 0.0, 0
    while done < n:
        plans: list[list[int] | None] = []
        longest, tokens_all = 0.0, 0
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
                t = float(free.time(tokens, 0, 0, pairs, rows=max(len(ended), 1)))
                longest, tokens_all = max(longest, t - routed[tokens] if routed else t), tokens_all + tokens
            elif running[e]:
                rows = len(running[e])
                context = sum(c for _, c in running[e].values())
                plans.append(None)
                t = float(free.time(0, rows, context, 0, rows=rows))
                longest, tokens_all = max(longest, t - routed[rows] if routed else t), tokens_all + rows
            else:
                plans.append([])
        if longest == 0.0:
            clock = min(arrival[p[0]] for p in pending if p)
            continue
        clock += longest + (routed[round(tokens_all / ranks)] if routed else 0.0)
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
    """Mixed-length prompts at a light load: the lock-step loop is the reference to rounding (the reference samples
    a head row for a partial chunk). With every rank's routed experts priced on its own tokens (the cost tables'
    balanced ranks) the other ranks' prefills stretch this rank's decode iterations (stall-free TPOT 18 ms,
    lock-step 25 ms), and the mean-wait rule (the loop's fallback) follows; the low-load rule's TTFT does not.
    With the experts shared (on the ranks' mean tokens) a lone rank's prefill is short, and so is the wait."""
    cost = build_iteration_cost(V3, H200.accelerator, H200.fabric, WIDE)
    arrival, prompt, steps = _chat(240, 1.0, 0)
    free = run_pool(wide_ep_lockstep.with_others(cost, 0.0), WIDE, pool_memory(V3, H200.accelerator, WIDE)[0].blocks,
                    arrival, prompt, np.zeros_like(prompt), steps, WIDE.engines_per_replica)
    free_tpot = _tpot_s(free.first_token_s, free.finish_s, steps)
    tpots = {}
    for shared in (True, False):
        monkeypatch.setattr(lockstep_loop, "SHARED_EXPERTS", shared)
        pool = _run(cost, arrival, prompt, steps)
        first, finish = _lockstep(cost, WIDE, arrival, prompt, steps, WIDE.engines_per_replica)
        tpots[shared] = tpot = _tpot_s(pool.first_token_s, pool.finish_s, steps)
        assert tpot == pytest.approx(_tpot_s(first, finish, steps), rel=1e-3)
        np.testing.assert_allclose(pool.first_token_s, first, rtol=1e-3)
        np.testing.assert_allclose(pool.finish_s, finish, rtol=1e-3)
    assert free_tpot < 0.8 * tpots[False] and tpots[True] < 0.75 * tpots[False]
    ref_tpot, ref_ttft = tpots[False], np.mean(first - arrival)  # balanced experts (the last run)
    monkeypatch.setattr(wide_ep_lockstep, "LOCKSTEP_LOOP", False)  # the mean-wait rule
    rule = _run(cost, arrival, prompt, steps)
    assert _tpot_s(rule.first_token_s, rule.finish_s, steps) == pytest.approx(ref_tpot, rel=0.2)
    assert np.mean(rule.first_token_s - arrival) == pytest.approx(ref_ttft, rel=0.35)
    monkeypatch.setattr(wide_ep_lockstep, "LOAD_AWARE_STALL", False)
    low = _run(cost, arrival, prompt, steps)
    assert np.mean(low.first_token_s - arrival) > 3.0 * ref_ttft


def test_at_72_ranks_under_load_the_ranks_form_convoys(monkeypatch: pytest.MonkeyPatch) -> None:
    """DeepSeek-R1 nvfp4 on 72 GB200 ranks, mixed prompts at 1 request/s per rank: the arrivals during one long
    prefill iteration prefill together in the next, so most decode iterations wait for some rank's prefill. The
    loop gives the reference's TPOT (52 ms, 4.1x the stall-free one); the mean-wait rule, an independent-rank pass,
    misses the convoys (25 ms; validation/notes/serving_hopper_moe_tried.md, rounds 21 and 24)."""
    nvl = Cluster.resolve("gb200-nvl72")
    dep = Deployment(tp=1, ep=72, attention_dp=72, dtype="nvfp4", kv_dtype="fp8", max_batch=256, token_budget=8192,
                     engine="sglang", stack="sglang-0.x")
    r1 = load_model("deepseek-r1")
    cost = build_iteration_cost(r1, nvl.accelerator, nvl.fabric, dep)
    blocks = pool_memory(r1, nvl.accelerator, dep)[0].blocks
    arrival, prompt, steps = _chat(1440, 72.0, 5)
    zeros = np.zeros_like(prompt)
    pool = wide_ep_lockstep.run_lockstep_pool(run_pool, cost, dep, blocks, arrival, prompt, zeros, steps, 72)
    first, finish = _lockstep(cost, dep, arrival, prompt, steps, 72)
    ref_tpot = _tpot_s(first, finish, steps)
    assert _tpot_s(pool.first_token_s, pool.finish_s, steps) == pytest.approx(ref_tpot, rel=1e-3)
    assert np.mean(pool.first_token_s - arrival) == pytest.approx(np.mean(first - arrival), rel=1e-3)
    free = run_pool(wide_ep_lockstep.with_others(cost, 0.0), dep, blocks, arrival, prompt, zeros, steps, 72)
    assert ref_tpot > 3.5 * _tpot_s(free.first_token_s, free.finish_s, steps)
    monkeypatch.setattr(wide_ep_lockstep, "LOCKSTEP_LOOP", False)
    rule = wide_ep_lockstep.run_lockstep_pool(run_pool, cost, dep, blocks, arrival, prompt, zeros, steps, 72)
    assert _tpot_s(rule.first_token_s, rule.finish_s, steps) < 0.6 * ref_tpot


def test_ranks_that_do_not_stall_run_as_before() -> None:
    """TensorRT-LLM's ranks run their context phases together (`attention_dp_prefill_stall: false`): no pass."""
    trt = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=256, token_budget=8192)
    cost = build_iteration_cost(V3, H200.accelerator, H200.fabric, trt)
    assert not wide_ep_lockstep.applies(cost) and wide_ep_lockstep.applies(
        build_iteration_cost(V3, H200.accelerator, H200.fabric, WIDE))
    arrival, prompt, steps = _chat(64, 4.0, 1)
    calls: list[IterationCost] = []

    def once(c, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(c)
        return run_pool(c, *args, **kwargs)

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
