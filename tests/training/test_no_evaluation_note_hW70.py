"""A run shorter than one --eval-every interval says it pays no evaluation (hW, session 70).

`train ... --tokens 1T --eval-every "2T tokens" --eval-samples 10` priced 0 evaluations (MLPerf's rule: one at the
end of every whole interval) without a word, where the user asked for evaluations; it now notes it. A run with
evaluations (12 steps apart: 158,945 of them) carries no such note.
"""

from __future__ import annotations

import json

import pytest

from infraplan.cli.main import main
from infraplan.training.evaluation import no_evaluation_note

TRAIN = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "8192",
         "--global-batch", "64", "--tokens", "1T", "--eval-samples", "10", "--json"]


def _run(capsys: pytest.CaptureFixture[str], every: str) -> dict:
    capsys.readouterr()
    assert main([*TRAIN, "--eval-every", every]) == 0
    return json.loads(capsys.readouterr().out)


def test_an_interval_beyond_the_run_is_said(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, "2T tokens")
    assert out["evaluations"] == 0
    assert ("--eval-every is 3,814,698 steps of 524,288 tokens, longer than the run's 1,907,349 steps: no evaluation "
            "runs (one at the end of every whole interval)") in out["notes"]
    out = _run(capsys, "12 steps")
    assert out["evaluations"] == 158_945 and not [n for n in out["notes"] if "no evaluation runs" in n]


def test_the_note_is_given_exactly_below_one_interval() -> None:
    assert no_evaluation_note(99.0, 10, 10) is not None and no_evaluation_note(100.0, 10, 10) is None
    assert "1 step of 10 tokens" in (no_evaluation_note(5.0, 10, 1) or "")
