"""The /network and /facility pages carry every option of `network`, `collective`, `facility` and `campus` (hK,
session 64): the network form lacked --fabric, the collective form --bytes (its sizes list only), --algorithm, --sim,
--flows-per-pair, --seed, --failed-links, --fabric and --sharp, the facility form --build-type, --rack-power and
--electricity-price, and the campus form --fleet, --reserve, --build-type and --electricity-price while it posted
cooling liquid and phases 2026:0.3,2027:0.7 that the CLI's line does not have.

tests/test_api_cli_web_defaults.py (`PAGES`) holds the forms to the CLI's options and defaults; here: what the
untouched forms post and the CLI line it is, a form with the new options set is the CLI's answer field for field,
and in Chromium the enum lists are the API's, one collective is timed as the CLI times it and a fleet of sites is
planned as `campus --fleet` plans it; a seed posted without the flow model is refused as the CLI refuses it. Also
hF64's leftovers: `recsys --accelerator` and `video --input` say what they take, and `--codec H264` / `--quality
HIGH` are refused as names (lower case, as every choice of the CLI) with the spelling they take, not as "msvp does
not encode H264".
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.test_api_cli_web_defaults import page_body
from tests.web.conftest import web_and_cli
from tests.web.test_web_browser import CATALOGS_READY, open_page
from typer.testing import CliRunner

from infraplan.cli.main import app
from infraplan.cli.main import main as cli_main

ENUMS_READY = "document.querySelector('select[name=sim]').options.length > 1"
"""`open_page`'s `ready` once /network's lists filled from the API's schema (`IP.enums`) are filled."""

UNTOUCHED = {
    "network": ({"system": "meta-genai-roce-24k"}, "infraplan network meta-genai-roce-24k --json"),
    "collective": ({"op": "all-reduce", "system": "meta-genai-roce-24k", "gpus": 1024, "size": "1GiB",
                    "placement": "packed", "algorithm": "auto", "sim": "analytical"},
                   "infraplan collective all-reduce --system meta-genai-roce-24k --gpus 1024 --bytes 1GiB --json"),
    "facility": ({"system": "meta-genai-roce-24k"}, "infraplan facility --system meta-genai-roce-24k --json"),
    "campus": ({"power": "1GW", "accelerator": "gb200"}, "infraplan campus --power 1GW --accelerator gb200 --json"),
}
FORMS = {"network": ("network", "net-form"), "collective": ("network", "coll-form"),
         "facility": ("facility", "fac-form"), "campus": ("facility", "campus-form")}


@pytest.mark.parametrize("command", sorted(UNTOUCHED))
def test_the_untouched_forms_post_the_clis_line(client: TestClient, command: str) -> None:
    """The required (or one-of) options preselected, every other option left to the CLI's default (the campus
    form's cooling liquid and phases were posted before)."""
    body, line = UNTOUCHED[command]
    assert page_body(*FORMS[command]) == body
    assert client.post(f"/api/{command}/cli", json=body).json()["command"] == line


@pytest.mark.parametrize(("command", "body"), [
    ("network", {"system": "dgx-h100-superpod", "gpus": 256, "fabric": "rail-only"}),
    ("collective", {**UNTOUCHED["collective"][0], "system": "dgx-h100-superpod", "gpus": 256, "size": "64MiB",
                    "algorithm": "ring", "fabric": "rail-only"}),
    ("collective", {**UNTOUCHED["collective"][0], "system": "dgx-h100-superpod", "gpus": 256, "size": "64MiB",
                    "sharp": True}),
    ("collective", {**UNTOUCHED["collective"][0], "system": "dgx-h100-superpod", "gpus": 64, "size": "64MiB",
                    "sim": "flow", "flows_per_pair": 2, "failed_links": "spine:1", "seed": 3}),
    ("facility", {"accelerator": "h100-sxm", "count": 1024, "build_type": "low-cost", "rack_power": "20kW",
                  "electricity_price": "0.05/kWh"}),
    ("campus", {"power": "100MW", "accelerator": "gb200", "reserve": 0.1, "build_type": "ai-campus",
                "electricity_price": "60/MWh"}),
    ("campus", {"fleet": "meta-2024"}),
])
def test_a_form_with_the_new_options_is_the_clis_answer(client: TestClient, capsys: pytest.CaptureFixture[str],
                                                        command: str, body: dict[str, Any]) -> None:
    web, cli = web_and_cli(client, command, body, capsys)
    assert web == cli


def test_a_seed_without_the_flow_model_is_refused_as_on_the_cli(client: TestClient) -> None:
    """The form's seed (empty: 0) is the flow model's: the web ran a posted seed with the analytical model while the
    CLI line it gave (`--seed 3`) is refused."""
    body = {**UNTOUCHED["collective"][0], "seed": 3}
    response = client.post("/api/collective", json=body)
    assert response.status_code == 400
    assert response.json()["detail"] == "--seed chooses the flow model's ECMP hashes and failed links: add --sim flow"
    assert client.post("/api/collective", json={**body, "sim": "flow", "gpus": 64}).status_code in (200, 202)


