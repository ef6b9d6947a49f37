"""hP63 mutation wave on hI63's long-digit reading (`cli.options.Bounded`): a negative whole number past 30 digits is
below every lower bound, so it is refused by the lower bound (as `--count -5` is), not the upper one."""

from __future__ import annotations

import pytest

from infraplan.cli import main


@pytest.mark.parametrize("digits", [31, 5000])
def test_a_long_negative_count_is_below_the_lower_bound(capsys: pytest.CaptureFixture[str], digits: int) -> None:
    capsys.readouterr()
    assert main(["facility", "--accelerator", "h100-sxm", "--count", "-5"]) == 2
    short = capsys.readouterr().err
    assert "must be greater than or equal to 1" in short
    assert main(["facility", "--accelerator", "h100-sxm", "--count", "-" + "9" * digits]) == 2
    err = capsys.readouterr().err
    assert "must be greater than or equal to 1" in err and "less than or equal" not in err, err[:300]
    assert len(err.strip().splitlines()) == 1
