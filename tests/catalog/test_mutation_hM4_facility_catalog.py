"""Mutation wave 4 (hM4, session 35): the facility catalog's range checks (catalog/facility_loader.py).

A catalog or user file outside a physical range is refused by its pydantic model; each test fails on a one-line
mutant of a bound that the earlier tests let through (validation/notes/test_suite_cost_tried.md, hM4).
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infraplan.catalog.facility_loader import (
    CoolingType,
    Economics,
    FleetSite,
    Location,
    load_cooling,
    load_economics,
    load_location,
    power_at_most,
)
from infraplan.catalog.hardware_costs import HardwareCost, load_hardware_cost
from infraplan.limits import MAX_ACCELERATORS


def test_a_cost_of_capital_of_100_percent_is_refused() -> None:
    data = load_economics().model_dump()
    # the key is `cost_of_capital_per_year` since hC57 (the old `cost_of_capital` is read with a warning)
    assert Economics.model_validate({**data, "cost_of_capital_per_year": 0.99}).cost_of_capital_per_year == 0.99
    with pytest.raises(ValidationError):
        Economics.model_validate({**data, "cost_of_capital_per_year": 1.0})  # r / (1 - (1 + r)^-n) has no use at r = 1


def test_a_cooling_pue_below_one_is_refused() -> None:
    data = load_cooling("air").model_dump()
    assert CoolingType.model_validate({**data, "pue": {**data["pue"], "hot": 1.0}}).pue["hot"] == 1.0
    with pytest.raises(ValidationError):  # PUE = facility / IT power >= 1 (Green Grid)
        CoolingType.model_validate({**data, "pue": {**data["pue"], "hot": 0.9}})


def test_a_grid_intensity_above_10_kg_per_kwh_is_refused() -> None:
    data = load_location("ohio").model_dump()
    assert Location.model_validate({**data, "grid_gco2_per_kwh": 10_000}).grid_gco2_per_kwh == 10_000
    with pytest.raises(ValidationError):  # coal is ~1,000 g/kWh; the bound is ten times that
        Location.model_validate({**data, "grid_gco2_per_kwh": 20_000})


def test_a_power_at_its_limit_is_accepted_and_above_it_refused() -> None:
    check = power_at_most(1e6, "one test")
    assert check(1e6) == 1e6
    with pytest.raises(ValueError, match="above the 1 MW limit of one test"):
        check(1.001e6)


def test_a_fleet_sites_count_is_bounded_by_the_product_limit() -> None:
    assert FleetSite.model_validate({"name": "a", "accelerator": "h100-sxm", "count": MAX_ACCELERATORS}).count
    with pytest.raises(ValidationError):
        FleetSite.model_validate({"name": "a", "accelerator": "h100-sxm", "count": MAX_ACCELERATORS + 1})


def test_a_server_of_zero_rack_units_is_refused() -> None:
    cost = load_hardware_cost("h100-sxm")
    assert cost is not None
    with pytest.raises(ValidationError):  # RACK_UNITS // 0 would divide by zero in the rack fit
        HardwareCost.model_validate({**cost.model_dump(), "server_rack_units": 0})
