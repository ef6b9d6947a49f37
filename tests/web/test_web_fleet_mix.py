"""`POST /api/fleet-mix`: the shipped example by name and uploaded specs give what `infraplan fleet-mix FILE --json`
prints; bad or too big fleets are one-line 4xx; no upload names a server file (fleet-mix's or a scenario's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.web.test_web_browser import open_page
from web_jobs import cli_json, finished

from infraplan.cli.main import main as cli_main
from infraplan.planning.fleet_mix_llm import serve_plan_search
from infraplan.web.fleet_mix import WEB_MAX_FLEET_LLM_SEARCHES, WEB_MAX_FLEET_PAIRS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "examples" / "fleet-mix.yaml").read_text(encoding="utf-8")
TIMING_FIELDS = ("wall_time_s", "configs_per_s")  # none in a fleet-mix result today; dropped if one comes


def _no_llm() -> dict[str, Any]:
    """The shipped example without its LLM service: ranking and video only (answered inline)."""
    spec = yaml.safe_load(EXAMPLE)
    spec["name"] = "ranking-and-video"
    spec["services"] = [s for s in spec["services"] if s["kind"] != "llm"]
    return dict(spec)


def _untimed(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in TIMING_FIELDS}


@pytest.mark.parametrize("objective", [None, "tco"])
def test_the_shipped_example_equals_the_cli(client: TestClient, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch, objective: str | None) -> None:
    monkeypatch.chdir(ROOT)  # the CLI line names examples/fleet-mix.yaml
    body: dict[str, Any] = {"fleet": {"preset": "fleet-mix"}}
    if objective:
        body["objective"] = objective
    first = client.post("/api/fleet-mix", json=body)
    assert first.status_code == 202  # an LLM service: serve-plan searches, a job
    web = finished(client, first)
    line = client.post("/api/fleet-mix/cli", json=body).json()["command"]
    assert line == "infraplan fleet-mix examples/fleet-mix.yaml" + (f" --objective {objective}" if objective
                                                                       else "") + " --json"
    serve_plan_search.cache_clear()  # the CLI searches again, not from the web's cache in this process
    assert _untimed(web) == _untimed(cli_json(line, capsys))
    assert web["objective"] == (objective or "power")
    assert any(a["unit"] == "requests/s" for a in web["assignment"])  # the LLM rows came through


def test_uploaded_yaml_and_json_specs_equal_the_cli_on_the_file(
        client: TestClient, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = _no_llm()
    text = yaml.safe_dump(spec)
    from_text = client.post("/api/fleet-mix", json={"fleet": {"text": text, "filename": "mine.yaml"}})
    from_json = client.post("/api/fleet-mix", json={"fleet": {"spec": spec}})
    assert from_text.status_code == from_json.status_code == 200  # no LLM service: inline
    (tmp_path / "mine.yaml").write_text(text, encoding="utf-8")
    cli = cli_json(f"infraplan fleet-mix {tmp_path / 'mine.yaml'} --json", capsys)
    assert _untimed(from_text.json()) == _untimed(from_json.json()) == _untimed(cli)
    assert cli["fleet"] == "ranking-and-video" and cli["gpu_only"] is not None
    line = client.post("/api/fleet-mix/cli", json={"fleet": {"text": text, "filename": "mine.yaml"}}).json()
    assert line["command"] == "infraplan fleet-mix mine.yaml --json"
    unnamed = client.post("/api/fleet-mix/cli", json={"fleet": {"spec": spec}, "objective": "power"}).json()
    assert unnamed["command"] == "infraplan fleet-mix ranking-and-video.yaml --objective power --json"


def test_a_bad_upload_gets_the_cli_line(client: TestClient, capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    spec = _no_llm()
    spec["pools"][0]["colour"] = "red"  # unknown keys are refused, as the CLI refuses them
    text = yaml.safe_dump(spec)
    web = client.post("/api/fleet-mix", json={"fleet": {"text": text, "filename": "bad.yaml"}})
    assert web.status_code == 400
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert cli_main(["fleet-mix", str(tmp_path / "bad.yaml"), "--json"]) == 2
    assert capsys.readouterr().err.strip() == f"infraplan: error: {web.json()['detail']}"
    assert "pools.0.colour" in web.json()["detail"]


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    spec = _no_llm()
    part: Any = spec
    for key in path[:-1]:
        part = part[key]
    part[path[-1]] = value
    return spec


@pytest.mark.parametrize(("body", "status", "line"), [
    ({"fleet": {"preset": "nope"}}, 400, "unknown fleet-mix preset 'nope'; known: fleet-mix"),
    ({"fleet": {"preset": "plan-minimal"}}, 400, "unknown fleet-mix preset"),  # a scenario, not a fleet
    ({"fleet": {"preset": "fleet-mix.yaml"}}, 422, "the web API reads no files"),
    ({"fleet": {"preset": "fleet-mix", "text": "name: x"}}, 422, "give exactly one of preset, spec or text"),
    ({"fleet": {"preset": "fleet-mix"}, "objective": "speed"}, 422, "invalid objective"),
    ({"fleet": {"preset": "fleet-mix"}, "colour": "red"}, 422, "invalid colour"),
    ({"fleet": {"text": "name: [unclosed"}}, 400, "malformed file"),
    ({"fleet": {"text": "x: " + "9" * 5000}}, 400, "malformed file"),
    ({"fleet": {"text": "- a list"}}, 400, "must be a mapping"),
    ({"fleet": {"text": "b0: &b0 [1]\n" + "\n".join(f"b{i}: &b{i} [*b{i - 1}, *b{i - 1}]" for i in range(1, 40))}},
     400, "aliases expand to over 1,000,000 values"),  # an alias bomb (2^39 leaves): refused before it is built (hH70)
    ({"fleet": {"text": "x" * 60_001}}, 422, "invalid fleet.text"),
    ({"fleet": {"text": "name: x", "filename": "/etc/passwd"}}, 422, "invalid fleet.filename"),
    ({"fleet": {"spec": [1, 2]}}, 422, "invalid fleet.spec"),
    ({"fleet": "fleet-mix"}, 422, "invalid fleet"),
    ({"fleet": {"spec": _with(("services", 0, "qps"), 1e308)}}, 400, "retrieval"),
    ({"fleet": {"spec": _with(("services", 0, "qps"), -1)}}, 400, "services.0.qps"),
    ({"fleet": {"spec": _with(("pue",), 0.5)}}, 400, "pue"),
    ({"fleet": {"spec": _with(("pools", 2, "price_usd_per_device"), None)}, "objective": "tco"}, 400, "objective tco"),
    ({"fleet": {"spec": _with(("pools", 0, "available"), 0)}, "objective": "power"}, 200, ""),
])
def test_hostile_fleets_are_one_line_4xx(client: TestClient, body: dict[str, Any], status: int, line: str) -> None:
    response = client.post("/api/fleet-mix", json=body)
    assert response.status_code == status, response.text
    if status != 200:
        detail = response.json()["detail"]
        assert line in detail and "\n" not in detail, detail


@pytest.mark.parametrize(("where", "value"), [
    (("services", 0, "model"), "/etc/passwd"),
    (("services", 0, "model"), "../../catalog/recsys/dlrm-low.yaml"),
    (("services", 3, "input"), "clip.json"),
    (("pools", 1, "device"), "/tmp/h100.yaml"),
])
def test_an_upload_names_no_server_file(client: TestClient, where: tuple[Any, ...], value: str) -> None:
    response = client.post("/api/fleet-mix", json={"fleet": {"spec": _with(where, value)}})
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert f"{value!r} must be a preset name: the web reads no files" in detail


def test_an_uploaded_scenario_names_no_server_file(client: TestClient) -> None:
    """The same rule for `plan`/`compare` uploads: `model: /etc/passwd` was read ("recsys model file /etc/passwd
    must hold a mapping, not a str"), a location path likewise."""
    spec = yaml.safe_load((ROOT / "examples" / "plan-minimal.yaml").read_text(encoding="utf-8"))
    spec["services"][0]["model"] = "/etc/passwd"
    response = client.post("/api/plan", json={"scenario": {"spec": spec}})
    assert response.status_code == 400
    assert response.json()["detail"] == ("plan-minimal.yaml: services.ranking.model '/etc/passwd' must be a preset "
                                         "name: the web reads no files (GET /api/catalog lists the presets)")
    spec["services"][0]["model"] = "dlrm-low"
    spec["sites"][0]["location"] = "../ohio.yaml"
    assert "sites.ohio.location" in client.post("/api/plan", json={"scenario": {"spec": spec}}).json()["detail"]


def test_work_per_request_is_bounded(client: TestClient) -> None:
    spec = _no_llm()
    spec["services"] = [{**spec["services"][0], "name": f"s{i}"} for i in range(17)]
    response = client.post("/api/fleet-mix", json={"fleet": {"spec": spec}})  # 17 x 4 = 68 pairs
    assert response.status_code == 400
    assert f"at most {WEB_MAX_FLEET_PAIRS} service x pool pairs" in response.json()["detail"]
    llm = next(s for s in yaml.safe_load(EXAMPLE)["services"] if s["kind"] == "llm")
    spec = _no_llm()
    spec["services"] = [{**llm, "name": f"chat{i}"} for i in range(5)]  # 5 x 2 LLM pools x 6 = 60 searches
    response = client.post("/api/fleet-mix", json={"fleet": {"spec": spec}})
    assert response.status_code == 400
    assert f"at most {WEB_MAX_FLEET_LLM_SEARCHES} serve-plan capacity searches" in response.json()["detail"]
    assert "may run 60" in response.json()["detail"]


def test_presets_and_page(client: TestClient) -> None:
    presets = {p["name"]: p for p in client.get("/api/fleet-mix/presets").json()}
    assert set(presets) == {"fleet-mix"}  # the scenarios are `plan`'s presets, not fleets
    assert presets["fleet-mix"] == {"name": "fleet-mix", "fleet": "example-ranking-video-and-llm",
                                    "objective": "power", "services": 5, "llm_services": 1, "pools": 4}
    html = client.get("/fleet-mix")
    assert html.status_code == 200 and 'id="run-fleet"' in html.text and "cdn" not in html.text.lower()
    assert 'href="/fleet-mix"' in client.get("/").text
    assert "/api/fleet-mix" in client.get("/openapi.json").json()["paths"]


def test_fleet_mix_page_shows_the_api_totals(live_server: str, browser: Any) -> None:
    """In Chromium: pick the example, run (a job), read the mix's peak IT power from the page: it is the API's."""
    import httpx

    errors: list[str] = []
    page = open_page(browser, live_server + "/fleet-mix",
                     "document.querySelector('select[name=preset]').options.length > 1", errors)
    page.select_option("select[name=preset]", "fleet-mix")
    page.click("#run-fleet")
    cell = page.wait_for_selector("#t-power_w", timeout=60_000)
    job = httpx.post(live_server + "/api/fleet-mix", json={"fleet": {"preset": "fleet-mix"}}, timeout=60).json()
    assert job["status"] == "done"  # the page's run cached it: born done
    api = job["result"]
    assert float(cell.get_attribute("data-value") or "nan") == api["totals"]["power_w"]
    assert abs(float(cell.inner_text()) * 1e3 / api["totals"]["power_w"] - 1) < 5e-4  # kW, 4 digits
    assert float(page.get_attribute("#g-power_w", "data-value") or "nan") == api["gpu_only"]["totals"]["power_w"]
    assert page.locator("#fleet-out .rows tr").count() == 1 + len(api["assignment"])
    assert page.inner_text("#fleet-out .cli") == "infraplan fleet-mix examples/fleet-mix.yaml --json"
    assert page.get_attribute("#fleet-out a.download", "download") == "infraplan-fleet-mix.json"
    assert page.locator("#fleet-out .power .main-svg").count() >= 1
    # the mix's band (its IT power), as `fleet-mix` prints it (hD58: the page showed none)
    band = api["error_band"]
    low, high = (float(x) for x in (page.get_attribute("#error-band", "data-value") or "").split(","))
    assert (low, high) == (band["low"], band["high"])
    assert api["error_band_basis"] in page.inner_text("#error-band")
    assert errors == []
    page.close()
