"""Web findings of the 2026-12-02 product review: the web's campus takes the server and electricity prices the
CLI's does (before, neither did, and `campus` named --server-price in its cost_reason)."""

from __future__ import annotations

import json
import shlex

import pytest
from fastapi.testclient import TestClient

from infraplan.cli.main import main as cli_main


def test_web_campus_with_a_server_price_equals_the_cli(client: TestClient,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    body = {"power": "10MW", "accelerator": "mi300x", "server_price": 20000, "electricity_price": 90}
    response = client.post("/api/campus", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["facility"]["cost_reason"] is None
    line = client.post("/api/campus/cli", json=body).json()["command"]
    assert "--server-price" in line and "--electricity-price" in line
    capsys.readouterr()
    assert cli_main(shlex.split(line)[1:]) == 0
    assert json.loads(capsys.readouterr().out) == response.json()
