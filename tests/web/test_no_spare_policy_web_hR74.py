"""hR (session 74): the web's train and reliability take --no-spare-policy (and --shrink-unit) as the CLI does, one
answer both ways and equal to `training_run_totals` (tests/facility/test_no_spare_policy_hR74.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_and_cli

from infraplan.facility.reliability import reliability_report
from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training

NVL72 = "gb200-nvl72-superpod"


def test_web_train_and_reliability_take_the_policy(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    estimate = estimate_training("llama3-70b", NVL72, 576, tp=4, pp=2, seq_len=8192, global_batch=576, dtype="fp8")
    run = training_run_totals(estimate, NVL72, 2e12, no_spare_policy="wait")
    body = {"model": "llama3-70b", "system": NVL72, "gpus": 576, "tp": 4, "pp": 2, "seq_len": 8192,
            "global_batch": 576, "dtype": "fp8", "tokens": "2T", "no_spare_policy": "wait"}
    web, cli = web_and_cli(client, "train", body, capsys)
    assert web == cli and web["no_spare_policy"] == "wait"
    assert web["time_to_train_s"] == pytest.approx(run.time_to_train_s, rel=1e-12)
    assert web["time_to_train_s"] > 1.8 * web["compute_time_s"] / web["goodput"]  # the wait counted
    body = {"system": NVL72, "gpus": 576, "days": 10, "model": "llama3-70b", "no_spare_policy": "wait",
            "shrink_unit": 8}
    web, cli = web_and_cli(client, "reliability", body, capsys)
    report = reliability_report(NVL72, 576, days=10, model="llama3-70b", no_spare_policy="wait", shrink_unit_gpus=8)
    assert web == cli and web["goodput_with_repairs"] == pytest.approx(report.goodput_with_repairs, rel=1e-12)
    assert web["goodput_with_repairs"] == pytest.approx(run.goodput_with_repairs, rel=1e-12)  # train's, same job


def test_web_refuses_a_policy_without_tokens(client: TestClient) -> None:
    body = {"model": "llama3-8b", "system": "h100-sxm", "gpus": 8, "seq_len": 4096, "global_batch": 8,
            "no_spare_policy": "wait"}
    response = client.post("/api/train", json=body)
    assert response.status_code in (400, 422), response.text
    assert "--no-spare-policy prices a whole run's wall clock: it needs --tokens" in response.text
