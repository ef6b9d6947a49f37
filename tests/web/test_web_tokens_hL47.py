"""hL47 (session 44): the web's `tokens` reads a count as the CLI does (units.parse_count): "1B" is a billion
tokens, as "1G" (before, both refused "1B"; the web with a 400)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.cli.conftest import cli_json

BODY = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "tp": 1, "pp": 1, "seq_len": 8192,
        "global_batch": 64, "micro_batch": 1}


def test_web_tokens_1b_is_1g(client: TestClient) -> None:
    billion, giga = (client.post("/api/train", json={**BODY, "tokens": t}) for t in ("1B", "1G"))
    assert billion.status_code == giga.status_code == 200, billion.text
    assert billion.json()["time_to_train_s"] == giga.json()["time_to_train_s"] > 0


def test_cli_tokens_1b_is_1g(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "1", "--pp", "1",
            "--seq-len", "8192", "--global-batch", "64", "--micro-batch", "1", "--tokens"]
    billion, giga = cli_json(capsys, [*args, "1B"]), cli_json(capsys, [*args, "1G"])
    assert billion["time_to_train_s"] == giga["time_to_train_s"] > 0
