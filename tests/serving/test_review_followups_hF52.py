"""hR51's review of hQ51's serve-plan work, followed up (hF52): each test failed before its fix.

1. A decode engine's slot fill (the mean residual life of its requests' lives at a full batch) does not depend on the
   utilisation or the replica count, so it is not a queue that does not settle: it only lengthens the whole run up to
   the 400,000-request cap (`capacity_horizon.whole_run_requests`). Read as one, every option of Llama 3 70B chat on
   GB300 missed above ~14,000 requests/s with "utilisation near 1" (hR51: fill 3.68 s at batch 256, 400,000 / (8 x
   3.68) = 13,600 requests/s).
2. An answer whose whole run missed says its own reason (`ServingPlanResult.why`, serve-plan's warning), not the
   probes' advice with figures inside the SLO.
3. One function prices a decode request (`capacity_candidate.decode_request_seconds`), and a prefill pool's service
   is its own offline sample's seconds a prompt token.
4. The warm-up's TTFT misses, run alone, stand for the whole run's on one replica only (a bound, not exact, on
   several: `capacity_horizon.later_misses`).
5. `validation.loadgen`'s early stopping is serve-plan's confidence rule, one function.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.serving_loader import load_workload
from infraplan.cli.commands.serve_plan import render_plan
from infraplan.cluster import Cluster
from infraplan.serving import (
    capacity,
    capacity_candidate,
    capacity_confidence,
    capacity_decode,
    capacity_horizon,
    serving_metrics,
)
from infraplan.serving.capacity_answer import missed_reason
from infraplan.serving.capacity_decode import decode_request_s
from infraplan.serving.capacity_horizon import (
    HORIZON_MAX_REQUESTS,
    RELAXATIONS,
    option_laws,
    option_run,
    settling_replicas,
    unsettled,
    whole_run_requests,
)
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.serving_sim import simulate_deployment
from infraplan.serving.workloads import Requests, clip_to_context, workload_requests

FILL_S, QUEUE_S, RATE = 3.68, 0.20, 20_000.0  # hR51's 70B chat on GB300 at 20,000/s, 857 replicas (decode 0.5)


def test_a_decode_fill_is_not_a_queue_that_does_not_settle() -> None:
    assert RATE * RELAXATIONS * FILL_S > HORIZON_MAX_REQUESTS  # the fill alone needs more than the cap
    assert not unsettled(RATE, [FILL_S, QUEUE_S])  # was True: "utilisation near 1" at utilisation 0.5
    assert unsettled(RATE, [FILL_S, math.inf]) and unsettled(RATE, [0.1, 3.0])  # a queue that does not settle does
    assert not unsettled(RATE, [])  # a colocated option's (absent) decode pool
    # the fill lengthens the run up to the cap, and the run settles; a queue beyond the cap still misses, not run long
    assert whole_run_requests(RATE, 1500, [QUEUE_S], [FILL_S]) == (HORIZON_MAX_REQUESTS, True)
    assert whole_run_requests(100.0, 1500, [0.5], [4.0]) == (3200, True)  # 100 x 8 x 4 s: the fill's run, as before
    assert whole_run_requests(RATE, 1500, [3.0], [FILL_S]) == (1500, False)
    # its warm-up: 4 relaxation times, but at most the first half of a run the fill made the cap
    assert option_run(RATE, 1500, ([FILL_S, QUEUE_S], [])) == (HORIZON_MAX_REQUESTS, True, 10.0)
    assert option_run(100.0, 1500, ([0.3], [4.0, 0.5])) == (3200, True, 16.0)
    # a grown retry's count is its queue's: the fill, the same at any count, does not make it "none"
    law = ([1e3], 1.0, 1.0, 1.0)
    assert settling_replicas(1000.0, law, 1001, 10_000) == settling_replicas(1000.0, ([], 1.0, 1.0, 1.0), 1001, 10_000)


def test_a_real_fill_leaves_a_half_loaded_pool_settled() -> None:
    """hR51's unscaled case: Llama 3 70B fp8 chat on GB300 at 20,000 requests/s, TP1 batch 256, replicas for a decode
    utilisation of 0.5 and 0.25: a fill of ~3.7 s, queues of tenths of a second; unsettled before at every count."""
    shape, cl = load_model("llama3-70b"), Cluster.resolve("gb300-nvl72-superpod", purpose="LLM serving")
    lengths = clip_to_context(workload_requests(load_workload("chat"), 20_000, None, 0), shape.max_seq_len)[0]
    arrivals = workload_requests(load_workload("chat"), 1500, RATE, 0).arrival_s
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=256, token_budget=8192)
    cost = build_iteration_cost(shape, cl.accelerator, cl.fabric, dep)
    per_request = decode_request_s(cost, dep, lengths)
    for util in (0.5, 0.25):
        replicas = math.ceil(RATE * per_request / util)
        fill, queue = capacity_horizon.pool_time_constants(RATE, arrivals, lengths, replicas, None, (cost, dep))
        assert RATE * RELAXATIONS * fill > HORIZON_MAX_REQUESTS > RATE * RELAXATIONS * queue
        assert not unsettled(RATE, [fill, queue])


@pytest.fixture
def horizon_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pool's queue 'does not settle' (a cap of 0 requests; hR51's reproducer took 1, where the fill alone was
    'unsettled')."""
    monkeypatch.setattr(capacity_horizon, "HORIZON_MAX_REQUESTS", 0)
    capacity.clear_caches()


