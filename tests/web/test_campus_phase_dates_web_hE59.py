"""The web's campus takes `--phases` dates as the CLI does (hE59; its pattern took 4-digit years only) and answers
the same phases."""

from __future__ import annotations

import json

import pytest

from infraplan.cli import main


def test_the_web_takes_the_same_dates(client, capsys: pytest.CaptureFixture[str]) -> None:
    body = {"accelerator": "gb200", "power": "100MW", "phases": "2026H2:0.5,2027-04:0.5"}
    web = client.post("/api/campus", json=body)
    assert web.status_code == 200
    assert main(["campus", "--power", "100MW", "--accelerator", "gb200", "--phases", "2026H2:0.5,2027-04:0.5",
                 "--json"]) == 0
    assert web.json()["phases"] == json.loads(capsys.readouterr().out)["phases"]
