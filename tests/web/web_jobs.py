"""Helpers shared by the web tests that compare an answer with the CLI's: a POST's result, inline or from its job,
and the JSON of an `infraplan ... --json` line run in process."""

from __future__ import annotations

import json
import shlex
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infraplan.cli.main import main as cli_main


def finished(client: TestClient, response: Any, poll_s: float = 0.05) -> dict[str, Any]:
    """The result of a POST's response: inline (200), or its job's once done (202)."""
    assert response.status_code in (200, 202), response.text
    if response.status_code == 200:
        return dict(response.json())
    job = response.json()
    deadline = time.monotonic() + 120
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, "job did not finish in 120 s"
        time.sleep(poll_s)
        job = client.get(job["poll"]).json()
    assert job["status"] == "done", job["error"]
    return dict(job["result"])


def cli_json(line: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The JSON `infraplan ... --json` prints (the line as the web's "copy as CLI" gives it), run in process."""
    words = shlex.split(line)
    assert words[0] == "infraplan" and words[-1] == "--json"
    capsys.readouterr()
    assert cli_main(words[1:]) == 0
    return dict(json.loads(capsys.readouterr().out))
