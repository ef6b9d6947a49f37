"""Closed-loop concurrency (`serve --concurrency N`): N clients, each sending its next request when its last ends."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving import client_loop
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, prefill_time
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.serving_engine import simulate_engine

KW = {"dtype": "fp8", "tp": 1, "input_len": 1024, "output_len": 128}


def closed(n: int, **kw):
    return estimate_serving("llama3-8b", "dgx-h100-superpod", 1, concurrency=n, requests=kw.pop("requests", 8 * n),
                            **{**KW, **kw})


def test_one_client_sees_the_unloaded_prefill_time():
    cluster = Cluster.resolve("dgx-h100-superpod")
    r = closed(1)
    cost = build_iteration_cost(load_model("llama3-8b"), cluster.accelerator, cluster.fabric,
                                Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=r.deployment.max_batch))
    front_end_s = load_engine(None).request_latency_s  # the default stack's per-request front-end time
    assert front_end_s > 0
    assert r.ttft_s.mean == pytest.approx(float(prefill_time(cost, 1, 1024)) + front_end_s, rel=1e-9)
    assert r.ttft_s.p99 == pytest.approx(r.ttft_s.p50, rel=1e-9)  # nobody ever queues behind anyone
    assert r.concurrency == 1


def test_throughput_rises_with_clients_and_saturates():
    tput = [closed(n).output_tokens_per_s for n in (1, 4, 16, 64, 256, 1024)]
    assert all(b > a for a, b in zip(tput, tput[1:], strict=False))
    assert tput[1] / tput[0] > 3.0  # memory-bound decode: 4 clients cost little more than 1
    assert tput[-1] / tput[-2] < 1.25  # compute-bound at 1024 clients: the curve has flattened
    assert closed(1024).ttft_s.mean > 10 * closed(16).ttft_s.mean  # ... and the extra clients only queue


def test_each_client_sends_when_its_last_request_ends():
    cluster = Cluster.resolve("dgx-h100-superpod")
    cost = build_iteration_cost(load_model("llama3-8b"), cluster.accelerator, cluster.fabric,
                                Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=64))
    rng = np.random.default_rng(3)
    n, clients = 60, 5
    prompt = rng.integers(100, 2000, n)
    steps = rng.integers(1, 300, n)
    r = simulate_engine(cost, np.zeros(n), prompt, np.zeros(n, dtype=np.int64), steps, 64, 8192, 10**6, 16,
                        clients=clients)
    assert np.all(r.arrival_s[:clients] == 0.0)
    np.testing.assert_array_equal(r.arrival_s[clients:], r.finish_s[:-clients])  # arrival k+N = finish k
    # never more than N requests in flight: at every arrival, exactly N - 1 others have arrived and not finished
    for k in range(n):
        in_flight = np.sum((r.arrival_s <= r.arrival_s[k]) & (r.finish_s > r.arrival_s[k]))
        assert in_flight <= clients
    stepped = simulate_engine(cost, np.zeros(n), prompt, np.zeros(n, dtype=np.int64), steps, 64, 8192, 10**6, 16,
                              clients=clients, jump=False)
    np.testing.assert_allclose(stepped.finish_s, r.finish_s, rtol=1e-9)  # the closed-form jumps are exact


def test_clients_spread_over_replicas():
    one = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, concurrency=8, requests=64, **KW)
    two = estimate_serving("llama3-8b", "dgx-h100-superpod", 2, concurrency=16, requests=128, **KW)
    # up to the first wave's spacing (`client_loop.first_wave`): one client loop sends all 16 first requests in turn,
    # so each of the two engines gets its 8 two spacings apart, where the one engine got them one apart
    wave_s = 16 * client_loop.FIRST_WAVE_SPACING_S
    assert two.output_tokens_per_s == pytest.approx(2 * one.output_tokens_per_s, rel=1e-5)
    assert two.ttft_s.mean == pytest.approx(one.ttft_s.mean, abs=wave_s)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"concurrency": 4, "rate": 2.0}, "--concurrency"),
    ({"concurrency": 4, "offline": True}, "--concurrency"),
    ({"concurrency": 0}, ">= 1"),
    ({"concurrency": 4, "prefill_gpus": 2}, "--prefill-gpus"),  # no decode GPUs left (closed loop runs disagg)
    ({"concurrency": 4, "stack": "tgi"}, "unknown serving stack"),
        ({"concurrency": 4, "stack": "megatron-core-0.8"}, "training stack"),
])
def test_bad_closed_loop_input_is_one_line(kwargs, message):
    with pytest.raises(InputError, match=message):
        estimate_serving("llama3-8b", "dgx-h100-superpod", 2, input_len=100, output_len=10, **kwargs)
