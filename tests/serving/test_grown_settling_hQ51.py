"""A grown retry sized from the queue relaxation (hQ51, `capacity_horizon.option_settling`, `replica_search.grown`),
and the decode bound on colocated replicas (`capacity_candidate.mixed_step_s`).

hS49 left gigawatt-2027's 2027 chat (Llama 3 70B chat on GB300 at 4,800 requests/s) retrying 441 prefill + 103, 104,
105 decode replicas, each whole run unsettled: one replica at a time where the relaxation formula says how many
the pool needs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.serving_loader import load_workload
from infraplan.cluster import Cluster
from infraplan.serving import host_overhead
from infraplan.serving.capacity_candidate import Candidate
from infraplan.serving.capacity_confidence import RUN_LONGER
from infraplan.serving.capacity_decode import decode_request_s, mixed_step_s
from infraplan.serving.capacity_horizon import (
    HORIZON_MAX_REQUESTS,
    RELAXATIONS,
    SETTLING_MARGIN,
    law_time_constants,
    option_settling,
    pool_law,
    pool_time_constants,
    settling_replicas,
)
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.loop_stepping import cost_tables
from infraplan.serving.replica_search import grown
from infraplan.serving.workloads import Requests, clip_to_context, workload_requests


def _by_hand(rate: float, mean_s: float, cs2: float, stream_cv2: float, r: int) -> float:
    """Morse's relaxation of a round-robin share, written out: (ca^2 + cs^2) / 2 E[S] / (1 - sqrt(rho))^2."""
    rho = rate / r * mean_s
    return math.inf if rho >= 1 else (stream_cv2 / r + cs2) / 2 * mean_s / (1 - math.sqrt(rho)) ** 2


def test_settling_replicas_is_the_least_count_whose_run_fits() -> None:
    """Poisson arrivals (cv^2 1), service of cv^2 1 and 1 s a request at 1,000 requests/s: the least r whose
    RELAXATIONS x relaxation time at the rate fits HORIZON_MAX_REQUESTS (50 s: by hand about rho <= 0.81, r ~ 1,235),
    by a plain walk up from 1,001."""
    law = ([], 1.0, 1.0, 1.0)
    need = HORIZON_MAX_REQUESTS / (1000.0 * RELAXATIONS)  # seconds of relaxation a run can cover
    walk = next(r for r in range(1001, 10_000) if _by_hand(1000.0, 1.0, 1.0, 1.0, r) <= need)
    assert 1200 < walk < 1260
    assert settling_replicas(1000.0, law, 1001, 10_000) == walk
    assert _by_hand(1000.0, 1.0, 1.0, 1.0, walk - 1) > need  # one fewer does not settle
    assert law_time_constants(1000.0, law, walk)[-1] == pytest.approx(_by_hand(1000.0, 1.0, 1.0, 1.0, walk))
    assert settling_replicas(1000.0, law, walk + 3, 10_000) == walk + 3  # already settled from the start
    assert settling_replicas(1000.0, law, 1001, walk - 1) is None  # not within the most allowed
    # a decode fill no count shortens is not a queue: it lengthens the run up to the cap, never unsettles it (hF52)
    assert settling_replicas(1000.0, ([1e9], 1.0, 1.0, 1.0), 1001, 10_000) == walk


def test_pool_law_reads_as_the_time_constants_did() -> None:
    """`pool_time_constants` is the law at a replica count (the relaxation's inputs do not depend on it)."""
    req = clip_to_context(workload_requests(load_workload("chat"), 3000, 50.0, 3), 8192)[0]
    shape, cl = load_model("llama3-8b"), Cluster.resolve("h100-sxm", purpose="LLM serving")
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=8192)
    cand = Candidate(shape, cl.accelerator, cl.fabric, dep)
    law = pool_law(req.arrival_s, req, 0.05, (cand.cost, dep))
    for r in (3, 7, 40):
        assert pool_time_constants(50.0, req.arrival_s, req, r, 0.05, (cand.cost, dep)) == law_time_constants(
            50.0, law, r)
    assert law[0] and law[1] > 0.05  # a fill constant; service = prefill + decode seconds


def test_option_settling_sizes_only_the_unsettled_pools() -> None:
    laws = [(300, ([], 0.2, 1.0, 1.0)), (1001, ([], 1.0, 1.0, 1.0))]  # 300 prefill, 1,001 decode replicas
    prefill, decode = option_settling(1000.0, laws, (False, True), 10_000)
    # the count the run's own rule first accepts (hJ66: SETTLING_MARGIN 1; hQ51 took RUN_LONGER x the formula's
    # relaxation, more replicas than the bare formula needs, and over-shot: test_retry_grows_missed_pool_hJ66.py)
    margin = settling_replicas(1000.0, laws[1][1], 1002, 10_000, SETTLING_MARGIN)
    assert prefill == 0 and decode == margin == settling_replicas(1000.0, laws[1][1], 1002, 10_000) > 1200
    assert settling_replicas(1000.0, laws[1][1], 1002, 10_000, RUN_LONGER) > margin
    # a decode fill (not shortened by replicas) is not taken with the margin: a fill at 80 % of the run allowed
    fill = HORIZON_MAX_REQUESTS / (1000.0 * RELAXATIONS) * 0.8
    assert option_settling(1000.0, [(1001, ([fill], 1.0, 1.0, 1.0))], (True, False), 10_000)[0] == margin
    assert option_settling(1000.0, laws, (False, False), 10_000) == (0, 0)
    assert option_settling(1000.0, laws[1:], (True, False), 10_000) == (decode, 0)  # colocated: one pool


