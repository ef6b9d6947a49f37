"""hM76 mutation wave on hB76's web jobs (`web.jobs`): the early answer is for a refusal of the input alone (a model
bug inside a job stays a 202 and a failed job to poll), and a job cancelled before its run reports any progress does
not run."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infraplan.web import jobs as jobs_module
from infraplan.web.app import create_app
from infraplan.web.jobs import Job, JobStore, ResultCache

SERVE_PLAN = {"model": "llama3-8b", "system": "dgx-h100-superpod", "rate": 2.0, "workload": "chat"}


def _broken(request: Any, progress: Any = None) -> Any:
    raise RuntimeError("a model bug")


def test_a_job_that_fails_on_a_bug_is_still_a_202(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs_module, "run", _broken)
    with TestClient(create_app(), raise_server_exceptions=False) as fresh:
        response = fresh.post("/api/serve-plan", json={**SERVE_PLAN, "rate": 7.0})
        assert response.status_code == 202, response.text
        deadline = time.monotonic() + 10
        while (job := fresh.get(response.json()["poll"]).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.02)
    assert job["status"] == "failed" and job["error"] == "internal error (RuntimeError)"


def test_a_job_cancelled_before_its_first_progress_report_does_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that reports no progress (a big `serve`) asked to stop between its start and its run: it never runs."""
    ran: list[bool] = []

    def silent(request: Any, progress: Any = None) -> Any:
        ran.append(True)
        raise AssertionError("ran")

    monkeypatch.setattr(jobs_module, "run", silent)
    store = JobStore(ResultCache())
    job = Job(id="j", command="serve-plan", key="k", status="running", cancel_asked=True)
    store._run(job, None)  # type: ignore[arg-type]  # (the pool's call, here in this thread)
    assert ran == [] and job.status == "cancelled" and job.error == "cancelled at 0%"
    assert job.finished.is_set()
