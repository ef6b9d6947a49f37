"""hG72: one home of the per-request TTFT and TPOT formulas (`serving.request_metrics`).

The run's report (`serving_metrics.summarize`), the open-loop stop (`miss_stop.MissWatch`, hS71) and serve-plan's
probe (`capacity_candidate`) formed TPOT = (finish - first) / max(out - 1, 1) and TTFT = first - arrival each in its
own code; they now call the same two functions, so their counts cannot drift apart (hS71's tests pin the counts).
"""

from __future__ import annotations

import numpy as np

from infraplan.serving import capacity_candidate, miss_stop, request_metrics, serving_metrics


def test_the_formulas():
    first = np.array([1.0, 2.0, 3.5, 4.0])
    finish = np.array([1.0, 2.9, 13.5, 5.0])
    out = np.array([1, 2, 11, 1])
    arrival = np.array([0.5, 0.0, 3.0, 4.0])
    assert request_metrics.tpot_s(first, finish, out).tolist() == [0.0, 0.8999999999999999, 1.0, 1.0]
    assert request_metrics.ttft_s(first, arrival).tolist() == [0.5, 2.0, 0.5, 0.0]
    assert first.tolist() == [1.0, 2.0, 3.5, 4.0] and finish[1] == 2.9  # fresh arrays: the inputs kept
    scratch = first.copy()
    assert request_metrics.ttft_s(scratch, arrival, out=scratch) is scratch  # summarize's in-place TTFT


def test_seeded_times_match_the_former_expressions_bit_for_bit():
    rng = np.random.default_rng(72)
    arrival = np.sort(rng.uniform(0.0, 100.0, 5000))
    first = arrival + rng.exponential(0.3, 5000)
    finish = first + rng.exponential(5.0, 5000)
    out = rng.integers(1, 2000, 5000)
    # hS71's MissWatch expressions, and summarize's in-place ones, as they stood before hG72
    assert np.array_equal(request_metrics.tpot_s(first, finish, out), (finish - first) / np.maximum(out - 1.0, 1.0))
    tpot = finish - first
    per = out - 1.0
    np.divide(tpot, np.maximum(per, 1.0, out=per), out=tpot)
    assert np.array_equal(request_metrics.tpot_s(first, finish, out), tpot)
    assert np.array_equal(request_metrics.ttft_s(first, arrival), first - arrival)
    multi = out > 1  # the probe's subset form
    assert np.array_equal(request_metrics.tpot_s(first[multi], finish[multi], out[multi]),
                          (finish - first)[multi] / (out[multi] - 1))


def test_every_reader_calls_the_one_home():
    assert serving_metrics.tpot_s is miss_stop.tpot_s is capacity_candidate.tpot_s is request_metrics.tpot_s
    assert serving_metrics.ttft_s is miss_stop.ttft_s is request_metrics.ttft_s
