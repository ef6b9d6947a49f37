"""The engine event loop: exact single-request timing, batching, chunked prefill, KV and batch limits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_loader import load_workload
from infraplan.network.collectives import Fabric
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.workloads import workload_requests

SYSTEM = load_system("dgx-h100-superpod")
ACC = load_accelerator(SYSTEM.accelerator)
COST = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYSTEM, ACC),
                            Deployment(max_batch=64, token_budget=8192))


def run(arrival, prompt, output, max_batch=64, budget=2048, blocks=100_000, jump=True):
    arrival, prompt, output = (np.asarray(x) for x in (arrival, prompt, output))
    zeros = np.zeros_like(prompt)
    return simulate_engine(COST, arrival.astype(float), prompt, zeros, output - 1, max_batch, budget, blocks, 16,
                           jump=jump)


def test_one_request_is_prefill_then_decode_steps():
    r = run([0.0], [512], [10])
    prefill = float(COST.time(512, 0, 0, 512 * 513 / 2, rows=1))
    assert r.first_token_s[0] == pytest.approx(prefill)
    steps = sum(float(COST.time(0, 1, 512 + i, 0, rows=1)) for i in range(9))
    assert r.finish_s[0] == pytest.approx(prefill + steps)
    assert r.iterations == 10


def test_long_prompt_is_chunked_by_the_token_budget():
    r = run([0.0], [5000], [2], budget=2048)
    assert r.iterations == math.ceil(5000 / 2048) + 1
    single = run([0.0], [5000], [2], budget=8192)
    assert single.iterations == 2


def test_continuous_batching_shares_iterations():
    alone = run([0.0], [256], [200])
    both = run([0.0, 0.0], [256, 256], [200, 200])
    assert both.finish_s.max() < 1.2 * alone.finish_s[0]  # decode of two rides on the same weight reads


def test_batch_cap_of_one_serialises_requests():
    r = run([0.0] * 4, [128] * 4, [20] * 4, max_batch=1)
    for i in range(3):
        assert r.first_token_s[i + 1] > r.finish_s[i]


def test_kv_blocks_bound_concurrency():
    # each request reserves ceil((100 + 50) / 16) = 10 blocks; 20 blocks admit two at a time
    r = run([0.0] * 6, [100] * 6, [50] * 6, blocks=20)
    starts, ends = r.first_token_s, r.finish_s
    for t in starts:
        assert np.sum((starts <= t) & (ends > t)) <= 2
    roomy = run([0.0] * 6, [100] * 6, [50] * 6)
    assert roomy.finish_s.max() < 0.6 * ends.max()


def test_decode_keeps_streaming_while_a_long_prompt_is_chunked():
    r = run([0.0, 0.05], [200, 16000], [400, 2], budget=1024)
    gaps = (r.finish_s[0] - r.first_token_s[0]) / 399
    assert gaps < 0.1 * (r.first_token_s[1] - 0.05)  # TPOT stays far below the long prefill


@pytest.mark.parametrize("rate", [0.5, 5.0, None])
def test_closed_form_jumps_equal_stepping_every_iteration(rate):
    req = workload_requests(load_workload("chat"), 400, rate, seed=3)
    a = run(req.arrival_s, req.input_tokens, req.output_tokens, jump=True)
    b = run(req.arrival_s, req.input_tokens, req.output_tokens, jump=False)
    assert a.iterations == b.iterations
    np.testing.assert_allclose(a.finish_s, b.finish_s, rtol=1e-9)
    np.testing.assert_allclose(a.first_token_s, b.first_token_s, rtol=1e-9)
    assert a.busy_s == pytest.approx(b.busy_s, rel=1e-9)


def test_a_request_larger_than_the_cache_is_refused_not_looped():
    with pytest.raises(ValueError, match="KV blocks"):
        run([0.0], [1000], [10], blocks=5)
