"""Coverage wave hM15 (session 42): lock-step loop branches no test reached (`serving.lockstep_loop`).

Oracle: one rank of the lock-step loop is the engine loop (`serving_engine.simulate_engine`, module docstring), so
each branch is checked against the engine loop on inputs that reach it, plus a hand limit where one exists: a
decode-only engine (disaggregated decode: prompt already in the KV cache, `simulate_engine`'s docstring), a request
with no decode step, a per-finish host term, a prefilling request preempted under on-demand KV admission, a request
larger than the whole cache."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import wide_ep_lockstep
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.lockstep_loop import lockstep_replica
from infraplan.serving.serving_engine import simulate_engine

H200 = Cluster.resolve("hgx-h200")
V3 = load_model("deepseek-v3")
DEP = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=8192,
                 engine="sglang", stack="sglang-0.x")
BT = DEP.block_tokens
COST = wide_ep_lockstep.with_others(build_iteration_cost(V3, H200.accelerator, H200.fabric, DEP), 0.0)


def _both(cost, arrival, prompt, cached, steps, blocks, scheduler="fcfs", admission="reserve_full", ranks=1):
    alone = simulate_engine(cost, arrival, prompt, cached, steps, DEP.max_batch, DEP.token_budget, blocks,
                            BT, scheduler=scheduler, kv_admission=admission)
    ranked = lockstep_replica(cost, arrival, prompt, cached, steps, np.zeros(len(arrival), dtype=int), ranks,
                              DEP.max_batch, DEP.token_budget, blocks, DEP.block_tokens, scheduler, admission)
    return alone, ranked


def _same(alone, ranked) -> None:
    np.testing.assert_allclose(ranked.first_token_s, alone.first_token_s, rtol=1e-9)
    np.testing.assert_allclose(ranked.finish_s, alone.finish_s, rtol=1e-9)
    assert ranked.busy_s == pytest.approx(alone.busy_s, rel=1e-9)
    assert ranked.iterations == alone.iterations


@pytest.mark.parametrize("admission", ["reserve_full", "on_demand"])
def test_decode_only_requests_start_decoding_on_arrival(admission: str) -> None:
    """Prompts already cached (a disaggregated decode engine): no prefill, the first token at admission, which is
    the arrival on an idle engine; then the engine loop's decode."""
    rng = np.random.default_rng(7)
    n = 40
    arrival = np.cumsum(rng.exponential(0.5, n))
    cached = rng.integers(200, 3000, n)
    steps = rng.integers(1, 200, n)
    alone, ranked = _both(COST, arrival, np.zeros(n, dtype=np.int64), cached, steps, 10**6, admission=admission)
    _same(alone, ranked)
    assert ranked.first_token_s[0] == arrival[0]  # nothing to prefill, an idle engine: the token on arrival
    assert np.all(ranked.first_token_s >= arrival) and np.all(ranked.finish_s > ranked.first_token_s)


def test_a_request_with_nothing_to_do_ends_on_arrival() -> None:
    """No prompt to compute and no decode step (a one-token answer to a cached prompt): it ends when admitted, with
    nothing priced, and gives its blocks back; mixed with decoding requests, the others are the engine loop's. The
    cache holds one request at a time (35 blocks of 16 tokens: 500 cached + 50 steps + 1), so a request that kept
    its blocks would leave none for the next."""
    n = 6
    arrival = np.array([0.0, 0.0, 0.01, 0.02, 5.0, 5.0])
    cached = np.full(n, 500)
    steps = np.array([50, 0, 50, 0, 0, 0])
    assert BT == 16
    alone, ranked = _both(COST, arrival, np.zeros(n, dtype=np.int64), cached, steps, 35)
    _same(alone, ranked)
    idle = steps == 0
    late = arrival >= 5.0
    np.testing.assert_array_equal(ranked.finish_s[late], arrival[late])  # an idle engine: ends as it arrives
    np.testing.assert_array_equal(ranked.first_token_s[idle], ranked.finish_s[idle])
    assert ranked.iterations == alone.iterations


def test_per_finish_host_term_adds_its_seconds_per_finished_request() -> None:
    """A per-finish host cost (`IterationCost.per_finish_s`): one rank is the engine loop with it; every request that
    ends in a decode iteration lengthens that iteration by the term, so a request ends the terms of every finish up
    to its own iteration later: 16 prompts of 1,000 tokens under an 8,192-token budget prefill 8 per
    iteration, so the first 8 finish together (8 terms later) and the last 8 one iteration after them (16 terms)."""
    n = 16
    arrival, prompt, cached = np.zeros(n), np.full(n, 1000), np.zeros(n, dtype=np.int64)
    steps = np.full(n, 30)
    term = 1e-3
    with_term = replace(COST, per_finish_s=term)
    alone, ranked = _both(with_term, arrival, prompt, cached, steps, 10**6)
    _same(alone, ranked)
    _, plain = _both(COST, arrival, prompt, cached, steps, 10**6)
    np.testing.assert_allclose(ranked.finish_s - plain.finish_s, np.repeat([8 * term, 16 * term], 8), rtol=1e-9)
    np.testing.assert_allclose(ranked.first_token_s, plain.first_token_s, rtol=1e-12)


def _blocks(tokens: list[int]) -> int:
    return sum(-(-t // BT) for t in tokens)


@pytest.mark.parametrize(("arrival", "prompt", "cached", "steps", "spare"), [
    # 16 decoders at every block residue, a 30,000-token prompt (2,000 of it cached) admitted with them into the last
    # free block: the first decode step that starts a block finds none free while the long prompt is still being
    # prefilled; preempted, its cached prefix is lost with its blocks and recomputed too
    ([0.0] * 17, [100 + i for i in range(16)] + [28000], [0] * 16 + [2000], [3000] * 16 + [10], 0),
    # 8 decoders, then a long prompt and a one-token request: the short one has ended (its admission entry stale)
    # when the decoders' growth needs a block, so the newest live request is preempted past it
    ([0.0] * 8 + [0.2, 0.2001], [100] * 8 + [30000, 50], [0] * 10, [3000] * 8 + [10, 1], 3),
])
def test_preemption_under_on_demand_kv(arrival, prompt, cached, steps, spare) -> None:
    """On-demand KV with too few blocks under mixed (fcfs) iterations: the newest running request is preempted and
    its prompt (and output so far) recomputed, as the engine loop does it: the same times, preemptions and
    recomputed tokens."""
    blocks = _blocks([p + c for p, c in zip(prompt, cached, strict=True)]) + spare
    alone, ranked = _both(COST, np.array(arrival), np.array(prompt), np.array(cached), np.array(steps),
                          blocks, admission="on_demand")
    _same(alone, ranked)
    assert ranked.preemptions == alone.preemptions > 0
    assert ranked.recomputed_tokens == alone.recomputed_tokens > 0


def test_a_request_larger_than_the_cache_is_refused() -> None:
    """A request whose prompt alone needs more blocks than the engine has can never start: a clear error naming
    its blocks, not an endless loop."""
    need = -(-5000 // DEP.block_tokens)
    with pytest.raises(ValueError, match=f"request 0 needs {need} KV blocks, the engine has {need - 1}"):
        lockstep_replica(COST, np.zeros(1), np.array([5000]), np.zeros(1, dtype=np.int64), np.array([10]),
                         np.zeros(1, dtype=int), 1, DEP.max_batch, DEP.token_budget, need - 1, DEP.block_tokens,
                         "fcfs", "on_demand")
