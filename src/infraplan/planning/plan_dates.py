"""Dates in a plan (hV55): a phase, a pool's delivery (`from_year`) and installed base (`installed_year`) and a
site's `online_year` are points in time, read at the edge into one unit inside, a calendar year with its fraction
(a float year: 2025.5 is 1 July 2025), so a planner plans by quarter, half-year or month (deliveries, a site's
energisation) and a fractional `lifetime_years` (5.5) lands on its phase (2025 + 5.5: a 2030.5 phase, not the
first whole year after it).

Forms read (`parse_year`): a year (2025), a fractional year (2025.5, "2025.25"), a month ("2025-07": 2025 + 6/12),
a date ("2025-07-15", or YAML's unquoted date), a quarter ("2025Q3": its first day, 2025.5) or a half ("2025H2":
2025.5). A month counts 1/12 of a year and a day its share of its month (the 15th of July: 2025 + (6 + 14/31) / 12),
so a month, a quarter and a half begin on the same fraction whatever the year's days (a planner's calendar, and
`lifetime_years` counts years of 12 months). A whole year stays an int (2025, not 2025.0): a file of whole years
reads, plans and dumps (--json `year`) as before. Years 2000-2200 (the range `Year` had).

A device's age against its `lifetime_years` is compared with `YEAR_TOLERANCE` (1e-6 year, 32 s): 2025 + 1/12 and
2030 + 7/12 are 5.5 years apart in exact arithmetic, and a float difference can come out 5.4999999999.
"""

from __future__ import annotations

import calendar
import datetime
import math
import re
from typing import Annotated

from pydantic import BeforeValidator

from infraplan.units import year_text as year_text  # one date formatter for plan, campus, charts and the web (hT59)

FIRST_YEAR, LAST_YEAR = 2000, 2200
YEAR_TOLERANCE = 1e-6  # years (about 32 s): module docstring
_FORMS = "a year (2025, 2025.5), a month (2025-07), a date (2025-07-01), a quarter (2025Q3) or a half (2025H2)"


def _whole(value: float) -> int | float:
    """2025.0 as 2025 (a whole year dumps as before hV55); a fraction kept."""
    return int(round(value)) if abs(value - round(value)) < 1e-9 else value


def _of_date(year: int, month: int, day: int) -> float:
    """A date's year and its fraction by months (module docstring); ValueError for a day its month lacks."""
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} is not 1-12")
    days = calendar.monthrange(year, month)[1] if FIRST_YEAR <= year <= LAST_YEAR else 31
    if not 1 <= day <= days:
        raise ValueError(f"day {day} is not in month {month} of {year} ({days} days)")
    return year + (month - 1 + (day - 1) / days) / 12


def parse_year(value: object) -> int | float:
    """A date of the forms above as a float year (an int where whole); ValueError, one line, for anything else."""
    if isinstance(value, bool):
        return value  # type: ignore[return-value]  # Spec refuses a boolean where a number goes, in its own line
    if isinstance(value, datetime.datetime):
        raise ValueError(f"{value.isoformat()} is a time of day: give {_FORMS}")
    if isinstance(value, datetime.date):
        year: float = _of_date(value.year, value.month, value.day)
    elif isinstance(value, int | float):
        year = float(value) if isinstance(value, float) or abs(value) <= 10**6 else math.inf  # hR55: 10**400 overflows
    elif isinstance(value, str):
        year = _parse_text(value.strip())
    else:
        raise ValueError(f"a date is {_FORMS}, not {type(value).__name__}")
    if not math.isfinite(year) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"{value!s:.40} is outside the years {FIRST_YEAR}-{LAST_YEAR} a plan may date")
    return _whole(year)


def _parse_text(text: str) -> float:
    if re.fullmatch(r"\d{4}(\.\d+)?", text):
        return float(text)
    if m := re.fullmatch(r"(\d{4})[-/ ]?[Qq]([1-4])", text):
        return int(m[1]) + (int(m[2]) - 1) / 4
    if m := re.fullmatch(r"(\d{4})[-/ ]?[Hh]([12])", text):
        return int(m[1]) + (int(m[2]) - 1) / 2
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", text):
        try:
            return _of_date(int(m[1]), int(m[2]), int(m[3] or 1))
        except ValueError as exc:
            raise ValueError(f"cannot read date {text!r}: {exc}") from None
    raise ValueError(f"cannot read date {text[:40]!r}: give {_FORMS}")


Year = Annotated[int | float, BeforeValidator(parse_year)]
"""A plan's date, read by `parse_year`: a float year inside (an int where whole)."""


def name_text(value: object) -> object:
    """A phase's name as text where YAML read it as a number or a date (`name: 2025`, a growth key `2026:` or
    `2025-07-01:`), so it is named as written; anything else is left to the field's own check."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value.isoformat() if isinstance(value, datetime.date) else value


PhaseName = Annotated[str, BeforeValidator(name_text)]
"""A phase's name, and a service's `phases` and `growth` keys that name one: text, a YAML number or date as written."""


def span_text(years: float) -> str:
    """A span of years in a message: 3, 0.5, 0.25, 0.0833 (a month)."""
    return f"{round(years, 4):g}"


def alive(age: float, life: float) -> bool:
    """Whether a device `age` years old is within its `life` (age < life, `YEAR_TOLERANCE` allowed)."""
    return age < life - YEAR_TOLERANCE


def at_or_after(year: float, date: float) -> bool:
    """Whether `year` is at or after `date` (`YEAR_TOLERANCE` allowed): a device retires at the first phase at or
    after its purchase + life."""
    return year >= date - YEAR_TOLERANCE
