"""The web's `search` with tokens says its search's lines of the plan the runs chose, as the CLI does (hL75:
`search_with_run(again=...)` from `web.runners`): llama3-8b on 576 GB200 at 1,152 sequences picks the search's #5."""

from __future__ import annotations

import json
import shlex
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infraplan.cli.main import main as cli_main

BODY = {"model": "llama3-8b", "system": "gb200-nvl72-superpod", "gpus": [576], "seq_len": 8192,
        "global_batch": 1152, "top": 5, "tokens": "2T"}
TIMING = {"wall_time_s", "configs_per_s"}


def _answer(client: TestClient, body: dict[str, Any]) -> Any:
    response = client.post("/api/search", json=body)
    assert response.status_code in (200, 202), response.text
    result = response.json()
    deadline = time.monotonic() + 120
    while response.status_code == 202 and result.get("status") in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
        result = client.get(result["poll"]).json()
    return result["result"] if response.status_code == 202 else result


def test_web_search_tokens_dtype_line_is_the_winners(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    web = _answer(client, BODY)
    best = web["best"]
    assert any(n.startswith("--tokens: the best plan is the search's #5") for n in web["notes"])
    assert f"against {best['mfu'] * 100:.1f} % of the {best['config']['dtype']} peak" in web["dtype_choice"]["summary"]
    line = client.post("/api/search/cli", json=BODY).json()["command"]
    capsys.readouterr()
    assert cli_main([*shlex.split(line)[1:], "--json"]) == 0, line
    cli = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in web.items() if k not in TIMING} == {k: v for k, v in cli.items() if k not in TIMING}
