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


def test_web_drafts_without_an_acceptance_rate_are_refused_as_the_cli_refuses_them(
        client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    """Review hG3: `speculative_tokens` without `acceptance` was priced at an acceptance of 0 (every step pays the
    drafts and keeps one token), silently; the CLI and the web now give the same one line."""
    body = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 1, "rate": 1, "input_len": 100,
            "output_len": 10, "requests": 20, "speculative_tokens": 2}
    response = client.post("/api/serve", json=body)
    assert response.status_code == 400
    assert "needs --acceptance" in response.json()["detail"]
    capsys.readouterr()
    line = client.post("/api/serve/cli", json=body).json()["command"]
    assert cli_main(shlex.split(line)[1:]) == 2
    assert capsys.readouterr().err.strip() == f"infraplan: error: {response.json()['detail']}"
    ok = client.post("/api/serve", json={**body, "acceptance": 0.0})
    assert ok.status_code == 200 and ok.json()["deployment"]["tokens_per_step"] == 1.0


def test_web_attention_dp_with_an_explicit_ep_1_is_refused_as_the_cli_refuses_it(
        client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    """Review hG6: `{"attention_dp": 8, "ep": 1}` was served as EP 8 on the web (its `ep` defaulted to 1) while the
    CLI refuses it; the refusal now lives in `estimate_serving`, so both give one line, and leaving `ep` out is
    attention DP x TP on both."""
    body = {"model": "deepseek-r1", "system": "dgx-b200", "gpus": 8, "attention_dp": 8, "ep": 1, "dtype": "fp8",
            "offline": True, "input_len": 100, "output_len": 10, "requests": 16}
    response = client.post("/api/serve", json=body)
    assert response.status_code == 400
    assert "--attention-dp 8 with --ep 1" in response.json()["detail"]
    capsys.readouterr()
    line = client.post("/api/serve/cli", json=body).json()["command"]
    assert cli_main(shlex.split(line)[1:]) == 2
    assert capsys.readouterr().err.strip() == f"infraplan: error: {response.json()['detail']}"
    body.pop("ep")
    assert client.post("/api/serve", json=body).status_code == 200
