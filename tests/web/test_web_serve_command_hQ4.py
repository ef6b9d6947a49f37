"""/api/serve-plan carries the `infraplan serve` line that reruns its chosen deployment (`serve_command`, hQ4)."""

from __future__ import annotations

import time
from typing import Any


def test_the_web_serve_plan_carries_the_same_line(client) -> None:
    body: dict[str, Any] = {"model": "llama3-8b", "system": "dgx-h100-superpod", "rate": 1, "requests": 50,
                            "max_gpus": 2, "input_len": 100, "output_len": 50, "ttft_slo": 2, "tpot_slo": 0.2}
    response = client.post("/api/serve-plan", json=body)
    assert response.status_code in (200, 202), response.text
    result = response.json()
    deadline = time.monotonic() + 120
    while response.status_code == 202 and result["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
        result = client.get(result["poll"]).json()
    plan = result["result"] if response.status_code == 202 else result
    assert plan["serve_command"].startswith("infraplan serve llama3-8b --system dgx-h100-superpod --gpus ")
