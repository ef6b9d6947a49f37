"""A small-message all-reduce's error band is one answer two ways: `collective --json` and the HTTP API (hL61: below
64 KiB the band where NCCL's LL line prices the latency, `network.collective_band`)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_and_cli


@pytest.mark.parametrize(("system", "gpus", "banded"), [("dgx-h100-superpod", 8, True), ("dgx-a100-superpod", 8, False),
                                                        ("gb200-nvl72", 72, False)])
def test_the_web_and_the_cli_give_the_same_small_band(client: TestClient, capsys: pytest.CaptureFixture[str],
                                                      system: str, gpus: int, banded: bool) -> None:
    body = {"op": "all-reduce", "system": system, "gpus": gpus, "size": "16KiB"}
    web, cli = web_and_cli(client, "collective", body, capsys)
    assert web["error_band"] == cli["error_band"] and web["error_band_basis"] == cli["error_band_basis"]
    assert (web["error_band"] is not None) is banded
    assert ("below their first row" if banded else "below 64 KiB") in web["error_band_basis"]
