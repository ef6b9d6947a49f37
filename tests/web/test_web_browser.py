"""End to end in a real browser (Playwright driving Debian's Chromium): the page shows what the API returns."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

CATALOGS_READY = "[...document.querySelectorAll('select[data-catalog]')].every(s => s.options.length > 1)"
"""`open_page`'s `ready` for a page whose every catalog list (`select[data-catalog]`) has loaded."""


def open_page(browser: Any, url: str, ready: str, errors: list[str] | None = None) -> Any:
    """A new page on `url` once the JavaScript condition `ready` holds; page errors go to `errors` when given."""
    page = browser.new_page()
    if errors is not None:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function(ready)
    return page


def run_facility_page(page: Any, live_server: str, count: int, timeout_ms: int = 60_000) -> dict[str, Any]:
    """Run the facility page for `count` H100 and return the API's answer to the same request."""
    page.select_option("#fac-form select[name=accelerator]", "h100-sxm")
    page.fill("#fac-form input[name=count]", str(count))
    page.click("#run-fac")
    page.wait_for_function("document.querySelector('#fac-out .status').textContent === 'done'", timeout=timeout_ms)
    answer: dict[str, Any] = httpx.post(live_server + "/api/facility", json={"accelerator": "h100-sxm", "count": count},
                                        timeout=timeout_ms / 1000).json()
    return answer


def open_training_planner(browser: Any, live_server: str, errors: list[str] | None = None) -> Any:
    """A new page on /train once its model list has loaded."""
    return open_page(browser, live_server + "/train",
                     "document.querySelector('select[name=model]').options.length > 1", errors)


