"""The web API offers the CLI's options for `train` and `serve` (review of 2026-12-02): before, a web user could not
ask for NVFP4/MXFP8 training, `--recompute auto`, `--etp`, `--recompute-layers`, a serving `--stack`, wide EP
(`--attention-dp`), MTP speculation or a disaggregated pool's own layout, all of which the README advertises."""

from __future__ import annotations

import json
import shlex
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infraplan.cli.main import main as cli_main
from infraplan.cli.options import Recompute, ServeDtype, TrainDtype
from infraplan.web.requests import ServeRequest, TrainRequest


def _same_as_cli(client: TestClient, command: str, body: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> Any:
    response = client.post(f"/api/{command}", json=body)
    assert response.status_code in (200, 202), response.text
    result = response.json()
    if response.status_code == 202:  # a job: poll it
        deadline = time.monotonic() + 120
        while result["status"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
            result = client.get(result["poll"]).json()
        assert result["status"] == "done", result
        result = result["result"]
    line = client.post(f"/api/{command}/cli", json=body).json()["command"]
    capsys.readouterr()
    assert cli_main(shlex.split(line)[1:]) == 0, line
    assert json.loads(capsys.readouterr().out) == result
    return result


def test_web_choices_are_the_cli_choices() -> None:
    def choices(model: Any, field: str) -> set[str]:
        return set(model.model_fields[field].annotation.__args__)

    assert choices(TrainRequest, "dtype") == set(TrainDtype.__args__)
    assert choices(TrainRequest, "recompute") == set(Recompute.__args__)
    assert choices(ServeRequest, "dtype") == set(ServeDtype.__args__)


def test_web_train_with_nvfp4_auto_recompute_and_etp_equals_the_cli(client: TestClient,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    body = {"model": "qwen3-30b-a3b", "system": "gb200-nvl72", "gpus": 8, "tp": 2, "ep": 4, "etp": 1,
            "seq_len": 4096, "global_batch": 64, "dtype": "nvfp4", "recompute": "auto"}
    data = _same_as_cli(client, "train", body, capsys)
    assert data["config"]["dtype"] == "nvfp4" and data["config"]["etp"] == 1


def test_web_train_with_block_recompute_equals_the_cli(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    body = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "tp": 8, "seq_len": 4096,
            "global_batch": 16, "recompute": "full", "recompute_layers": 4}
    assert _same_as_cli(client, "train", body, capsys)["config"]["recompute_layers"] == 4


def test_web_serve_with_stack_wide_ep_and_mtp_equals_the_cli(client: TestClient,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    body = {"model": "deepseek-v3", "system": "hgx-h200", "gpus": 8, "tp": "1", "attention_dp": 8, "ep": 8,
            "dtype": "fp8", "stack": "sglang-0.x", "speculative_tokens": 1, "acceptance": 0.85, "offline": True,
            "input_len": 1000, "output_len": 200, "requests": 200}
    data = _same_as_cli(client, "serve", body, capsys)
    assert data["stack"] == "sglang-0.x" and data["deployment"]["attention_dp"] == 8


@pytest.mark.parametrize("gpus", [True, [True]])
def test_a_json_boolean_is_not_a_count(client: TestClient, gpus: Any) -> None:
    """pydantic's lax mode read `"gpus": true` as one GPU (a 400 about TP later, or a search of 1 GPU)."""
    body = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": gpus, "seq_len": 4096, "global_batch": 16}
    response = client.post("/api/search" if isinstance(gpus, list) else "/api/train", json=body)
    assert response.status_code == 422 and "true/false is not a number" in response.json()["detail"]


def test_web_train_run_totals_with_a_server_price_equal_the_cli(client: TestClient,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    body = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "tp": 8, "seq_len": 4096,
            "global_batch": 16, "tokens": "1T", "location": "ohio", "server_price": 30000}
    assert _same_as_cli(client, "train", body, capsys)["cost_usd"] > 0


def test_web_serve_plan_with_a_stack_equals_the_cli(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    body = {"model": "llama3-8b", "system": "dgx-h100-superpod", "rate": 5, "workload": "chat", "stack": "vllm-0.x",
            "dtypes": ["fp8"], "requests": 300}
    assert _same_as_cli(client, "serve-plan", body, capsys)["stack"].startswith("vllm")


def test_every_cli_option_has_a_web_field_but_the_file_ones() -> None:
    """A new CLI option without its web field (as NVFP4, --etp or --stack were) fails here, not in a user's hands."""
    import inspect

    from infraplan.cli.commands import (
        campus,
        collective,
        facility,
        network,
        recsys,
        reliability,
        search,
        serve,
        serve_plan,
        train,
        video,
    )
    from infraplan.web.requests import REQUESTS

    commands = {"train": train.train, "serve": serve.serve, "serve-plan": serve_plan.serve_plan,
                "search": search.search, "facility": facility.facility, "campus": campus.campus,
                "reliability": reliability.reliability, "collective": collective.collective,
                "network": network.network, "recsys": recsys.recsys, "video": video.video}
    files = {"costs", "trace", "plot", "graphml"}  # the web reads no paths (web/requests.py)
    renamed = {"no_disaggregation": "disaggregation", "restart": "restart_s", "input_video": "input",
               "system_option": "system",  # `network SYSTEM` or `network --system SYSTEM` (hU47)
               "peak": "peak_to_average"}
    for command, function in commands.items():
        cli = {renamed.get(p, p) for p in inspect.signature(function).parameters} - {"as_json"} - files
        assert cli == set(REQUESTS[command].model_fields), command
