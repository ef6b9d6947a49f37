"""MLPerf LoadGen's Server rules (validation.loadgen) against the C++ source's own definitions."""

from __future__ import annotations

import pytest
from scipy.special import betainc

from infraplan.validation.inference import run_inference_case, simulate_case
from infraplan.validation.inference_frontier import load_frontier_cases
from infraplan.validation.loadgen import (
    MIN_DURATION_S,
    completed_tokens_per_s,
    early_stopping_max_over,
    meets_early_stopping,
    scheduled_rate_per_s,
    server_passes,
    server_tokens_per_s,
)


def loadgen_min_passing(t: int, p: float = 0.99, c: float = 0.99) -> int:
    """early_stopping.cc as written: the least h with odds(h, t, p) = I_p(h, t + 1) < 1 - c (linear search)."""
    h = 1
    while betainc(h, t + 1, p) >= 1 - c:
        h += 1
    return h


@pytest.mark.parametrize("issued", [1000, 4388, 8313])
def test_early_stopping_allowance_is_loadgens_h_of_t(issued):
    """results.cc:227-247: valid iff issued >= h(t) + t; the allowance is the largest such t."""
    t = early_stopping_max_over(issued)
    assert issued >= loadgen_min_passing(t) + t
    assert issued < loadgen_min_passing(t + 1) + t + 1
    assert 0 < t < 0.01 * issued  # stricter than the p99 alone


def test_early_stopping_tends_to_the_percentile_for_long_runs():
    shares = [early_stopping_max_over(n) / n for n in (1_000, 10_000, 100_000, 1_000_000)]
    assert shares == sorted(shares) and 0.0097 < shares[-1] < 0.01
    assert early_stopping_max_over(100) == -1  # too few samples to show a p99 at 99 % confidence


def test_early_stopping_judges_a_trial_by_its_share_over_each_limit():
    """results.cc:491-510: TTFT and TPOT each within the bound for LoadGen's k N issued samples (DeepSeek-R1 at 4.78
    req/s: one pass of 4,388, 28 allowed, 0.64 %), the trial's share scaled to them."""
    assert early_stopping_max_over(4388) == 28
    trial = {"requests": 2000, "ttft_over_slo_count": 12, "tpot_over_slo_count": 0}
    assert meets_early_stopping(trial, 4.78, 4388)  # 12 / 2,000 x 4,388 = 26.3 <= 28
    assert not meets_early_stopping({**trial, "ttft_over_slo_count": 13}, 4.78, 4388)  # 28.5 > 28
    assert not meets_early_stopping({**trial, "tpot_over_slo_count": 13}, 4.78, 4388)  # each limit on its own
    assert meets_early_stopping({**trial, "tpot_over_slo_count": None}, 4.78, 4388)  # a limit not set: not judged
    # 14 over of 2,000 (0.70 %) passes the p99 but fails at one pass (30.7 > 28); two passes (8,776 issued) allow 66
    assert not meets_early_stopping({**trial, "ttft_over_slo_count": 14}, 4.78, 4388)
    assert early_stopping_max_over(8776) == 66
    assert meets_early_stopping({**trial, "ttft_over_slo_count": 14}, 7.53, 4388)


def test_the_serving_report_counts_the_requests_over_each_limit():
    """The serving simulator's `ttft_over_slo_count` / `tpot_over_slo_count` (strictly over, as LoadGen counts)
    agree with its SLO attainment: the requests meeting both are at most those meeting each."""
    data = load_frontier_cases()
    case = next(c for c in data["cases"] if c["row"] == "H134")  # Llama 3.1 8B H200 Interactive (500 ms / 30 ms)
    trial = simulate_case(case, data["engine"], data["workloads"], 600.0)  # overloaded: both limits exceeded
    n, ttft, tpot = trial["requests"], trial["ttft_over_slo_count"], trial["tpot_over_slo_count"]
    assert isinstance(ttft, int) and isinstance(tpot, int) and 0 < ttft < tpot < n
    assert 1.0 - (ttft + tpot) / n <= trial["slo_attainment"] <= 1.0 - max(ttft, tpot) / n
    assert (trial["tpot_s"]["p99"] > case["slo"]["tpot_s"]) == (tpot > 0.01 * n) or abs(tpot - 0.01 * n) <= 1


