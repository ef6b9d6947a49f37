"""A Server / Interactive trial of the MLPerf v5.1 set issues LoadGen's equal-issue query (session 60, hC).

LoadGen (mlcommons-loadgen 5.1.2, loadgen.cc:235-248, 316-332, 401-406; mlperf.conf:58-69) issues a Server run of an
LLM benchmark as k whole passes of the loaded dataset, each pass the dataset's samples in a shuffled order, the least k
whose Poisson arrivals span 600 s. The trial (`validation.inference.equal_issue_requests`, the case file's
`server_equal_issue`) runs those samples: the very lengths of the row's Offline run, not 2,000 fresh draws.
"""

from __future__ import annotations

import numpy as np

from infraplan.validation.inference import case_requests, equal_issue_requests, simulate_case
from infraplan.validation.inference_frontier import load_frontier_cases
from infraplan.validation.loadgen import server_passes


def _pairs(inputs: np.ndarray, outputs: np.ndarray) -> list[tuple[int, int]]:
    return sorted(zip(inputs.tolist(), outputs.tolist(), strict=True))


def test_each_pass_is_the_offline_runs_dataset_in_its_own_shuffled_order():
    data = load_frontier_cases()
    case = next(c for c in data["cases"] if c["row"] == "H077")  # DeepSeek-R1, 4,388 samples
    n, rate = case["requests"], 9.0
    passes = server_passes(rate, n)
    assert passes == 2  # 4,388 arrivals at 9 req/s span 487 s < 600 s: LoadGen adds a pass
    trial = equal_issue_requests(case, data["workloads"], rate, passes)
    dataset = case_requests(case, data["workloads"], None)  # the Offline run's samples
    assert len(trial.input_tokens) == passes * n
    first, second = (slice(0, n), slice(n, 2 * n))
    for part in (first, second):
        assert _pairs(trial.input_tokens[part], trial.output_tokens[part]) == _pairs(dataset.input_tokens,
                                                                                     dataset.output_tokens)
    assert not np.array_equal(trial.input_tokens[first], trial.input_tokens[second])  # shuffled anew each pass
    assert not np.array_equal(trial.input_tokens[first], dataset.input_tokens)
    gaps = np.diff(trial.arrival_s)
    assert trial.arrival_s[0] == 0.0 and np.all(gaps >= 0.0)
    assert abs(gaps.mean() * rate - 1.0) < 0.05 and abs(gaps.std() / gaps.mean() - 1.0) < 0.05  # Poisson
    again = equal_issue_requests(case, data["workloads"], rate, passes)
    assert np.array_equal(again.arrival_s, trial.arrival_s)  # deterministic


def test_a_slow_rows_trial_runs_the_whole_dataset_and_a_fast_rows_whole_passes():
    """Llama 3.1 405B fp8 on 8 H200 (H091, one TP8 engine): at 0.3 req/s, 600 s of arrivals is 180 samples, so
    LoadGen issues one pass, all 8,313 (the trials held 2,000 of them before). Llama 3.1 8B on 8 H200 (H133) at
    500 req/s: 300,000 arrivals in 600 s, 23 passes of 13,368; the trial runs the engines holding a dataset of them."""
    data = load_frontier_cases()
    engine = data["engine"]
    assert engine["server_equal_issue"] and "server_max_duration_s" not in engine
    cases = {c["row"]: c for c in data["cases"]}
    slow = simulate_case(cases["H091"], engine, data["workloads"], 0.3)
    assert slow["requests"] == 8313
    fast = simulate_case(cases["H133"], engine, data["workloads"], 500.0)
    issued = server_passes(500.0, 13_368) * 13_368
    assert issued == 23 * 13_368 and fast["requests"] == issued // 8 * 1  # one of 8 engines holds a dataset
    assert fast["duration_s"] >= 600.0