def test_training_planner_shows_the_api_step_time(live_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = open_training_planner(browser, live_server, errors)
    page.select_option("select[name=model]", "llama3-70b")
    page.select_option("select[name=system]", "dgx-h100-superpod")
    page.fill("input[name=gpus]", "128")
    page.fill("input[name=tp]", "8")
    page.fill("input[name=pp]", "2")
    page.fill("input[name=seq_len]", "8192")
    page.fill("input[name=global_batch]", "512")
    page.select_option("select[name=recompute]", "selective")
    page.click("#run-train")
    cell = page.wait_for_selector("#step-time", timeout=30_000)
    shown = float(cell.get_attribute("data-value") or "nan")
    text = cell.inner_text()
    body = {"model": "llama3-70b", "system": "dgx-h100-superpod", "gpus": 128, "tp": 8, "pp": 2, "cp": 1, "ep": 1,
            "seq_len": 8192, "global_batch": 512, "micro_batch": 1, "recompute": "selective", "zero": 1,
            "dtype": "bf16"}
    api = httpx.post(live_server + "/api/train", json=body, timeout=30).json()
    assert shown == api["step_time_s"]
    number, unit = text.split()
    assert unit == "s" and abs(float(number) / api["step_time_s"] - 1) < 5e-4  # 4 significant digits shown
    # the error band is part of the answer on the page too (it was only in the JSON download; review hG3)
    band = page.get_attribute("#error-band", "data-value") or ""
    assert band == f"{api['error_band']['low']},{api['error_band']['high']}"
    assert api["error_band"]["basis"] in page.inner_text("#error-band")
    # the exposed host issue time and its phases (hK58: PP2 syncs each forward and backward)
    assert float(page.get_attribute("#host-exposed", "data-value") or "nan") == api["breakdown_s"]["host_exposed"]
    assert "forward" in page.inner_text("#host-exposed") and "backward" in page.inner_text("#host-exposed")
    # the page's tools: the CLI line and the JSON download
    cli = page.inner_text("#train-out .cli")
    assert cli.startswith("infraplan train llama3-70b --system dgx-h100-superpod --gpus 128 --tp 8 --pp 2")
    assert page.get_attribute("#train-out a.download", "download") == "infraplan-train.json"
    # the breakdown and memory bars were drawn by the bundled plotly.js
    assert page.locator("#train-out .breakdown .main-svg").count() >= 1
    assert page.locator("#train-out .memory .main-svg").count() >= 1
    assert errors == []
    page.close()


def test_training_planner_shows_the_one_line_error(live_server: str, browser: Any) -> None:
    page = open_training_planner(browser, live_server)
    page.fill("input[name=gpus]", "63")
    page.click("#run-train")
    page.wait_for_function("document.querySelector('#train-out .error').textContent.length > 0", timeout=30_000)
    error = page.inner_text("#train-out .error")
    assert "63" in error and "\n" not in error.strip()
    page.close()


def test_scaling_search_runs_as_a_job_and_draws_the_curve(live_server: str, browser: Any) -> None:
    page = open_training_planner(browser, live_server)
    page.fill("input[name=search_gpus]", "16,32,64,128")
    page.click("#run-search")
    page.wait_for_selector("#search-out .scaling .main-svg", timeout=60_000)
    rows = page.locator("#search-out .summary tr").count()
    assert rows == 5  # header + 4 GPU counts
    page.close()


@pytest.mark.parametrize(("path", "button", "chart"), [
    ("/serve", "#run-serve", "#serve-out .frontier .main-svg"),
    ("/network", "#run-coll", "#coll-out .busbw .main-svg"),
    ("/facility", "#run-fac", "#fac-out .cost .main-svg"),
    ("/facility", "#run-campus", "#campus-out .power .main-svg"),
])
def test_every_page_runs_and_draws(live_server: str, browser: Any, path: str, button: str, chart: str) -> None:
    errors: list[str] = []
    page = open_page(browser, live_server + path,
                     "[...document.querySelectorAll('select[data-catalog]')].every(s => s.options.length > 1)", errors)
    page.click(button)
    page.wait_for_selector(chart, timeout=60_000)
    out = button.replace("#run-", "#").replace("#serve", "#serve-out").replace("#coll", "#coll-out")
    out = {"#fac": "#fac-out", "#campus": "#campus-out"}.get(out, out)
    assert page.inner_text(f"{out} .error") == ""
    # a sweep's line runs every run it shows, a loop over its rates or sizes (hE65); the others' one command
    sweep = {"/serve": "for rate in 2.0 5.0 10.0 20.0 40.0; do infraplan serve ",
             "/network": "for bytes in 1MiB 8MiB 64MiB 256MiB 1GiB 4GiB; do infraplan collective "}
    assert page.inner_text(f"{out} .cli").startswith(sweep.get(path, "infraplan "))
    assert errors == []
    page.close()


def test_scenario_compare_shows_the_api_tco(live_server: str, browser: Any) -> None:
    """Pick two presets, compare, read TCO/yr and its delta from the page: they equal the API's."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/compare",
                     "document.querySelector('select[name=preset-0]').options.length > 2", errors)
    page.select_option("select[name=preset-0]", "plan-minimal")
    page.select_option("select[name=preset-1]", "mtia-vs-gpu")
    page.select_option("select[name=preset-2]", "")
    page.click("#run-compare")
    cell = page.wait_for_selector("#m-tco_usd_per_year-1", timeout=60_000)
    shown = float(cell.get_attribute("data-value") or "nan")
    body = {"scenarios": [{"preset": "plan-minimal"}, {"preset": "mtia-vs-gpu"}]}
    api = httpx.post(live_server + "/api/compare", json=body, timeout=60).json()
    if "poll" in api:  # a job (already cached by the page's run: born done)
        assert api["status"] == "done"
        api = api["result"]
    assert shown == api["scenarios"][1]["tco_usd_per_year"]
    value, delta = cell.inner_text().split(" (")  # "TCO ($ M) (+delta)", 4 significant digits
    assert abs(float(value) * 1e6 / shown - 1) < 5e-4
    assert delta.startswith("+") and delta.endswith(")")
    assert abs(float(delta[1:-1]) * 1e6 / api["deltas"][1]["tco_usd_per_year"] - 1) < 5e-4
    assert float(page.get_attribute("#m-tco_usd_per_year-0", "data-value") or "nan") == \
        api["scenarios"][0]["tco_usd_per_year"]
    assert page.inner_text("#compare-out .cli") == \
        "infraplan compare examples/plan-minimal.yaml examples/mtia-vs-gpu.yaml --json"
    assert page.get_attribute("#compare-out a.download", "download") == "infraplan-compare.json"
    assert page.locator("#compare-out .money .main-svg").count() >= 1
    assert page.locator("#risks-1 li").count() >= 1
    # the average draw beside the labelled peak, as the CLI shows them (hL57)
    average = float(page.get_attribute("#m-facility_power_average_w-1", "data-value") or "nan")
    assert average == api["scenarios"][1]["facility_power_average_w"] < api["scenarios"][1]["facility_power_w"]
    table = page.inner_text("#compare-out")
    assert "facility power (peak) (MW)" in table and "facility power (average) (MW)" in table
    # each scenario's band (its last phase's IT power), as `compare` prints it under its table (hD58: none shown)
    for i, scenario in enumerate(api["scenarios"]):
        band = scenario["error_band"]
        low, high = (float(x) for x in (page.get_attribute(f"#band-{i}", "data-value") or "").split(","))
        assert (low, high) == (band["low"], band["high"])
        assert scenario["error_band_basis"] in page.inner_text(f"#band-{i}")
    assert errors == []
    page.close()

