"""hS (session 75): the web's reliability takes the job's plan as a train body's fields (the web's train request
reads them), the CLI's `reliability --plan 'TRAIN FLAGS'` as train's parser reads them: one answer, train --tokens's
goodput with repairs (tests/planning/test_spare_fields_plan_and_run_rank_hS75.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_and_cli

NVL72 = "gb200-nvl72-superpod"
PLAN = {"tp": 4, "pp": 2, "seq_len": 8192, "global_batch": 576, "dtype": "fp8", "sequence_parallel": False,
        "sharp": False}


def test_web_reliability_with_a_plan_is_the_clis_and_trains(client: TestClient,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    body = {"system": NVL72, "gpus": 576, "days": 10, "model": "llama3-70b"}
    line = client.post("/api/reliability/cli", json={**body, "plan": PLAN}).json()["command"]
    assert "--plan '--tp 4 --pp 2 --seq-len 8192 --global-batch 576 --dtype fp8 --no-sequence-parallel'" in line
    web, cli = web_and_cli(client, "reliability", {**body, "plan": PLAN}, capsys)
    train = {"model": "llama3-70b", "system": NVL72, "gpus": 576, **PLAN, "tokens": "2T"}
    run, _ = web_and_cli(client, "train", train, capsys)
    assert web == cli and web["shrink_unit_gpus"] == 8
    assert web["goodput_with_repairs"] == run["goodput_with_repairs"] < 0.90  # the smaller plans priced
    plain, _ = web_and_cli(client, "reliability", {**body, "shrink_unit": 8}, capsys)
    assert plain["goodput_with_repairs"] > 0.91  # no plan: each replica at full speed


@pytest.mark.parametrize(("plan", "words"), [
    ({**PLAN, "tokens": "2T"}, "not tokens"),
    ({**PLAN, "gpus": 8}, "not gpus"),
    ({"tp": 4}, "plan.seq_len: Field required"),
    ({**PLAN, "tpp": 4}, "plan.tpp: Extra inputs are not permitted"),
])
def test_a_bad_web_plan_is_one_line(client: TestClient, plan: dict, words: str) -> None:
    response = client.post("/api/reliability", json={"system": NVL72, "gpus": 576, "model": "llama3-70b",
                                                      "plan": plan})
    assert response.status_code in (400, 422), response.text
    assert words in response.text
