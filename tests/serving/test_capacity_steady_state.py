"""serve-plan's probes judge a replica in steady state: long enough, warm-up and drain left out, backlog flat."""

from __future__ import annotations

import numpy as np

from infraplan.serving import capacity
from infraplan.serving.backlog_growth import BACKLOG_SHARE, keeps_up
from infraplan.serving.capacity import search_capacity
from infraplan.serving.capacity_candidate import steady_window
from infraplan.serving.steady_state import STEADY_SPANS

V3 = dict(input_len=1000, output_len=2000, ttft_slo=3.0, tpot_slo=0.1, dtypes=("fp8",))


def _queue(arrival_s: np.ndarray, service_s: float, servers: int) -> np.ndarray:
    """Finish times of first-come-first-served requests on `servers` identical servers."""
    free = np.zeros(servers)
    finish = np.empty_like(arrival_s)
    for i, a in enumerate(arrival_s):
        k = int(np.argmin(free))
        free[k] = finish[i] = max(a, free[k]) + service_s
    return finish


def test_the_window_drops_the_first_and_last_held_requests_in_arrival_order() -> None:
    arrival = np.random.default_rng(0).permutation(np.arange(40, dtype=float))
    window = steady_window(arrival, 10)
    assert sorted(arrival[window]) == list(np.arange(10.0, 30.0))
    assert len(steady_window(arrival, 11)) == 40  # too short to leave a window: judged whole
    assert len(steady_window(np.zeros(40), 5)) == 40  # offline: judged whole


def test_a_stable_queue_keeps_up_and_an_overloaded_one_does_not() -> None:
    arrival = np.cumsum(np.random.default_rng(1).exponential(1.0, 4000))  # 1 request/s
    window = steady_window(arrival, 100)
    stable = _queue(arrival, 50.0, servers=60)  # serves 1.2 requests/s
    assert keeps_up(arrival, stable, window)
    overloaded = _queue(arrival, 50.0, servers=40)  # serves 0.8 requests/s: the backlog grows 0.2/s
    assert not keeps_up(arrival, overloaded, window)
    # an overload below BACKLOG_SHARE of the offered rate is left to the percentiles and the full run
    assert keeps_up(arrival, _queue(arrival, 50.0, servers=int(50 / (1 + BACKLOG_SHARE / 2))), window)


def test_the_answer_does_not_hang_on_a_probe_shorter_than_one_request() -> None:
    # 1,500 requests at 32 req/s end (47 s) before one 2,000-token decode does (~100 s): the probe is stretched to
    # STEADY_SPANS x what a replica holds, so asking for 1,500 or 6,000 requests gives one answer that meets the SLO
    capacity.clear_caches()
    short = search_capacity("deepseek-v3", "hgx-h200", 32.0, requests=1500, **V3)  # type: ignore[arg-type]
    capacity.clear_caches()
    long = search_capacity("deepseek-v3", "hgx-h200", 32.0, requests=6000, **V3)  # type: ignore[arg-type]
    assert short.gpus == long.gpus and short.meets_slo_full_run and long.meets_slo_full_run
    d = short.deployment
    assert d is not None and short.full_run_requests is not None
    held = d.attention_dp * d.max_batch * d.replicas
    assert short.full_run_requests >= STEADY_SPANS * held
