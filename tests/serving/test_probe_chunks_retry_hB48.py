"""serve-plan's probes after hB47 (hB48): a probe prices Llama 4's chunked layers for its own requests, as a run does
(hR47 finding 1: `Candidate` built its probes' cost without `chunked_attention.for_requests`, so llama4-scout's
32,768-token prompts were priced as full attention on 36 of 48 layers); and a layout whose whole run misses is
retried with one more replica in the pool(s) that missed before it is dropped (`replica_search.grown`)."""

from __future__ import annotations

import shlex
from typing import Any

import numpy as np
import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import chunked_attention
from infraplan.serving.capacity import search_capacity
from infraplan.serving.capacity_candidate import Candidate, _fingerprint
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.replica_search import FULL_RUN_TRIES, LEVEL_RETRIES, RETRY_NEAR, grown, whole_runs
from infraplan.serving.serving_sim import run_pool, simulate_deployment
from infraplan.serving.workloads import Requests


def _scout() -> tuple[Any, Cluster, Deployment]:
    engine = load_engine(None)
    dep = Deployment(tp=2, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=engine.token_budget,
                     engine=engine.engine, stack=engine.ref)
    return load_model("llama4-scout"), Cluster.resolve("h100-sxm", purpose="LLM serving"), dep


def test_a_probe_of_a_chunked_model_runs_as_serve_runs_one_replica() -> None:
    """One replica, the same requests: the probe's (colocated) TTFT and TPOT percentiles are `serve`'s, to the float.
    Priced as full attention (the cost before hB48) they are not: the test can tell the two apart."""
    shape, cluster, dep = _scout()
    rng = np.random.default_rng(5)
    n = 120
    req = Requests(np.cumsum(rng.exponential(4.0, n)), np.full(n, 32_768), np.full(n, 512))
    cand = Candidate(shape, cluster.accelerator, cluster.fabric, dep)
    assert cand.priced(req, "mixed") is not cand.cost  # Scout has chunked layers: re-priced
    whole = simulate_deployment(shape, cluster.for_gpus(dep.gpus_per_replica), dep, req)
    front = whole["deployment"]["front_end_s"]

    def p99s(run: Any) -> tuple[float, float]:
        ttft = run.first_token_s - req.arrival_s + front
        tpot = (run.finish_s - run.first_token_s) / (req.output_tokens - 1)
        return float(np.percentile(ttft, 99)), float(np.percentile(tpot, 99))

    assert p99s(cand.run(req, "mixed")) == pytest.approx((whole["ttft_s"]["p99"], whole["tpot_s"]["p99"]), rel=1e-9)
    zeros = np.zeros_like(req.input_tokens)
    full_attention = run_pool(cand.cost, dep, cand.blocks, req.arrival_s, req.input_tokens, zeros,
                              dep.decode_steps(req.output_tokens), 1)
    assert p99s(full_attention)[1] > 1.2 * whole["tpot_s"]["p99"]  # full attention reads ~3x the keys at 32 k


def test_the_prefill_and_decode_probes_price_as_the_disaggregated_run() -> None:
    """The prefill pool prices the prompts alone, the decode pool the handed-over prompts' decode steps, as
    `simulate_disaggregated` calls `for_requests` (a model without chunked layers: the cost itself)."""
    shape, cluster, dep = _scout()
    cand = Candidate(shape, cluster.accelerator, cluster.fabric, dep)
    req = Requests(np.arange(8.0), np.full(8, 20_000), np.full(8, 300))
    zeros, steps = np.zeros(8, dtype=np.int64), dep.decode_steps(req.output_tokens)
    same = {m: _fingerprint(cand.priced(req, m)) for m in ("prefill", "decode", "mixed")}
    assert same["prefill"] == _fingerprint(chunked_attention.for_requests(cand.prefill_cost, shape, req.input_tokens,
                                                                          zeros, zeros))
    assert same["decode"] == _fingerprint(chunked_attention.for_requests(cand.cost, shape, req.input_tokens,
                                                                         req.input_tokens, steps))
    assert same["decode"] != same["mixed"] != _fingerprint(cand.cost)  # a decode pool prefills nothing
    dense = Candidate(load_model("llama3-8b"), cluster.accelerator, cluster.fabric, Deployment(tp=1, dtype="fp8"))
    assert all(dense.priced(req, m) is (dense.prefill_cost if m == "prefill" else dense.cost)
               for m in ("mixed", "prefill", "decode"))


