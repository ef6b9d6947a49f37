"""The closed loop's client cycle (`serving.client_loop.client_cycle`, `next_request_s`): Little's law.

N clients with no think time, each sending its next request when it has read its last response, give N = X x E2E
(X requests/s, E2E the mean end-to-end latency the client sees). The reported latencies hold the stack's front end
and a schedule-ahead loop's lag; with both in the cycle (`FRONT_END_IN_CYCLE`, `LAG_IN_CYCLE`) the loop agrees with
them. Before session 34 (hL) they were added after the loop only: X x E2E / N up to 1.22 (SGLang, Llama 3 8B, MTP,
8 clients, 512/256) and 1.50 (one client, 128/64).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import client_loop, request_intake, wide_ep_lockstep
from infraplan.serving.client_loop import closed_loop_engine, next_request_s
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.lockstep_loop import lockstep_replica
from infraplan.serving.pair_loop import PoolSpec
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.serving_sim import pool_memory

CYCLES = 30  # requests per client: the start-up wave and the drain stay well under 1 % of the run


@pytest.fixture
def in_cycle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both terms inside the client's cycle (the switches, off by default: validation/notes/serving_hopper_tried.md,
    "hL (session 34)"); `raising=False` so that a tree without the switches runs and fails on the law itself."""
    monkeypatch.setattr(client_loop, "FRONT_END_IN_CYCLE", True, raising=False)
    monkeypatch.setattr(client_loop, "LAG_IN_CYCLE", True, raising=False)


def littles_ratio(model: str, system: str, gpus: int, clients: int, **kw: object) -> tuple[float, float]:
    """(X x mean E2E / N, the front end s) of a `serve --concurrency N` run."""
    r = estimate_serving(model, system, gpus, concurrency=clients, requests=CYCLES * clients, dtype="fp8", **kw)
    return r.requests_per_s * r.e2e_s.mean / clients, r.deployment.front_end_s


@pytest.mark.parametrize(("model", "system", "gpus", "clients", "kw"), [
    ("llama3-8b", "dgx-h100-superpod", 1, 8,  # SGLang: the largest front end, schedule-ahead, MTP drafts
     {"stack": "sglang-0.x", "input_len": 512, "output_len": 256, "speculative_tokens": 3, "acceptance": 0.7}),
    ("llama3-8b", "dgx-h100-superpod", 1, 1, {"stack": "sglang-0.x", "input_len": 128, "output_len": 64}),
    ("llama3-70b", "dgx-h100-superpod", 4, 4, {"stack": "trtllm-0.x", "input_len": 512, "output_len": 256}),
    ("llama3-70b", "dgx-h100-superpod", 8, 16, {"stack": "trtllm-0.x", "tp": 4, "input_len": 2000,
                                                "output_len": 300}),  # two replicas, 8 clients each
    ("llama3-8b", "dgx-h100-superpod", 1, 32, {"stack": "vllm-0.x", "input_len": 1000, "output_len": 200}),
    ("llama3-8b", "dgx-h100-superpod", 8, 32,  # disaggregated: 4 prefill GPUs, 4 decode GPUs
     {"stack": "trtllm-0.x", "tp": 1, "prefill_gpus": 4, "input_len": 512, "output_len": 256}),
])
@pytest.mark.usefixtures("in_cycle")
def test_clients_times_latency_is_the_concurrency(model: str, system: str, gpus: int, clients: int,
                                                  kw: dict[str, object]) -> None:
    ratio, front_end_s = littles_ratio(model, system, gpus, clients, **kw)
    assert front_end_s > 0  # a served stack: the term that used to sit outside the loop
    assert ratio == pytest.approx(1.0, abs=0.01)  # the client's own 1 ms round trip is its only think time


def test_without_the_terms_in_the_cycle_the_law_breaks_by_the_front_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """The switches off (the default): the front end delays what the client sees, not its next request."""
    monkeypatch.setattr(client_loop, "FRONT_END_IN_CYCLE", False)
    monkeypatch.setattr(client_loop, "LAG_IN_CYCLE", False)
    ratio, front_end_s = littles_ratio("llama3-8b", "dgx-h100-superpod", 1, 1, stack="sglang-0.x", input_len=128,
                                       output_len=64)
    assert front_end_s == pytest.approx(0.181)
    assert ratio > 1.3  # a 0.18 s front end on a ~0.4 s request


def test_the_next_request_leaves_after_the_lagged_finish() -> None:
    """`next_request_s` with `lag`: the finish `request_intake.lagged` reports, plus the gap."""
    first, finish, steps = np.array([0.3, 1.0, 2.0]), np.array([1.5, 1.0, 4.0]), np.array([120, 0, 7])
    got = [next_request_s(f, e, s, 0.25, True) for f, e, s in zip(first, finish, steps, strict=True)]
    np.testing.assert_allclose(got, (request_intake.shift_s(first, finish, steps) + finish) + 0.25, rtol=1e-12)
    assert next_request_s(0.3, 1.5, 120, 0.25, False) == 1.75


@pytest.mark.parametrize(("scheduler", "admission", "speculative"), [
    ("prefill-first", "on_demand", 2), ("fcfs", "on_demand", 0), ("fcfs", "reserve_full", 2)])
def test_one_rank_is_the_client_loop_with_the_lag(scheduler: str, admission: str, speculative: int) -> None:
    """The lock-step loop's closed loop with the schedule-ahead lag is `closed_loop_engine`'s, token for token."""
    h200, v3 = Cluster.resolve("hgx-h200"), load_model("deepseek-v3")
    dep = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=8192,
                     engine="sglang", stack="sglang-0.x", speculative_tokens=speculative,
                     acceptance=0.7 if speculative else 0.0)
    cost = wide_ep_lockstep.with_others(build_iteration_cost(v3, h200.accelerator, h200.fabric, dep), 0.0)
    blocks = pool_memory(v3, h200.accelerator, dep)[0].blocks
    rng = np.random.default_rng(1)
    prompt, steps = rng.integers(200, 3000, 300), dep.decode_steps(rng.integers(2, 400, 300))
    arrival, cached = np.zeros(300), np.zeros(300, dtype=np.int64)
    alone = closed_loop_engine(PoolSpec(cost, dep, blocks, 1, scheduler, admission), arrival, prompt, cached, steps,
                               20, 0.05, lag=True)
    ranked = lockstep_replica(cost, arrival, prompt, cached, steps, np.zeros(300, dtype=int), 1, dep.max_batch,
                              dep.token_budget, blocks, dep.block_tokens, scheduler, admission, 20, 0.05, lag=True)
    np.testing.assert_allclose(ranked.arrival_s, alone.arrival_s, rtol=1e-9)
    np.testing.assert_allclose(ranked.finish_s, alone.finish_s, rtol=1e-9)
    lagged_finish = request_intake.shift_s(alone.first_token_s, alone.finish_s, steps) + alone.finish_s
    np.testing.assert_allclose(alone.arrival_s[20:], lagged_finish[:-20] + 0.05, rtol=1e-12)
