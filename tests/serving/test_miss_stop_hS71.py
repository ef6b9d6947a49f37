"""hS71: a whole run read for its verdict alone stops once its count over an SLO shows the percentile missed.

`serving.miss_stop.MissWatch` counts each engine's requests over the SLOs as the run's summary counts them: stopped at
exactly the summary's count it raises (at the last engine at the latest), one more and the run goes to its end with
every figure unchanged; colocated (a plain stack, a schedule-ahead stack, a receive-poll stack: `request_intake`'s
shifts) and disaggregated (the decode pool watched). `capacity.search_capacity(answer_only=True)` answers as serve-plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.serving_loader import load_workload
from infraplan.cluster import Cluster
from infraplan.serving import capacity, request_intake, serving_sim
from infraplan.serving.capacity_confidence import least_over_missing, most_over
from infraplan.serving.disaggregated import DisaggregatedDeployment
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.miss_stop import SHOWN_MISSED, ShownMissed, least_over
from infraplan.serving.serve_inputs import build_requests
from infraplan.serving.serving_sim import simulate_deployment, simulate_disaggregated
from infraplan.serving.workloads import Requests

SHAPE = load_model("llama3-8b")
H100 = Cluster.resolve("dgx-h100-superpod")
NEVER = 10**9  # a count no run of these reaches
RECV30 = str(Path(capacity.__file__).resolve().parent.parent
             / "validation/data/stacks/sglang-0.x-mixed-chunk-recv30.yaml")  # polls every 30 decode iterations
_CHAT = build_requests(load_workload("chat"), None, None, None, 600, 60.0, 5)  # seeded: chat lengths, Poisson at 60/s
# every 7th output one token: no TPOT, so the TPOT count is over fewer requests than TTFT's
REQUESTS = Requests(_CHAT.arrival_s, _CHAT.input_tokens, np.where(np.arange(600) % 7 == 0, 1, _CHAT.output_tokens))


def _counts_pin_the_stop(sim: Any) -> None:
    """`sim(stop_over)` -> the run's result: stopping at its own counts raises, one more runs it unchanged."""
    plain = sim(None)
    ttft, tpot = plain["ttft_over_slo_count"], plain["tpot_over_slo_count"]
    assert 0 < ttft < len(REQUESTS) and 0 < tpot < len(REQUESTS)  # both counts bite (the SLOs are mid-spread)
    for at in ((ttft, NEVER), (NEVER, tpot), (1, NEVER)):
        with pytest.raises(ShownMissed):
            sim(at)
    assert repr(sim((ttft + 1, tpot + 1))) == repr(plain)  # watched to the end: every figure the same


def _slos(sim: Any) -> tuple[float, float]:
    """TTFT and TPOT SLOs at the run's medians (so both counts are about half the run)."""
    r = sim(None, (1e9, 1e9))
    return r["ttft_s"]["p50"], r["tpot_s"]["p50"]


@pytest.mark.parametrize("stack", ["trtllm-0.x", "sglang-0.x", RECV30])
def test_colocated_counts_are_the_summary_counts(stack: str) -> None:
    dep = Deployment(tp=1, replicas=4, dtype="fp8", max_batch=32, stack=stack)

    def sim(stop: tuple[int, int] | None, slo: tuple[float, float] | None = None) -> dict[str, Any]:
        ttft, tpot = slo or slos
        return simulate_deployment(SHAPE, H100, dep, REQUESTS, ttft_slo_s=ttft, tpot_slo_s=tpot, stop_over=stop)

    slos = _slos(sim)
    if stack != "trtllm-0.x":  # the shifts the watch forms are on (else this case tests nothing more)
        assert request_intake.schedules_ahead(stack) or request_intake.recv_interval(stack) > 1
    _counts_pin_the_stop(sim)


