"""The web reads a latency SLO as the CLI does (hF46): a bare number above its ceiling (`units.BARE_SLO_CEILING_S`)
is a 422 offering the ms reading, the figure with its unit is taken, and the command line the web gives for it runs
on the CLI (it writes the unit where a bare number would be refused)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402
from tests.web.conftest import web_and_cli  # noqa: E402

SERVE: dict[str, Any] = {"model": "llama3-8b", "system": "h100-sxm", "gpus": 1, "rate": 1, "input_len": 100,
                         "output_len": 10, "requests": 20}


@pytest.mark.parametrize(("field", "value"), [("tpot_slo", 50), ("tpot_slo", "50"), ("ttft_slo", 2000)])
def test_a_bare_millisecond_figure_is_a_422_naming_the_slip(client: TestClient, field: str, value: object) -> None:
    response = client.post("/api/serve", json={**SERVE, field: value})
    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"invalid {field}: {value} is {value} s ")
    assert f"did you mean {value}ms?" in response.json()["detail"]


def test_a_long_slo_with_its_unit_runs_and_its_cli_line_runs_too(client: TestClient,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    body = {**SERVE, "ttft_slo": "45s", "tpot_slo": "2s"}
    line = client.post("/api/serve/cli", json=body).json()["command"]
    assert "--ttft-slo 45.0s --tpot-slo 2.0s" in line
    web, cli = web_and_cli(client, "serve", body, capsys)
    assert web["slo"] == cli["slo"] == {"ttft_s": 45.0, "tpot_s": 2.0}
