"""`campus --phases` dates a phase as `plan` does (hE59): a year, a half, a quarter, a month or a fractional year.

Before, campus read whole years only ("2026H2:0.3" -> "cannot read '2026H2:0.3'; expected YEAR:FRACTION"), while a
plan's phase takes 2026H2 (planning/plan_dates.py, hV55): the same build-out could be asked of `plan` but not of
`campus`. A whole year stays an int in the JSON, as a plan's phase `year`.
"""

from __future__ import annotations

import json
import re

import pytest

from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.planning.campus import parse_phases


def test_phase_dates_read_as_plan_reads_them() -> None:
    assert parse_phases("2026H2:0.3,2027Q3:0.3,2028-03:0.4") == [(2026.5, 0.3), (2027.5, 0.3),
                                                                 (pytest.approx(2028 + 2 / 12), 0.4)]
    whole = parse_phases("2026:0.3,2027:0.7")
    assert whole == [(2026, 0.3), (2027, 0.7)] and all(isinstance(y, int) for y, _ in whole)


@pytest.mark.parametrize(("text", "needle"), [
    ("2026H2:0.3,2026-07:0.3", "distinct and increasing, got 2026-07, 2026-07"),
    ("2026H3:0.3", "cannot read date '2026H3'"),
    ("1999:0.3", "outside the years 2000-2200"),
    ("2026H2:0", "fraction for 2026H2 must be in (0, 1]"),
    ("2026-0.3", "YEAR:FRACTION"),
])
def test_bad_phase_dates_are_one_line(text: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        parse_phases(text)


def test_campus_prints_and_dumps_the_dates(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["campus", "--power", "100MW", "--accelerator", "gb200", "--phases", "2026H2:0.5,2027-04:0.5"]
    assert main(args) == 0
    text = " ".join(capsys.readouterr().out.split())
    # the dates lead each phase's line (hB66: the first half is 49.9 MW of whole NVL72 racks, 50 MW before)
    assert re.search(r"2026-07: \+(49\.9|50) MW peak", text) and re.search(r"2027-04: \+(49\.9|50) MW peak", text)
    assert main([*args, "--json"]) == 0
    assert [ph["year"] for ph in json.loads(capsys.readouterr().out)["phases"]] == [2026.5, pytest.approx(2027.25)]
