"""Closed-loop clients with a round trip (`serving.client_loop`): the next request reaches the engine after the last."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import client_loop
from infraplan.serving.client_loop import CLIENT_ROUND_TRIP_S, closed_loop_engine
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.pair_loop import PoolSpec
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.serving_sim import simulate_deployment
from infraplan.serving.workloads import fixed_requests

CLUSTER = Cluster.resolve("dgx-h100-superpod")
DEP = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=8, token_budget=8 + 4096 + 1500)
COST = build_iteration_cost(load_model("llama3-8b"), CLUSTER.accelerator, CLUSTER.fabric, DEP)
N, CLIENTS = 80, 8
PROMPT, STEPS, ZERO = np.full(N, 4096), np.full(N, 127), np.zeros(N, dtype=np.int64)


def run(round_trip_s: float, scheduler: str = "fcfs-whole"):
    return closed_loop_engine(PoolSpec(COST, DEP, 10**6, 1, scheduler, "reserve_full"), np.zeros(N), PROMPT, ZERO,
                              STEPS, CLIENTS, round_trip_s)


@pytest.mark.parametrize("scheduler", ["fcfs", "fcfs-whole", "prefill-first"])
def test_no_round_trip_is_the_engines_own_closed_loop(scheduler):
    own = simulate_engine(COST, np.zeros(N), PROMPT, ZERO, STEPS, 8, DEP.token_budget, 10**6, 16, clients=CLIENTS,
                          scheduler=scheduler)
    r = run(0.0, scheduler)
    np.testing.assert_array_equal(r.first_token_s, own.first_token_s)
    np.testing.assert_array_equal(r.finish_s, own.finish_s)
    np.testing.assert_array_equal(r.arrival_s, own.arrival_s)
    assert (r.busy_s, r.iterations) == (own.busy_s, own.iterations)


def test_each_next_request_arrives_a_round_trip_after_the_last_ended():
    r = run(2e-3)
    assert np.all(r.arrival_s[:CLIENTS] == 0.0)
    np.testing.assert_allclose(r.arrival_s[CLIENTS:], r.finish_s[:-CLIENTS] + 2e-3, rtol=0, atol=1e-12)
    for k in range(N):  # never more than one request per client in flight
        assert np.sum((r.arrival_s <= r.arrival_s[k]) & (r.finish_s > r.arrival_s[k])) <= CLIENTS


def test_any_round_trip_keeps_the_start_up_wave_the_instant_tie_dissolves():
    """8 equal requests per cycle, one 4096-token prompt per iteration: the first cycle is a wave (~(c + 1) / 2
    prefills). Sent at the instant, each next request joins the iteration that starts then, alone: later cycles wait
    about one prefill. A round trip of a microsecond or a millisecond lets the ended ones queue behind a prefill."""
    ttft = {d: run(d).first_token_s - run(d).arrival_s for d in (0.0, 1e-6, 1e-3)}
    first_wave = ttft[0.0][:CLIENTS].mean()
    assert all(t[:CLIENTS].mean() == pytest.approx(first_wave) for t in ttft.values())  # same start
    later_instant = ttft[0.0][CLIENTS:].mean()
    assert later_instant < 0.3 * first_wave  # the wave dissolved
    for d in (1e-6, 1e-3):
        assert ttft[d][CLIENTS:].mean() > 1.6 * later_instant
        assert ttft[d][CLIENTS:].mean() == pytest.approx(ttft[1e-6][CLIENTS:].mean(), rel=0.05)  # not its size


def test_simulate_deployment_sends_after_the_round_trip_aggregated_and_disaggregated(monkeypatch):
    # the 4 clients' first requests all at t = 0, so their waves stay together and every round trip is idle engine
    # time (sent in turn, `first_wave`, the waves part and other clients' prompts fill part of each round trip)
    monkeypatch.setattr(client_loop, "FIRST_WAVE_SPACING_S", 0.0)
    requests = fixed_requests(40, 2048, 64, None, 0)
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=8, replicas=2)
    for kw in ({}, {"prefill_replicas": 1}):
        at_once = simulate_deployment(load_model("llama3-8b"), CLUSTER, dep, requests, clients=4,
                                      client_round_trip_s=0.0, **kw)
        later = simulate_deployment(load_model("llama3-8b"), CLUSTER, dep, requests, clients=4,
                                    client_round_trip_s=0.05, **kw)
        assert later["duration_s"] > at_once["duration_s"] + 9 * 0.05 * 0.99  # 10 requests per client in turn
        assert later["ttft_s"]["mean"] <= at_once["ttft_s"]["mean"] * 1.01  # 50 ms apart: nobody queues longer


def test_serve_closed_loop_defaults_to_the_client_round_trip():
    requests = fixed_requests(40, 2048, 64, None, 0)
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=8, replicas=1)
    default = simulate_deployment(load_model("llama3-8b"), CLUSTER, dep, requests, clients=4)
    stated = simulate_deployment(load_model("llama3-8b"), CLUSTER, dep, requests, clients=4,
                                 client_round_trip_s=CLIENT_ROUND_TRIP_S)
    instant = simulate_deployment(load_model("llama3-8b"), CLUSTER, dep, requests, clients=4, client_round_trip_s=0.0)
    assert CLIENT_ROUND_TRIP_S > 0
    assert default["duration_s"] == stated["duration_s"] != instant["duration_s"]


def test_round_trip_must_be_a_time():
    for bad in (-1e-3, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="round trip"):
            run(bad)
