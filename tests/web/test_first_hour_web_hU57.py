"""A new user's first hour on the web app (hU57): the API reference at /docs works without network, and every page
shows what the CLI prints with an answer: its error band (with the basis) and its notes."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.testclient import TestClient
from tests.web.test_web_browser import open_page

from infraplan.web.requests import REQUESTS


def test_the_api_reference_needs_no_network(client: TestClient) -> None:
    # FastAPI's /docs loaded Swagger UI's script and style from cdn.jsdelivr.net: a blank page offline
    page = client.get("/docs")
    assert page.status_code == 200
    assert re.findall(r"(?:src|href)=\"(https?:[^\"]*)\"", page.text) == []
    assert client.get("/redoc").status_code == 404  # ReDoc's page loaded its script from the CDN too
    text = page.text
    for command in REQUESTS:
        assert f"<code>POST /api/{command}</code>" in text
    # each body field beside the CLI option it is, whose --help gives its unit
    assert "<td><code>seq_len</code></td>" in text and "<td><code>--seq-len</code></td>" in text
    assert "<td><code>argument 1</code></td>" in text  # train's model is the CLI's argument
    # the result models `infraplan schema train` and `schema train --tokens` describe
    assert "(<code>TrainingEstimate | TrainingRunResult</code>)" in text


def _run(browser: Any, live_server: str, path: str, button: str, out: str) -> Any:
    page = open_page(browser, live_server + path, "document.querySelector('select[data-catalog]').options.length > 1")
    page.click(button)
    page.wait_for_selector(f"{out} .tools .cli", timeout=60_000)
    return page


def test_network_and_facility_pages_show_the_band_and_its_basis(live_server: str, browser: Any) -> None:
    # the network and facility pages showed no error band at all (the CLI prints one under every answer)
    page = _run(browser, live_server, "/network", "#run-network", "#net-out")
    api = httpx.post(live_server + "/api/network", json={"system": "meta-genai-roce-24k"}, timeout=60).json()
    assert api["error_band"] is None
    assert page.inner_text("#net-out #error-band") == "none: " + api["error_band_basis"]
    page.close()
    page = _run(browser, live_server, "/facility", "#run-fac", "#fac-out")
    api = httpx.post(live_server + "/api/facility", json={"system": "meta-genai-roce-24k"}, timeout=60).json()
    band = api["error_band"]
    # as numbers: the low end is exactly 0 since hC57 (catalog/band_ends.py), which the page writes 0, not 0.0
    ends = (page.get_attribute("#fac-out #error-band", "data-value") or "").split(",")
    assert [float(x) for x in ends] == [band["low"], band["high"]]
    assert api["error_band_basis"] in page.inner_text("#fac-out #error-band")  # the PUE caveat with it
    page.close()


def test_training_page_shows_the_answers_notes(live_server: str, browser: Any) -> None:
    # train's notes (here: the virtual stages chosen for PP 4) were in the JSON download only
    page = open_page(browser, live_server + "/train", "document.querySelector('select[name=model]').options.length > 1")
    page.fill("input[name=gpus]", "64")
    page.fill("input[name=tp]", "8")
    page.fill("input[name=pp]", "4")
    page.fill("input[name=global_batch]", "256")
    page.click("#run-train")
    page.wait_for_selector("#train-out .tools .cli", timeout=60_000)
    body = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 64, "tp": 8, "pp": 4, "seq_len": 4096,
            "global_batch": 256}
    api = httpx.post(live_server + "/api/train", json=body, timeout=60).json()
    assert api["notes"]
    shown = page.locator("#train-out .context ul.notes li").all_inner_texts()
    assert shown == api["notes"]
    assert page.locator("#train-out #error-band").count() == 1  # the page's own band row, not a second one
    page.close()


def test_the_forms_name_their_units(client: TestClient) -> None:
    # "sequence length" and "micro-batch" had no unit beside "global batch (sequences)"; "phases" no format
    labels = {name: label for label, name in re.findall(r"<label>([^<]*)<(?:input|select) name=\"(\w+)\"",
                                                          client.get("/train").text + client.get("/facility").text)}
    assert "(tokens)" in labels["seq_len"]
    assert "(sequences)" in labels["micro_batch"] and "(sequences)" in labels["global_batch"]
    assert "year:share" in labels["phases"]
