"""Mutation wave hM26 on the MLPerf Server trials of LoadGen's 600 s (session 47, hV51: `validation.inference`'s
`trial_engines` and its use in `_simulate`).

A Server trial at rate r holds max(dataset, r x 600 s) requests (mlperf.conf's min_duration) and, with the case
file's `server_sampled_engines`, runs on the fewest of the pool's E engines whose round-robin share holds the dataset
(k = ceil(E x dataset / n)): Llama 3.1 8B on 8 B200 (H131: TP1 x 8, dataset 13,368) at 1,000 requests/s is 600,000
requests, k = ceil(8 x 13,368 / 600,000) = 1 engine, its share 75,000 requests (every 8th). hV51's test bounded the
trial from below only, so a trial on the whole pool (8x the work, the same percentiles up to sampling) passed it.
"""

from __future__ import annotations

import math

from infraplan.validation.inference import simulate_case
from infraplan.validation.inference_frontier import load_frontier_cases


def test_a_server_trial_runs_on_the_engines_that_hold_the_dataset_by_hand() -> None:
    data = load_frontier_cases()
    case = next(c for c in data["cases"] if c["row"] == "H131")
    assert case["requests"] == 13_368 and case["gpus"] == 8 and data["engine"]["server_min_duration_s"] == 600
    rate = 1000.0
    n = max(case["requests"], int(rate * 600))
    engines = math.ceil(8 * case["requests"] / n)
    run = simulate_case(case, data["engine"], data["workloads"], rate)
    assert (n, engines) == (600_000, 1)
    assert run["requests"] == n // 8 * engines == 75_000


def test_a_slow_rows_trial_holds_the_files_least_requests() -> None:
    """Llama 3.1 405B fp8 on 8 H200 (H091: one TP8 engine, dataset 8,313) at 1 request/s: 600 s of arrivals is 600
    requests, below the file's `server_min_requests` (2,000), which the trial holds: min(max(8,313, 600),
    max(600, 2,000)) = 2,000 (the file's `server_max_duration_s` with its floor; the dataset's 8,313 not run, speed)."""
    data = load_frontier_cases()
    case = next(c for c in data["cases"] if c["row"] == "H091")
    engine = data["engine"]
    assert (case["requests"], engine["server_max_duration_s"], engine["server_min_requests"]) == (8313, 600, 2000)
    run = simulate_case(case, engine, data["workloads"], 1.0)
    assert run["requests"] == 2000
