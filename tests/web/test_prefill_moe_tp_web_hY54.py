"""The web's `prefill_moe_tp` is `serve --prefill-moe-tp` (hY54; tests/serving/test_prefill_moe_tp_hY54.py): the
same answer, and the same one-line refusal as a 400. Before: the field was refused (422, an unknown field)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.test_web_cli_parity import _same_as_cli


def test_web_prefill_moe_tp_equals_the_cli(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    body = {"model": "deepseek-v3", "system": "hgx-h200", "gpus": 16, "attention_dp": 8, "dtype": "fp8",
            "prefill_gpus": 8, "prefill_attention_dp": 8, "prefill_moe_tp": 4, "input_len": 2000, "output_len": 100,
            "rate": 2, "requests": 40}
    data = _same_as_cli(client, "serve", body, capsys)
    assert (data["deployment"]["prefill"]["moe_tp"], data["deployment"]["prefill"]["ep"]) == (4, 2)
    bad = client.post("/api/serve", json={**body, "prefill_moe_tp": 3})
    assert bad.status_code == 400 and "--prefill-moe-tp 3" in bad.json()["detail"]
