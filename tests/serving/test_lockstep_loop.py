"""The lock-step engine loop (`serving.lockstep_loop`): one rank is the engine loop; ranks step together."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import lockstep_loop, routed_experts, wide_ep_lockstep
from infraplan.serving.client_loop import closed_loop_engine
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.lockstep_loop import lockstep_replica
from infraplan.serving.pair_loop import PoolSpec
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.serving_sim import pool_memory

H200 = Cluster.resolve("hgx-h200")
V3 = load_model("deepseek-v3")


def _dep(speculative: int = 0) -> Deployment:
    return Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=8192,
                      engine="sglang", stack="sglang-0.x", speculative_tokens=speculative,
                      acceptance=0.7 if speculative else 0.0)


def _requests(n: int, rate: float, seed: int, dep: Deployment) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrival = np.cumsum(rng.exponential(1.0 / rate, n)) if rate else np.zeros(n)
    return arrival, rng.integers(200, 3000, n), dep.decode_steps(rng.integers(2, 400, n))


@pytest.mark.parametrize(("scheduler", "admission", "speculative", "rate", "clients", "round_trip_s"), [
    ("prefill-first", "on_demand", 0, 3.0, 0, 0.0), ("prefill-first", "on_demand", 2, 0.0, 0, 0.0),
    ("prefill-first", "reserve_full", 0, 3.0, 20, 0.0), ("prefill-first", "on_demand", 2, 3.0, 20, 1e-3),
    ("fcfs", "reserve_full", 2, 3.0, 0, 0.0), ("fcfs", "on_demand", 0, 3.0, 20, 1e-3),
    ("fcfs", "reserve_full", 2, 3.0, 20, 0.0), ("sglang-adder", "on_demand", 0, 0.0, 0, 0.0)])
def test_one_rank_is_the_engine_loop(scheduler: str, admission: str, speculative: int, rate: float, clients: int,
                                     round_trip_s: float) -> None:
    """Same policy, KV admission, drafts and closed loop: the engine loop's token times to rounding, its busy time."""
    dep = _dep(speculative)
    cost = wide_ep_lockstep.with_others(build_iteration_cost(V3, H200.accelerator, H200.fabric, dep), 0.0)
    blocks = pool_memory(V3, H200.accelerator, dep)[0].blocks
    arrival, prompt, steps = _requests(300, rate, 1, dep)
    cached = np.zeros_like(prompt)
    if round_trip_s:
        alone = closed_loop_engine(PoolSpec(cost, dep, blocks, 1, scheduler, admission), arrival, prompt, cached,
                                   steps, clients, round_trip_s)
    else:
        alone = simulate_engine(cost, arrival, prompt, cached, steps, dep.max_batch, dep.token_budget, blocks,
                                dep.block_tokens, scheduler=scheduler, clients=clients, kv_admission=admission)
    ranked = lockstep_replica(cost, arrival, prompt, cached, steps, np.zeros(300, dtype=int), 1, dep.max_batch,
                              dep.token_budget, blocks, dep.block_tokens, scheduler, admission, clients, round_trip_s)
    np.testing.assert_allclose(ranked.first_token_s, alone.first_token_s, rtol=1e-9)
    np.testing.assert_allclose(ranked.finish_s, alone.finish_s, rtol=1e-9)
    np.testing.assert_allclose(ranked.arrival_s, alone.arrival_s, rtol=1e-9)
    assert ranked.busy_s == pytest.approx(alone.busy_s, rel=1e-9)
    assert ranked.iterations == alone.iterations


def test_ranks_in_phase_run_as_one_and_out_of_phase_wait_for_the_slowest() -> None:
    """A burst of equal requests: every rank is the lone engine. Mixed prompts: a rank's decode iterations last
    as long as the other ranks' prefills, so its TPOT exceeds the lone engine's."""
    dep = _dep()
    cost = wide_ep_lockstep.with_others(build_iteration_cost(V3, H200.accelerator, H200.fabric, dep), 0.0)
    blocks = pool_memory(V3, H200.accelerator, dep)[0].blocks
    zeros = np.zeros(8 * 20, dtype=np.int64)
    arrival, prompt, steps = np.zeros(160), np.full(160, 1500), np.full(160, 300)
    ranked = lockstep_replica(cost, arrival, prompt, zeros, steps, np.arange(160) % 8, 8, dep.max_batch,
                              dep.token_budget, blocks, dep.block_tokens, "prefill-first", "on_demand")
    alone = simulate_engine(cost, arrival[::8], prompt[::8], zeros[::8], steps[::8], dep.max_batch, dep.token_budget,
                            blocks, dep.block_tokens, scheduler="prefill-first", kv_admission="on_demand")
    np.testing.assert_allclose(ranked.finish_s, np.repeat(alone.finish_s, 8), rtol=1e-9)
    assert ranked.busy_s == pytest.approx(8 * alone.busy_s, rel=1e-9)
    arrival, prompt, steps = _requests(160, 2.0, 3, dep)
    ranked = lockstep_replica(cost, arrival, prompt, zeros, steps, np.arange(160) % 8, 8, dep.max_batch,
                              dep.token_budget, blocks, dep.block_tokens, "prefill-first", "on_demand")
    tpot = (ranked.finish_s - ranked.first_token_s) / steps
    for rank in range(8):
        alone = simulate_engine(cost, arrival[rank::8], prompt[rank::8], zeros[rank::8], steps[rank::8],
                                dep.max_batch, dep.token_budget, blocks, dep.block_tokens, scheduler="prefill-first",
                                kv_admission="on_demand")
        assert np.mean(tpot[rank::8]) > 1.2 * np.mean((alone.finish_s - alone.first_token_s) / steps[rank::8])


