"""The FCFS engine loop's storage (hB, session 63; issue 18, "1 M requests <= 3 s online"): its first-token and
finish times are written as C doubles in place (since session 72 the compiled loop writes the result's float64
arrays, and a stepping driver's `array.array`s through a view), not as one float object per request converted
afterwards; its completion heap keys (decode-iteration count, request) as
count << bits | request. Both are bookkeeping: every time stays bit for bit the general loop's, also where the keys
pass 2^30 (multi-digit ints) and where several sequences end in one iteration (ties broken by request)."""

from __future__ import annotations

from array import array

import numpy as np
from tests.serving.test_serving_engine_fcfs_loop import COST, General, assert_bitwise

from infraplan.serving.fcfs_loop import fcfs_steps
from infraplan.serving.loop_stepping import fcfs_request_arrays, run_to_end
from infraplan.serving.serving_engine import simulate_engine


def _run(scheduler: object = "fcfs") -> object:
    arrival = np.array([0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 1.0])
    prompt = np.array([100, 200, 100, 300, 100, 50, 0])
    steps = np.array([2_000_000_000, 2_000_000_000, 700_000_000, 2_000_000_001, 700_000_000, 3, 0])
    cached = np.zeros_like(prompt)
    return simulate_engine(COST, arrival, prompt, cached, steps, 64, 2048, 10**9, 16,
                           scheduler=scheduler)  # type: ignore[arg-type]


def test_times_are_written_in_place_as_c_doubles() -> None:
    r = _run()
    for times in (r.first_token_s, r.finish_s):  # type: ignore[attr-defined]
        assert times.base is None and times.dtype == np.float64 and times.flags.c_contiguous  # the loop's own
    first, finish = array("d", (np.nan,)) * 3, array("d", (np.nan,)) * 3  # a stepping driver's: written through
    arr = [0.0, 0.0, 0.5]
    lists = fcfs_request_arrays(np.array([100, 0, 20]), np.zeros(3, dtype=np.int64), np.array([3, 0, 1]), 16)
    totals = run_to_end(fcfs_steps(COST, arr, [*arr, np.inf], *lists, 64, 2048, 1000, 0, first, finish, None))
    assert totals[0] > 0.0 and first[1] == finish[1] == 0.0 and finish[0] > first[0] > 0.0 < first[2] < finish[2]


def test_keys_past_2_to_the_30_and_ties_equal_the_general_loop() -> None:
    fast, general = _run(), _run(General())
    assert (2_000_000_001 << 3) > 1 << 30  # the keys of this run are multi-digit ints
    assert_bitwise(fast, general)  # type: ignore[arg-type]
    finish = fast.finish_s  # type: ignore[attr-defined]
    assert finish[0] == finish[1] != finish[2]  # two sequences ending in one iteration (their keys tie on the count)
    assert finish[6] == fast.first_token_s[6] and np.isfinite(finish).all()  # type: ignore[attr-defined]
