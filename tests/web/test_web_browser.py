"""End to end in a real browser (Playwright driving Debian's Chromium): the page shows what the API returns."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


def test_training_planner_shows_the_api_step_time(live_server: str, browser: Any) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server + "/train")
    page.wait_for_function("document.querySelector('select[name=model]').options.length > 1")
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
    page = browser.new_page()
    page.goto(live_server + "/train")
    page.wait_for_function("document.querySelector('select[name=model]').options.length > 1")
    page.fill("input[name=gpus]", "63")
    page.click("#run-train")
    page.wait_for_function("document.querySelector('#train-out .error').textContent.length > 0", timeout=30_000)
    error = page.inner_text("#train-out .error")
    assert "63" in error and "\n" not in error.strip()
    page.close()


def test_scaling_search_runs_as_a_job_and_draws_the_curve(live_server: str, browser: Any) -> None:
    page = browser.new_page()
    page.goto(live_server + "/train")
    page.wait_for_function("document.querySelector('select[name=model]').options.length > 1")
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
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server + path)
    page.wait_for_function("[...document.querySelectorAll('select[data-catalog]')].every(s => s.options.length > 1)")
    page.click(button)
    page.wait_for_selector(chart, timeout=60_000)
    out = button.replace("#run-", "#").replace("#serve", "#serve-out").replace("#coll", "#coll-out")
    out = {"#fac": "#fac-out", "#campus": "#campus-out"}.get(out, out)
    assert page.inner_text(f"{out} .error") == ""
    assert page.inner_text(f"{out} .cli").startswith("infraplan ")
    assert errors == []
    page.close()
