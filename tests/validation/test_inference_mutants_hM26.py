"""Mutation wave hM26 on the MLPerf Server trials of LoadGen's 600 s (session 47, hV51: `validation.inference`'s
`trial_engines` and its use in `_simulate`).

A Server trial at rate r holds max(dataset, r x 600 s) requests (mlperf.conf's min_duration) and, with the case
file's `server_sampled_engines`, runs on the fewest of the pool's E engines whose round-robin share holds the dataset
(k = ceil(E x dataset / n)): Llama 3.1 8B on 8 B200 (H131: TP1 x 8, dataset 13,368) at 1,000 requests/s is 600,000
requests (45 whole passes of 13,368 in LoadGen's equal-issue query: 601,560), k = ceil(8 x 13,368 / 601,560) = 1
engine, its share 75,195 requests (every 8th). hV51's test bounded the trial from below only, so a trial on the
whole pool (8x the work, the same percentiles up to sampling) passed it.
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
    n = math.ceil((rate * 600 + 1) / case["requests"]) * case["requests"]  # LoadGen's whole passes spanning 600 s
    engines = math.ceil(8 * case["requests"] / n)
    run = simulate_case(case, data["engine"], data["workloads"], rate)
    assert (n, engines) == (601_560, 1)
    assert run["requests"] == n // 8 * engines == 75_195


def test_a_slow_rows_trial_holds_loadgens_one_pass_of_the_dataset() -> None:
    """Llama 3.1 405B fp8 on 8 H200 (H091: one TP8 engine, dataset 8,313) at 1 request/s: 600 s of arrivals is 600
    requests, fewer than the dataset, so LoadGen's equal-issue query is one whole pass, 8,313 (the case file's
    `server_equal_issue`; until session 60 the trial held `server_min_requests`, 2,000 of them, for speed)."""
    data = load_frontier_cases()
    case = next(c for c in data["cases"] if c["row"] == "H091")
    engine = data["engine"]
    assert case["requests"] == 8313 and engine["server_equal_issue"]
    run = simulate_case(case, engine, data["workloads"], 1.0)
    assert run["requests"] == 8313
