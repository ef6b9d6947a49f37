"""Web leftovers of session 33 (helper hC4): the /train page's search takes the form's dtype (its CLI line says so),
and a fleet-mix job's progress rises while its services x pools are sized."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.web.test_web_browser import open_training_planner

import infraplan.planning.fleet_mix as fleet_mix
from infraplan.web.fleet_mix import FleetInput, FleetMixRequest
from infraplan.web.jobs import JobStore, ResultCache

ROOT = Path(__file__).resolve().parents[2]


def _search_body(page: Any) -> dict[str, Any]:
    """Click "Search plans" and return the JSON body the page posted to /api/search."""
    with page.expect_request(lambda r: r.url.endswith("/api/search") and r.method == "POST") as request:
        page.click("#run-search")
    body: dict[str, Any] = json.loads(request.value.post_data or "{}")
    return body


def test_train_page_searches_the_forms_dtype(live_server: str, browser: Any) -> None:
    """fp8 on the form: the search runs fp8 only and the CLI line says --dtype fp8; "all (auto)": no dtype sent."""
    errors: list[str] = []
    page = open_training_planner(browser, live_server, errors)
    page.fill("input[name=search_gpus]", "64")
    page.select_option("select[name=dtype]", "fp8")
    body = _search_body(page)
    assert body["dtype"] == "fp8"
    page.wait_for_selector("#search-out .cli", timeout=30_000)
    cli = page.inner_text("#search-out .cli")
    assert "--dtype fp8" in cli and cli.startswith("infraplan search llama3-8b")
    plans = page.locator("#search-out .summary table").first.locator("td:nth-child(2)").all_inner_texts()
    assert plans and all(p.endswith(" fp8") for p in plans)  # every listed plan is fp8
    page.select_option("select[name=search_dtype]", "auto")
    body = _search_body(page)
    assert "dtype" not in body  # search's default: every dtype the accelerator runs
    page.wait_for_function("!document.querySelector('#search-out .cli').textContent.includes('--dtype')",
                           timeout=30_000)
    assert errors == []
    page.close()


def _no_llm_fleet() -> dict[str, Any]:
    spec = yaml.safe_load((ROOT / "examples" / "fleet-mix.yaml").read_text(encoding="utf-8"))
    spec["services"] = [s for s in spec["services"] if s["kind"] != "llm"]
    return dict(spec)


def test_fleet_mix_job_progress_rises_while_pairs_are_sized(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each (service, pool) pair's sizing sees the job's progress so far: strictly between 0 and 1 after the first."""
    store = JobStore(ResultCache())
    submitted = threading.Event()
    seen: list[float] = []
    jobs: list[Any] = []
    option = fleet_mix.pool_option

    def slow_option(service: Any, pool: Any) -> dict[str, Any]:
        submitted.wait(5)
        seen.append(jobs[0].progress)
        return option(service, pool)

    monkeypatch.setattr(fleet_mix, "pool_option", slow_option)
    jobs.append(store.submit(FleetMixRequest(fleet=FleetInput(spec=_no_llm_fleet()))))
    submitted.set()
    deadline = time.monotonic() + 5
    while jobs[0].status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert jobs[0].status == "done", jobs[0].error
    assert jobs[0].progress == 1.0
    assert len(seen) == 16  # 4 services x 4 pools
    inside = [p for p in seen if 0 < p < 1]
    assert inside and inside == sorted(inside)
    assert seen[-1] == pytest.approx(15 / 16)
