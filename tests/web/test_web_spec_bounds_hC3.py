"""The web refuses at once (400, no job) what the CLI refuses when it loads a fleet-mix or scenario file, with the
CLI's line: an LLM service naming an unknown model, workload, stack or dtype (before: 202, then the job failed), a
host power beyond its limit (before: a 300-digit number), a lifetime outside 0.5-50 years, a boolean for a number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.planning.test_spec_bounds_hC3 import FLEET, LLM, SCENARIO, spec_with

from infraplan.cli.main import main as cli_main


def _same_line_as_the_cli(client: TestClient, capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str,
                          spec: dict[str, Any]) -> str:
    """POST the spec as an uploaded file; it must be a 400 at once whose detail is the CLI's line on that file."""
    text = yaml.safe_dump(spec)
    key = "fleet" if command == "fleet-mix" else "scenario"
    web = client.post(f"/api/{command}" if command == "fleet-mix" else "/api/plan",
                      json={key: {"text": text, "filename": "bad.yaml"}})
    assert web.status_code == 400, (web.status_code, web.text)  # not 202 and a job that fails later
    detail = str(web.json()["detail"])
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert cli_main([command, str(tmp_path / "bad.yaml")]) == 2
    assert capsys.readouterr().err.strip() == f"infraplan: error: {detail}"
    assert "\n" not in detail
    return detail


@pytest.mark.parametrize(("field", "value", "line"), [
    ("model", "llama3-70bx", "unknown model 'llama3-70bx'; did you mean llama3-70b"),
    ("workload", "chatx", "unknown workload 'chatx'"),
    ("stack", "nosuch", "unknown serving stack 'nosuch'"),
    ("dtypes", ["bf17"], "unknown dtype 'bf17'"),
])
def test_a_fleet_llm_service_naming_nothing_is_400_at_once(
        client: TestClient, capsys: pytest.CaptureFixture[str], tmp_path: Path, field: str, value: Any,
        line: str) -> None:
    spec = spec_with(FLEET, ("services", 4, field), value)
    detail = _same_line_as_the_cli(client, capsys, tmp_path, "fleet-mix", spec)
    assert detail.startswith("invalid fleet spec 'bad.yaml': services.4: ") and line in detail, detail


@pytest.mark.parametrize(("field", "value", "line"), [
    ("model", "llama3-70bx", "unknown model 'llama3-70bx'"),
    ("workload", "chatx", "unknown workload 'chatx'"),
    ("stack", "nosuch", "unknown serving stack 'nosuch'"),
])
def test_a_scenario_llm_service_naming_nothing_is_400_at_once(
        client: TestClient, capsys: pytest.CaptureFixture[str], tmp_path: Path, field: str, value: Any,
        line: str) -> None:
    spec = spec_with(SCENARIO, ("services",), [*SCENARIO["services"], {**LLM, field: value}])
    detail = _same_line_as_the_cli(client, capsys, tmp_path, "plan", spec)
    assert detail.startswith("invalid scenario 'bad.yaml': services.1: ") and line in detail, detail


@pytest.mark.parametrize(("command", "path", "value", "line"), [
    ("fleet-mix", ("pools", 0, "host_power_w"), "1e300W", "pools.0.host_power_w: 1e+300 W is above the 1 MW limit"),
    ("plan", ("pools", 0, "host_power_w"), 1e300, "pools.0.host_power_w: 1e+300 W is above the 1 MW limit"),
    ("plan", ("sites", 0, "power"), "1e300W", "sites.0.power: 1e+300 W is above the 1 TW limit"),
    ("fleet-mix", ("pools", 0, "lifetime_years"), 1e-300,
     "pools.0.lifetime_years: 1e-300 years is outside the 0.5-50 years"),
    ("plan", ("pools", 0, "lifetime_years"), 60, "pools.0.lifetime_years: 60 years is outside the 0.5-50 years"),
    ("fleet-mix", ("services", 0, "qps"), True, "services.0.qps: a boolean (true/false) is not a number"),
    ("plan", ("services", 0, "qps"), True, "services.0.qps: a boolean (true/false) is not a number"),
    ("plan", ("pools", 0, "available"), False, "pools.0.available: a boolean (true/false) is not a number"),
])
def test_out_of_range_and_boolean_numbers_are_the_cli_line(
        client: TestClient, capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str,
        path: tuple[Any, ...], value: Any, line: str) -> None:
    spec = spec_with(FLEET if command == "fleet-mix" else SCENARIO, path, value)
    detail = _same_line_as_the_cli(client, capsys, tmp_path, command, spec)
    assert line in detail, detail


def test_a_boolean_in_a_json_body_is_refused(client: TestClient) -> None:
    """A JSON object spec (no YAML) takes the same rule: `"qps": true` was planned as 1 query/s (200)."""
    spec = spec_with(FLEET, ("services",), FLEET["services"][:4])  # no LLM service: would be answered inline
    response = client.post("/api/fleet-mix", json={"fleet": {"spec": spec_with(spec, ("services", 0, "qps"), True)}})
    assert response.status_code == 400, response.text
    assert "services.0.qps: a boolean (true/false) is not a number" in response.json()["detail"]