def test_the_help_says_what_recsys_accelerator_and_video_input_take() -> None:
    """hF64 made `recsys --accelerator` take a system preset and laddered a portrait `video --input` on its short
    side; the help (and the web's field words, which copy it: test_web_cli_help_sync_hW47) said neither."""
    runner = CliRunner()
    recsys = " ".join(runner.invoke(app, ["recsys", "--help"], env={"COLUMNS": "200"}).output.split())
    video = " ".join(runner.invoke(app, ["video", "--help"], env={"COLUMNS": "200"}).output.split())
    assert "system preset" in recsys and "mtia-400-rack" in recsys
    assert "[WIDTHx]HEIGHTp[FPS]" in video and "1080x1920p30" in video and "short side" in video


@pytest.mark.parametrize(("args", "line"), [
    (["--codec", "H264"], "unknown codec 'H264'; known: h264, vp9, hevc, av1; did you mean h264? (lower case)"),
    (["--quality", "HIGH"], "unknown quality 'HIGH'; known: standard, high; did you mean high? (lower case)"),
    (["--codec", "x265"], "unknown codec 'x265'; known: h264, vp9, hevc, av1"),
])
def test_a_codec_or_quality_in_capitals_is_refused_with_its_spelling(capsys: pytest.CaptureFixture[str],
                                                                    args: list[str], line: str) -> None:
    """Case-sensitive, as the CLI's other choices (--dtype BF16, --sim FLOW, --cooling LIQUID are refused): the line
    says the name is unknown and the spelling it takes ("msvp does not encode H264" said msvp lacks H.264)."""
    for device in ("msvp", "xeon-8480"):
        capsys.readouterr()
        assert cli_main(["video", "--device", device, *args]) == 2
        out = capsys.readouterr()
        assert out.out == "" and out.err.strip() == f"infraplan: error: {line}"


def test_the_network_page_times_one_collective_with_the_new_options(live_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, live_server + "/network", CATALOGS_READY + " && " + ENUMS_READY, errors)
    # the lists are the API's: a fabric may be left to the system's own (null), the others start on their default
    assert [o.strip() for o in page.locator("#net-form select[name=fabric] option").all_inner_texts()] == [
        "(the system's own)", "clos", "rail-only"]
    assert page.input_value("#coll-form select[name=algorithm]") == "auto"
    assert page.input_value("#coll-form select[name=sim]") == "analytical"
    page.select_option("#coll-form select[name=system]", "dgx-h100-superpod")
    page.fill("#coll-form input[name=gpus]", "256")
    page.fill("#coll-form input[name=size]", "64MiB")
    page.select_option("#coll-form select[name=algorithm]", "ring")
    page.select_option("#coll-form select[name=fabric]", "rail-only")
    page.click("#run-collective")
    page.wait_for_function("document.querySelector('#one-out .status').textContent === 'done'", timeout=60_000)
    body = {"op": "all-reduce", "system": "dgx-h100-superpod", "gpus": 256, "size": "64MiB", "algorithm": "ring",
            "fabric": "rail-only"}
    api = httpx.post(live_server + "/api/collective", json=body, timeout=60).json()
    assert float(page.get_attribute("#one-out #coll-time", "data-value") or "nan") == api["time_s"]
    assert float(page.get_attribute("#one-out #coll-busbw", "data-value") or "nan") == api["busbw_bytes_per_s"]
    assert page.inner_text("#one-out .cli") == ("infraplan collective all-reduce --system dgx-h100-superpod --gpus 256 "
                                                "--bytes 64MiB --algorithm ring --fabric rail-only --json")
    assert errors == []
    page.close()


def test_the_campus_form_plans_a_fleet_of_sites(live_server: str, browser: Any) -> None:
    """A fleet clears the budget and the accelerator (the CLI refuses both) and is answered as `campus --fleet`:
    its sites and their total."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/facility", CATALOGS_READY, errors)
    page.fill("#campus-form input[name=phases]", "2026:0.5")  # a --power campus's options, refused beside a fleet
    page.select_option("#campus-form select[name=cooling]", "air")  # (hN71): the fleet clears them
    page.select_option("#campus-form select[name=fleet]", "meta-2024")
    assert page.input_value("#campus-form input[name=power]") == ""
    assert page.input_value("#campus-form select[name=accelerator]") == ""
    assert page.input_value("#campus-form input[name=phases]") == ""
    assert page.input_value("#campus-form select[name=cooling]") == ""
    page.click("#run-campus")
    page.wait_for_function("document.querySelector('#campus-out .status').textContent === 'done'", timeout=120_000)
    api = httpx.post(live_server + "/api/campus", json={"fleet": "meta-2024"}, timeout=120).json()
    assert float(page.get_attribute("#campus-out #fleet-accelerators", "data-value") or "nan") == api["accelerators"]
    table = page.inner_text("#campus-out .campus")
    assert all(site["name"] in table for site in api["sites"])
    assert page.inner_text("#campus-out .cli") == "infraplan campus --fleet meta-2024 --json"
    # a power typed again clears the fleet
    page.fill("#campus-form input[name=power]", "50MW")
    assert page.input_value("#campus-form select[name=fleet]") == ""
    assert errors == []
    page.close()
