"""The iteration model at the measured operating point of the latency-bound MLPerf v5.1 rows (Little's law)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time, prefill_time
from infraplan.validation.inference_frontier import load_frontier_cases
from infraplan.validation.operating_point import idle_prefill_s, mean_step_s, operating_points


@pytest.fixture(scope="module")
def data():
    return load_frontier_cases()


@pytest.fixture(scope="module")
def points(data):
    return {p["row"]: p for p in operating_points(data)}


@pytest.fixture(scope="module")
def cost():
    cluster = Cluster.resolve("hgx-h200")
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=512, token_budget=2048)
    return build_iteration_cost(load_model("llama3-8b"), cluster.accelerator, cluster.fabric, dep)


def test_every_latency_bound_row_states_its_measured_latencies(data, points):
    for case in data["cases"]:
        if case["scenario"] == "offline":
            assert "measured" not in case
            continue
        m = case["measured"]
        assert 0 < m["ttft_mean_s"] <= m["ttft_p99_s"] and 0 < m["tpot_mean_s"] <= m["tpot_p99_s"]
        assert m["tpot_p99_s"] <= case["slo"]["tpot_s"] and m["ttft_p99_s"] <= case["slo"]["ttft_s"]  # a valid run
        assert case["row"] in points


def test_littles_law_sets_the_batch_from_throughput_and_tpot(data, points):
    case = next(c for c in data["cases"] if c["row"] == "H091")  # Llama 3.1 405B H200 Server, one TP8 engine
    p = points["H091"]
    assert p["engines"] == 1
    # N = lambda x O x TPOT = published output tokens/s x TPOT (the mean output cancels)
    assert p["sequences_per_engine"] == pytest.approx(case["published"] * case["measured"]["tpot_mean_s"])
    assert 10 < p["sequences_per_engine"] < 25 and 150 < p["prefill_tokens_per_step"] < 350
    assert points["H131"]["engines"] == 8  # Llama 3.1 8B B200: one engine per GPU


def test_mean_step_is_decode_only_without_prefill_and_grows_with_it(cost):
    context = 1000.0
    bare = mean_step_s(cost, 64, 0.0, 800.0, context, 800.0 * 801 / 2)
    assert bare == pytest.approx(float(decode_time(cost, 64, context)))
    steps = [mean_step_s(cost, 64, p, 800.0, context, 800.0 * 801 / 2) for p in (50.0, 200.0, 800.0, 1500.0)]
    assert bare < steps[0] < steps[1] < steps[2] < steps[3]
    # below one chunk per step: a share P / chunk of the steps carries a whole prompt chunk
    with_chunk = float(cost.time(800, 64, 64 * context, 800.0 * 801 / 2))
    assert steps[1] == pytest.approx(0.25 * with_chunk + 0.75 * bare)


def test_idle_prefill_chunks_a_long_prompt_at_the_token_budget(cost):
    assert idle_prefill_s(cost, 1500) == pytest.approx(float(prefill_time(cost, 1, 1500)))
    # the second chunk attends to the first one's keys: more than two first chunks' worth
    assert idle_prefill_s(cost, 2 * cost.max_tokens) > 2 * float(prefill_time(cost, 1, cost.max_tokens))


def test_the_simulator_runs_each_row_at_its_measured_rate(points):
    for p in points.values():
        sim = p["at_measured_rate"]
        assert set(sim) == {"ttft_mean_s", "ttft_p99_s", "tpot_mean_s", "tpot_p99_s"}
        assert all(np.isfinite(v[0]) and v[0] > 0 for v in sim.values())
