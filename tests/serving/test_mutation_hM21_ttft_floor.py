"""Mutation wave hM21 (session 44): the best TTFT a serve-plan search found (`capacity_answer.best_ttft_s`,
`ttft_floor_reason`, hU55).

Layouts stand in for candidates with a known prefill: a prompt of n tokens alone gets its first token after
`base_s + n x per_token_s`, each mode (colocated "mixed", a prefill pool's "prefill") at its own rate; the stack's
front end is a fixed 80 ms. The floor must stay a floor: at or below the percentile of the sample's own TTFTs
alone on the fastest layout (numpy's default, linear, percentile), since no deployment removes more than the wait.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from infraplan.serving import capacity_answer
from infraplan.serving.capacity_answer import best_ttft_s, tpot_floor_reason, ttft_floor_reason
from infraplan.serving.workloads import Requests

FRONT_END_S = 0.08


class _Layout:
    def __init__(self, mixed_per_token_s: float, prefill_per_token_s: float) -> None:
        self.rate = {"mixed": mixed_per_token_s, "prefill": prefill_per_token_s}
        self.dep = SimpleNamespace(name="layout")

    def first_token_s(self, prompt: float, mode: str) -> float:
        return 0.01 + prompt * self.rate[mode]

    def run(self, requests: Requests, mode: str) -> SimpleNamespace:
        assert len(requests) == 1 and float(requests.arrival_s[0]) == 0.0
        return SimpleNamespace(first_token_s=np.array([self.first_token_s(float(requests.input_tokens[0]), mode)]))


@pytest.fixture(autouse=True)
def _front_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capacity_answer, "front_end_s", lambda dep: FRONT_END_S)


def _tried(*layouts: _Layout) -> list[Any]:
    return list(layouts)


SAMPLE = Requests(np.arange(4.0), np.array([100, 200, 300, 400]), np.array([5, 5, 5, 5]))


def test_the_floor_is_the_fastest_mode_of_the_fastest_layout() -> None:
    """The prefill pool's form of the second layout (1e-4 s a token) is the fastest: p50's prompt is 200 tokens
    (numpy "lower" of 100 / 200 / 300 / 400), 0.01 + 0.02 + 0.08 s."""
    slow, fast = _Layout(5e-4, 3e-4), _Layout(4e-4, 1e-4)
    floor = best_ttft_s(_tried(slow, fast), SAMPLE, 50.0)
    assert floor is not None and floor[1] == 200 and floor[0] == pytest.approx(0.01 + 200 * 1e-4 + FRONT_END_S)


@pytest.mark.parametrize("percentile", [50.0, 90.0, 99.0])
def test_the_floor_is_never_above_the_samples_own_alone_percentile(percentile: float) -> None:
    layout = _Layout(4e-4, 1e-4)
    floor = best_ttft_s(_tried(layout), SAMPLE, percentile)
    alone = [layout.first_token_s(float(n), "prefill") + FRONT_END_S for n in SAMPLE.input_tokens]
    assert floor is not None and floor[0] <= float(np.percentile(alone, percentile)) + 1e-15


def test_no_sample_has_no_floor() -> None:
    empty = Requests(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    assert best_ttft_s(_tried(_Layout(1e-4, 1e-4)), empty, 99.0) is None
    assert best_ttft_s(_tried(), SAMPLE, 99.0) is None


def test_an_slo_at_the_floor_is_not_said_to_be_below_it() -> None:
    assert ttft_floor_reason((0.25, 6000), 0.25, 99.0, "m", "a", 64, True) == ""
    line = ttft_floor_reason((0.25, 6000), 0.2, 99.0, "m", "a", 64, False)
    assert line.startswith("the TTFT SLO 0.2 s at p99 is below what m reaches on a within 64 accelerators (wider TP "
                           "not tried: --max-gpus N): the best TTFT p99 found is 0.25 s (the sample's p99 prompt, "
                           "6,000 tokens"), line


def test_the_tpot_floor_is_written_to_three_digits() -> None:
    """12.5 ms, not 12 (the TPOT twin of the line above, `tpot_floor_reason`)."""
    assert "the best TPOT found is 12.5 ms" in tpot_floor_reason(0.0125, 0.005, "m", "a", 8, True)
