"""hW58 (session 48): the web API's video answer carries the CLI's notes, line for line: they are built with the
answer (video/notes.py), not by the CLI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.cli.conftest import cli_json


@pytest.mark.parametrize("ask", [
    {"device": "msvp", "input": "1080p30", "ladder": 4, "codec": "vp9", "daily_hours": 250000},
    {"device": "msvp", "input": "4320p240"},
    {"device": "xeon-8480", "input": "1080p30", "baseline": "msvp"},
])
def test_web_and_cli_give_the_same_video_notes(client: TestClient, capsys: pytest.CaptureFixture[str],
                                               ask: dict[str, object]) -> None:
    response = client.post("/api/video", json=ask)
    assert response.status_code == 200, response.text
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in ask.items()]
    cli = cli_json(capsys, ["video", *flags])
    web = response.json()["notes"]
    assert web == cli["notes"] and any("ASSUMPTION" in n for n in web)
    if ask["input"] == "4320p240":
        assert any(n.startswith("outside msvp's published modes") for n in web)