def test_serve_plan_and_serve_agree_on_llama4_scout_long_prompts(capsys: pytest.CaptureFixture[str]) -> None:
    """The same question two ways (hR47's case: 32,768 + 512 tokens at 2 requests/s, TTFT 15 s, TPOT 50 ms, colocated):
    `serve` of the answer's own line meets both SLOs, and of the same line with one replica fewer misses, so the
    answer is the fewest accelerators `serve` meets the SLOs at (over the answer's whole-run requests)."""
    plan = search_capacity("llama4-scout", "h100-sxm", 2.0, input_len=32_768, output_len=512, ttft_slo=15.0,
                           tpot_slo=0.05, disaggregation=False, max_gpus=64)
    assert plan.feasible and plan.meets_slo_full_run and plan.serve_command and plan.deployment
    args = shlex.split(plan.serve_command)
    gpr = plan.deployment.tp * plan.deployment.pp * plan.deployment.attention_dp

    def serve_meets(gpus: int) -> bool:
        a = list(args[1:])  # the line, less "infraplan"
        a[a.index("--gpus") + 1] = str(gpus)
        r = cli_json(capsys, a)
        return bool(r["ttft_s"]["p99"] <= 15.0 and r["tpot_s"]["p99"] <= 0.05)

    assert serve_meets(plan.gpus)
    assert plan.gpus == gpr or not serve_meets(plan.gpus - gpr)


def _opt(gpus: int, replicas: int, prefill: int = 0) -> dict[str, Any]:
    return {"gpus": gpus, "replicas": replicas, "prefill_replicas": prefill, "disaggregated": prefill > 0,
            "attention_dp": 1, "tp": 2, "pp": 1, "max_batch": 64}


def test_grown_adds_a_replica_to_the_pools_whose_metric_missed_near_its_slo() -> None:
    """The ratios are percentile / SLO: above 1 a miss; above RETRY_NEAR not retried (an overload's queue)."""
    assert grown(_opt(8, 4), 1.1, 0.5, 64) == _opt(10, 5)  # colocated: one more replica, whatever missed
    assert grown(_opt(8, 4), 0.9, 1.01, 64) == _opt(10, 5)
    assert grown(_opt(12, 6, 4), 0.5, 1.1, 64) == _opt(14, 7, 4)  # TPOT: the decode pool
    assert grown(_opt(12, 6, 4), 1.1, 0.5, 64) == _opt(16, 8, 5)  # TTFT: the prefill queue and the decode slots
    assert grown(_opt(12, 6, 4), 1.1, 1.1, 64) == _opt(16, 8, 5)
    assert grown(_opt(8, 4), 1.0, 0.99, 64) is None  # nothing missed (at the SLO meets): nothing to grow
    assert grown(_opt(8, 4), 1.1, 0.5, 9) is None  # beyond the limit
    assert grown(_opt(8, 4), RETRY_NEAR * 1.01, 0.5, 64) is None  # a far miss: dropped as before
    assert grown(_opt(8, 4), RETRY_NEAR, 0.5, 64) == _opt(10, 5)


class _Runs:
    """Fake whole runs: an option meets when its GPUs are at least `need` (by layout: its tp)."""

    def __init__(self, need: dict[int, int]) -> None:
        self.need = need

    def full_run(self, option: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        return option, option["gpus"] >= self.need[option["tp"]]


def _grow(option: dict[str, Any], run: Any) -> dict[str, Any] | None:
    return grown(option, 1.1, 0.5, 1_000)


def test_a_missed_layout_is_retried_grown_before_a_costlier_option() -> None:
    """TP2 at 8 misses, at 10 meets; TP4 meets at 12: the answer is TP2 at 10 (before hB48: TP4 at 12)."""
    levels = iter([[_opt(8, 4), {**_opt(12, 3), "tp": 4}]])
    runs_of = _Runs({2: 10, 4: 12})
    options, runs = whole_runs(lambda below: next(levels, None), runs_of.full_run, _grow)
    assert [(r[0]["gpus"], r[0]["tp"], r[2]) for r in runs] == [(8, 2, False), (10, 2, True)]
    levels = iter([[_opt(8, 4), {**_opt(12, 3), "tp": 4}]])
    options, runs = whole_runs(lambda below: next(levels, None), runs_of.full_run)  # no retry: as before
    assert [(r[0]["gpus"], r[0]["tp"], r[2]) for r in runs] == [(8, 2, False), (12, 4, True)]


def test_a_grown_option_costlier_than_the_next_waits_its_turn_and_retries_are_bounded() -> None:
    """Grown options join the queue in rank order; at most LEVEL_RETRIES grown runs a level."""
    levels = iter([[_opt(8, 4), {**_opt(9, 9), "tp": 1}], [_opt(4, 2, 1)]])
    runs_of = _Runs({2: 100, 1: 100})
    options, runs = whole_runs(lambda below: next(levels, None), runs_of.full_run, _grow)
    assert [r[0]["gpus"] for r in runs[:3]] == [8, 9, 10]  # TP1 at 9 before TP2 grown to 10
    assert len(runs) == 2 + LEVEL_RETRIES + 1 + LEVEL_RETRIES and not any(r[2] for r in runs)
    assert LEVEL_RETRIES < FULL_RUN_TRIES
