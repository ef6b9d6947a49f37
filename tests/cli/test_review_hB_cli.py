"""A serving engineer's review (helper hB, validation/notes/product_review_tried.md), through the CLI: a trace with a
token count beyond the sequence limit and serve-plan with fixed lengths beyond the context each print one line and
exit 2 with nothing on stdout (both ran with exit 0 before: the first with negative throughput and energy)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import CliRun


def _one_line_refusal(result: tuple[int, str, str], message: str) -> None:
    code, out, err = result
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err


def test_serve_refuses_a_trace_token_count_beyond_the_limit(cli: CliRun, tmp_path: Path) -> None:
    trace = tmp_path / "huge.csv"
    trace.write_text("arrival_s,input_tokens,output_tokens\n0,10,10000000000000000000000\n")
    _one_line_refusal(cli(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--trace",
                           str(trace), "--json"]),
                      "line 2: output_tokens must be a whole number from 1 to 10,000,000")


def test_serve_plan_refuses_fixed_lengths_beyond_the_context(cli: CliRun) -> None:
    _one_line_refusal(cli(["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "1",
                           "--input-len", "100000", "--output-len", "10", "--ttft-slo", "1", "--tpot-slo", "0.1"]),
                      "a request of 100010 tokens exceeds llama3-8b's context of 8192")
