"""`serve` counts what it was asked to count (hS68's walk).

* `--requests N` with a trace of fewer rows: the run holds the trace's rows (a trace is read to its first N rows
  and adds none), which the answer now says; before, `--requests 10` on a 3-row trace ran 3 requests without a word.
* The title reads "closed loop of 1 client" and "1 draft token", not "1 clients" / "1 draft tokens".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan import simulate_serving
from infraplan.cli.main import main

TRACE = "arrival_s,input_tokens,output_tokens\n0,100,20\n0.5,200,30\n1.0,300,40\n"


def _trace(tmp_path: Path) -> str:
    path = tmp_path / "trace.csv"
    path.write_text(TRACE)
    return str(path)


def _trace_words(warnings: list[str]) -> list[str]:
    return [w for w in warnings if "the trace holds" in w]


def test_requests_past_a_trace_are_said(tmp_path: Path) -> None:
    trace = _trace(tmp_path)
    r = simulate_serving("llama3-8b", "h100-sxm", 1, trace=trace, requests=10)
    assert r.requests == 3
    said = _trace_words(r.warnings)
    assert len(said) == 1 and said[0].startswith("--requests 10: the trace holds 3 requests")


@pytest.mark.parametrize(("asked", "rows"), [(None, 3), (3, 3), (2, 2)])
def test_a_trace_read_as_asked_says_nothing(tmp_path: Path, asked: int | None, rows: int) -> None:
    r = simulate_serving("llama3-8b", "h100-sxm", 1, trace=_trace(tmp_path), requests=asked)
    assert r.requests == rows
    assert _trace_words(r.warnings) == []


def test_one_client_and_one_draft_token_in_the_title(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "1", "--input-len", "100", "--output-len", "10",
            "--requests", "10", "--acceptance", "0.8"]
    assert main([*args, "--concurrency", "1", "--speculative-tokens", "1"]) == 0
    title = " ".join(capsys.readouterr().out.split("┌")[0].split())
    assert "closed loop of 1 client," in title and "1 clients" not in title
    assert "1 draft token (" in title and "draft tokens" not in title
    assert main([*args, "--concurrency", "2", "--speculative-tokens", "2"]) == 0
    title = " ".join(capsys.readouterr().out.split("┌")[0].split())
    assert "closed loop of 2 clients," in title and "2 draft tokens (" in title
