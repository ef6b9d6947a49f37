"""hI72 mutation wave on session 71's `units.year_text` day form: a date prints as a day only where the year lands on
a day's start within float noise, not within a fraction of a day (2025-07-15 is 2025 + (6 + 14/31) / 12, July's 31
days; 0.2 day later is no day and keeps the 4-decimal year)."""

from __future__ import annotations

import pytest

from infraplan.units import year_text


def test_a_day_is_read_in_its_own_months_days() -> None:
    assert year_text(2025 + (6 + 14 / 31) / 12) == "2025-07-15"  # July: 31 days
    assert year_text(2025 + (1 + 27 / 28) / 12) == "2025-02-28"  # February 2025: 28 days
    assert year_text(2024 + (1 + 28 / 29) / 12) == "2024-02-29"  # a leap year's February: 29
    assert year_text(2100 + (1 + 27 / 28) / 12) == "2100-02-28"  # 2100: no leap year (Gregorian), 28


@pytest.mark.parametrize("days_off", [0.2, 0.05, -0.05])
def test_a_fraction_of_a_day_off_is_no_day(days_off: float) -> None:
    year = 2025 + (6 + (14 + days_off) / 31) / 12
    assert year_text(year) == f"{year:.4f}"
