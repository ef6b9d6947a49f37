"""An infrastructure planner's review of the facility & campus page (hU48, session 43).

The page's system list starts on a preset, so an accelerator-and-count question sent both (the API refuses a
system with an accelerator: "give either --system, or --accelerator with --count"); and an unpriced accelerator's
null opex and phase capex were shown as "$0 M" (JavaScript's null / 1e6 is 0), a free facility, where the CLI
says "not priced" (`facility --accelerator mtia-v2 --count 1000`: cost_reason, no money figure).
"""

from __future__ import annotations

from typing import Any

import httpx
from tests.web.test_web_browser import CATALOGS_READY, open_page


def test_facility_of_an_unpriced_accelerator_says_not_priced(live_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, live_server + "/facility", CATALOGS_READY, errors)
    assert page.input_value("#fac-form select[name=system]") == "meta-genai-roce-24k"  # the preselected system
    page.select_option("#fac-form select[name=accelerator]", "mtia-v2")
    page.fill("#fac-form input[name=count]", "1000")
    page.click("#run-fac")
    page.wait_for_selector("#it-power", timeout=60_000)
    assert page.inner_text("#fac-out .error") == ""
    api = httpx.post(live_server + "/api/facility", json={"accelerator": "mtia-v2", "count": 1000}, timeout=60).json()
    assert api["opex_usd_per_year"] is None and api["cost_reason"]  # the API: no price, and why
    assert float(page.get_attribute("#it-power", "data-value") or "nan") == api["it_power_w"]
    rows = dict(line.split("\t", 1) for line in page.inner_text("#fac-out .summary").splitlines() if "\t" in line)
    assert rows["opex"] == "not priced" and rows["cost per accelerator-hour"] == "not priced"
    assert "$0" not in page.inner_text("#fac-out .summary")
    # what needs no server price is priced, as the CLI's row (hK76): the network and the building
    priced = " / ".join(f"${v / 1e3:.4g} k" if v < 1e6 else f"${v / 1e6:.4g} M"
                        for v in api["capex_priced_usd"].values())
    assert api["capex_unpriced_parts"] == ["servers"] and rows["capex network / facility (no servers)"] == priced
    assert page.inner_text("#fac-out .cli").startswith("infraplan facility --accelerator mtia-v2 --count 1000")
    assert errors == []
    page.close()


def test_campus_phases_of_an_unpriced_accelerator_say_not_priced(live_server: str, browser: Any) -> None:
    page = open_page(browser, live_server + "/facility", CATALOGS_READY)
    page.fill("#campus-form input[name=power]", "20MW")
    page.select_option("#campus-form select[name=accelerator]", "mtia-v2")
    page.fill("#campus-form input[name=phases]", "2026:0.3,2027:0.7")  # the form's example (no phases by default)
    page.click("#run-campus")
    page.wait_for_selector("#campus-out .phases table", timeout=60_000)
    phases = page.inner_text("#campus-out .phases")
    assert "not priced" in phases and "$0" not in phases
    page.close()


def test_web_electricity_price_in_usd_per_kwh_is_refused(client: Any) -> None:
    """The API's `electricity_price` (USD/MWh, as the CLI's --electricity-price) refuses 0.07 with the CLI's line."""
    for command, body in (("facility", {"accelerator": "h100-sxm", "count": 8}),
                          ("campus", {"power": "10MW", "accelerator": "h100-sxm"})):
        bad = client.post(f"/api/{command}", json={**body, "electricity_price": 0.07})
        assert bad.status_code == 422
        detail = bad.json()["detail"]
        assert "USD/kWh?" in detail and "70 USD/MWh" in detail and "\n" not in detail
        assert client.post(f"/api/{command}", json={**body, "electricity_price": 70}).status_code == 200


def test_web_campus_takes_a_pue(client: Any) -> None:
    body = {"power": "100MW", "accelerator": "h100-sxm"}
    plain = client.post("/api/campus", json=body).json()
    at = client.post("/api/campus", json={**body, "pue": 1.3}).json()
    assert at["facility"]["pue"] == 1.3 != plain["facility"]["pue"] and at["accelerators"] < plain["accelerators"]
    line = client.post("/api/campus/cli", json={**body, "pue": 1.3}).json()["command"]
    assert "--pue 1.3" in line
