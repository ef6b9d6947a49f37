"""serve-plan's whole runs at their worst (hQ45): every PP level's options miss their whole run, so `whole_runs` runs
FULL_RUN_TRIES of each of the 4 levels (PP 1, 2, 4, 8; `capacity.search_capacity`): 16 whole runs, and 24 where
each miss is retried grown (hB48: LEVEL_RETRIES a level), each of up to HORIZON_MAX_REQUESTS requests
(FULL_RUN_MAX_REQUESTS before hS49's horizon). Its docstring states that bound from the same constants."""

from __future__ import annotations

from typing import Any

from infraplan.serving import replica_search
from infraplan.serving.capacity_horizon import HORIZON_MAX_REQUESTS
from infraplan.serving.replica_search import FULL_RUN_TRIES, LEVEL_RETRIES, whole_runs

PP_LEVELS = (1, 2, 4, 8)


def _option(gpus: int, pp: int) -> dict[str, Any]:
    return {"gpus": gpus, "disaggregated": False, "attention_dp": 1, "tp": 1, "pp": pp, "max_batch": 64}


def test_no_whole_run_meeting_runs_every_level_s_best_options() -> None:
    levels = iter([[_option(g, pp) for g in range(8, 2, -1)] for pp in PP_LEVELS])  # 6 options a level
    options, runs = whole_runs(lambda below: next(levels, None), lambda option: (None, False))
    assert len(runs) == len(PP_LEVELS) * FULL_RUN_TRIES == 16
    assert [r[0]["pp"] for r in runs] == [pp for pp in PP_LEVELS for _ in range(FULL_RUN_TRIES)]
    assert [r[0]["gpus"] for r in runs[:FULL_RUN_TRIES]] == [3, 4, 5, 6]  # the fewest accelerators first
    assert options[0] == _option(3, 1)  # the answer: the first level's first option, its miss said


def test_every_missed_layout_grown_runs_at_most_level_retries_more_a_level() -> None:
    """hB48: a missed whole run is retried grown (`replica_search.grown`), at most LEVEL_RETRIES a level."""
    levels = iter([[_option(g, pp) for g in range(8, 2, -1)] for pp in PP_LEVELS])
    options, runs = whole_runs(lambda below: next(levels, None), lambda option: (None, False),
                               lambda option, run: {**option, "gpus": option["gpus"] + 1})
    assert len(runs) == len(PP_LEVELS) * (FULL_RUN_TRIES + LEVEL_RETRIES) == 24
    assert [r[0]["gpus"] for r in runs[:FULL_RUN_TRIES + LEVEL_RETRIES]] == [3, 4, 4, 5, 5, 6]  # in rank order


def test_the_docstrings_state_the_worst_case() -> None:
    runs = len(PP_LEVELS) * (FULL_RUN_TRIES + LEVEL_RETRIES)
    worst = f"{len(PP_LEVELS)} PP levels x (FULL_RUN_TRIES + LEVEL_RETRIES) = {runs} whole runs"
    assert worst in " ".join((whole_runs.__doc__ or "").split())
    assert f"({HORIZON_MAX_REQUESTS:,};" in (whole_runs.__doc__ or "")
    assert f"(FULL_RUN_TRIES + LEVEL_RETRIES) = {runs} whole runs of up to {HORIZON_MAX_REQUESTS:,}" in " ".join(
        (replica_search.__doc__ or "").split())
