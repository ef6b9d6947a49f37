"""The web's campus `phases` reads every date form `campus --phases` reads (hN59): plan_dates' "2026-Q3" / "2026/H2"
(a separator before the quarter or half) was refused by the request's pattern, 422, while the CLI planned it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from infraplan.planning.campus import parse_phases


@pytest.mark.parametrize("phases", ["2026-Q3:0.5", "2026/H2:0.3,2027 Q1:0.2"])
def test_a_separated_quarter_or_half_plans_as_on_the_cli(client: TestClient, phases: str) -> None:
    r = client.post("/api/campus", json={"power": "10MW", "accelerator": "h100-sxm", "phases": phases})
    assert r.status_code == 200, r.text
    assert [p["year"] for p in r.json()["phases"]] == [year for year, _ in parse_phases(phases)]


def test_a_bad_quarter_is_one_line(client: TestClient) -> None:
    r = client.post("/api/campus", json={"power": "10MW", "accelerator": "h100-sxm", "phases": "2026-Q5:0.5"})
    assert r.status_code == 400 and "\n" not in r.json()["detail"]
    assert "cannot read date '2026-Q5'" in r.json()["detail"]


@pytest.mark.parametrize("phases", ["2026:1e-1,2027:0.5", " 2026 : 0.3 , 2027H2:.2", "2026:5E-1"])
def test_spaces_and_an_exponent_plan_as_on_the_cli(client: TestClient, phases: str) -> None:
    """The CLI strips each part and reads the fraction with float(); the web's pattern refused both (422; lead, s59)."""
    r = client.post("/api/campus", json={"power": "10MW", "accelerator": "h100-sxm", "phases": phases})
    assert r.status_code == 200, r.text
    assert [(p["year"], p["fraction"]) for p in r.json()["phases"]] == parse_phases(phases)


@pytest.mark.parametrize("phases", ["2026:-0.1", "2026:1e1"])
def test_a_fraction_out_of_range_is_the_cli_line(client: TestClient, phases: str) -> None:
    r = client.post("/api/campus", json={"power": "10MW", "accelerator": "h100-sxm", "phases": phases})
    assert r.status_code in (400, 422) and "\n" not in str(r.json()["detail"])
