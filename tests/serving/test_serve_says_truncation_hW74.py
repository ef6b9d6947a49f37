"""`serve` says the requests it truncated to the model's context (hW74).

A workload whose prompts pass the model's context (a preset's long tail, or a user's workload file) is truncated as
`workloads.clip_to_context` does, but `serve` said so only in --json's `requests_clipped_to_context`: no table line,
no web note. `serve gpt3-175b ... --workload summarization` (2,048 tokens) answered for prompts of 1,728 tokens on
average where the workload draws 4,673, 1,822 of its 2,000 requests cut, in silence. Now the answer's `warnings`
carry one line with the count and the means served and drawn (CLI, web and API alike); fixed lengths clip nothing.
Each test failed at 3f55f383 (no such line)."""

from __future__ import annotations

import json

import pytest

from infraplan.catalog.serving_loader import load_workload
from infraplan.cli.main import main
from infraplan.serving.serve_inputs import build_requests
from infraplan.serving.serve_results import ServingResult
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.workloads import clip_to_context

ARGS = ["serve", "gpt3-175b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--dtype", "fp8",
        "--rate", "1", "--workload", "summarization", "--requests", "300", "--seed", "3"]


def _truncation_lines(r: ServingResult) -> list[str]:
    return [w for w in r.warnings if "truncated to" in w]


def test_serve_says_how_many_requests_it_truncated_and_the_lengths_served() -> None:
    r = estimate_serving("gpt3-175b", "dgx-h100-superpod", 8, tp=8, dtype="fp8", rate=1.0, workload="summarization",
                         requests=300, seed=3)
    assert isinstance(r, ServingResult)
    drawn = build_requests(load_workload("summarization"), None, None, None, 300, 1.0, 3)
    served, clipped = clip_to_context(drawn, 2048)
    assert r.requests_clipped_to_context == clipped > 150  # most of summarization's prompts pass 2,048 tokens
    (line,) = _truncation_lines(r)
    assert line.startswith(f"{clipped:,} of 300 requests were truncated to gpt3-175b's context of 2,048 tokens")
    assert f"mean prompt {served.input_tokens.mean():,.0f} " in line
    assert f"drew {drawn.input_tokens.mean():,.0f} and" in line
    assert r.mean_input_tokens == pytest.approx(float(served.input_tokens.mean()))


def test_the_table_and_json_carry_the_line_and_fixed_lengths_none(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGS, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    said = [w for w in data["warnings"] if "truncated to gpt3-175b's context" in w]
    assert len(said) == 1 and said[0].startswith(f"{data['requests_clipped_to_context']:,} of 300 requests")
    assert main(ARGS) == 0
    assert "were truncated to gpt3-175b's context of 2,048" in " ".join(capsys.readouterr().out.split())
    fixed = estimate_serving("gpt3-175b", "dgx-h100-superpod", 8, tp=8, dtype="fp8", rate=1.0, input_len=1500,
                             output_len=200, requests=100)
    assert isinstance(fixed, ServingResult)
    assert fixed.requests_clipped_to_context == 0 and not _truncation_lines(fixed)
    chat = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, tp=1, rate=1.0, workload="chat", requests=100)
    assert isinstance(chat, ServingResult)  # chat's longest draws (6,000 + 2,000) fit 8,192: nothing said
    assert chat.requests_clipped_to_context == 0 and not _truncation_lines(chat)
