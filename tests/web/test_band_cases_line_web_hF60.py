"""hF (session 60): the web pages show the line naming the cases behind an error band, as the CLI prints it under
the band. The server sends the line (the band's `cases_line`, `catalog.band_cases.nearest_line`: one function for
both) and the page writes it under the band's cell (`IP.band`, `IP.table`: element `<cell id>-cases`). Before, the
CLI printed "cases behind it (lowest, median, highest of 28): ..." and no page named a case."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_and_cli
from tests.web.test_web_browser import open_training_planner, run_facility_page

from infraplan.cli.main import main

TRAIN = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 64, "tp": 8, "pp": 1, "seq_len": 4096,
         "global_batch": 256}


def test_the_server_sends_the_line_the_cli_prints(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    web, cli = web_and_cli(client, "train", TRAIN, capsys)
    line = web["error_band"]["cases_line"]
    assert line.startswith("cases behind it (lowest, median, highest of ") and line == cli["error_band"]["cases_line"]
    args = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "64", "--tp", "8", "--seq-len", "4096",
            "--global-batch", "256"]
    assert main(args) == 0
    printed = " ".join(capsys.readouterr().out.split())  # the table's band line, wrapped at the terminal's width
    assert " ".join(line.split()) in printed


def test_the_pages_show_the_cases_under_the_band(live_server: str, browser: Any) -> None:
    page = open_training_planner(browser, live_server)
    page.fill("input[name=gpus]", "64")
    page.fill("input[name=tp]", "8")  # TRAIN's (the form's TP is the CLI's 1 since hJ64)
    page.fill("input[name=global_batch]", "256")
    page.click("#run-train")
    page.wait_for_selector("#train-out .tools .cli", timeout=60_000)
    api = httpx.post(live_server + "/api/train", json=TRAIN, timeout=60).json()
    assert page.inner_text("#train-out #error-band-cases") == api["error_band"]["cases_line"] != ""
    page.close()
    page = browser.new_page()  # the facility page's band row (`IP.bandRow`, as the campus, compare, fleet-mix pages)
    page.goto(live_server + "/facility")
    page.wait_for_function("document.querySelector('#fac-form select[name=accelerator]').options.length > 1")
    answer = run_facility_page(page, live_server, 4096)
    assert page.inner_text("#fac-out #error-band-cases") == answer["error_band"]["cases_line"] != ""
    page.close()
