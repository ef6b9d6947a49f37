"""hS69: a probe of a stack with on-demand KV admission (pytorch-mtia here; vLLM and SGLang where their loop is
FCFS) steps its FCFS engines as a reserve_full one does, stopping where an admission first finds too few free KV
blocks (`KvBinds`, the search then runs the pool whole): a probe that stops at a miss gives the whole on-demand
run's verdict, one run to its end that run's very times."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import capacity_probe
from infraplan.serving.capacity_candidate import Candidate, backlog_span, keeps_up, steady_window
from infraplan.serving.capacity_probe import run_until_miss, steppable
from infraplan.serving.fcfs_setup import KvBinds
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.serving_sim import front_end_s, pool_engine, run_pool
from infraplan.serving.workloads import Requests


@pytest.mark.parametrize("engines", [1, 2])
def test_an_on_demand_probe_stops_at_a_miss_or_binds_or_is_the_run_pool(engines: int,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capacity_probe, "MIN_CHUNK", 16)  # many checks on short runs
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("mtia-v2-rack")  # pytorch-mtia: vLLM V1's loop, FCFS, on-demand KV, recompute
    dep = Deployment(tp=engines, dtype="bf16", kv_dtype="bf16", max_batch=32, token_budget=2048, engine="vllm",
                     stack="pytorch-mtia")
    cand = Candidate(shape, cluster.accelerator, cluster.fabric, dep)
    engine = pool_engine(dep.stack)
    assert engine.kv_admission == "on_demand"
    assert steppable(cand.cost, dep, engine.scheduler, engine.kv_admission)
    e = dep.engines_per_replica
    outcomes = {"stopped": 0, "ran": 0, "bound": 0}
    for blocks in (cand.blocks, 300):  # the replica's KV, and a cache that binds under load
        for rate in (0.2, 2.0, 30.0):
            rng = np.random.default_rng(7)
            req = Requests(np.cumsum(rng.exponential(1.0 / rate, 800)), rng.integers(50, 1500, 800),
                           rng.integers(1, 300, 800))
            steady = steady_window(req.arrival_s, e * dep.max_batch)
            window = np.zeros(len(req), dtype=bool)
            window[steady] = True
            zeros = np.zeros_like(req.input_tokens)
            steps = req.output_tokens - 1
            full = run_pool(cand.cost, dep, blocks, req.arrival_s, req.input_tokens, zeros, steps, e)
            ttft = (full.first_token_s - req.arrival_s + front_end_s(dep))[steady]
            for slo in (0.05, 30.0):
                span = backlog_span(req.arrival_s, steady, e * dep.max_batch)
                try:
                    got = run_until_miss(cand.cost, dep, blocks, req.arrival_s, req.input_tokens, zeros, steps, e,
                                         window, front_end_s(dep), slo, 99.0, span, stop_if_kv_binds=True)
                except KvBinds:
                    outcomes["bound"] += 1
                    continue
                if got is None:
                    outcomes["stopped"] += 1
                    assert np.percentile(ttft, 99.0) > slo or not keeps_up(req.arrival_s, full.finish_s, steady,
                                                                           e * dep.max_batch)
                else:
                    outcomes["ran"] += 1
                    assert np.array_equal(got[0], full.first_token_s, equal_nan=True)
                    assert np.array_equal(got[1], full.finish_s)
    assert all(outcomes.values()), outcomes  # each path taken
