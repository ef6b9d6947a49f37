"""Mutation wave hM25 (session 47) on `serving.capacity_horizon` (hS49): a pool's time constants against independent
truths, and the bounds of the run-length and percentile rules.

- A decode pool's queue runs at the utilisation `capacity_candidate.decode_utilisation` bounds (tested against a
  simulated saturated replica in test_probe_queues_hB49.py) for one replica's round-robin share, rate / replicas; its
  mean service is that utilisation over the replica's arrival rate (rho = lambda E[S], the definition); periodic
  arrivals have no variability (ca^2 = 0), and the service's cv^2 is that of the per-request engine seconds. Its first
  constant is the slots' fill (`fill_time_constant_s`). PP 2: two engines a replica share its work.
- A prefill pool's service is in proportion to the prompt (the module's ASSUMPTION): a prompt token's seconds times
  its tokens (hF52), so at 0.05 s over the mean prompt a mean of 0.05 s, cv^2 the prompts' cv^2.
- `decode_request_seconds` is `capacity_candidate.decode_request_s` per request (its docstring): the same mean, finish
  cost included.
- A run whose TTFT misses all fall in its warm-up meets past it (`judged_run`: the warm-up's own misses, run alone,
  are taken off).
- The run is at most HORIZON_MAX_REQUESTS requests, that many included; a percentile misses when the requests over
  the SLO exceed its share (p75 of 1,000: 250 over still meets, 251 miss; the share 0.25 x 1,000 is exact in floats,
  unlike p99's 0.010000000000000009 x 1,000)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.serving_loader import load_workload
from infraplan.cluster import Cluster
from infraplan.serving.capacity_candidate import Candidate
from infraplan.serving.capacity_decode import decode_request_s, decode_utilisation
from infraplan.serving.capacity_horizon import (
    HORIZON_MAX_REQUESTS,
    RELAXATIONS,
    cv2,
    decode_request_seconds,
    fill_time_constant_s,
    judged_run,
    later_misses,
    pool_time_constants,
    queue_time_constant_s,
    whole_run_requests,
)
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.workloads import Requests, clip_to_context, workload_requests

REPLICAS = 2


def _parts() -> tuple[Any, Any, Any, Deployment]:
    engine = load_engine(None)
    cluster = Cluster.resolve("h100-sxm", purpose="LLM serving")
    dep = Deployment(tp=1, pp=2, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=engine.token_budget,
                     engine=engine.engine, stack=engine.ref)
    return load_model("llama3-8b"), cluster.accelerator, cluster.fabric, dep


def _h100_pp2() -> Candidate:
    return Candidate(*_parts())


def _lengths() -> Requests:
    return clip_to_context(workload_requests(load_workload("chat"), 3000, None, 5), 8192)[0]


def test_a_decode_pools_queue_runs_at_the_probes_utilisation_bound() -> None:
    cand, lengths = _h100_pp2(), _lengths()
    assert cand.dep.engines_per_replica == 2
    n = len(lengths)
    unit = decode_utilisation(cand.cost, cand.dep, Requests(np.arange(n) / 1.0, lengths.input_tokens,
                                                            lengths.output_tokens), np.arange(n), lengths)
    share = 0.6 / unit  # requests/s a replica takes at utilisation 0.6
    rate = REPLICAS * share
    arrival = np.arange(20_000) / rate  # periodic: a replica's round-robin share is periodic too
    fill, queue = pool_time_constants(rate, arrival, lengths, REPLICAS, None, (cand.cost, cand.dep))
    assert fill == fill_time_constant_s(cand.cost, cand.dep, lengths)
    rho = 0.6
    cs2 = cv2(decode_request_seconds(cand.cost, cand.dep, lengths))
    assert queue == pytest.approx(queue_time_constant_s(rho, 0.0, cs2, rho / share), rel=1e-6, abs=1e-12)
    assert queue > 0


def test_a_prefill_pools_service_is_in_proportion_to_the_prompt() -> None:
    lengths = _lengths()
    prefill_s, rate = 0.05, 24.0  # a replica's 12 prompts/s at 0.05 s: utilisation 0.6
    arrival = np.arange(20_000) / rate
    # a prompt token's seconds since hF52 (the offline sample's own mean prompt): 0.05 s at this sample's mean prompt
    (queue,) = pool_time_constants(rate, arrival, lengths, REPLICAS, prefill_s / lengths.input_tokens.mean(), None)
    want = queue_time_constant_s(rate / REPLICAS * prefill_s, 0.0, cv2(lengths.input_tokens), prefill_s)
    assert cv2(lengths.input_tokens) > 0.1 and queue == pytest.approx(want, rel=1e-9)


def test_the_run_reaches_its_ceiling_inclusive() -> None:
    slowest = HORIZON_MAX_REQUESTS / RELAXATIONS  # at 1 request/s: exactly the ceiling's requests
    assert whole_run_requests(1.0, 1, [slowest]) == (HORIZON_MAX_REQUESTS, True)
    assert whole_run_requests(1.0, 1, [slowest * (1 + 1e-9)])[1] is False


def test_a_percentile_misses_only_past_its_share() -> None:
    assert not later_misses(250, 0, 1_000, 75.0)  # 250 over: exactly the share p75 allows
    assert later_misses(251, 0, 1_000, 75.0)
    assert not later_misses(300, 50, 1_000, 75.0)  # the warm-up's 50 are not counted


def test_the_per_request_seconds_are_the_probes_mean() -> None:
    cand, lengths = _h100_pp2(), _lengths()
    # with a finish cost too (a diffusion decoder's `per_finish_s`; an LLM's is 0)
    for cost in (cand.cost, replace(cand.cost, per_finish_s=0.01)):
        per_request = decode_request_seconds(cost, cand.dep, lengths)
        assert cost.kv_token_s > 0 and float(per_request.mean()) == pytest.approx(
            decode_request_s(cost, cand.dep, lengths), rel=1e-12)


def test_misses_only_in_the_warm_up_meet_past_it() -> None:
    """100,000 requests, the warm-up their first 50,000: 600 over the SLO, all in the warm-up (its run alone has the
    same 600). Past the warm-up none misses, though 600 exceed p99's share of the later 50,000 (500)."""
    n = 100_000
    reqs = Requests(np.arange(n, dtype=float), np.full(n, 10), np.full(n, 10))
    calls: list[int] = []

    def early(r: Requests) -> dict[str, object]:
        calls.append(len(r))
        return {"ttft_s": {"p99": 1.0}, "tpot_s": {"p99": 0.1}, "ttft_over_slo_count": 600, "tpot_over_slo_count": 0}

    got = judged_run(early, reqs, "p99", (2.0, 0.2), 99.0, (False, False), n / 2)
    assert calls == [n, n // 2] and got[1:4] == (0.5, 0.5, "")
