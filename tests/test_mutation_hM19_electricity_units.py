"""Mutation wave 3 (hM19, session 43) on `limits`' electricity unit slips (hU48; lead: `ElectricityUsdPerKwh` /
`ElectricityUsdPerMwh`): the refusal's conversion is the right way round (1 MWh = 1,000 kWh, so a price of x USD/MWh
is x / 1,000 USD/kWh and x USD/kWh is 1,000 x USD/MWh), and the spec types' bounds hold at their edges."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from infraplan.limits import (
    MAX_ELECTRICITY_USD_PER_KWH,
    MIN_ELECTRICITY_USD_PER_MWH,
    ElectricityUsdPerKwh,
    ElectricityUsdPerMwh,
    usd_per_kwh_unit_slip,
    usd_per_mwh_unit_slip,
)

PER_KWH: TypeAdapter[float] = TypeAdapter(ElectricityUsdPerKwh)
PER_MWH: TypeAdapter[float] = TypeAdapter(ElectricityUsdPerMwh)


def test_the_refusals_convert_the_price_the_right_way() -> None:
    """80 typed for USD/kWh is 80 USD/MWh = 0.08 USD/kWh; 0.07 typed for USD/MWh is 0.07 USD/kWh = 70 USD/MWh."""
    kwh = usd_per_kwh_unit_slip(80.0)
    assert kwh is not None and "(80 USD/MWh = 0.08 USD/kWh)" in kwh
    mwh = usd_per_mwh_unit_slip(0.07)
    assert mwh is not None and "(0.07 USD/kWh = 70 USD/MWh)" in mwh


def test_the_bounds_are_the_documented_ones() -> None:
    """The documented bounds (the module's docstrings): at most 10 USD/kWh (above ERCOT's $5/kWh offer cap); 0 or
    at least 1 USD/MWh (~1/59 of Louisiana's 58.8) up to 1e6; never negative."""
    assert MAX_ELECTRICITY_USD_PER_KWH == 10.0 and MIN_ELECTRICITY_USD_PER_MWH == 1.0
    assert usd_per_kwh_unit_slip(10.0) is None and usd_per_kwh_unit_slip(10.01) is not None
    assert usd_per_mwh_unit_slip(1.0) is None and usd_per_mwh_unit_slip(0.99) is not None
    assert usd_per_mwh_unit_slip(0.0) is None
    assert PER_KWH.validate_python(0.0) == 0.0 and PER_KWH.validate_python(10.0) == 10.0
    assert PER_MWH.validate_python(0.0) == 0.0 and PER_MWH.validate_python(1e6) == 1e6
    for adapter, bad in ((PER_KWH, -0.01), (PER_KWH, 10.5), (PER_MWH, -1.0), (PER_MWH, 0.5), (PER_MWH, 1.1e6)):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)
