"""The web's serve-plan takes serve-plan's --kv-dtype, --speculative-tokens / --acceptance and --try-speculative
(hK46, session 45): the same answer as the CLI's line for the same request, and the same one-line refusals."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_and_cli

BODY = {"model": "llama3-8b", "system": "dgx-h100-superpod", "rate": 5, "input_len": 200, "output_len": 50,
        "ttft_slo": 2, "tpot_slo": 0.2, "dtypes": ["bf16"], "max_gpus": 8}


@pytest.mark.parametrize("extra", [{"kv_dtype": "fp8"}, {"speculative_tokens": 1, "acceptance": 0.8}])
def test_web_serve_plan_is_the_clis_answer(client: TestClient, capsys: pytest.CaptureFixture[str],
                                           extra: dict[str, object]) -> None:
    web, cli = web_and_cli(client, "serve-plan", {**BODY, **extra}, capsys)
    assert web == cli and web["feasible"]
    d = web["deployment"]
    assert d["kv_dtype"] == extra.get("kv_dtype", "bf16")  # bf16 weights: bf16 KV unless asked
    assert d["speculative_tokens"] == extra.get("speculative_tokens", 0)


def test_web_try_speculative_on_a_model_without_mtp_is_refused(client: TestClient) -> None:
    response = client.post("/api/serve-plan", json={**BODY, "try_speculative": True})
    if response.status_code == 202:  # a job: its refusal is the job's error
        body = response.json()
        for _ in range(600):
            body = client.get(body["poll"]).json()
            if body["status"] not in ("queued", "running"):
                break
        assert body["status"] == "failed" and "has none" in str(body)
    else:
        assert response.status_code in (400, 422) and "has none" in response.text
