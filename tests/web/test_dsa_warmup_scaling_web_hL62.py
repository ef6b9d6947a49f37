"""The web's search over several GPU counts in DSA's dense warm-up stage (hL62): the scaling curve states the stage,
as the CLI's `search --gpus A,B --dsa-stage warmup --json` and one search's answer do; the page's chart names it."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.web.conftest import web_answer

import infraplan.web

BODY = {"model": "deepseek-v3.2", "system": "h800", "gpus": [128, 256], "seq_len": 4096, "global_batch": 16,
        "dtype": "fp8", "stack": "deepseek-v3", "top": 1}


def test_web_scaling_curve_states_its_stage(client: TestClient) -> None:
    warm = web_answer(client, "search", {**BODY, "dsa_stage": "warmup"})
    assert "scaling" in warm and warm["dsa_stage"] == "warmup"
    assert [p["best"]["config"]["recompute"] for p in warm["scaling"] if p["best"]] == ["none"]
    assert web_answer(client, "search", BODY)["dsa_stage"] == "sparse"
    page = (Path(infraplan.web.__file__).parent / "static" / "train.html").read_text()
    assert 'r.dsa_stage === "warmup" ? ", DSA dense warm-up"' in page
