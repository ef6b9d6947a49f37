"""The engine's specialised FCFS / reserve-full loop (`serving.fcfs_loop`, issue 18 speed) gives bit-identical
results to the general loop on the same policy (forced by calling the policy's methods), engine by engine and for
whole deployments: online, offline, closed loop (with empty requests), KV-bound queues, chunked prompts, a
per-finish cost, decode-only and prefill-only pools, and disaggregated serving; and on-demand KV admission where
the cache never binds."""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_loader import load_workload
from infraplan.cluster import Cluster
from infraplan.network.collectives import Fabric
from infraplan.serving import serving_sim
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.schedulers import FcfsScheduler, PrefillEntry
from infraplan.serving.serving_engine import EngineResult, fcfs_engine, simulate_engine
from infraplan.serving.workloads import workload_requests

SYSTEM = load_system("dgx-h100-superpod")
ACC = load_accelerator(SYSTEM.accelerator)
COST = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYSTEM, ACC),
                            Deployment(max_batch=64, token_budget=8192))


class General(FcfsScheduler):
    """FCFS through its methods: the engine runs its general loop (not the specialised one) on the same policy."""

    def pick(self, waiting: deque[int], need: list[int], free: int) -> int | None:
        return super().pick(waiting, need, free)

    def schedule_prefill(self, prefill: deque[PrefillEntry], budget: int) -> tuple[int, float, list[int]]:
        return super().schedule_prefill(prefill, budget)


def assert_bitwise(fast: EngineResult, general: EngineResult) -> None:
    for got, want in ((fast.first_token_s, general.first_token_s), (fast.finish_s, general.finish_s),
                      (fast.arrival_s, general.arrival_s)):
        assert np.array_equal(got, want, equal_nan=True)  # bit for bit, not approximately
    assert (fast.busy_s, fast.compute_s, fast.iterations, fast.leapt_iterations) == (
        general.busy_s, general.compute_s, general.iterations, general.leapt_iterations)


CASES = {  # name: (requests/s or None for all at t = 0, max batch, token budget, KV blocks, clients, seed)
    "online, busy": (40.0, 64, 2048, 100_000, 0, 1),
    "online, light (idle gaps)": (0.5, 64, 2048, 100_000, 0, 2),
    "offline": (None, 64, 8192, 100_000, 0, 3),
    "chunked prompts": (20.0, 16, 256, 100_000, 0, 4),
    "closed loop": (None, 64, 2048, 100_000, 24, 5),
    "KV-bound queue": (40.0, 32, 512, 3_000, 0, 6),
    "KV-bound, closed loop": (5.0, 64, 2048, 3_000, 24, 7),
    "batch of one": (10.0, 1, 2048, 100_000, 0, 8),
}


@pytest.mark.parametrize("per_finish_s", [0.0, 2e-4], ids=["llm", "per-finish cost"])
@pytest.mark.parametrize("case", list(CASES))
def test_specialised_loop_equals_the_general_loop_bitwise(case: str, per_finish_s: float) -> None:
    rate, max_batch, budget, blocks, clients, seed = CASES[case]
    req = workload_requests(load_workload("chat"), 500, rate, seed=seed)
    steps = req.output_tokens - 1
    steps[::5] = 0  # one-token outputs end at their prefill
    zeros = np.zeros_like(steps)
    cost = replace(COST, per_finish_s=per_finish_s)
    args = (cost, req.arrival_s, req.input_tokens, zeros, steps, max_batch, budget, blocks, 16)
    fast = simulate_engine(*args, clients=clients)
    general = simulate_engine(*args, clients=clients, scheduler=General())
    assert np.isfinite(fast.finish_s).all() and fast.leapt_iterations > 0
    assert_bitwise(fast, general)


@pytest.mark.parametrize("case", list(CASES))
def test_eager_iterations_floored_alike_in_both_loops(case: str) -> None:
    """Iterations above a capture cap of 32 tokens wait for an 8 ms host issue time (`serving.host_overhead`):
    prefill, mixed and decode iterations, floored where each loop sums them, bit for bit alike."""
    rate, max_batch, budget, blocks, clients, seed = CASES[case]
    req = workload_requests(load_workload("chat"), 300, rate, seed=seed)
    steps = req.output_tokens - 1
    zeros = np.zeros_like(steps)
    cost = replace(COST, host_issue_s=8e-3, eager_above_tokens=32, eager_prefill_above_tokens=32)
    args = (cost, req.arrival_s, req.input_tokens, zeros, steps, max_batch, budget, blocks, 16)
    fast = simulate_engine(*args, clients=clients)
    assert_bitwise(fast, simulate_engine(*args, clients=clients, scheduler=General()))
    graphed = simulate_engine(COST, *args[1:], clients=clients)
    assert fast.busy_s > graphed.busy_s  # the floor binds somewhere


