"""hR (session 76): the web's reliability with a `plan` takes the job's model and optimizer as the CLI's `--plan`
does (tests/planning/test_plan_model_and_run_notes_hR76.py): a model not given is refused, an optimizer not given
is train's (Kimi K2's recipe's Muon), and one given is written into the CLI line. The web's `model` and `optimizer`
are null where not given (its result cache keys on the body with its defaults, so a default value could not tell a
value given from one left out; the base's `optimizer: adam` default priced Adam for a Kimi K2 plan)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_and_cli, web_answer

NVL72 = "gb200-nvl72-superpod"
KIMI = {"tp": 1, "pp": 8, "ep": 64, "seq_len": 4096, "global_batch": 4096}


def test_web_plan_optimizer_not_given_is_trains_as_the_clis(client: TestClient,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    body = {"system": NVL72, "gpus": 512, "model": "kimi-k2", "plan": KIMI}
    web, cli = web_and_cli(client, "reliability", body, capsys)
    run, _ = web_and_cli(client, "train", {"model": "kimi-k2", "system": NVL72, "gpus": 512, **KIMI,
                                           "tokens": "1T"}, capsys)
    assert web == cli and web["optimizer"] == run["optimizer"] == "muon"
    assert web["goodput_with_repairs"] == run["goodput_with_repairs"] and web["goodput"] == run["goodput"]
    adam, adam_cli = web_and_cli(client, "reliability", {**body, "optimizer": "adam"}, capsys)  # given: taken
    line = client.post("/api/reliability/cli", json={**body, "optimizer": "adam"}).json()["command"]
    assert " --optimizer adam " in line and adam == adam_cli and adam["optimizer"] == "adam"
    assert adam["checkpoint_bytes"] > web["checkpoint_bytes"]


def test_web_plan_without_model_is_refused_and_the_default_given_is_written(client: TestClient) -> None:
    plan = {"tp": 8, "pp": 8, "seq_len": 8192, "global_batch": 576}
    response = client.post("/api/reliability", json={"system": NVL72, "gpus": 576, "plan": plan})
    assert response.status_code in (400, 422) and "give model" in response.text, response.text
    given = {"system": NVL72, "gpus": 576, "model": "llama3-405b", "plan": plan}
    assert " --model llama3-405b " in client.post("/api/reliability/cli", json=given).json()["command"]
    plain = {"system": NVL72, "gpus": 576}  # no plan, no model: the CLI's default, llama3-405b, sized
    assert "--model" not in client.post("/api/reliability/cli", json=plain).json()["command"]
    assert web_answer(client, "reliability", plain)["model"] == "llama3-405b"
