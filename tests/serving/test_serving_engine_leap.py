"""The engine's closed-form leap over pure-decode stretches (issue 18) against the one-by-one loop (`jump=False`).

Both must give every request the same TTFT, TPOT and finish time (1e-9 relative) and run the same iterations, on
seeded online, offline and closed-loop workloads, under both schedulers and both KV admission policies (with
preemptions), a decode-only engine (prompts already cached) and a cost with a per-finish term (diffusion).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_loader import load_workload
from infraplan.network.collectives import Fabric
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.serving_engine import EngineResult, simulate_engine
from infraplan.serving.workloads import workload_requests

SYSTEM = load_system("dgx-h100-superpod")
ACC = load_accelerator(SYSTEM.accelerator)
COST = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYSTEM, ACC),
                            Deployment(max_batch=64, token_budget=8192))

CASES = {  # name: (requests/s or None for all at t = 0, max batch, token budget, KV blocks, clients, seed)
    "online, busy": (40.0, 64, 2048, 100_000, 0, 1),
    "online, light": (2.0, 64, 2048, 100_000, 0, 2),
    "offline": (None, 64, 8192, 100_000, 0, 3),
    "closed loop": (None, 64, 2048, 100_000, 24, 4),
    "KV-bound": (40.0, 32, 512, 3_000, 0, 5),
    "KV-bound, closed loop": (5.0, 64, 2048, 3_000, 24, 2),  # clients start over time, behind a full cache
}


def both(case: str, scheduler: str, admission: str, per_finish_s: float = 0.0,
         decode_only: bool = False) -> tuple[EngineResult, EngineResult, np.ndarray]:
    rate, max_batch, budget, blocks, clients, seed = CASES[case]
    req = workload_requests(load_workload("chat"), 600, rate, seed=seed)
    zeros = np.zeros_like(req.input_tokens)
    prefill, cached = (zeros, req.input_tokens) if decode_only else (req.input_tokens, zeros)
    steps = req.output_tokens - 1
    cost = replace(COST, per_finish_s=per_finish_s)
    args = (cost, req.arrival_s.astype(float), prefill, cached, steps, max_batch, budget, blocks, 16)
    leap, stepped = (simulate_engine(*args, jump=j, clients=clients, scheduler=scheduler, kv_admission=admission)
                     for j in (True, False))
    return leap, stepped, steps


def assert_same_times(leap: EngineResult, stepped: EngineResult, steps: np.ndarray,
                      decode_only: bool = False) -> None:
    assert (leap.iterations, leap.preemptions, leap.recomputed_tokens) == (
        stepped.iterations, stepped.preemptions, stepped.recomputed_tokens)
    assert stepped.leapt_iterations == 0
    np.testing.assert_allclose(leap.arrival_s, stepped.arrival_s, rtol=1e-9)  # closed loop: an output
    assert leap.busy_s == pytest.approx(stepped.busy_s, rel=1e-9)
    assert leap.compute_s == pytest.approx(stepped.compute_s, rel=1e-9)
    assert np.isfinite(leap.finish_s).all()
    np.testing.assert_allclose(leap.finish_s, stepped.finish_s, rtol=1e-9)
    if decode_only:  # the first token came from the prefill pool
        return
    assert np.isfinite(leap.first_token_s).all()
    np.testing.assert_allclose(leap.first_token_s - leap.arrival_s, stepped.first_token_s - stepped.arrival_s,
                               rtol=1e-9)  # TTFT
    multi = steps > 0
    tpot = [(r.finish_s[multi] - r.first_token_s[multi]) / steps[multi] for r in (leap, stepped)]
    np.testing.assert_allclose(tpot[0], tpot[1], rtol=1e-9)


@pytest.mark.parametrize("admission", ["reserve_full", "on_demand"])
@pytest.mark.parametrize("scheduler", ["fcfs", "prefill-first"])
@pytest.mark.parametrize("case", list(CASES))
def test_leap_gives_every_request_the_times_of_the_one_by_one_loop(case: str, scheduler: str,
                                                                   admission: str) -> None:
    leap, stepped, steps = both(case, scheduler, admission)
    assert_same_times(leap, stepped, steps)
    if admission == "on_demand" and case.startswith("KV-bound") and scheduler == "fcfs":
        # the leap stopped at block shortages and the preemptions matched (SGLang's prefill-first keeps room for the
        # outputs to come, `serving.output_reserve`, and may preempt none: its leaps stop where the reserve opens)
        assert leap.preemptions > 0
    if case != "offline":
        # most iterations are advanced in closed form: the loop runs per event, not per iteration
        assert leap.leapt_iterations > 0.5 * leap.iterations


@pytest.mark.parametrize("scheduler", ["fcfs", "prefill-first"])
def test_leap_with_a_per_finish_cost_and_on_a_decode_only_engine(scheduler: str) -> None:
    # a completion's extra cost (the diffusion decoder) lands on the iteration the leap stops before
    assert_same_times(*both("online, busy", scheduler, "reserve_full", per_finish_s=3e-3))
    # disaggregated decode pool: requests arrive with their prompt cached and join the decode batch at once
    assert_same_times(*both("online, busy", scheduler, "reserve_full", decode_only=True), decode_only=True)
    assert_same_times(*both("KV-bound", scheduler, "on_demand", decode_only=True), decode_only=True)


def test_leap_stops_at_an_arrival_inside_a_long_decode_stretch() -> None:
    # one long request decoding alone; a second arrives mid-stretch and must start at the iteration after it
    # arrives, so its first token lands within one iteration (plus its own prefill) of the arrival
    arrival = np.array([0.0, 1.2345])
    prompt, steps = np.array([100, 100]), np.array([2000, 10])
    zeros = np.zeros(2, dtype=np.int64)
    leap, stepped = (simulate_engine(COST, arrival, prompt, zeros, steps, 64, 2048, 100_000, 16, jump=j)
                     for j in (True, False))
    assert_same_times(leap, stepped, steps)
    iteration_s = (leap.finish_s[0] - leap.first_token_s[0]) / steps[0]
    assert 0.0 < leap.first_token_s[1] - arrival[1] < 3.0 * iteration_s
    assert leap.leapt_iterations > 0.9 * leap.iterations
