"""`serve` / `serve-plan` give the cost and energy per output token at the steady served rate (hJ57).

They were taken over the whole run, drain included (the throughput convention the validation sets score): hG57's
632 H100 at 2,000 chat requests/s (serve-plan's answer of README's plan example) ran 123.8 s for 62 s of arrivals
and read 3.25 J and $1.22 per million tokens at 193.7 k tokens/s whole-run against 385.8 k offered; a fleet serving
that load around the clock pays its price and always-on power over the tokens it serves each second: 2.20 J and
$0.611 now. `steady_output_tokens_per_s` (`serving.steady_state.served_tokens_per_s`): the offered rate where the run
keeps up, offered / (1 + the later arrivals' latency growth) where its queue grows. And serve-plan's `feasible` is
false for a miss (it said true with `meets_slo_full_run` false). Each assertion below fails at 2e01ac4 (the fields
were absent; the per-token figures were the whole run's; `feasible` was true for a miss)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infraplan.cluster import Cluster
from infraplan.serving import capacity, capacity_horizon, steady_state
from infraplan.serving.capacity import search_capacity
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.serving_metrics import power_terms

MODEL, SYSTEM = "llama3-8b", "dgx-h100-superpod"


def _static_w(gpus: int) -> tuple[float, float]:
    cluster = Cluster.resolve(SYSTEM)
    idle, host = power_terms(cluster.accelerator, cluster.system)
    return gpus * (idle + host), gpus * idle


def test_a_run_that_keeps_up_prices_its_tokens_at_the_offered_rate() -> None:
    r = estimate_serving(MODEL, SYSTEM, 1, dtype="fp8", workload="chat", rate=10, requests=2000, usd_per_gpu_hour=3.0)
    assert r.offered_output_tokens_per_s is not None and r.steady_output_tokens_per_s is not None
    assert r.steady_output_tokens_per_s == pytest.approx(r.offered_output_tokens_per_s, rel=0.01)
    assert r.output_tokens_per_s < r.steady_output_tokens_per_s  # the whole run's drain
    tokens = r.output_tokens_per_s * r.duration_s
    assert r.usd_per_million_tokens == pytest.approx(3.0 / 3600 / r.steady_output_tokens_per_s * 1e6, rel=1e-9)
    static_w, idle_w = _static_w(1)
    dynamic_j = r.energy_j - static_w * r.duration_s
    # the dynamic joules per token are the later half of the arrival window's dynamic W over the served rate (hA58,
    # `serving.window_marks`; was the whole run's dynamic_j / tokens exactly): on one replica that keeps up, within
    # 0.04 % of the whole run's; the always-on part is exact
    assert r.joules_per_token == pytest.approx(static_w / r.steady_output_tokens_per_s + dynamic_j / tokens, rel=0.01)
    assert r.device_joules_per_token == pytest.approx(idle_w / r.steady_output_tokens_per_s + dynamic_j / tokens,
                                                      rel=0.01)
    assert r.joules_per_token - r.device_joules_per_token == pytest.approx(
        (static_w - idle_w) / r.steady_output_tokens_per_s, rel=1e-9)
    assert r.joules_per_token < r.energy_j / tokens  # the drain's idle watts are no longer charged to each token
    assert r.assumptions.per_token_basis and "steady" in r.assumptions.per_token_basis


def test_an_overloaded_run_prices_its_capacity() -> None:
    """1 H100, 40 chat requests/s (offered ~7.8 k tokens/s): the queue grows, the served rate is the capacity, which
    the tokens completed over the later half of the arrivals measure (5,636 tokens/s at 4,000 requests)."""
    r = estimate_serving(MODEL, SYSTEM, 1, dtype="fp8", workload="chat", rate=40, requests=4000)
    offered, steady = r.offered_output_tokens_per_s, r.steady_output_tokens_per_s
    assert offered is not None and steady is not None and r.output_tokens_per_s_while_arriving is not None
    assert steady < 0.8 * offered
    assert steady == pytest.approx(5636.0, rel=0.05)


def test_offline_is_the_whole_run() -> None:
    r = estimate_serving(MODEL, SYSTEM, 1, dtype="fp8", offline=True, input_len=500, output_len=200, requests=300)
    assert r.steady_output_tokens_per_s is None and r.offered_output_tokens_per_s is None
    tokens = r.output_tokens_per_s * r.duration_s
    assert r.joules_per_token == pytest.approx(r.energy_j / tokens, rel=1e-9)


def test_wait_growth_is_the_fluid_queue_slope() -> None:
    import numpy as np

    arrival = np.linspace(0.0, 100.0, 1001)
    assert steady_state.wait_growth(arrival, 5.0 + 0.25 * arrival) == pytest.approx(0.25)
    assert steady_state.wait_growth(arrival, 5.0 - 0.25 * arrival) == 0.0  # never above the offered rate
    out = np.full(1001, 200)
    assert steady_state.served_tokens_per_s(arrival, 5.0 + 0.25 * arrival, out) == pytest.approx(2000.0 / 1.25)


@pytest.fixture
def whole_runs_miss(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No whole run settles (hF52's reproducer, as tests/planning/test_missed_slo_note_hG57.py forces it)."""
    monkeypatch.setattr(capacity_horizon, "HORIZON_MAX_REQUESTS", 0)
    capacity.clear_caches()
    yield
    capacity.clear_caches()


def test_serve_plan_says_a_miss_is_not_feasible(whole_runs_miss: None) -> None:
    plan = search_capacity(MODEL, SYSTEM, 20.0, workload="chat")
    assert plan.deployment is not None and plan.meets_slo_full_run is False
    assert plan.feasible is False and plan.why
    assert plan.serve_command is not None  # the miss's run is still given to rerun


def test_serve_plan_gives_the_steady_rate_as_serve_does() -> None:
    plan = search_capacity(MODEL, SYSTEM, 20.0, workload="chat")
    assert plan.feasible and plan.meets_slo_full_run and plan.serve is not None
    steady = plan.serve.steady_output_tokens_per_s
    assert steady is not None and steady > plan.serve.output_tokens_per_s
    assert plan.serve.usd_per_million_tokens is not None
    hourly = plan.serve.usd_per_million_tokens * steady * 3600.0 / 1e6 / (plan.gpus or 0)
    assert hourly > 0.5  # the accelerator-hour price, over the steady rate
