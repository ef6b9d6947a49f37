"""The facility page's campus answer shows what the CLI's `campus` prints beyond the facility (hU62): the training
runs a year with their plan, each part's error band (the campus's own band is none: "banded by its parts", which
the page named but did not show), and the training capacity's notes (its ASSUMPTION lines were JSON only); the
facility answer shows its cost band (or why none) and its own notes (the count it rounded)."""

from __future__ import annotations

from typing import Any

import httpx
from tests.web.test_web_browser import CATALOGS_READY, open_page, run_facility_page


def test_campus_page_shows_runs_bands_and_the_parts_notes(live_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, live_server + "/facility", CATALOGS_READY, errors)
    page.fill("#campus-form input[name=power]", "300MW")
    page.fill("#campus-form input[name=phases]", "2027:0.25,2028:0.5")
    page.click("#run-campus")
    page.wait_for_function("document.querySelector('#campus-out .status').textContent === 'done'", timeout=120_000)
    body = {"power": "300MW", "accelerator": "gb200", "cooling": "liquid", "phases": "2027:0.25,2028:0.5"}
    api = httpx.post(live_server + "/api/campus", json=body, timeout=120).json()
    cap, fac = api["training_capacity"], api["facility"]
    assert cap["available"]
    # the runs a year are the API's, not a copy of another figure
    assert float(page.get_attribute("#campus-out #runs-per-year", "data-value") or "nan") == cap["runs_per_year"]
    # each part's band: training and IT power as low,high; the cost one none with its reason
    assert page.get_attribute("#campus-out #training-band", "data-value") == \
        f"{cap['error_band']['low']},{cap['error_band']['high']}"
    # as numbers: the IT power band's low end is exactly 0 since hC57 (catalog/band_ends.py), which the page writes 0
    ends = (page.get_attribute("#campus-out #it-power-band", "data-value") or "").split(",")
    assert [float(x) for x in ends] == [fac['error_band']['low'], fac['error_band']['high']]
    cost = page.inner_text("#campus-out #cost-band")
    assert fac["cost_error_band"] is None and cost == "none: " + fac["cost_error_band_basis"]
    # every note the CLI prints: the campus's own and the training capacity's (with its ASSUMPTION)
    shown = page.inner_text("#campus-out")
    assert api["notes"] and cap["notes"]
    for note in [*api["notes"], *cap["notes"]]:
        assert note in shown
    assert "ASSUMPTION" in "".join(cap["notes"])
    assert f"{api['buildings']}" in page.inner_text("#campus-out .campus")
    # phases summing to 0.75 build three quarters: the page says the rest is in no phase, as the CLI does
    assert api["phases"][-1]["cumulative_fraction"] == 0.75
    assert page.inner_text("#campus-out #unphased").startswith("25 % of the campus")
    # each phase's average draw beside its labelled peak, as the CLI prints them (hL57)
    for i, ph in enumerate(api["phases"]):
        shown = float(page.get_attribute(f"#campus-out #phase-average-{i}", "data-value") or "nan")
        assert shown == ph["facility_power_average_w"] < ph["facility_power_w"]
    phases = page.inner_text("#campus-out .phases")
    assert "facility power (peak)" in phases and "facility power (average)" in phases
    assert errors == []
    page.close()


def test_facility_page_shows_its_cost_band_and_count_note(live_server: str, browser: Any) -> None:
    """A count that is not a whole number of servers is rounded up, which `count_note` says (the CLI prints it; the
    page did not): 4,090 H100 are 512 servers of 8, 4,096 GPUs. The cost band is shown, or why there is none, and
    the network as built (its switches and model)."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/facility", CATALOGS_READY, errors)
    api = run_facility_page(page, live_server, 4090)
    assert api["accelerators"] == 4096 and "4,090" in api["count_note"]  # 512 servers of 8
    assert api["count_note"] in page.inner_text("#fac-out .facility-notes")
    # the fabric as built: its switches are the API's (a page without the row showed no network at all)
    assert float(page.get_attribute("#fac-out #fac-network", "data-value") or "nan") == api["network"]["switches"]
    assert api["network"]["model"] in page.inner_text("#fac-out #fac-network")
    band = api["cost_error_band"]
    cell = page.locator("#fac-out #cost-band")
    if band is None:
        assert cell.inner_text() == "none: " + api["cost_error_band_basis"]
    else:
        assert cell.get_attribute("data-value") == f"{band['low']},{band['high']}"
    assert errors == []
    page.close()