def test_a_missed_answer_says_its_own_reason(horizon_none: None, capsys: pytest.CaptureFixture[str]) -> None:
    """hR51's repro_why: every whole run misses on its pools' settling; the answer said no reason and the CLI
    printed 'its replica probes met it ... more probe requests (--requests) size it safely'."""
    r = capacity.search_capacity("llama3-8b", "dgx-h100-superpod", 20.0, workload="chat")
    # a miss is not `feasible` (hJ57: was true with `meets_slo_full_run` false); its deployment is still given
    assert not r.feasible and r.deployment is not None and r.meets_slo_full_run is False
    assert r.why is not None and "does not settle" in r.why
    capsys.readouterr()
    render_plan(r)  # serve-plan's text
    out = capsys.readouterr().out
    warning = next(line for line in out.splitlines() if line.startswith("warning: the whole deployment"))
    assert "does not settle" in " ".join(out.split()) and "more probe requests" not in warning


def test_the_plain_miss_names_the_percentile_over_its_slo() -> None:
    result = {"ttft_s": {"p99": 0.31}, "tpot_s": {"p99": 0.02}}
    assert missed_reason(result, (0.25, 0.05), "p99", "") == ("its TTFT p99 0.31 s is above the SLO (0.25 s) where "
                                                              "its replica probes met it: more probe requests "
                                                              "(--requests) size it safely")
    assert missed_reason({"ttft_s": {"p99": 0.2}, "tpot_s": {"p99": 0.06}}, (0.25, 0.05), "p99", "")\
        .startswith("its TPOT p99 0.06 s is above the SLO (0.05 s)")
    assert missed_reason(result, (0.25, 0.05), "p99", "a pool's queue does not settle") == \
        "a pool's queue does not settle"


def test_one_decode_request_price_and_one_prefill_sample() -> None:
    shape, cl = load_model("llama3-8b"), Cluster.resolve("h100-sxm", purpose="LLM serving")
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=8192)
    cand = capacity_candidate.candidate_for(shape, cl.accelerator, cl.fabric, dep)
    lengths = clip_to_context(workload_requests(load_workload("chat"), 20_000, None, 1), 8192)[0]
    assert capacity_horizon.decode_request_seconds is capacity_decode.decode_request_seconds
    each = capacity_decode.decode_request_seconds(cand.cost, cand.dep, lengths)
    assert float(each.mean()) == pytest.approx(decode_request_s(cand.cost, cand.dep, lengths), rel=1e-12)
    # the prefill pool's service: its offline sample's seconds a prompt token x each prompt's tokens, so its mean is
    # that sample's seconds a prompt scaled by the long sample's mean prompt over the offline sample's
    offline = clip_to_context(workload_requests(load_workload("chat"), 600, None, 5), 8192)[0]
    ratio = float(lengths.input_tokens.mean() / offline.input_tokens.mean())
    assert abs(ratio - 1.0) > 0.01  # two samples of different mean prompts (else the test could not tell)
    option = {"replicas": 3, "prefill_replicas": 1, "disaggregated": True}
    arrival = workload_requests(load_workload("chat"), 600, 10.0, 5).arrival_s
    (_, (_, prefill_mean, _, _)), _ = option_laws(shape, cl.accelerator, cl.fabric, dep, option, arrival,
                                                   (offline, "hF52-offline"), lengths)
    per_prompt = cand.offline_s(offline, "hF52-offline", "prefill") / len(offline)
    assert prefill_mean == pytest.approx(per_prompt * ratio, rel=1e-9)


def _first_tokens(monkeypatch: pytest.MonkeyPatch, reps: int, prefill: int, rate: float) -> tuple[np.ndarray, ...]:
    """The TTFTs of a 3,000-request chat run's first 1,500 requests in the whole run and run alone (llama3-8b fp8 on
    H100, hR51's warm_exact.py), read where the run's percentiles are taken."""
    seen: list[np.ndarray] = []
    real = serving_metrics.percentiles

    def spy(x: np.ndarray, *args: object, **kwargs: object) -> object:
        seen.append(np.array(x, copy=True))
        return real(x, *args, **kwargs)

    monkeypatch.setattr(serving_metrics, "percentiles", spy)
    shape = load_model("llama3-8b")
    cl = Cluster.resolve("dgx-h100-superpod", purpose="LLM serving").for_gpus(reps)
    reqs = clip_to_context(workload_requests(load_workload("chat"), 3000, rate, 0), shape.max_seq_len)[0]
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=8192, replicas=reps)
    got = []
    for n in (3000, 1500):
        seen.clear()
        simulate_deployment(shape, cl, dep, Requests(reqs.arrival_s[:n], reqs.input_tokens[:n],
                                                     reqs.output_tokens[:n]),
                            prefill_replicas=prefill, ttft_slo_s=2.0, tpot_slo_s=0.2)
        got.append(seen[0])
    return got[0][:1500], got[1]


def test_the_warm_up_subtraction_is_exact_on_one_replica_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """`later_misses`'s docstring: exact on one replica; on several, later arrivals move a few of the warm-up's first
    tokens by tens of ms, mostly later (hR51: 2 colocated replicas at 45/s, one 49.6 ms later)."""
    whole, alone = _first_tokens(monkeypatch, 1, 0, 30.0)
    assert np.array_equal(whole, alone)
    whole, alone = _first_tokens(monkeypatch, 2, 0, 45.0)
    moved = whole - alone
    assert np.count_nonzero(moved) > 0 and moved.max() < 0.1 and moved.min() > -0.001


def test_loadgen_early_stopping_is_the_serving_rule() -> None:
    from infraplan.validation import loadgen

    assert loadgen.most_over is capacity_confidence.most_over
    for n in (100, 4388, 8313, 221_184):
        assert loadgen.early_stopping_max_over(n) == capacity_confidence.most_over(n, 99.0)
