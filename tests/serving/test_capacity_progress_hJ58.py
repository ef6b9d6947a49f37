"""hJ58: serve-plan tells its progress (`replica_search.SearchProgress`), as `plan`, `compare` and `fleet-mix` do: the
CLI's stage bar and the web job's percentage, one callback `tick(stage, done, total)`. hD58 measured the web job at
"running 0 %" for the whole 8.2 s of llama3-70b at 100 requests/s. Each test failed before: `search_capacity` took
no `progress`, and the job's progress stayed 0 until it finished."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import infraplan.serving.capacity as capacity
from infraplan.serving.capacity import clear_caches, search_capacity
from infraplan.serving.replica_search import PP_LEVELS
from infraplan.web.jobs import JobStore, ResultCache
from infraplan.web.requests import ServePlanRequest

CASE = dict(workload="chat", max_gpus=64)  # llama3-8b at 20 requests/s on H100: ~0.4 s, one whole run


def test_the_search_ticks_each_level_rising_and_answers_the_same() -> None:
    ticks: list[tuple[str, float, float]] = []
    clear_caches()
    told = search_capacity("llama3-8b", "dgx-h100-superpod", 20.0, progress=lambda *t: ticks.append(t), **CASE)
    clear_caches()
    silent = search_capacity("llama3-8b", "dgx-h100-superpod", 20.0, **CASE)
    assert told.to_json() == silent.to_json()  # the progress reads the search, changes nothing
    assert {total for _, _, total in ticks} == {PP_LEVELS}
    done = [d for _, d, _ in ticks]
    assert done == sorted(done) and done[0] == 0.0 and 0.0 < done[-1] < PP_LEVELS
    stages = [s for s, _, _ in ticks]
    assert "PP1: replica searches 1/32" in stages and "PP1: whole run 1" in stages  # a bisection, a whole run
    assert {s.split(":")[0] for s in stages} == {"PP1", "PP2", "PP4", "PP8"}  # every level searched, as whole_runs


def test_the_web_jobs_progress_rises_while_the_search_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The job's percentage at each whole run is past its first level's searches: 1/8 (it was 0)."""
    store = JobStore(ResultCache())
    go = threading.Event()
    seen: list[float] = []
    jobs: list[Any] = []
    simulate = capacity.simulate_deployment

    def watched(*args: Any, **kwargs: Any) -> Any:
        go.wait(5)
        seen.append(jobs[0].progress)
        return simulate(*args, **kwargs)

    monkeypatch.setattr(capacity, "simulate_deployment", watched)
    clear_caches()
    jobs.append(store.submit(ServePlanRequest(model="llama3-8b", system="dgx-h100-superpod", rate=20.0, **CASE)))
    go.set()
    deadline = time.monotonic() + 60
    while jobs[0].status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert jobs[0].status == "done", jobs[0].error
    assert jobs[0].progress == 1.0
    assert seen and all(p == pytest.approx(1 / 8) for p in seen), seen  # PP1's whole run 1: 0.5 of a level of 4
