"""hS2-77: serve-plan takes --token-budget as serve does, from the CLI, the Python API and the web (its request and
the serving page's form): every deployment searched runs it, the answer says serve's budget note, and its
`serve_command` gives it, so `serve` of the line reruns the same figures. Until then only `search_capacity(
token_budget=)` took it (hS77 left the CLI, web request and form)."""

from __future__ import annotations

import shlex
import time

import pytest
from fastapi.testclient import TestClient
from tests.cli.conftest import cli_json, serve_of_its_command

from infraplan.cli import main

# hT76's / hS77's case: TensorRT-LLM at the cap 2,048 with 3 drafts, a given max_num_tokens of 1,000: 250 sequences
PLAN = ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "5", "--input-len", "256",
        "--output-len", "64", "--ttft-slo", "2", "--tpot-slo", "0.05", "--dtypes", "fp8", "--max-batch", "2048",
        "--speculative-tokens", "3", "--acceptance", "0.7", "--requests", "200", "--no-disaggregation",
        "--stack", "trtllm-0.x"]
BODY = {"model": "llama3-8b", "system": "dgx-h100-superpod", "rate": 5, "input_len": 256, "output_len": 64,
        "ttft_slo": 2, "tpot_slo": 0.05, "dtypes": ["fp8"], "max_batch": [2048], "speculative_tokens": 3,
        "acceptance": 0.7, "requests": 200, "disaggregation": False, "stack": "trtllm-0.x", "token_budget": 1000}


def _budget_notes(lines: list[str]) -> list[str]:
    return [n for n in lines if n.startswith(("--max-batch ", "--token-budget "))]


def test_the_cli_runs_says_and_reruns_a_given_budget(capsys: pytest.CaptureFixture[str]) -> None:
    plan = cli_json(capsys, [*PLAN, "--token-budget", "1000"])
    assert plan["feasible"] and plan["deployment"]["max_batch"] == 1000 // 4  # 3 drafts: 4 tokens a sequence
    assert plan["deployment"]["token_budget"] == 1000
    (note,) = _budget_notes(plan["notes"])
    assert note.startswith("--token-budget 1,000 holds 250 of --max-batch 2,048 generating sequences")
    line = shlex.split(plan["serve_command"])
    assert line[line.index("--token-budget") + 1] == "1000" and line[line.index("--max-batch") + 1] == "2048"
    served = serve_of_its_command(capsys, plan)  # same deployment, figures, bands and note
    assert _budget_notes(served["warnings"]) == [note]
    default = cli_json(capsys, PLAN)  # without it: the stack's 8,192 // 4 = 2,048, the cap run whole
    assert default["deployment"]["max_batch"] == 2048 and "--token-budget" not in default["serve_command"]


def test_a_budget_below_the_batch_vllm_runs_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    at = PLAN.index("--max-batch")
    code = main([*PLAN[:at], "--max-batch", "256", "--requests", "200", "--no-disaggregation", "--stack", "vllm-0.x",
                 "--token-budget", "100", "--json"])
    err = capsys.readouterr().err
    assert code == 2 and "--token-budget 100 must be >= --max-batch 256" in err and "Traceback" not in err


def test_the_web_asks_the_same_question(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    response = client.post("/api/serve-plan", json=BODY)
    assert response.status_code in (200, 202), response.text
    result = response.json()
    deadline = time.monotonic() + 300
    while response.status_code == 202 and result["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
        result = client.get(result["poll"]).json()
    answer = result["result"] if response.status_code == 202 else result
    plan = cli_json(capsys, [*PLAN, "--token-budget", "1000"])
    assert answer["deployment"] == plan["deployment"] and answer["serve_command"] == plan["serve_command"]
    assert _budget_notes(answer["notes"]) == _budget_notes(plan["notes"])
    page = client.get("/serve").text  # the form's token budget goes to serve-plan too (PLAN_FIELDS)
    fields = page.split("const PLAN_FIELDS = [", 1)[1].split("]", 1)[0]
    assert '"token_budget"' in fields