def _option(replicas: int, prefill: int) -> dict[str, object]:
    return {"gpus": 4 * replicas, "replicas": replicas, "prefill_replicas": prefill, "disaggregated": prefill > 0}


def test_grown_takes_the_settling_count_where_given() -> None:
    near = math.nextafter(1.0, 2.0)
    assert grown(_option(10, 0), near, 0.5, 1000)["replicas"] == 11  # type: ignore[index]
    assert grown(_option(10, 0), near, 0.5, 1000, (14, 0))["replicas"] == 14  # type: ignore[index]
    # a decode pool unsettled (its TPOT side): 5 prefill + max(4 + 1, 9) decode
    g = grown(_option(9, 5), 0.5, near, 1000, (0, 9))
    assert g is not None and (g["prefill_replicas"], g["replicas"], g["gpus"]) == (5, 14, 56)
    # a prefill pool unsettled (its TTFT side): both pools grow, the prefill pool to its count
    g = grown(_option(9, 5), near, 0.5, 1000, (8, 0))
    assert g is not None and (g["prefill_replicas"], g["replicas"]) == (8, 13)
    assert grown(_option(9, 5), 0.5, near, 55, (0, 9)) is None  # 56 accelerators beyond the limit
    assert grown(_option(9, 5), 0.5, near, 1000) == {**_option(10, 5), "disaggregated": True}  # one more, as before


def _candidate(stack: str | None) -> Candidate:
    engine = load_engine(stack)
    cl = Cluster.resolve("h100-sxm", purpose="LLM serving")
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=engine.token_budget,
                     engine=engine.engine, stack=engine.ref)
    return Candidate(load_model("llama3-8b"), cl.accelerator, cl.fabric, dep)


@pytest.mark.parametrize("stack", [None, "vllm-0.x", "src/infraplan/validation/data/stacks/trtllm-0.x-dynamo-agg.yaml"])
def test_mixed_step_bounds_every_iteration_carrying_those_sequences(stack: str, monkeypatch: pytest.MonkeyPatch
                                                                    ) -> None:
    """An iteration of P prompt tokens beside D decode sequences (`IterationCost.time`, the loop's sum) lasts at
    least `mixed_step_s`[D - 1], with the host floors on too (the Dynamo stack's 108 us a sequence, eager prefill)."""
    monkeypatch.setattr(host_overhead, "HOST_PER_SEQUENCE", True)
    cand = _candidate(stack)
    cost, cap = cand.cost, 64
    low = mixed_step_s(cost, cap)
    d = np.repeat(np.arange(1, cap + 1), 6)
    p = np.tile([0, 1, 16, 512, 2048, 8192 - 64], cap)
    t = cost.time(p, d, np.zeros(len(d)), np.zeros(len(d)))
    assert np.all(t >= low[d - 1] - 1e-15)
    assert np.all(low <= np.asarray(cost_tables(cost, cap)[3][1:]))  # never above a pure decode step


@pytest.mark.parametrize("stack", [None, "vllm-0.x"])
def test_a_colocated_replica_takes_at_least_the_bound_s_seconds(stack: str | None) -> None:
    """Every request present at t = 0 (3,000 chat lengths): a colocated replica's whole run lasts at least its
    requests' decode seconds by the mixed bound (a bound on its throughput, whatever the prefills beside)."""
    cand = _candidate(stack)
    req = clip_to_context(workload_requests(load_workload("chat"), 3000, None, 5), 8192)[0]
    run = cand.run(Requests(np.zeros(len(req)), req.input_tokens, req.output_tokens), "mixed")
    bound_s = len(req) * decode_request_s(cand.cost, cand.dep, req, mixed=True) / cand.dep.engines_per_replica
    assert float(np.nanmax(run.finish_s)) >= bound_s
    assert decode_request_s(cand.cost, cand.dep, req, mixed=True) <= decode_request_s(cand.cost, cand.dep, req)


def test_an_overloaded_colocated_probe_misses_by_the_bound() -> None:
    """A colocated replica offered 1.2x the requests its decode bound allows: its utilisation reads above 1 over
    the steady window and the probe misses (whatever its SLOs); at 0.5x the bound does not decide."""
    from infraplan.serving.capacity_candidate import steady_window

    cand = _candidate(None)
    law = clip_to_context(workload_requests(load_workload("chat"), 20_000, None, 0), 8192)[0]
    request_s = decode_request_s(cand.cost, cand.dep, law, mixed=True)
    for load in (1.2, 0.5):
        req = clip_to_context(workload_requests(load_workload("chat"), 1500, load / request_s, 1), 8192)[0]
        rho = cand._decode_utilisation(req, steady_window(req.arrival_s, cand.held), (law, "law"), "mixed")
        assert rho == pytest.approx(load, rel=0.15)
    over = clip_to_context(workload_requests(load_workload("chat"), 1500, 1.2 / request_s, 1), 8192)[0]
    assert not cand._meets_now(over, "mixed", (1e9, 1e9), 99.0, (law, "law"))