def test_the_search_keeps_only_rates_loadgen_would_call_valid():
    """With the case file's `early_stopping` the Server search's trial at the found rate meets LoadGen's bound on
    both limits; without it (the p99 alone) the rate is never lower (Llama 3.1 405B H200 Interactive, H092)."""
    data = load_frontier_cases()
    assert data["engine"]["early_stopping"] is True
    case = next(c for c in data["cases"] if c["row"] == "H092")
    row = run_inference_case(case, data["engine"], data["workloads"])
    rate = row["detail"]["rate_per_s"]
    assert rate > 0.0
    trial = simulate_case(case, data["engine"], data["workloads"], rate)
    assert meets_early_stopping(trial, rate, case["requests"])
    p99_only = run_inference_case(case, {**data["engine"], "early_stopping": False}, data["workloads"])
    assert p99_only["detail"]["rate_per_s"] >= rate


def test_server_passes_are_whole_datasets_spanning_600_s():
    assert server_passes(4.78, 4388) == 1  # DeepSeek-R1 at the published rate: 918 s of arrivals
    assert server_passes(7.533, 4388) == 2  # 582 s in one pass: LoadGen adds a second
    k = server_passes(87.68, 24576)
    assert (k * 24576 - 1) / 87.68 >= 600 > ((k - 1) * 24576 - 1) / 87.68
    with pytest.raises(ValueError):
        server_passes(0.0, 100)


def test_completed_tokens_count_the_last_issued_querys_tail():
    rate, n, out = 5.0, 4000, 3000.0
    k = server_passes(rate, n)
    assert completed_tokens_per_s(rate, n, out, 0.0) == pytest.approx(rate * out * k * n / (k * n - 1))
    with_tail = completed_tokens_per_s(rate, n, out, 200.0)
    assert with_tail == pytest.approx(k * n * out / ((k * n - 1) / rate + 200.0))
    assert with_tail < rate * out
    result = {"mean_output_tokens": out, "e2e_last_arrivals_s": 200.0}
    assert server_tokens_per_s(rate, result, n, "completed") == pytest.approx(with_tail)
    assert server_tokens_per_s(rate, result, n, "scheduled") == pytest.approx(rate * out)
    assert server_tokens_per_s(0.0, result, n, "completed") == 0.0  # the search found no passing rate
    with pytest.raises(ValueError):
        server_tokens_per_s(rate, result, n, "queries")


@pytest.mark.parametrize("rate", [0.3, 4.78, 7.53, 87.7, 1300.0])
def test_the_scheduled_rate_inverts_the_completed_metric(rate):
    """A published Server row's arrival rate: the completed tokens/s read back through LoadGen's run (passes too)."""
    dataset, out, tail = 4388, 3779.0, 250.0
    completed = completed_tokens_per_s(rate, dataset, out, tail)
    assert scheduled_rate_per_s(completed, dataset, out, tail) == pytest.approx(rate, rel=1e-9)
    assert scheduled_rate_per_s(completed, dataset, out, 0.0) < rate  # ignoring the tail reads the rate low
    with pytest.raises(ValueError):
        scheduled_rate_per_s(0.0, dataset, out, tail)


@pytest.mark.parametrize(("tail", "jump"), [(1.7, 0), (252.0, 0), (399.7, 1), (665.7, 0), (851.9, 0), (1330.7, 2)])
def test_the_scheduled_rate_issues_the_passes_it_was_read_with(tail, jump):
    """DeepSeek-R1's Server row (H077: 18,592.2 completed tokens/s, 4,388 samples of ~3,779 tokens) read back with
    the last-issued query's latency of one sample of 16 to 20,000 tokens at the row's TTFT / TPOT means (0.73 s,
    66.5 ms): a rate returned re-scores to the row at the passes it issues itself; where the metric jumps at a
    pass boundary (400 s: one pass ends below the row, two start above it) no rate gives the row: ValueError, not
    a rate read with passes it would not issue (6.34 req/s with 2 passes, one pass at that rate: 15,180)."""
    completed, dataset, out = 18592.2, 4388, 3779.0
    if not jump:
        rate = scheduled_rate_per_s(completed, dataset, out, tail)
        assert completed_tokens_per_s(rate, dataset, out, tail) == pytest.approx(completed, rel=1e-9)
        return
    with pytest.raises(ValueError, match="jumps"):
        scheduled_rate_per_s(completed, dataset, out, tail)
    boundary = (jump * dataset - 1) / MIN_DURATION_S  # the fastest rate that issues `jump` passes
    assert server_passes(boundary, dataset) == jump and server_passes(boundary * (1 + 1e-9), dataset) == jump + 1
    below = completed_tokens_per_s(boundary, dataset, out, tail)
    above = completed_tokens_per_s(boundary * (1 + 1e-9), dataset, out, tail)
    assert below < completed < above


