"""A disaggregated run's first token could leave after its last one (found by hI73 while chasing a `capacity_candidate`
mutant; fixed by the lead: the first token is capped at the request's finish).

`disaggregated.decode_first_token_s` puts the decode worker's first token `decode_pickup_iterations` (SGLang / vLLM
1.5, TensorRT-LLM 2.5; less BOUNDARY_WAIT_ITERATIONS 0.5 after its admission) of the request's own mean decode
iteration after its KV arrives or it is admitted, while the decode engine's finish is after its `steps` = output - 1
iterations. Where steps < the pick-up (TensorRT-LLM: output 2, 1 step against 2), the first token is placed after
the last: `serve --prefill-gpus 4 --output-len 2 --stack trtllm-0.x` reports TPOT p50 -4.6 ms and an end-to-end
latency below its TTFT (p50 0.103 s against 0.108 s at 200 requests/s). A token cannot reach the client after the
request's last one.
"""

from __future__ import annotations

import json

import pytest

from infraplan.cli.main import main


def test_no_request_ends_before_its_first_token(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "6", "--tp", "2", "--prefill-gpus",
                 "4", "--input-len", "512", "--output-len", "2", "--rate", "50", "--requests", "300", "--seed", "0",
                 "--stack", "trtllm-0.x", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["tpot_s"]["p50"] >= 0.0 and got["tpot_s"]["mean"] >= 0.0
    assert got["e2e_s"]["p50"] >= got["ttft_s"]["p50"]
