"""serve-plan's whole-run verdict counts every seed it judged, not the first alone (hA64, session 64).

Since hQ63 a whole run shown within its SLOs is rerun on seeds + 1 and + 2 and the three judged together
(`capacity_confidence.pooled_verdict`). But `capacity_horizon.judged_run` then took the percentile ratios it returns
(met where both are at most 1) and the TTFT check past the warm-up (`later_misses`) from the first seed's run only:
a confirming seed whose own TTFT p99 was above the SLO, or whose later half missed it (a queue still building), was
met on the pooled counts. Now the warm-up check holds in every run; the answer lists each seed's percentiles
(`full_run_percentile_s`). hA64 also took each ratio as the worst run's; the lead reverted that part (below).

The fakes: 10,000 requests a run, the warm-up their first 5,000 (p99 allows 50 over past it); runs told apart by
their prompt tokens (10 + the seed's index). Both cases are met by the pooled verdict (binomial and batch means over
the 30 batches), and both were met (ratio 0.5, no reason) before hA64.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from tests.cli.conftest import cli_json

from infraplan.serving.capacity_confidence import MET, pooled_verdict
from infraplan.serving.capacity_horizon import NEAR_MISS_RATIO, judged_run
from infraplan.serving.workloads import Requests

N = 10_000
SLO = (2.0, 0.2)


def _requests(n: int, index: int = 0) -> Requests:
    return Requests(np.arange(n, dtype=float), np.full(n, 10 + index), np.full(n, 10))


Runs = dict[int, tuple[float, list[int]]]


def _fake(runs: Runs, calls: list[tuple[int, int]]) -> Callable[[Requests], dict[str, Any]]:
    """Each run's (TTFT p99, TTFT over the SLO by batch) by its index; a warm-up run alone (fewer than N) has none
    over."""
    def simulate(r: Requests) -> dict[str, Any]:
        index = int(r.input_tokens[0]) - 10
        calls.append((index, len(r)))
        p99, batches = runs[index] if len(r) == N else (1.0, [0] * 10)
        return {"ttft_s": {"p99": p99}, "tpot_s": {"p99": 0.1}, "ttft_over_slo_count": sum(batches),
                "tpot_over_slo_count": 0, "ttft_over_slo_by_batch_count": batches,
                "tpot_over_slo_by_batch_count": [0] * 10}
    return simulate


def _judged(runs: Runs, calls: list[tuple[int, int]]) -> tuple[dict[str, Any], float, float, str, Requests]:
    return judged_run(_fake(runs, calls), _requests(N), "p99", SLO, 99.0, (False, False), N / 2, None,
                      lambda n, i: _requests(n, i), [7, 8, 9])


def _pooled(runs: Runs) -> str:
    return pooled_verdict([(sum(b), N, b) for _, b in runs.values()], 99.0)


def test_a_seed_whose_later_half_misses_is_not_met() -> None:
    """Seed + 1's run: 60 over the TTFT SLO, all past its warm-up (its warm-up alone: none), above the 50 p99 allows
    there; its whole-run p99 (1.5 s) and the pooled counts (100 of 30,000) within."""
    runs = {0: (1.0, [2] * 10), 1: (1.5, [0] * 5 + [12] * 5), 2: (1.0, [2] * 10)}
    assert _pooled(runs) == MET
    calls: list[tuple[int, int]] = []
    result, ttft_ratio, tpot_ratio, why, _ = _judged(runs, calls)
    assert ttft_ratio == NEAR_MISS_RATIO and tpot_ratio == 0.5  # retried as a near miss (`replica_search.grown`)
    assert why == "past its warm-up it misses the TTFT SLO (a queue still building) in seed 8's run"
    assert calls == [(0, N), (1, N), (2, N), (1, N // 2)]  # only the seed that could miss ran its warm-up alone
    assert result["runs_percentile_s"] == [[1.0, 0.1], [1.5, 0.1], [1.0, 0.1]]


def test_a_seed_whose_own_percentile_is_above_the_slo_misses_by_its_later_half_not_its_percentile() -> None:
    """Seed + 2's run: 120 of 10,000 over the TTFT SLO, its p99 2.2 s; pooled, 160 of 30,000 are shown within. Its
    own p99 is not required within the SLO (a confirming seed's percentile over a short run lies within the sampling
    error the pooled verdict allows: the lead's revert of hA64's worst-run ratios, session 64, after that rule
    answered 6 H100 where 5 meet on seeds 0-2, tests/serving/test_serving_capacity.py); its count past the warm-up
    (all 120 here: the fake's warm-up alone has none over, 50 allowed) misses, and that is the reason given."""
    runs = {0: (1.0, [2] * 10), 1: (1.0, [2] * 10), 2: (2.2, [12] * 10)}
    assert _pooled(runs) == MET
    result, ttft_ratio, tpot_ratio, why, _ = _judged(runs, [])
    assert ttft_ratio == NEAR_MISS_RATIO and tpot_ratio == 0.5
    assert why == "past its warm-up it misses the TTFT SLO (a queue still building) in seed 9's run"
    assert result["runs_percentile_s"] == [[1.0, 0.1], [1.0, 0.1], [2.2, 0.1]]


def test_every_seed_within_is_met_with_each_seeds_figures() -> None:
    runs = {0: (1.0, [2] * 10), 1: (1.2, [3] * 10), 2: (0.9, [1] * 10)}
    result, ttft_ratio, tpot_ratio, why, _ = _judged(runs, [])
    assert (ttft_ratio, tpot_ratio, why) == (0.5, 0.5, "")  # the first run's percentiles over the SLOs
    assert result["runs_over_slo_count"] == [[20, 0], [30, 0], [10, 0]]
    assert result["ttft_s"]["p99"] == 1.0  # the first seed's serve metrics (`serve_command` reruns it)


def test_serve_plan_lists_each_seeds_percentiles(capsys: pytest.CaptureFixture[str]) -> None:
    plan = cli_json(capsys, ["serve-plan", "llama3-8b", "--system", "h200", "--rate", "1", "--workload", "chat"])
    assert plan["meets_slo_full_run"] and plan["full_run_seeds"] == [0, 1, 2]
    seeds = plan["full_run_percentile_s"]
    assert len(seeds) == 3 and seeds[0] == [plan["serve"]["ttft_s"]["p99"], plan["serve"]["tpot_s"]["p99"]]
    assert all(t <= plan["slo"]["ttft_s"] and p <= plan["slo"]["tpot_s"] for t, p in seeds)
    line = shlex.split(plan["serve_command"])[1:]
    at = line.index("--seed")
    served = cli_json(capsys, [*line[:at + 1], "1", *line[at + 2:]])  # `serve --seed 1` is the second run
    assert [served["ttft_s"]["p99"], served["tpot_s"]["p99"]] == seeds[1]
