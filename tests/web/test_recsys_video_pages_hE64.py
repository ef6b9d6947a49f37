"""The /recsys and /video pages (hE, session 64): recsys and video were API routes only, with no page like the others.

Each page's form has the CLI's options and defaults (tests/test_api_cli_web_defaults.py holds them to the CLI's);
here: the pages are served and linked from every page's navigation, what a form posts is answered as the CLI answers
the same line (`--json`, field for field), bad input is one line, and in Chromium the figures the page shows are the
API's (the answer with units, the CLI line, the chart, the error line).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.test_api_cli_web_defaults import page_body, page_form
from tests.web.conftest import web_and_cli
from tests.web.test_web_browser import CATALOGS_READY, open_page

from infraplan.catalog.loader import list_presets, load_accelerator

STATIC = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "web" / "static"
VIDEO_READY = "document.querySelector('select[name=codec]').options.length > 1"
"""`open_page`'s `ready` for /video: its codec and quality lists are filled from the API's schema."""


def test_the_pages_are_served_and_in_every_pages_navigation(client: TestClient) -> None:
    for path, button in (("/recsys", 'id="run-recsys"'), ("/video", 'id="run-video"')):
        response = client.get(path)
        assert response.status_code == 200 and button in response.text and "cdn" not in response.text.lower()
    for page in sorted(STATIC.glob("*.html")):
        nav = page.read_text(encoding="utf-8").split("</nav>")[0]
        assert 'href="/recsys"' in nav and 'href="/video"' in nav, page.name
    assert client.get("/api/catalog/recsys").status_code == 200  # the model list the page fills its select from


def test_the_untouched_forms_post_the_clis_default_lines() -> None:
    """What the pages post before anything is changed: the CLI's line with its required options only."""
    assert page_body("recsys", "recsys-form") == {"model": "dlrm-medium", "accelerator": "mtia-v1"}
    assert page_body("video", "video-form") == {"device": "msvp", "input": "2160p60", "codec": "h264",
                                                "quality": "high", "peak_to_average": 1.0}


def test_the_video_device_lists_are_the_devices_video_runs_on() -> None:
    """The device select offers what `infraplan video --device` takes by name (msvp and the CPU presets; a GPU is
    refused), the baseline select those and 'none'."""
    runs_on = {*list_presets("video/devices"), *(a for a in list_presets("accelerators")
                                                 if load_accelerator(a).kind == "cpu")}
    controls = page_form("video", "video-form")
    assert {v for v, _ in controls["device"][2]} == runs_on
    assert {v for v, _ in controls["baseline"][2]} == runs_on | {"", "none"}


@pytest.mark.parametrize(("command", "body"), [
    ("recsys", {"model": "dlrm-medium", "accelerator": "mtia-v1"}),  # the page's default
    ("recsys", {"model": "dlrm-high", "accelerator": "h100-sxm", "latency_slo": "20ms"}),
    ("recsys", {"model": "dlrm-low", "accelerator": "mtia-v2", "batch": 256}),  # posted as 256 (JSON.stringify)
    ("video", {"device": "msvp", "input": "2160p60", "codec": "h264", "quality": "high", "peak_to_average": 1}),
    ("video", {"device": "msvp", "input": "1080p30", "ladder": 3, "codec": "vp9", "quality": "standard",
               "daily_hours": 500, "peak_to_average": 1.5, "baseline": "epyc-9654"}),
    ("video", {"device": "xeon-8480", "input": "2160p60", "daily_hours": 1000, "peak_to_average": 1,
               "baseline": "none"}),
])
def test_a_form_submission_is_the_clis_answer(client: TestClient, capsys: pytest.CaptureFixture[str], command: str,
                                             body: dict[str, Any]) -> None:
    web, cli = web_and_cli(client, command, body, capsys)
    assert web == cli


