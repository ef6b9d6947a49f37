"""The web answers with the cases and campaigns an error band comes from, as the CLI's --json does (hX, session 59;
catalog/band_cases.py). Before: neither named a case."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_and_cli


def test_the_web_answers_with_the_cli_cases(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    body = {"model": "llama3-70b", "system": "dgx-h100-superpod", "gpus": 64, "tp": 4, "pp": 2, "seq_len": 8192,
            "global_batch": 256}
    web, cli = web_and_cli(client, "train", body, capsys)
    assert web["error_band"]["cases_used"] == cli["error_band"]["cases_used"] != []
    assert web["error_band"]["campaigns_used"] == cli["error_band"]["campaigns_used"] != []
    body = {"model": "llama3.1-8b", "system": "h100-sxm", "gpus": 1, "input_len": 1024, "output_len": 256,
            "concurrency": 16}
    web, cli = web_and_cli(client, "serve", body, capsys)
    assert web["ttft_error_band"]["campaigns_used"] == cli["ttft_error_band"]["campaigns_used"] != []
