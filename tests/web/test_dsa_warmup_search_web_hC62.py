"""The web's search in DSA's dense warm-up stage (hC62): `dsa_stage` warmup gives the API's answer; a model without
the lightning indexer is the CLI's one line."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from tests.web.conftest import web_answer

from infraplan.training.search import search_plans

BODY = {"system": "h800", "gpus": [128], "seq_len": 4096, "global_batch": 16, "dtype": "fp8", "stack": "deepseek-v3",
        "top": 3, "dsa_stage": "warmup"}


def test_web_search_gives_the_api_answer(client: TestClient) -> None:
    data = web_answer(client, "search", {**BODY, "model": "deepseek-v3.2"})
    best = search_plans("deepseek-v3.2", "h800", 128, 4096, 16, dtype="fp8", stack="deepseek-v3", top=3,
                        dsa_stage="warmup").best
    assert best is not None
    assert data["dsa_stage"] == "warmup" and data["best"]["step_time_s"] == best.step_time_s
    assert data["best"]["train_command"] == best.train_command


def test_web_search_refuses_a_model_without_the_indexer(client: TestClient) -> None:
    web = client.post("/api/search", json={**BODY, "model": "deepseek-v3"})
    if web.status_code == 202:  # a job: its failure is the line
        job = web.json()
        deadline = time.monotonic() + 120
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.1)
            job = client.get(job["poll"]).json()
        assert job["status"] == "failed"
        detail = job["error"]
    else:
        assert web.status_code == 400, web.text
        detail = web.json().get("detail") or web.json().get("error")
    assert "has no lightning indexer" in detail and "\n" not in detail
