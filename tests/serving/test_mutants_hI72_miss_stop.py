"""hI72 mutation wave: `serving.miss_stop.MissWatch` counts a request over an SLO only strictly over it, as
`serving_metrics.summarize` and LoadGen's early stopping count them (a request at its SLO meets it: `ttft <= slo`).

Hand-made times (exact binary fractions) pin the boundary the run-level tests of hS71 cannot reach (their SLOs are
run medians, never a request's own time): a TTFT of exactly 0.5 s under a 0.5 s SLO is not over it, 0.5 s + 2^-20 is.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.serving.miss_stop import MissWatch, ShownMissed, least_over
from infraplan.serving.workloads import Requests

NEVER = 10**9


def _times(first: list[float], finish: list[float], out: list[int]):  # noqa: ANN202 (a `Times` callable)
    """A `Times` whose requests all arrive at 0 s: the engine's first token and finish are the client's."""
    arrival = np.zeros(len(first))

    def times(idx, f, g):  # noqa: ANN001, ANN202
        return np.asarray(first)[idx], np.asarray(finish)[idx], arrival[idx], np.asarray(out)[idx]

    return times


def test_a_ttft_at_the_slo_is_not_over_it() -> None:
    watch = MissWatch(_times([0.5, 0.25], [1.0, 1.0], [2, 2]), slo=(0.5, 10.0), least=(1, NEVER))
    watch(slice(0, 2), np.zeros(2), np.zeros(2))  # 0.5 s at a 0.5 s SLO: met, no raise
    assert watch.over == [0, 0]
    over = MissWatch(_times([0.5 + 2.0**-20], [1.0], [2]), slo=(0.5, 10.0), least=(1, NEVER))
    with pytest.raises(ShownMissed):
        over(slice(0, 1), np.zeros(1), np.zeros(1))


def test_tpot_is_the_decode_time_over_out_minus_one_tokens() -> None:
    """first 0 s, finish 1 s, 3 tokens: TPOT = 1 / (3 - 1) = 0.5 s (not 1 / 3). At a 0.5 s SLO it meets, at 0.4 s it
    is over; a one-token output (finish 9 s) has no TPOT and is never counted."""
    at = MissWatch(_times([0.0, 0.0], [1.0, 9.0], [3, 1]), slo=(10.0, 0.5), least=(NEVER, 1))
    at(slice(0, 2), np.zeros(2), np.zeros(2))
    assert at.over == [0, 0]
    below = MissWatch(_times([0.0, 0.0], [1.0, 9.0], [3, 1]), slo=(10.0, 0.4), least=(NEVER, 2))
    below(slice(0, 2), np.zeros(2), np.zeros(2))  # the 3-token request over, the 1-token one not: 1 < 2
    assert below.over == [0, 1]


def test_counts_add_up_engine_by_engine_and_stop_at_the_threshold() -> None:
    """Two engines of two requests each, every TTFT over: 2 after the first engine (least 3 not reached), the
    second engine's two reach it."""
    watch = MissWatch(_times([1.0] * 4, [2.0] * 4, [2] * 4), slo=(0.5, 10.0), least=(3, NEVER))
    watch(np.array([0, 1]), np.zeros(4), np.zeros(4))
    assert watch.over == [2, 0]
    with pytest.raises(ShownMissed):
        watch(np.array([2, 3]), np.zeros(4), np.zeros(4))
    assert watch.over == [4, 0]


def test_thresholds_by_hand_at_the_median() -> None:
    """10 requests judged at p50, one of them a one-token output: MISSED is shown at 99 % confidence by the least t
    with P(Bin(n, 1/2) >= t) < 1 %: n = 10 (TTFT): P(>= 10) = 1/1024 < 1 % <= P(>= 9) = 11/1024, so 10; n = 9
    (TPOT): P(>= 9) = 1/512 < 1 % <= P(>= 8) = 10/512, so 9. At the cap MET is ruled out past the most t with
    P(Bin <= t) < 1 %: P(<= 0) = 1/1024 (n = 10) and 1/512 (n = 9) are, P(<= 1) = 11/1024 and 10/512 are not: 0 + 1."""
    out = np.array([1, 5, 5, 5, 5, 5, 5, 5, 5, 5])
    requests = Requests(np.arange(10.0), np.full(10, 100), out)
    assert least_over(requests, 50.0, False) == (10, 9)
    assert least_over(requests, 50.0, True) == (1, 1)
