"""hR2 (session 74): the web's search takes `no_spare_policy` as `search --no-spare-policy` does (the training page
sends it with the run's options, `RUN_FIELDS`), one answer both ways, and refuses it without tokens."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_and_cli

NVL72 = "gb200-nvl72-superpod"
BODY = {"model": "llama3-70b", "system": NVL72, "gpus": [576], "seq_len": 8192, "global_batch": 576, "dtype": "fp8",
        "tokens": "2T"}


def test_web_search_takes_the_policy(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    shrink, _ = web_and_cli(client, "search", BODY, capsys)
    wait, cli = web_and_cli(client, "search", {**BODY, "no_spare_policy": "wait"}, capsys)
    assert wait["best_run"] == cli["best_run"] and wait["best_run_command"] == cli["best_run_command"]
    assert wait["best_run"]["no_spare_policy"] == "wait"
    assert "--no-spare-policy wait" in wait["best_run_command"]
    assert shrink["best_run"]["no_spare_policy"] == "shrink" and "--no-spare-policy" not in shrink["best_run_command"]
    assert wait["best_run"]["time_to_train_s"] > 1.3 * shrink["best_run"]["time_to_train_s"]


def test_web_search_refuses_the_policy_without_tokens(client: TestClient) -> None:
    body = {k: v for k, v in BODY.items() if k != "tokens"}
    response = client.post("/api/search", json={**body, "no_spare_policy": "wait"})
    assert response.status_code in (400, 422), response.text
    assert "--no-spare-policy prices a whole run's wall clock: it needs --tokens" in response.text
