"""The web's search with `tokens` (hL60): the best plan's whole run, the CLI's `search --tokens` answer (one function:
`planning.search_run.search_with_run`), and `/api/search/cli` spells the same command line."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_answer

from infraplan.cli.main import main as cli_main

BODY = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": [64], "seq_len": 8192, "global_batch": 512,
        "top": 2, "tokens": "200B", "location": "oregon", "server_price": 300000, "eval_every": "50M tokens",
        "eval_samples": "2 steps"}
TIMING = {"wall_time_s", "configs_per_s"}  # the search's own wall clock


def test_web_search_tokens_is_the_cli_answer(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    web = web_answer(client, "search", BODY)
    assert web["best_run"]["evaluations"] > 0 and web["best_run"]["location"] == "oregon"
    line = client.post("/api/search/cli", json=BODY).json()["command"]
    assert "--tokens 200B" in line and "--eval-every" in line
    capsys.readouterr()
    assert cli_main([*shlex.split(line)[1:], "--json"]) == 0, line
    cli = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in web.items() if k not in TIMING} == {k: v for k, v in cli.items() if k not in TIMING}
    # the line that prices the run again, the CLI's (hR61): the best plan's train_command and the run's options
    assert web["best_run_command"] == cli["best_run_command"] == (
        f"{cli['best']['train_command']} --tokens 200B --location oregon --server-price 300000.0 "
        "--eval-every '50M tokens' --eval-samples '2 steps'")


@pytest.mark.parametrize(("change", "words"), [({"gpus": [64, 128]}, "one GPU count"),
                                               ({"tokens": None}, "need --tokens")])
def test_web_search_refuses_a_run_it_cannot_price(client: TestClient, change: dict[str, Any], words: str) -> None:
    response = client.post("/api/search", json={**BODY, **change, "eval_every": None, "eval_samples": None})
    assert response.status_code == 400 and words in response.text
