"""The compare page and the campus phases table show the average draw beside the labelled peak, as the CLI does
(hL57; hC57 gave the answers the field, hH57 the facility page its row). Before, the compare page had one
"facility power" row (the peak) and the campus phases table one "facility power" column (the peak). Skips where no
browser is installed."""

from __future__ import annotations

from typing import Any

import httpx
from tests.web.test_web_browser import CATALOGS_READY, open_page


def test_compare_page_shows_the_average_draw_row(live_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, live_server + "/compare",
                     "document.querySelector('select[name=preset-0]').options.length > 2", errors)
    page.select_option("select[name=preset-0]", "plan-minimal")
    page.select_option("select[name=preset-1]", "mtia-vs-gpu")
    page.select_option("select[name=preset-2]", "")
    page.click("#run-compare")
    cell = page.wait_for_selector("#m-facility_power_average_w-1", timeout=60_000)
    body = {"scenarios": [{"preset": "plan-minimal"}, {"preset": "mtia-vs-gpu"}]}
    api = httpx.post(live_server + "/api/compare", json=body, timeout=60).json()
    if "poll" in api:  # a job (already cached by the page's run: born done)
        api = api["result"]
    average, peak = api["scenarios"][1]["facility_power_average_w"], api["scenarios"][1]["facility_power_w"]
    assert float(cell.get_attribute("data-value") or "nan") == average < peak
    table = page.inner_text("#compare-out")
    assert "facility power (peak) (MW)" in table and "facility power (average) (MW)" in table
    assert errors == []
    page.close()


def test_campus_phases_show_peak_and_average(live_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, live_server + "/facility", CATALOGS_READY, errors)
    page.fill("#campus-form input[name=power]", "100MW")
    page.fill("#campus-form input[name=phases]", "2026:0.3,2027:0.7")
    page.click("#run-campus")
    page.wait_for_function("document.querySelector('#campus-out .status').textContent === 'done'", timeout=120_000)
    body = {"power": "100MW", "accelerator": "gb200", "cooling": "liquid", "phases": "2026:0.3,2027:0.7"}
    api = httpx.post(live_server + "/api/campus", json=body, timeout=120).json()
    if "poll" in api:
        api = api["result"]
    for i, ph in enumerate(api["phases"]):
        shown = float(page.get_attribute(f"#campus-out #phase-average-{i}", "data-value") or "nan")
        assert shown == ph["facility_power_average_w"] < ph["facility_power_w"]
    phases = page.inner_text("#campus-out .phases")
    assert "facility power (peak)" in phases and "facility power (average)" in phases
    assert errors == []
    page.close()
