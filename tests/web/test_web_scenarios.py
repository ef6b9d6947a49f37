"""Scenario endpoints: presets by name and uploaded specs give what `infraplan plan/compare ... --json` print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from web_jobs import cli_json, finished

from infraplan.cli.main import main as cli_main
from infraplan.web.scenarios import WEB_MAX_SCENARIO_WORK, examples_dir

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = (ROOT / "examples" / "plan-minimal.yaml").read_text(encoding="utf-8")


def _variant() -> dict[str, Any]:
    """plan-minimal with 40x the ranking demand at another site: a second small scenario, uploaded."""
    spec = yaml.safe_load(MINIMAL)
    spec["name"] = "minimal-texas"
    spec["services"][0]["qps"] = "400M"
    spec["sites"][0]["location"] = "texas"
    return spec


def _result(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The result of a command, polling its job when it answers 202."""
    return finished(client, client.post(path, json=body))


def _drop_clock(data: dict[str, Any]) -> dict[str, Any]:
    for plan in data.get("scenarios", [data]):
        plan.pop("wall_time_s")
    return data


def test_compare_of_two_presets_equals_the_cli(client: TestClient, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the CLI line names examples/*.yaml
    body = {"scenarios": [{"preset": "plan-minimal"}, {"preset": "mtia-vs-gpu"}]}
    first = client.post("/api/compare", json=body)
    assert first.status_code == 202  # bigger than plan-minimal: a job
    web = finished(client, first)  # polled, not posted again: a second job would compute the same compare twice
    line = client.post("/api/compare/cli", json=body).json()["command"]
    assert line == "infraplan compare examples/plan-minimal.yaml examples/mtia-vs-gpu.yaml --json"
    assert _drop_clock(web) == _drop_clock(cli_json(line, capsys))
    assert [p["scenario"] for p in web["scenarios"]] == ["plan-minimal", "mtia-vs-gpu"]
    assert web["deltas"][0]["tco_usd_per_year"] == 0.0 and web["deltas"][1]["tco_usd_per_year"] > 0


def test_plan_of_a_small_preset_is_inline_and_equals_the_cli(client: TestClient, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    body = {"scenario": {"preset": "plan-minimal"}}
    response = client.post("/api/plan", json=body)
    assert response.status_code == 200
    line = client.post("/api/plan/cli", json=body).json()["command"]
    assert line == "infraplan plan examples/plan-minimal.yaml --json"
    assert _drop_clock(response.json()) == _drop_clock(cli_json(line, capsys))


def test_uploaded_yaml_and_json_specs_plan_as_the_cli_plans_the_file(
        client: TestClient, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = _variant()
    text = yaml.safe_dump(spec)
    from_text = _result(client, "/api/plan", {"scenario": {"text": text, "filename": "texas.yaml"}})
    from_json = _result(client, "/api/plan", {"scenario": {"spec": spec}})
    (tmp_path / "texas.yaml").write_text(text, encoding="utf-8")
    cli = cli_json(f"infraplan plan {tmp_path / 'texas.yaml'} --json", capsys)
    assert _drop_clock(from_text) == _drop_clock(from_json) == _drop_clock(cli)
    assert from_text["scenario"] == "minimal-texas"
    line = client.post("/api/plan/cli", json={"scenario": {"text": text, "filename": "texas.yaml"}}).json()
    assert line["command"] == "infraplan plan texas.yaml --json"
    # and a preset next to the upload: the deltas are the upload's minus the preset's
    both = _result(client, "/api/compare", {"scenarios": [{"preset": "plan-minimal"}, {"spec": spec}]})
    base, other = both["scenarios"]
    assert both["deltas"][1]["capex_usd"] == pytest.approx(other["capex_usd"] - base["capex_usd"])
    assert other["devices"] > base["devices"]  # 40x the queries


def test_a_bad_upload_gets_the_cli_line(client: TestClient, capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    spec = _variant()
    del spec["services"][0]["qps"]
    text = yaml.safe_dump(spec)
    web = client.post("/api/plan", json={"scenario": {"text": text, "filename": "bad.yaml"}})
    assert web.status_code == 400
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert cli_main(["plan", str(tmp_path / "bad.yaml"), "--json"]) == 2
    assert capsys.readouterr().err.strip() == f"infraplan: error: {web.json()['detail']}"
    assert "a recsys service needs qps" in web.json()["detail"]


@pytest.mark.parametrize(("scenario", "status", "line"), [
    ({"preset": "nope"}, 400, "unknown scenario preset 'nope'; known: "),
    ({"preset": "../examples/plan-minimal"}, 422, "invalid scenario.preset"),
    ({"preset": "plan-minimal.yaml"}, 422, "the web API reads no files"),
    ({"preset": "plan-minimal", "text": "name: x"}, 422, "give exactly one of preset, spec or text"),
    ({"text": "name: [unclosed"}, 400, "malformed file"),
    ({"text": "- a list"}, 400, "must be a mapping"),
    ({"text": "name: x", "filename": "/etc/passwd"}, 422, "invalid scenario.filename"),
    ({"spec": {"name": "x", "colour": "red"}}, 400, "invalid scenario 'x.yaml'"),
])
def test_bad_scenarios_are_one_line_4xx(client: TestClient, scenario: dict[str, Any], status: int,
                                        line: str) -> None:
    response = client.post("/api/plan", json={"scenario": scenario})
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert line in detail and "\n" not in detail


def test_work_per_request_is_bounded(client: TestClient) -> None:
    spec = _variant()
    spec["services"] = [{**spec["services"][0], "name": f"s{i}"} for i in range(16)]
    spec["pools"] = [{**spec["pools"][0], "name": f"p{i}"} for i in range(41)]
    response = client.post("/api/plan", json={"scenario": {"spec": spec}})
    assert response.status_code == 400
    assert f"at most {WEB_MAX_SCENARIO_WORK} sizing units" in response.json()["detail"]
    too_many = {"scenarios": [{"preset": "plan-minimal"}] * 5}
    assert client.post("/api/compare", json=too_many).status_code == 422
    assert client.post("/api/plan", json={"scenario": {"preset": "plan-minimal"}, "vary": ["pue=1.1..1.3"] * 5}
                       ).status_code == 422


def test_scenario_presets_are_listed_with_their_sources(client: TestClient) -> None:
    assert examples_dir() is not None
    presets = {p["name"]: p for p in client.get("/api/scenarios").json()}
    assert {"plan-minimal", "mtia-vs-gpu", "meta-2024", "gigawatt-2027"} <= set(presets)
    assert "fleet-mix" not in presets  # an example of another command
    assert presets["plan-minimal"]["work_units"] == 1
    assert presets["mtia-vs-gpu"]["sources"] and presets["mtia-vs-gpu"]["pools"] == 3


def test_compare_page_is_served(client: TestClient) -> None:
    html = client.get("/compare")
    assert html.status_code == 200 and 'id="run-compare"' in html.text and "cdn" not in html.text.lower()
