"""A plan that buys a part before it ships is refused (hT59; the dates: `Accelerator.available_year`,
catalog/part_dates.py). A pool buys its device from its `from_year`, else from the first phase; a `refresh_with`
successor is bought from the year its pool's first devices reach their lifetime (planning/retirement.successor_year).
Each is checked against the part's first-shipping date; the message names the pool, the phase (or the field that
dates the buy), the part and its date, and what to write instead. An installed base is not checked: the plan does not
buy it, and its `installed_year` is the user's record (retirement tests date H100 bases 2020-2022, before the
recalled Oct 2022 date). A video ASIC and a part without a date are not checked.
"""

from __future__ import annotations

from infraplan.catalog.loader import load_accelerator
from infraplan.catalog.part_dates import check_ships_by, ships_after
from infraplan.cluster import Cluster
from infraplan.planning.retirement import successor_year
from infraplan.planning.scenario_sizing import pool_kind
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.units import year_text


def check_part_dates(spec: ScenarioSpec) -> None:
    """InputError (one line) for the first pool that buys its part before the part ships."""
    phases = [(ph.name, ph.year) for ph in spec.phases]
    years = [y for _, y in phases]
    for pool in spec.pools:
        if pool_kind(pool) == "video-asic":
            continue
        part = Cluster.resolve(pool.device).accelerator
        if pool.from_year is not None:
            check_ships_by(part, pool.from_year, f"pool {pool.name!r} (from_year)", "; give a later from_year")
        else:
            date = year_text(part.available_year or 0.0)
            fix = (f"; give the pool from_year: {date} or later" if any(not ships_after(part, y) for y in years)
                   else f"; no phase is on or after {date}: drop the pool")
            check_ships_by(part, years[0], f"pool {pool.name!r} in phase {phases[0][0]!r}", fix)
        if pool.refresh_with is not None:
            succ = successor_year(pool, years)
            if succ is not None:
                check_ships_by(load_accelerator(pool.refresh_with), succ,
                               f"pool {pool.name!r}: its refresh_with successor", "; refresh with a part that ships "
                               "by then")