@pytest.mark.parametrize("pool", ["decode-only", "prefill-only", "empty requests, closed loop"])
def test_specialised_loop_on_pools_and_empty_requests(pool: str) -> None:
    req = workload_requests(load_workload("chat"), 400, 30.0, seed=9)
    zeros = np.zeros_like(req.input_tokens)
    prompt, cached, steps, clients = req.input_tokens, zeros, req.output_tokens - 1, 0
    if pool == "decode-only":  # the prompt's KV cache arrives from a prefill pool
        prompt, cached = zeros, req.input_tokens
    elif pool == "prefill-only":
        steps = zeros
    else:  # requests with nothing to compute end on admission; their clients' next requests queue behind
        prompt, steps, clients = prompt.copy(), steps.copy(), 16
        prompt[::3] = 0
        steps[::3] = 0
    args = (COST, req.arrival_s, prompt, cached, steps, 64, 2048, 100_000, 16)
    assert_bitwise(simulate_engine(*args, clients=clients),
                   simulate_engine(*args, clients=clients, scheduler=General()))


def test_a_request_larger_than_the_cache_is_refused_by_both_loops() -> None:
    args = (COST, np.zeros(1), np.array([4096]), np.zeros(1, dtype=np.int64), np.array([10]), 64, 8192, 10, 16)
    for scheduler in ("fcfs", General()):
        with pytest.raises(ValueError, match="needs 257 KV blocks"):
            simulate_engine(*args, scheduler=scheduler)


@pytest.mark.parametrize("kind", ["online", "closed loop", "disaggregated"])
def test_deployment_results_are_identical_through_either_loop(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = Cluster.resolve("dgx-h100-superpod")
    shape = load_model("llama3-8b")
    dep = Deployment(tp=1, replicas=4, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=4096)
    req = workload_requests(load_workload("chat"), 2_000, 60.0, seed=11)
    kw: dict[str, Any] = {"ttft_slo_s": 1.0, "tpot_slo_s": 0.05, "usd_per_hour": 2.0}
    if kind == "closed loop":
        kw["clients"] = 48
    if kind == "disaggregated":
        kw["prefill_replicas"] = 1
    fast = serving_sim.simulate_deployment(shape, cluster, dep, req, **kw)
    engine = serving_sim.simulate_engine

    def general(*args: Any, **kwargs: Any) -> EngineResult:
        assert kwargs.pop("scheduler") == "fcfs" and kwargs["kv_admission"] == "reserve_full"
        return engine(*args, scheduler=General(), **kwargs)

    monkeypatch.setattr(serving_sim, "simulate_engine", general)
    assert fast["fits"] and repr(serving_sim.simulate_deployment(shape, cluster, dep, req, **kw)) == repr(fast)


def test_an_engine_without_requests_returns_empty_results() -> None:
    empty = np.zeros(0, dtype=np.int64)
    r = simulate_engine(COST, np.zeros(0), empty, empty, empty, 64, 2048, 1_000, 16)
    assert (r.first_token_s.size, r.finish_s.size, r.iterations, r.busy_s) == (0, 0, 0, 0.0)


@pytest.mark.parametrize("case", list(CASES))
def test_on_demand_admission_runs_the_specialised_loop_while_the_cache_never_binds(case: str) -> None:
    """On-demand KV admission (vLLM) takes the specialised loop until an admission finds too few free blocks; the
    results equal the general on-demand loop's bit for bit either way (with its preemptions where the cache binds)."""
    rate, max_batch, budget, blocks, clients, seed = CASES[case]
    req = workload_requests(load_workload("chat"), 500, rate, seed=seed)
    steps = req.output_tokens - 1
    steps[::5] = 0
    zeros = np.zeros_like(steps)
    args = (COST, req.arrival_s, req.input_tokens, zeros, steps, max_batch, budget, blocks, 16)
    fast = simulate_engine(*args, clients=clients, kv_admission="on_demand")
    general = simulate_engine(*args, clients=clients, kv_admission="on_demand", scheduler=General())
    assert_bitwise(fast, general)
    assert (fast.preemptions, fast.recomputed_tokens) == (general.preemptions, general.recomputed_tokens)
    specialised = fcfs_engine(*args, clients, stop_if_kv_binds=True)
    assert (specialised is None) == ("KV-bound" in case)  # a plentiful cache never binds; a small one does
