"""The web takes a latency SLO as the CLI does (helper hQ3, session 37): seconds, or a duration with its unit
("2s", "50ms"); a copied `--ttft-slo 2s` was a 422 "must be a valid number" on /api/serve and /api/serve-plan."""

from __future__ import annotations

from typing import Any

SERVE: dict[str, Any] = {"model": "llama3-8b", "system": "h100-sxm", "gpus": 1, "dtype": "fp8", "concurrency": 2,
                         "input_len": 256, "output_len": 16, "requests": 8}


def test_a_duration_with_its_unit_is_the_same_question_as_seconds(client) -> None:
    numbers = client.post("/api/serve", json={**SERVE, "ttft_slo": 2, "tpot_slo": 0.05})
    units = client.post("/api/serve", json={**SERVE, "ttft_slo": "2s", "tpot_slo": "50ms"})
    assert numbers.status_code == units.status_code == 200
    assert units.json() == numbers.json() and units.json()["slo"]["tpot_s"] == 0.05
    plan = {"model": "llama3-8b", "system": "h100-sxm", "rate": 20, "ttft_slo": "2s", "tpot_slo": "100ms"}
    line = client.post("/api/serve-plan/cli", json=plan).json()["command"]
    assert "--ttft-slo 2.0 --tpot-slo 0.1" in line


def test_an_unreadable_duration_is_one_line(client) -> None:
    response = client.post("/api/serve", json={**SERVE, "ttft_slo": "soon"})
    assert response.status_code == 422
    assert response.json() == {"detail": "invalid ttft_slo: cannot read duration 'soon'; expected e.g. 50ms, 2s, 12h "
                                         "or 60d"}
