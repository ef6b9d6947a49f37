"""`serve --acceptance R` without `--speculative-tokens` names what is missing, not a range R is in (hF, session 57).

Before, `--acceptance 0.85` with no drafts said "--acceptance 0.85 must be in [0, 1] and needs --speculative-tokens
>= 1": 0.85 is in [0, 1]. Checked failing before: the first test's `not in` assert fails on the base tree.
"""

from __future__ import annotations

import pytest

from infraplan.cli.main import main

ARGS = ["serve", "deepseek-r1", "--system", "gb200-nvl72", "--gpus", "8", "--attention-dp", "8", "--ep", "8",
        "--dtype", "nvfp4", "--offline", "--input-len", "100", "--output-len", "10", "--requests", "8"]


def _error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_a_rate_in_range_without_drafts_names_the_missing_option(capsys: pytest.CaptureFixture[str]) -> None:
    err = _error([*ARGS, "--acceptance", "0.85"], capsys)
    assert "needs --speculative-tokens >= 1" in err and "must be in [0, 1]" not in err


def test_a_rate_out_of_range_is_still_refused_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    err = _error([*ARGS, "--acceptance", "1.5", "--speculative-tokens", "1"], capsys)
    assert "1.5" in err and "must be less than or equal to 1" in err  # the CLI's own bound, before the model's
