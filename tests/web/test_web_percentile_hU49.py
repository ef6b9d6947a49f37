"""hU49 (session 43): the web's serve-plan `percentile` is one of the percentiles a serving run reports.

The API refuses all but serving.capacity.SLO_PERCENTILES (hU47); the request field took anything in (0, 100], so the
schema (and /docs) offered 95 and the serving page had no percentile at all. Now the field is an enum of that
constant, and the serving page's capacity search offers exactly its values in a select, filled from the schema.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.test_web_browser import open_page

from infraplan.serving.capacity import SLO_PERCENTILES
from infraplan.web.requests import ServePlanRequest

PLAN = {"model": "llama3-8b", "system": "h200", "rate": 1}


def test_the_schema_offers_exactly_the_reported_percentiles(client: TestClient) -> None:
    prop = client.get("/openapi.json").json()["components"]["schemas"]["ServePlanRequest"]["properties"]["percentile"]
    assert prop["enum"] == list(SLO_PERCENTILES) and prop["default"] == 99.0


@pytest.mark.parametrize("percentile", [95, 99.9, 0.5, 100])
def test_a_percentile_no_run_reports_is_refused_before_any_work(client: TestClient, percentile: float) -> None:
    r = client.post("/api/serve-plan", json={**PLAN, "percentile": percentile})
    assert r.status_code == 422 and "percentile" in r.json()["detail"], r.text


def test_the_command_line_of_a_chosen_percentile_is_the_clis() -> None:
    line = ServePlanRequest.model_validate({**PLAN, "percentile": 90}).cli()
    assert "--percentile 90" in line
    assert "--percentile" not in ServePlanRequest.model_validate(PLAN).cli()  # the default, 99, left out


def test_the_serving_page_offers_them_in_a_select(live_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, live_server + "/serve", "document.querySelector('select[name=percentile]').options"
                     ".length > 0", errors)
    values = page.eval_on_selector_all("select[name=percentile] option", "els => els.map(e => Number(e.value))")
    assert values == list(SLO_PERCENTILES)
    assert page.input_value("select[name=percentile]") == "99"
    assert "percentile" not in page.evaluate("IP.body(document.getElementById('serve-form'))")  # serve takes none
    page.wait_for_function("[...document.querySelectorAll('select[data-catalog]')].every(s => s.options.length > 1)")
    page.select_option("select[name=percentile]", "90")
    page.click("#run-plan")
    page.wait_for_selector("#plan-out .cli", timeout=60_000)
    assert page.inner_text("#plan-out .error") == ""
    assert "--percentile 90" in page.inner_text("#plan-out .cli")  # the search ran at the chosen percentile
    assert errors == []
    page.close()
