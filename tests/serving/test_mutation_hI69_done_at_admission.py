"""Found by hI69's wave: on on-demand KV a request done at its admission (its KV arrived whole and it has no decode
step: a decode pool's one-token output) stayed in the preemption order as running. A later preemption took it for
the newest running request: it was requeued and its prompt blocks given back a second time; the loop then stopped
with "request 108 needs 237 KV blocks, the engine has 235" (stepped; 0 leapt) on 3,000 blocks with nothing running
(`engine_loop.engine_steps`, `lockstep_loop.lockstep_replica`: it is no longer live once done)."""

from __future__ import annotations

import numpy as np
import pytest
from test_lockstep_loop import H200, V3, _dep
from test_serving_engine_leap import COST

from infraplan.serving import wide_ep_lockstep
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.lockstep_loop import lockstep_replica
from infraplan.serving.serving_engine import simulate_engine


def _decode_pool(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrivals at 40/s with their prompt's KV (100-900 tokens), 10 % of them one output token (no decode step)."""
    rng = np.random.default_rng(seed)
    arrival = np.cumsum(rng.exponential(1 / 40.0, n))
    steps = rng.integers(50, 600, n) + 4500 * (rng.random(n) < 0.1)
    return arrival, rng.integers(100, 900, n), np.where(rng.random(n) < 0.1, 0, steps)


@pytest.mark.parametrize("scheduler", ["fcfs", "prefill-first"])
def test_a_request_done_at_admission_is_never_preempted(scheduler: str) -> None:
    arrival, cached, steps = _decode_pool(5, 300)
    zeros = np.zeros(300, np.int64)
    runs = [simulate_engine(COST, arrival, zeros, cached, steps, 64, 2048, 3_000, 16, jump=jump,
                            scheduler=scheduler, kv_admission="on_demand") for jump in (True, False)]
    for r in runs:
        assert r.preemptions > 0 and np.all(np.isfinite(r.finish_s))
        done_at_once = steps == 0
        np.testing.assert_array_equal(r.first_token_s[done_at_once], r.finish_s[done_at_once])
    assert runs[0].preemptions == runs[1].preemptions
    np.testing.assert_allclose(runs[0].finish_s, runs[1].finish_s, rtol=1e-9)


def test_one_lockstep_rank_is_the_engine_loop_on_a_decode_pool() -> None:
    dep = _dep()
    cost = wide_ep_lockstep.with_others(build_iteration_cost(V3, H200.accelerator, H200.fabric, dep), 0.0)
    arrival, cached, steps = _decode_pool(6, 200)
    zeros = np.zeros(200, np.int64)
    alone = simulate_engine(cost, arrival, zeros, cached, steps, dep.max_batch, dep.token_budget, 600,
                            dep.block_tokens, scheduler="fcfs", kv_admission="on_demand")
    ranked = lockstep_replica(cost, arrival, zeros, cached, steps, np.zeros(200, dtype=int), 1, dep.max_batch,
                              dep.token_budget, 600, dep.block_tokens, "fcfs", "on_demand")
    assert alone.preemptions > 0 and ranked.preemptions == alone.preemptions
    np.testing.assert_allclose(ranked.finish_s, alone.finish_s, rtol=1e-9)
