"""The web's reliability request takes the CLI's --checkpoint-interval (hU58): the same answer both ways."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_and_cli


def test_web_reliability_at_a_given_interval_equals_the_cli(client: TestClient,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    body = {"system": "h100-sxm", "gpus": 100000, "days": 30, "checkpoint_interval_s": "30min"}
    web, cli = web_and_cli(client, "reliability", body, capsys)
    assert web == cli
    assert web["checkpoint_interval_s"] == 1800.0 and web["checkpoint_interval_basis"] == "given"
    assert web["goodput"] < web["goodput_at_daly_interval"]


def test_web_reliability_refuses_a_zero_interval(client: TestClient) -> None:
    response = client.post("/api/reliability", json={"system": "h100-sxm", "gpus": 8, "checkpoint_interval_s": 0})
    assert response.status_code == 422