def test_the_cli_lines_of_the_pages(client: TestClient) -> None:
    """The page's "copy as CLI command" line for its untouched form is the line a user types."""
    line = client.post("/api/recsys/cli", json=page_body("recsys", "recsys-form")).json()["command"]
    assert line == "infraplan recsys dlrm-medium --accelerator mtia-v1 --json"
    line = client.post("/api/video/cli", json=page_body("video", "video-form")).json()["command"]
    assert line == "infraplan video --device msvp --json"  # the defaults the form shows are left unsaid


@pytest.mark.parametrize(("command", "body", "status", "words"), [
    ("recsys", {"model": "dlrm-medium", "accelerator": "mtia-v1", "latency_slo": "5"}, 422, "did you mean 5ms?"),
    ("recsys", {"model": "dlrm-medium", "accelerator": "mtia-v9"}, 400, "mtia-v9"),
    ("video", {"device": "h100-sxm"}, 400, "is a GPU, not a CPU or a video ASIC"),
    ("video", {"device": "msvp", "input": "4k"}, 422, "cannot read '4k'"),
    ("video", {"device": "msvp", "baseline": "msvp"}, 400, "is the device itself"),
])
def test_bad_input_is_one_clear_line(client: TestClient, command: str, body: dict[str, Any], status: int,
                                     words: str) -> None:
    response = client.post(f"/api/{command}", json=body)
    detail = response.json()["detail"]
    assert response.status_code == status and words in detail and "\n" not in detail and "Traceback" not in detail


def _done_or_error(page: Any, out: str) -> None:
    page.wait_for_function(f"document.querySelector('#{out} .status').textContent === 'done' || "
                           f"document.querySelector('#{out} .error').textContent !== ''", timeout=60_000)


