"""Mutation wave 14 (session 41): the best TPOT a serve-plan search found (`capacity_answer.best_tpot_s`, hV41).

Layouts stand in for candidates with a known decode: a request alone gets its first token at 50 ms and each
further token `step_s` later, so its TPOT is `step_s` whatever its length (hand arithmetic: (finish - first) /
(output - 1)). The floor is the fastest layout's step; a request of one output token has no TPOT and is not the
one decoded alone (its (finish - first) / 0 has no value).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from infraplan.serving.capacity_answer import best_tpot_s, tpot_floor_reason
from infraplan.serving.workloads import Requests


class _Layout:
    """A candidate whose decode step is `step_s` (`Candidate.run`'s finish and first-token times)."""

    def __init__(self, step_s: float) -> None:
        self.step_s = step_s
        self.asked: list[tuple[int, int]] = []

    def run(self, requests: Requests, mode: str) -> SimpleNamespace:
        assert mode == "mixed" and len(requests) == 1 and float(requests.arrival_s[0]) == 0.0
        self.asked.append((int(requests.input_tokens[0]), int(requests.output_tokens[0])))
        out = int(requests.output_tokens[0])
        return SimpleNamespace(first_token_s=np.array([0.05]), finish_s=np.array([0.05 + (out - 1) * self.step_s]))


def _tried(*layouts: _Layout) -> list[Any]:
    """The layouts as `best_tpot_s` takes its candidates (it calls `run` alone)."""
    return list(layouts)


def test_the_floor_is_the_fastest_layouts_step_on_a_request_of_more_than_one_token() -> None:
    # the shortest request (10 + 1 tokens) has one output token; of two tokens or more the shortest is (30 + 2),
    # not (20 + 200) of a shorter prompt (its decode reaches a 220-token context, a longer step)
    sample = Requests(np.arange(5.0), np.array([10, 20, 500, 30, 40]), np.array([1, 200, 64, 2, 8]))
    fast, slow = _Layout(0.012), _Layout(0.030)
    assert best_tpot_s(_tried(slow, fast), sample) == pytest.approx(0.012, rel=1e-12)
    assert fast.asked == slow.asked == [(30, 2)]


def test_no_request_of_two_tokens_has_no_floor() -> None:
    assert best_tpot_s(_tried(_Layout(0.01)), Requests(np.zeros(2), np.array([5, 6]), np.array([1, 1]))) is None


def test_an_slo_at_or_above_the_floor_is_not_said_to_be_below_it() -> None:
    """Floor 10 ms: an SLO of 15 ms or 10 ms is reachable by TPOT (the search failed on something else); 5 ms is
    not, and the line names both figures."""
    assert tpot_floor_reason(0.010, 0.015, "m", "a", 8, True) == ""
    assert tpot_floor_reason(0.010, 0.010, "m", "a", 8, True) == ""
    line = tpot_floor_reason(0.010, 0.005, "m", "a", 8, True)
    assert "5 ms is below" in line and "best TPOT found is 10 ms" in line and "at any size" in line, line


def test_no_layout_tried_has_no_floor() -> None:
    """Every layout refused before pricing (a dtype the accelerator lacks): no floor to state, not an error."""
    assert best_tpot_s(_tried(), Requests(np.zeros(1), np.array([5]), np.array([9]))) is None
