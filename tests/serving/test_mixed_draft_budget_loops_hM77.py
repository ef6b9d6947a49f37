"""hM77 mutation wave on hL76's 1 + K budget tokens a decoding sequence takes (`IterationCost.budget_tokens`): each
loop charges them. hL76's test reaches the FCFS loop for vLLM too (on-demand KV that never binds runs there,
`loop_stepping.fcfs_path`), so the general loop's and the lock-step loop's charge went unchecked: dropped, the
answers there were those of 1 token a sequence while the FCFS loop's charged 1 + K."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tests.serving.test_lockstep_loop import H200, V3, _dep, _requests
from tests.serving.test_serving_engine_fcfs_loop import COST, General, assert_bitwise

from infraplan.catalog.serving_loader import load_workload
from infraplan.serving import wide_ep_lockstep
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.lockstep_loop import lockstep_replica
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.serving_sim import pool_memory
from infraplan.serving.workloads import workload_requests


def test_the_general_loop_charges_a_decoding_sequences_budget_tokens_as_the_fcfs_loop() -> None:
    """Chunked prompts (batch 16, budget 256) at 4 budget tokens a decoding sequence: both loops bit for bit, and
    the prompts' chunks smaller than at 1 token (first tokens later)."""
    req = workload_requests(load_workload("chat"), 400, 20.0, seed=4)
    steps, zeros = req.output_tokens - 1, np.zeros_like(req.output_tokens)
    cost = replace(COST, budget_tokens=4)
    args = (cost, req.arrival_s, req.input_tokens, zeros, steps, 16, 256, 100_000, 16)
    fast = simulate_engine(*args)
    assert_bitwise(fast, simulate_engine(*args, scheduler=General()))
    one = simulate_engine(COST, *args[1:])
    waits = [float(np.mean(r.first_token_s - r.arrival_s)) for r in (fast, one)]
    assert waits[0] > 1.02 * waits[1]


@pytest.mark.parametrize("admission", ["reserve_full", "on_demand"])
def test_one_lockstep_rank_charges_the_budget_tokens_as_the_engine_loop(admission: str) -> None:
    """DeepSeek-V3 with 2 drafts (3 budget tokens a decoding sequence) at a 512-token budget, FCFS mixed
    iterations: one rank of the lock-step loop is the engine loop, token times to rounding."""
    dep = replace(_dep(2), token_budget=512)
    cost = wide_ep_lockstep.with_others(build_iteration_cost(V3, H200.accelerator, H200.fabric, dep), 0.0)
    assert cost.budget_tokens == 3
    blocks = pool_memory(V3, H200.accelerator, dep)[0].blocks
    arrival, prompt, steps = _requests(300, 3.0, 1, dep)
    cached = np.zeros_like(prompt)
    alone = simulate_engine(cost, arrival, prompt, cached, steps, dep.max_batch, dep.token_budget, blocks,
                            dep.block_tokens, scheduler="fcfs", kv_admission=admission)
    ranked = lockstep_replica(cost, arrival, prompt, cached, steps, np.zeros(300, dtype=int), 1, dep.max_batch,
                              dep.token_budget, blocks, dep.block_tokens, "fcfs", admission, 0, 0.0)
    np.testing.assert_allclose(ranked.first_token_s, alone.first_token_s, rtol=1e-9)
    np.testing.assert_allclose(ranked.finish_s, alone.finish_s, rtol=1e-9)
    assert ranked.iterations == alone.iterations