@pytest.mark.parametrize("tpot_slo", [None, 1e-9])
def test_disaggregated_counts_are_the_summary_counts(tpot_slo: float | None) -> None:
    """At a TPOT SLO of 1e-9 s every request of more than one token is over it, and a one-token request (its finish
    its KV's arrival, after its prefill's first token) must not count: the summary's count is 514 of 600."""
    pair = DisaggregatedDeployment(Deployment(tp=1, replicas=1, dtype="fp8", max_batch=8),
                                   Deployment(tp=1, replicas=3, dtype="fp8", max_batch=32))

    def sim(stop: tuple[int, int] | None, slo: tuple[float, float] | None = None) -> dict[str, Any]:
        ttft, tpot = slo or slos
        return simulate_disaggregated(SHAPE, H100, pair, REQUESTS, ttft_slo_s=ttft, tpot_slo_s=tpot, wait_split=True,
                                      stop_over=stop)

    slos = _slos(sim)
    slos = (slos[0], tpot_slo or slos[1])
    _counts_pin_the_stop(sim)
    assert tpot_slo is None or sim(None)["tpot_over_slo_count"] == 600 - 86


def test_thresholds_are_the_verdicts() -> None:
    """`least_over`: over all requests (TTFT) and over those of more than one token (TPOT); the binomial's miss where
    a longer run may follow, past the most a MET verdict allows at the cap (UNSURE is a near miss there)."""
    many = int(np.count_nonzero(REQUESTS.output_tokens > 1))
    assert many == 600 - 86  # the one-token outputs (every 7th) have no TPOT
    assert least_over(REQUESTS, 99.0, False) == (least_over_missing(600, 99.0), least_over_missing(many, 99.0))
    assert least_over(REQUESTS, 99.0, True) == (most_over(600, 99.0) + 1, most_over(many, 99.0) + 1)
    assert most_over(600, 99.0) + 1 < least_over_missing(600, 99.0)
    none = Requests(REQUESTS.arrival_s, REQUESTS.input_tokens, np.ones(600, dtype=np.int64))  # no TPOT: MET
    assert least_over(none, 99.0, True)[1] == least_over(none, 99.0, False)[1] == 1  # no count reaches it


def test_verdict_only_run_that_misses_stops_and_the_answer_is_serve_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Llama 3 8B chat at 300 / s within 64 H100 (no grown retry): its first whole run, 11 accelerators (7 prefill
    replicas), misses outright; 12 meets. Every run taken for its verdict alone (`whole_runs` given `verdict_only` as
    its `full_run`): the miss stops part-way (fewer requests simulated), the met run is run whole, and the answer and
    its metrics are serve-plan's."""
    monkeypatch.setattr("infraplan.serving.replica_search.LEVEL_RETRIES", 0)
    simulated = [0]
    engine = serving_sim.simulate_engine

    def counted(cost: Any, arrival: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        simulated[0] += len(arrival)
        return engine(cost, arrival, *args, **kwargs)

    monkeypatch.setattr(serving_sim, "simulate_engine", counted)
    ask: dict[str, Any] = dict(workload="chat", max_gpus=64, requests=300, seed=0)
    full = capacity.search_capacity("llama3-8b", "h100-sxm", 300.0, **ask)
    whole = simulated[0]
    runs = capacity.whole_runs
    monkeypatch.setattr(capacity, "whole_runs", lambda level, full_run, grow, **kw: runs(
        level, kw["verdict_only"], grow, **kw))
    capacity.clear_caches()
    simulated[0] = 0
    answer = capacity.search_capacity("llama3-8b", "h100-sxm", 300.0, answer_only=True, **ask)
    assert (full.gpus, full.meets_slo_full_run) == (12, True)
    assert any("on 11 accelerators: its full run of" in x for x in full.rejected)  # serve-plan runs it whole
    assert answer.model_dump(exclude={"rejected"}) == full.model_dump(exclude={"rejected"})
    stopped = [x for x in answer.rejected if SHOWN_MISSED in x]
    assert len(stopped) == 1 and "on 11 accelerators" in stopped[0]
    assert simulated[0] < whole  # the miss's engines after the stop not run
