"""serve-plan's probes and the queues a whole run builds (hB49): gigawatt-2027's 2026 chat (Llama 3 70B fp8 TP1 on
GB300 at 2,400 requests/s) answered a colocated 277, then 276, where hB47's probes had sized 193 prefill + 43 decode
replicas whose whole run missed TTFT by 4x. Both pools were past or at their capacity and the probes could not tell:
- the decode pool: 55.8 requests/s a replica against 49.9 a full batch completes; a decode replica fills its 256
  slots over many request lifetimes, so a 1,500-request probe ended with its backlog still under its test
  (`capacity_candidate.decode_utilisation` now bounds the utilisation over the whole run's lengths);
- the prefill pool: at 0.99 of its offline rate its queue builds for the whole run; the probe judged TTFT without
  its last `held` requests, the latest of that queue (`capacity_candidate.ttft_window` now keeps them: on FCFS
  engines a first token depends only on the requests before it)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.serving_loader import WorkloadSpec, load_workload
from infraplan.cluster import Cluster
from infraplan.serving.capacity import FULL_RUN_MAX_REQUESTS, search_capacity
from infraplan.serving.capacity_candidate import (
    Candidate,
    _fingerprint,
    decode_utilisation,
    steady_window,
    ttft_window,
)
from infraplan.serving.capacity_space import kv_for
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.replica_share import replica_requests
from infraplan.serving.stack_placement import serving_stack_for
from infraplan.serving.workloads import Requests, clip_to_context, workload_requests

GIGA_RATE = 2400.0  # gigawatt-2027's 2026 chat: 2,000 requests/s and the scenario's 20 % headroom


def _h100(stack: str | None, pp: int = 1) -> Candidate:
    engine = load_engine(stack)
    cluster = Cluster.resolve("h100-sxm", purpose="LLM serving")
    dep = Deployment(tp=1, pp=pp, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=engine.token_budget,
                     engine=engine.engine, stack=engine.ref)
    return Candidate(load_model("llama3-8b"), cluster.accelerator, cluster.fabric, dep)


def _chat(n: int, seed: int, shape_context: int = 8192) -> Requests:
    return clip_to_context(workload_requests(load_workload("chat"), n, None, seed), shape_context)[0]


@pytest.mark.parametrize("stack", [None, "vllm-0.x"])
@pytest.mark.parametrize("mode", ["prefill", "mixed"])
def test_a_probes_first_tokens_do_not_depend_on_the_requests_after_them(stack: str | None, mode: str) -> None:
    """Why the drain's TTFTs are judged: a probe run without its last `held` requests gives the others the very same
    first tokens (FCFS engines, the TensorRT-LLM and vLLM loops), so a draining replica is no faster for them."""
    cand = _h100(stack)
    req = _chat(1200, 7)
    n = len(req)
    timed = Requests(np.cumsum(np.random.default_rng(7).exponential(1 / 40.0, n)), req.input_tokens,
                     req.output_tokens)  # ~40 requests/s on one H100: a queue builds
    cut = n - cand.held
    fewer = Requests(timed.arrival_s[:cut], timed.input_tokens[:cut], timed.output_tokens[:cut])
    assert np.array_equal(cand.run(timed, mode).first_token_s[:cut], cand.run(fewer, mode).first_token_s)


def test_the_ttft_window_is_the_steady_window_and_the_drain() -> None:
    arrival = np.sort(np.random.default_rng(1).uniform(0, 100, 1000))
    steady, judged = steady_window(arrival, 100), ttft_window(arrival, 100)
    assert list(judged) == list(range(100, 1000)) and list(steady) == list(range(100, 900))
    assert list(ttft_window(arrival, 300)) == list(steady_window(arrival, 300)) == list(range(1000))  # short: whole
    assert list(ttft_window(np.zeros(10), 1)) == list(range(10))  # offline: whole


@pytest.mark.parametrize("stack", [None, "vllm-0.x"])
@pytest.mark.parametrize("pp", [1, 2])
def test_decode_utilisation_bounds_and_matches_a_saturated_decode_replica(stack: str | None, pp: int) -> None:
    """Every request present at t = 0 (4,000 chat lengths, 64 slots an engine): the replica's whole run lasts at least
    the bound's engine seconds (a bound on its throughput), and while its queue is non-empty (a quarter to three
    quarters of the time to the last admission) it completes within 2 % of the bound's rate (the bound is tight)."""
    cand = _h100(stack, pp)
    req = _chat(4000, 3)
    n, rate = len(req), 10.0
    rho = decode_utilisation(cand.cost, cand.dep, Requests(np.arange(n) / rate, req.input_tokens, req.output_tokens),
                             np.arange(n))
    bound = rate / rho  # requests/s at utilisation 1
    run = cand.run(Requests(np.zeros(n), req.input_tokens, req.output_tokens), "decode")
    assert n / float(np.nanmax(run.finish_s)) <= bound
    start, end = 0.25 * float(np.nanmax(run.first_token_s)), 0.75 * float(np.nanmax(run.first_token_s))
    saturated = np.count_nonzero((run.finish_s > start) & (run.finish_s <= end)) / (end - start)
    assert 0.98 * bound <= saturated <= 1.01 * bound


