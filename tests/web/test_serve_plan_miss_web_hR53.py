"""The serving page says when a serve-plan answer's whole run misses the SLO, as the CLI does (hR53).

`serve-plan` answers the first option with `meets_slo_full_run` false when no option's whole run meets; the CLI
prints "warning: the whole deployment's run of N requests misses the SLO (...): <why>" (cli/commands/serve_plan.py),
and since hF52 / hQ51 the result carries that `why` (a pool that does not settle, a percentile not shown within the
SLO at 0.99 confidence). The page showed such an answer like one that meets: accelerators, deployment, SLO
attainment, no word of the miss. The API's own answer (a quick one that meets) is replayed with the miss set, so
the page's rendering is tested without a search that takes minutes to miss.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from tests.web.test_web_browser import open_page

PLAN = {"model": "llama3-8b", "system": "h200", "rate": 1, "workload": "chat"}
WHY = "its TTFT p99 is not shown within the SLO at 99% confidence over 400,000 requests"


def _answer(live_server: str) -> dict[str, Any]:
    """The API's serve-plan answer, through its job when it runs as one (202)."""
    r = httpx.post(live_server + "/api/serve-plan", json=PLAN, timeout=120)
    if r.status_code != 202:
        return r.json()  # type: ignore[no-any-return]
    job = httpx.get(live_server + r.json()["poll"], timeout=30).json()
    while job["status"] in ("queued", "running"):
        time.sleep(0.3)
        job = httpx.get(live_server + r.json()["poll"], timeout=30).json()
    assert job["status"] == "done", job["error"]
    return job["result"]  # type: ignore[no-any-return]


def test_a_missed_whole_run_is_said_on_the_page(live_server: str, browser: Any) -> None:
    api = _answer(live_server)
    assert api["feasible"] and api["meets_slo_full_run"]
    # a miss is `feasible` false with its deployment (hJ57): the page still shows the answer and says the miss
    missed = {**api, "feasible": False, "meets_slo_full_run": False, "why": WHY, "full_run_requests": 400_000}
    errors: list[str] = []
    page = open_page(browser, live_server + "/serve", "document.querySelector('select[name=percentile]').options"
                     ".length > 0", errors)
    page.wait_for_function("[...document.querySelectorAll('select[data-catalog]')].every(s => s.options.length > 1)")
    page.route("**/api/serve-plan", lambda route: route.fulfill(status=200, content_type="application/json",
                                                                body=json.dumps(missed)))
    page.click("#run-plan")
    cell = page.wait_for_selector("#plan-miss", timeout=20_000)
    text = cell.inner_text()
    assert text.startswith("misses the SLO over 400,000 requests (TTFT p99 ") and text.endswith(WHY)
    assert page.inner_text("#plan-gpus") == str(api["gpus"])  # the answer itself still shown
    # the answer that meets says nothing of a miss
    page.unroute("**/api/serve-plan")
    page.route("**/api/serve-plan", lambda route: route.fulfill(status=200, content_type="application/json",
                                                                body=json.dumps(api)))
    page.click("#run-plan")
    page.wait_for_function("document.querySelector('#plan-out .status').textContent === 'done' && "
                           "!document.querySelector('#plan-miss')", timeout=60_000)
    assert errors == []
    page.close()
