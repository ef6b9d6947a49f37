"""The web's `train` takes `memory_margin` as `train --memory-margin` does (hC70): the same flag, the same answer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_and_cli


def test_web_train_memory_margin_is_the_clis(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    body = {"model": "llama3-70b", "system": "dgx-h100-superpod", "gpus": 64, "tp": 8, "pp": 4, "seq_len": 8192,
            "global_batch": 128, "memory_margin": 0.9}
    assert "--memory-margin 0.9" in client.post("/api/train/cli", json=body).json()["command"]
    web, cli = web_and_cli(client, "train", body, capsys)
    assert web == cli and web["low_memory_headroom"] is True
    assert web["memory_margin_bytes"] == pytest.approx(0.9 * web["memory_capacity_bytes"], rel=1e-12)
    assert client.post("/api/train", json={**body, "memory_margin": 1.0}).status_code == 422
