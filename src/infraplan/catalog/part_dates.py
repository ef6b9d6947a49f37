"""When a part first ships (`Accelerator.available_year`, with its `available_source`): a plan phase or a campus
phase that buys a part before that date is refused in one line naming the part, the phase and the date (hE59: a
Rubin in a 2024 phase, a GB300 in 2023 were priced without a word). The dates are the catalog files' (most are
recalled first-shipment dates, marked so; a part without one, a user's own accelerator file included, is not
checked). A date is a calendar year with its fraction, written as every output writes it (`units.year_text`).
"""

from __future__ import annotations

from infraplan.catalog.schemas import Accelerator
from infraplan.errors import InputError
from infraplan.units import year_text

TOLERANCE_YEARS = 1e-6  # a month's first day read back from a float year (planning/plan_dates.YEAR_TOLERANCE)


def ships_after(accelerator: Accelerator, year: float) -> bool:
    """Whether the part's first-shipping date is after `year` (False for a part without a date)."""
    date = accelerator.available_year
    return date is not None and year < date - TOLERANCE_YEARS


def check_ships_by(accelerator: Accelerator, year: float, where: str, fix: str = "") -> None:
    """InputError when `where` buys the part in `year`, before it ships: "<where> buys rubin in 2026, before it
    ships (2026-07: <source>)<fix>"."""
    if ships_after(accelerator, year):
        date = year_text(accelerator.available_year or 0.0)
        raise InputError(f"{where} buys {accelerator.name} in {year_text(year)}, before it ships ({date}: "
                         f"{' '.join(accelerator.available_source.split())}){fix}")