def test_the_v51_server_rows_report_loadgens_completed_tokens():
    """The v5.1 case file asks for LoadGen's metric: a Server row's prediction is the completed tokens/s of its trial
    at the searched rate (its last arrivals' mean latency as the last-issued query's), below rate x mean output; the
    mean output is the dataset's (the offline run's draws: a run issues whole passes), not the trial's own draws."""
    data = load_frontier_cases()
    assert data["engine"]["server_metric"] == "completed"
    case = next(c for c in data["cases"] if c["row"] == "H134")  # Llama 3.1 8B H200 Interactive
    row = run_inference_case(case, data["engine"], data["workloads"])
    rate = row["detail"]["rate_per_s"]
    trial = simulate_case(case, data["engine"], data["workloads"], rate)
    mean = simulate_case(case, data["engine"], data["workloads"], None)["mean_output_tokens"]  # the dataset's
    assert mean != trial["mean_output_tokens"]  # the trial (600 s of arrivals) draws other lengths
    expected = completed_tokens_per_s(rate, case["requests"], mean, trial["e2e_last_arrivals_s"])
    assert row["predicted"] == pytest.approx(expected, rel=1e-9)
    assert row["predicted"] < rate * mean
    scheduled = run_inference_case(case, {**data["engine"], "server_metric": "scheduled"}, data["workloads"])
    assert scheduled["predicted"] == pytest.approx(rate * mean, rel=1e-9)


# mlcommons-loadgen 5.1.2 mlperf.conf (the v5.1 rows' LoadGen): <model>.*.performance_sample_count_override (lines
# 15-27) and <model>.Server.ttft_latency / tpot_latency in ms (lines 100-133)
LOADGEN_5_1 = {
    ("deepseek-r1", "server"): (4388, 2000, 80),
    ("llama3.1-405b", "server"): (8313, 6000, 175), ("llama3.1-405b", "interactive"): (8313, 4500, 80),
    ("llama2-70b", "server"): (24576, 2000, 200), ("llama2-70b", "interactive"): (24576, 450, 40),
    ("mixtral-8x7b", "server"): (15000, 2000, 200),
    ("llama3.1-8b", "server"): (13368, 2000, 100), ("llama3.1-8b", "interactive"): (13368, 500, 30),
}


def test_the_v51_cases_run_loadgens_dataset_sizes_and_limits():
    data = load_frontier_cases()
    for case in data["cases"]:
        key = (case["model"], "server" if case["scenario"] == "offline" else case["scenario"])
        samples, ttft_ms, tpot_ms = LOADGEN_5_1[key]
        assert case["requests"] == samples, case["row"]
        if case["scenario"] != "offline":
            assert case["slo"] == {"ttft_s": ttft_ms / 1000.0, "tpot_s": tpot_ms / 1000.0}, case["row"]


def test_the_last_arrivals_meet_a_draining_engine():
    """The serving report's tail latency: the last 1 % of a Poisson run's arrivals finish faster than its mean request
    once no new work arrives (H134's trial at 300 req/s)."""
    data = load_frontier_cases()
    case = next(c for c in data["cases"] if c["row"] == "H134")
    trial = simulate_case(case, data["engine"], data["workloads"], 300.0)
    assert 0.0 < trial["e2e_last_arrivals_s"] < trial["e2e_s"]["mean"]
