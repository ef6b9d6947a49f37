"""`serve` refuses a vLLM partial MoE TP (hC52): vLLM's data-parallel attention runs its MoE layers expert-parallel
over every rank or tensor-parallel over all of them (`serving.deployment.moe_tp_refusal`, recalled, ASSUMPTION), so
`serve-plan` never tried MoE TP 2 x EP 2 on vLLM while `serve --stack vllm-0.x --attention-dp 4 --moe-tp 2` priced it
(exit 0). Now one line naming the two splits vLLM runs, exit 2, from the CLI and the web; TensorRT-LLM keeps it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from infraplan.cli.main import main

BASE = ["serve", "gpt-oss-120b", "--system", "dgx-b200", "--gpus", "4", "--dtype", "mxfp4", "--concurrency", "8",
        "--input-len", "512", "--output-len", "64", "--requests", "16", "--attention-dp", "4", "--json"]
BODY = {"model": "gpt-oss-120b", "system": "dgx-b200", "gpus": 4, "dtype": "mxfp4", "concurrency": 8,
        "input_len": 512, "output_len": 64, "requests": 16, "attention_dp": 4}


def test_cli_refuses_vllm_partial_moe_tp_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--stack", "vllm-0.x", "--moe-tp", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "not MoE TP 2 x EP 2" in err and "give --moe-tp 1 (EP 4) or --moe-tp 4 (EP 1)" in err


@pytest.mark.parametrize("extra", [["--stack", "vllm-0.x", "--moe-tp", "4"], ["--stack", "vllm-0.x"],
                                   ["--stack", "trtllm-0.x", "--moe-tp", "2"]])
def test_what_the_engines_run_is_still_priced(capsys: pytest.CaptureFixture[str], extra: list[str]) -> None:
    assert main([*BASE, *extra]) == 0
    capsys.readouterr()


def test_web_refuses_it_with_the_same_line(client: TestClient) -> None:
    bad = client.post("/api/serve", json={**BODY, "stack": "vllm-0.x", "moe_tp": 2})
    assert bad.status_code == 400 and "give --moe-tp 1 (EP 4) or --moe-tp 4 (EP 1)" in bad.json()["detail"]
    assert client.post("/api/serve", json={**BODY, "stack": "vllm-0.x", "moe_tp": 4}).status_code == 200