def test_recsys_page_shows_the_api_answer(live_server: str, browser: Any) -> None:
    """In Chromium: the untouched form posts the CLI's default line; QPS, QPS/W and the bound on the page are the API's,
    with their units; the compare button runs the same model on each listed accelerator; a bare 5 s SLO is refused in
    the API's one line, and the last answer is taken off."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/recsys", CATALOGS_READY, errors)
    with page.expect_request(lambda r: r.url.endswith("/api/recsys") and r.method == "POST") as request:
        page.click("#run-recsys")
    body = json.loads(request.value.post_data or "{}")
    assert body == {"model": "dlrm-medium", "accelerator": "mtia-v1"}
    _done_or_error(page, "recsys-out")
    assert page.inner_text("#recsys-out .error") == ""
    api = httpx.post(live_server + "/api/recsys", json=body, timeout=60).json()
    assert float(page.get_attribute("#recsys-qps", "data-value") or "nan") == api["qps"]
    number, unit = page.inner_text("#recsys-qps").split()
    assert unit == "QPS" and abs(float(number.replace(",", "")) / api["qps"] - 1) < 5e-4  # 4 significant digits
    assert float(page.get_attribute("#recsys-qps-per-w", "data-value") or "nan") == api["qps_per_w"]
    assert page.inner_text("#recsys-bound") == api["bound"]
    assert page.inner_text("#recsys-latency").endswith(" ms")
    assert page.inner_text("#recsys-out .cli") == "infraplan recsys dlrm-medium --accelerator mtia-v1 --json"
    assert page.get_attribute("#recsys-out a.download", "download") == "infraplan-recsys.json"
    assert page.locator("#recsys-out .breakdown .main-svg").count() >= 1
    assert api["error_band_basis"] in page.inner_text("#error-band")  # none, and why (one campaign)
    assert api["figures_note"] in page.inner_text("#recsys-out .context")
    # MTIA against GPUs and a CPU: one recsys per accelerator, each row the API's
    page.click("#run-recsys-compare")
    _done_or_error(page, "compare-out")
    assert page.inner_text("#compare-out .error") == ""
    names = page.input_value("input[name=compare]").split(",")
    for i, name in enumerate(names):
        one = httpx.post(live_server + "/api/recsys", json={**body, "accelerator": name}, timeout=60).json()
        assert float(page.get_attribute(f"#c-qps-{i}", "data-value") or "nan") == one["qps"]
        assert float(page.get_attribute(f"#c-platform-{i}", "data-value") or "nan") == one["platform_qps_per_w"]
    assert page.locator("#compare-out .perf-per-w .main-svg").count() >= 1
    # an accelerator the model does not fit is said in its own line; the others run (none: the error line)
    page.fill("input[name=compare]", "mtia-v1, tpu-v6e")
    page.click("#run-recsys-compare")
    page.wait_for_selector("#compare-out li.not-run", timeout=60_000)
    assert page.locator("#compare-out .summary tr").count() == 1 + 1 + 1  # header, mtia-v1, and the band's table
    assert page.inner_text("#compare-out li.not-run").startswith("tpu-v6e: not run: model 'dlrm-medium' does not fit")
    page.fill("input[name=compare]", "tpu-v6e")
    page.click("#run-recsys-compare")
    _done_or_error(page, "compare-out")
    assert page.inner_text("#compare-out .error").startswith("model 'dlrm-medium' does not fit tpu-v6e")
    # a bare 5 as the SLO is 5 s per batch: refused in the API's line, the answer taken off
    page.fill("input[name=latency_slo]", "5")
    page.click("#run-recsys")
    _done_or_error(page, "recsys-out")
    detail = httpx.post(live_server + "/api/recsys", json={**body, "latency_slo": "5"}, timeout=60).json()["detail"]
    assert page.inner_text("#recsys-out .error") == detail and "did you mean 5ms?" in detail
    assert page.locator("#recsys-qps").count() == 0
    assert errors == []
    page.close()


def test_video_page_shows_the_api_answer(live_server: str, browser: Any) -> None:
    """In Chromium: MSVP with a daily ingest: streams per device, watts per stream, the fleet and the ratio against
    its CPU baseline are the API's; the CLI line; the chart; a GPU as the device is the API's one line."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/video", VIDEO_READY, errors)
    assert page.input_value("select[name=codec]") == "h264" and page.input_value("select[name=quality]") == "high"
    page.fill("input[name=daily_hours]", "1000")
    with page.expect_request(lambda r: r.url.endswith("/api/video") and r.method == "POST") as request:
        page.click("#run-video")
    body = json.loads(request.value.post_data or "{}")
    assert body == {"device": "msvp", "input": "2160p60", "codec": "h264", "quality": "high", "daily_hours": 1000,
                    "peak_to_average": 1}
    _done_or_error(page, "video-out")
    assert page.inner_text("#video-out .error") == ""
    api = httpx.post(live_server + "/api/video", json=body, timeout=60).json()
    assert float(page.get_attribute("#streams", "data-value") or "nan") == api["streams_per_device"]
    assert float(page.get_attribute("#watts-per-stream", "data-value") or "nan") == api["watts_per_stream"]
    assert int(page.get_attribute("#fleet-devices", "data-value") or "0") == api["fleet"]["devices"]
    assert f"{api['fleet']['devices']:,} devices" in page.inner_text("#fleet-devices")
    assert float(page.get_attribute("#ratio", "data-value") or "nan") == api["baseline"]["perf_per_w_ratio"]
    assert page.inner_text("#video-out .cli") == "infraplan video --device msvp --daily-hours 1000.0 --json"
    assert page.locator("#video-out .watts .main-svg").count() >= 1
    assert api["error_band_basis"] in page.inner_text("#error-band")
    assert api["notes"][0] in page.inner_text("#video-out .context")
    page.evaluate("(() => { const s = document.querySelector('select[name=device]'); s.add(new Option('h100-sxm')); "
                  "s.value = 'h100-sxm'; })()")  # a GPU, as a device YAML of one or a stale list would send
    page.click("#run-video")
    _done_or_error(page, "video-out")
    detail = httpx.post(live_server + "/api/video", json={**body, "device": "h100-sxm"}, timeout=60).json()["detail"]
    assert page.inner_text("#video-out .error") == detail and "is a GPU" in detail
    assert page.locator("#streams").count() == 0
    assert errors == []
    page.close()
