"""hW6: `optimality_gap` on the web's plan and fleet-mix requests, the CLI's `--optimality-gap`: the answer (a job:
the bound prices every server count) equals `infraplan plan|fleet-mix FILE --optimality-gap --json`, the "copy as
CLI" line names the flag, and without it nothing changes (the fields stay null, the request inline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from web_jobs import cli_json, finished

ROOT = Path(__file__).resolve().parents[2]


def _ranking_and_video() -> dict[str, Any]:
    """The shipped fleet-mix example without its LLM service (no serve-plan search: seconds)."""
    spec = yaml.safe_load((ROOT / "examples" / "fleet-mix.yaml").read_text(encoding="utf-8"))
    spec["name"] = "ranking-and-video"
    spec["services"] = [s for s in spec["services"] if s["kind"] != "llm"]
    return dict(spec)


def test_fleet_mix_with_the_gap_equals_the_cli(client: TestClient, capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    spec = _ranking_and_video()
    text = yaml.safe_dump(spec)
    plain = client.post("/api/fleet-mix", json={"fleet": {"spec": spec}})
    assert plain.status_code == 200 and "optimality" not in plain.json()["solver"]  # inline, no bound
    body = {"fleet": {"text": text, "filename": "mine.yaml"}, "objective": "tco", "optimality_gap": True}
    first = client.post("/api/fleet-mix", json=body)
    assert first.status_code == 202  # the bound prices every count: a job
    web = finished(client, first)
    line = client.post("/api/fleet-mix/cli", json=body).json()["command"]
    assert line == "infraplan fleet-mix mine.yaml --objective tco --optimality-gap --json"
    (tmp_path / "mine.yaml").write_text(text, encoding="utf-8")
    cli = cli_json(line.replace("mine.yaml", str(tmp_path / "mine.yaml")), capsys)
    assert web == cli
    solver = web["solver"]
    assert solver["optimality"].startswith("optimal") and solver["optimality_solves"] >= 1
    assert 0.0 <= solver["optimality_gap_fraction"] <= 1e-6
    assert solver["objective_lower_bound_usd_per_year"] <= solver["objective_value_usd_per_year"]


def test_plan_with_the_gap_equals_the_cli(client: TestClient, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the CLI line names examples/plan-minimal.yaml
    body = {"scenario": {"preset": "plan-minimal"}, "optimality_gap": True}
    first = client.post("/api/plan", json=body)
    assert first.status_code == 202  # plan-minimal alone is inline (tests/web/test_web_scenarios.py); the bound: a job
    web = finished(client, first)
    line = client.post("/api/plan/cli", json=body).json()["command"]
    assert line == "infraplan plan examples/plan-minimal.yaml --optimality-gap --json"
    cli = cli_json(line, capsys)
    web.pop("wall_time_s")
    cli.pop("wall_time_s")
    assert web == cli
    assert web["optimality"].startswith("optimal") and web["optimality_gap_fraction"] <= 1e-6
    assert web["objective_lower_bound"] <= web["objective_value"]


def test_the_fleet_mix_page_offers_the_gap(client: TestClient) -> None:
    html = client.get("/fleet-mix").text
    assert 'name="optimality_gap" type="checkbox"' in html
    assert "b.optimality_gap = true" in html and '"optimality: " + r.solver.optimality' in html
