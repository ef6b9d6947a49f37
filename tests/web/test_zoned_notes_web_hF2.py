"""The web API's `network` and `serve` carry the zoned-fabric note the CLI prints (hF2, session 39): the same
question asked two ways gets one answer (`planning.training_run.network_with_zone_note`,
`serving_with_fabric_note`, called by both `cli/commands` and `web/runners.py`)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_and_cli


def test_web_network_beyond_one_zone_has_the_clis_note(client: TestClient,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    web, cli = web_and_cli(client, "network", {"system": "h100-sxm", "gpus": 4096}, capsys)
    assert web == cli
    assert len(web["notes"]) == 1 and "208 switches, $22.2 M" in web["notes"][0]  # hB66: optics ($15.0 M before)


def test_web_serve_beyond_one_zone_has_the_clis_note(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    body = {"model": "llama3-70b", "system": "h100-sxm", "gpus": 4096, "tp": "8", "dtype": "fp8",
            "workload": "chat", "rate": 20, "requests": 400}
    web, cli = web_and_cli(client, "serve", body, capsys)
    assert web == cli
    assert [w for w in web["warnings"] if "one non-blocking Clos of 4,096 h100-sxm" in w]
