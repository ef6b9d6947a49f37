"""The serving page's "SLO attainment" (the rate sweep's column and the capacity search's row) printed a bare
percentage: with the form's SLO fields blank (their placeholder says "workload's") the reader saw neither the TTFT
nor the TPOT it was counted against. Both now name them, as `serve` does on the CLI (hU81)."""

from __future__ import annotations

from typing import Any

from tests.web.test_web_browser import CATALOGS_READY, open_page

from infraplan.catalog.serving_loader import load_workload


def test_the_rate_sweep_names_the_workloads_slos_beside_its_attainment(live_server: str, browser: Any) -> None:
    chat = load_workload("chat")
    assert chat.ttft_slo_s is not None and chat.tpot_slo_s is not None
    errors: list[str] = []
    page = open_page(browser, live_server + "/serve", CATALOGS_READY, errors)
    page.select_option("#serve-form select[name=workload]", "chat")
    page.fill("#serve-form input[name=requests]", "200")
    page.fill("#serve-form input[name=rate]", "5")
    page.click("#run-serve")
    page.wait_for_function("document.querySelector('#serve-out .status').textContent === 'done'", timeout=120_000)
    cells = page.locator("#serve-out .summary tr").nth(1).locator("td")
    attained = cells.nth(cells.count() - 1).inner_text()
    assert attained.endswith(f"% within TTFT ≤ {chat.ttft_slo_s:g} s and TPOT ≤ {chat.tpot_slo_s:g} s"), attained
    assert errors == []
    page.close()