@pytest.mark.parametrize("scheduler", ["fcfs", "prefill-first"])
def test_a_rank_short_of_kv_blocks_preempts_as_the_engine_loop(scheduler: str) -> None:
    """On-demand KV: one rank of 3,000 blocks preempts and recomputes exactly as the engine loop (the same requests,
    times and counts); eight such ranks in lock-step preempt too and finish every request later than with room.
    Under SGLang's prefill-first its output reserve (`serving.output_reserve`) admits as the engine loop's does, and
    holds back the prompts that "fcfs" lets in and preempts (hV68)."""
    dep = _dep()
    cost = wide_ep_lockstep.with_others(build_iteration_cost(V3, H200.accelerator, H200.fabric, dep), 0.0)
    arrival, prompt, steps = _requests(300, 0.0, 1, dep)
    zeros = np.zeros_like(prompt)
    alone = simulate_engine(cost, arrival, prompt, zeros, steps, dep.max_batch, dep.token_budget, 3000,
                            dep.block_tokens, scheduler=scheduler, kv_admission="on_demand")
    ranked = lockstep_replica(cost, arrival, prompt, zeros, steps, np.zeros(300, dtype=int), 1, dep.max_batch,
                              dep.token_budget, 3000, dep.block_tokens, scheduler, "on_demand")
    assert (alone.preemptions > 10 if scheduler == "fcfs" else alone.preemptions < 10)
    assert (ranked.preemptions, ranked.recomputed_tokens) == (alone.preemptions, alone.recomputed_tokens)
    np.testing.assert_allclose(ranked.first_token_s, alone.first_token_s, rtol=1e-9)
    np.testing.assert_allclose(ranked.finish_s, alone.finish_s, rtol=1e-9)
    arrival, prompt, steps = _requests(480, 0.0, 4, dep)
    zeros = np.zeros_like(prompt)
    short, ample = (lockstep_replica(cost, arrival, prompt, zeros, steps, np.arange(480) % 8, 8, dep.max_batch,
                                     dep.token_budget, blocks, dep.block_tokens, "fcfs", "on_demand")
                    for blocks in (600, 10**6))
    assert short.preemptions > 0 and ample.preemptions == 0 and np.all(np.isfinite(short.finish_s))
    assert np.max(short.finish_s) > np.max(ample.finish_s)


def test_a_lone_prefill_shares_its_routed_experts_over_the_ranks(monkeypatch: pytest.MonkeyPatch) -> None:
    """One 2,000-token prompt on rank 0 of 8, the rest idle: the iteration is the rank's own time less its
    routed-expert GEMMs, plus those GEMMs at the ranks' mean 250 tokens (DeepEP sends its routed copies to every
    expert's GPU); with `SHARED_EXPERTS` off, the rank's own time (the tables' balanced ranks)."""
    dep = _dep()
    cost = wide_ep_lockstep.with_others(build_iteration_cost(V3, H200.accelerator, H200.fabric, dep), 0.0)
    routed = cost.extra["routed_s"]
    assert 0 < routed[2000] < cost.body_s[2000] and routed[0] == 0.0
    one = (np.zeros(1), np.array([2000]), np.zeros(1, dtype=np.int64), np.array([0]))
    own = float(cost.time(2000, 0, 0, 2000 * 2001 / 2, rows=1))

    def first_token_s() -> float:
        return float(lockstep_replica(cost, *one[:3], np.zeros(1, dtype=np.int64), one[3], 8, dep.max_batch,
                                      dep.token_budget, 10**6, dep.block_tokens, "prefill-first",
                                      "on_demand").first_token_s[0])

    assert first_token_s() == pytest.approx(own - routed[2000] + routed[250], rel=1e-12)
    monkeypatch.setattr(lockstep_loop, "SHARED_EXPERTS", False)
    assert first_token_s() == pytest.approx(own, rel=1e-12)


def test_the_routed_share_holds_the_fused_moe_kernels_terms(monkeypatch: pytest.MonkeyPatch) -> None:
    """`extra["routed_s"]` is every routed-expert second of `body_s`: a stack's fused-MoE terms
    (`routed_experts.release_moe_time`, `mxfp4_moe_token_time`) beside the GEMMs, so a lock-step iteration prices
    them on the ranks' mean tokens too (hR review: they stayed on the rank's own tokens)."""
    dep = _dep()
    base = build_iteration_cost(V3, H200.accelerator, H200.fabric, dep)
    monkeypatch.setattr(routed_experts, "release_moe_time",
                        lambda shape, acc, stack, depth, m: np.where(m > 0, 2e-5 + 1e-7 * m, 0.0))
    more = build_iteration_cost(V3, H200.accelerator, H200.fabric, dep)
    added = more.body_s - base.body_s
    assert added[0] == 0.0 and added[2000] > added[10] > 0.0
    np.testing.assert_allclose(more.extra["routed_s"] - base.extra["routed_s"], added, rtol=1e-9, atol=1e-15)
