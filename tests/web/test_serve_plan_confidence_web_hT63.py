"""The serving page says on which seeds a met serve-plan answer was judged, as the CLI's note does (hT63).

Since hQ63 a whole run shown within the SLOs is confirmed on two more seeds and the three judged together; the
answer carries `slo_confidence_fraction`, `full_run_seeds` and `full_run_over_slo_count` (serving/results.py) and
the CLI prints one note: "TTFT and TPOT p99 shown within their SLOs at 99% confidence (one-sided) over 3 independent
runs of N requests (seeds 0, 1, 2), judged together; the figures above are seed 0's" (cli/commands/serve_plan.py).
The API's JSON had them; the page showed none. Now its summary has a "whole run" row of that note, with each seed's
requests over the TTFT / TPOT SLO after it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.test_web_browser import open_page

from infraplan.cli import main

PLAN = {"model": "llama3-8b", "system": "h200", "rate": 1, "workload": "chat"}
CLI = ["serve-plan", "llama3-8b", "--system", "h200", "--rate", "1", "--workload", "chat"]


def _answer(client: TestClient) -> dict[str, Any]:
    """The API's serve-plan answer, through its job when it runs as one (202)."""
    response = client.post("/api/serve-plan", json=PLAN)
    assert response.status_code in (200, 202), response.text
    result = response.json()
    deadline = time.monotonic() + 120
    while response.status_code == 202 and result["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
        result = client.get(result["poll"]).json()
    return result["result"] if response.status_code == 202 else result  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def answer(client: TestClient) -> dict[str, Any]:
    return _answer(client)


def test_the_answer_and_the_page_carry_the_seeds_judged_together(client: TestClient,
                                                                  answer: dict[str, Any]) -> None:
    assert answer["meets_slo_full_run"] and answer["slo_confidence_fraction"] == pytest.approx(0.99)
    assert answer["full_run_seeds"] == [0, 1, 2] and len(answer["full_run_over_slo_count"]) == 3
    page = client.get("/serve").text  # the page renders them (before hT63 it named none of them)
    assert 'id: "plan-confidence"' in page
    assert all(f"r.{k}" in page for k in ("slo_confidence_fraction", "full_run_seeds", "full_run_over_slo_count"))


def test_the_page_says_the_clis_note(live_server: str, browser: Any, client: TestClient, answer: dict[str, Any],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(CLI) == 0
    (note,) = [line.removeprefix("note: ") for line in capsys.readouterr().out.splitlines()
               if line.startswith("note: TTFT and TPOT")]
    errors: list[str] = []
    page = open_page(browser, live_server + "/serve", "document.querySelector('select[name=percentile]').options"
                     ".length > 0", errors)
    page.wait_for_function("[...document.querySelectorAll('select[data-catalog]')].every(s => s.options.length > 1)")
    page.route("**/api/serve-plan", lambda route: route.fulfill(status=200, content_type="application/json",
                                                                body=json.dumps(answer)))
    page.click("#run-plan")
    text = page.wait_for_selector("#plan-confidence", timeout=20_000).inner_text()
    over = ", ".join(f"{s}: {t} / {p}" for s, (t, p) in zip(answer["full_run_seeds"],
                                                            answer["full_run_over_slo_count"], strict=True))
    assert text == f"{note}; requests over the TTFT / TPOT SLO by seed: {over}"
    # a miss says its miss (hR53), not a confidence it does not have
    missed = {**answer, "feasible": False, "meets_slo_full_run": False, "why": "not shown within the SLO"}
    page.unroute("**/api/serve-plan")
    page.route("**/api/serve-plan", lambda route: route.fulfill(status=200, content_type="application/json",
                                                                body=json.dumps(missed)))
    page.click("#run-plan")
    page.wait_for_selector("#plan-miss", timeout=20_000)
    assert page.query_selector("#plan-confidence") is None
    assert errors == []
    page.close()