def test_decode_utilisation_is_proportional_to_the_rate_and_reads_the_law() -> None:
    cand = _h100(None)
    req = _chat(2000, 4)
    n = len(req)
    at = {r: decode_utilisation(cand.cost, cand.dep, Requests(np.arange(n) / r, req.input_tokens, req.output_tokens),
                                np.arange(n)) for r in (5.0, 10.0)}
    assert at[10.0] == pytest.approx(2 * at[5.0], rel=1e-9)
    short = Requests(np.arange(n) / 5.0, np.full(n, 100), np.full(n, 20))
    assert decode_utilisation(cand.cost, cand.dep, short, np.arange(n), law=req) == pytest.approx(at[5.0], rel=1e-3)
    assert decode_utilisation(cand.cost, cand.dep, short, np.arange(n)) < 0.2 * at[5.0]  # its own short outputs


def _gigawatt() -> tuple[Candidate, WorkloadSpec, Requests, str]:
    shape = load_model("llama3-70b")
    cluster = Cluster.resolve("gb300-nvl72-superpod", purpose="LLM serving")
    engine, _ = serving_stack_for(None, cluster.accelerator)
    dep = Deployment(tp=1, dtype="fp8", kv_dtype=kv_for(shape, "fp8", None), max_batch=256,
                     token_budget=max(engine.token_budget, 256), engine=engine.engine, stack=engine.ref)
    law = _chat(FULL_RUN_MAX_REQUESTS, 0, shape.max_seq_len)
    return (Candidate(shape, cluster.accelerator, cluster.fabric, dep), load_workload("chat"), law,
            _fingerprint(law.input_tokens, law.output_tokens))


def test_the_decode_pool_hb47_sized_for_gigawatt_2027_is_past_its_capacity() -> None:
    """43 decode replicas (its 1,500-request probe passed; the whole run's decode backlog rose 5,300 -> 18,825): the
    bound over the whole run's lengths is above 1 and the probe misses; 53 (the layout that met before hB47) meets."""
    cand, spec, law, law_key = _gigawatt()
    verdict = {}
    for r in (43, 53):
        n = cand.probe_requests(1500)
        req = replica_requests(spec, None, None, n, GIGA_RATE, 0, r, 1, cand.shape.max_seq_len)
        rho = decode_utilisation(cand.cost, cand.dep, req, steady_window(req.arrival_s, cand.held), law)
        verdict[r] = rho, cand.meets(req, f"hB49-{r}", "decode", (2.0, 0.2), 99.0, (law, law_key))
    assert verdict[43][0] > 1.1 and not verdict[43][1]
    assert verdict[53][0] < 1.0 and verdict[53][1]


def test_the_prefill_pool_hb47_sized_for_gigawatt_2027_misses_from_the_warm_ups_end() -> None:
    """193 prefill replicas, 0.99 of their offline rate: the steady window's TTFT p99 met 2 s, the probe now judges the
    drain too and misses (the whole run's prefill TTFT p99 4.2 s); 240, 0.8 of their offline rate, meet."""
    cand, spec, _, _ = _gigawatt()
    n = cand.probe_requests(1500)
    verdict = {}
    for r in (193, 240):
        req = replica_requests(spec, None, None, n, GIGA_RATE, 0, r, 1, cand.shape.max_seq_len)
        run = cand.run(req, "prefill")
        ttft = run.first_token_s - req.arrival_s + cand._front_s(req, "prefill")
        steady = float(np.percentile(ttft[steady_window(req.arrival_s, cand.held)], 99))
        verdict[r] = steady, cand.meets(req, f"hB49-p{r}", "prefill", (2.0, 0.2), 99.0)
    assert verdict[193][0] <= 2.0 and not verdict[193][1]  # the old window met
    assert verdict[240][1]


def test_gigawatt_2027_s_2026_chat_answers_a_disaggregated_layout_past_both_short_pools() -> None:
    """serve-plan answers a disaggregated PP1 layout whose whole run meets, with more prefill than 193 and more decode
    replicas than 43 (the pools hB47's probes sized, whose whole run missed TTFT by 4x)."""
    plan = search_capacity("llama3-70b", "gb300-nvl72-superpod", GIGA_RATE, workload="chat")
    d = plan.deployment
    assert plan.feasible and plan.meets_slo_full_run and d is not None and d.pp == 1
    # hS49: 221P + 52D's decode pool never settles (utilisation ~1: TTFT p99 2.85 s at 400,000 requests), and 221P
    # + 54D misses past its warm-up: the answer is now colocated (277), or a disaggregated one past both short pools
    assert not d.disaggregated or (d.prefill is not None and d.prefill.replicas > 221
                                   and d.replicas - d.prefill.replicas > 52)
