"""`reliability --repair-time` spellings (hH63): each unit the duration reader takes, and the upper bound's line
names its unit, seconds ("1e9d: must be less than or equal to 1000000000" read as a bound of 1e9 days)."""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json

from infraplan.cli import main

ARGS = ["reliability", "--system", "gb200-nvl72", "--gpus", "64"]


@pytest.mark.parametrize(("text", "seconds"), [("3d", 259_200.0), ("72h", 259_200.0), ("3 days", 259_200.0),
                                               ("4320min", 259_200.0), ("1w", 604_800.0), ("3_600", 3_600.0)])
def test_each_spelling_is_the_same_seconds(text: str, seconds: float, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_json(capsys, [*ARGS, "--repair-time", text, "--json"])["repair_time_s"] == seconds


@pytest.mark.parametrize("text", ["1e9d", "1e6w"])
def test_the_upper_bound_names_its_unit(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*ARGS, "--repair-time", text])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "(seconds: at most 1e9 s)" in err, err
