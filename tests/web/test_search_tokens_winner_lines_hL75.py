"""The web's `search` with tokens says its search's lines of the plan the runs chose, as the CLI does (hL75:
`search_with_run(again=...)` from `web.runners`): llama3-8b on 576 GB200 at 1,152 sequences picks the search's #5."""

from __future__ import annotations

import json
import shlex

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_answer

from infraplan.cli.main import main as cli_main

BODY = {"model": "llama3-8b", "system": "gb200-nvl72-superpod", "gpus": [576], "seq_len": 8192,
        "global_batch": 1152, "top": 5, "tokens": "2T"}
TIMING = {"wall_time_s", "configs_per_s"}


def test_web_search_tokens_dtype_line_is_the_winners(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    web = web_answer(client, "search", BODY)
    best = web["best"]
    assert any(n.startswith("--tokens: the best plan is the search's #5") for n in web["notes"])
    assert f"against {best['mfu'] * 100:.1f} % of the {best['config']['dtype']} peak" in web["dtype_choice"]["summary"]
    line = client.post("/api/search/cli", json=BODY).json()["command"]
    capsys.readouterr()
    assert cli_main([*shlex.split(line)[1:], "--json"]) == 0, line
    cli = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in web.items() if k not in TIMING} == {k: v for k, v in cli.items() if k not in TIMING}
