"""Mutation wave hM25 (session 47) on `limits.parse_energy_price`: the conversion is decimal (a price per MWh read as
per kWh is the written digits shifted by three places, the double nearest the exact quotient), and a boolean is no
price (True is the int 1 to Python: it passed as a bare 1 before hX50)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from infraplan.errors import InputError
from infraplan.limits import parse_energy_price


@pytest.mark.parametrize("written", ["9", "13", "51", "71"])
def test_a_mwh_price_per_kwh_is_the_exact_quotient(written: str) -> None:
    """9 USD/MWh is exactly 0.009 USD/kWh; the double product 9 x 0.001 is 0.009000000000000001."""
    exact = float(Decimal(written) / 1000)
    assert float(written) * 0.001 != exact  # the cases where a float product would miss (the test's premise)
    assert parse_energy_price(f"{written}/MWh", "kWh") == exact
    assert parse_energy_price(f"{exact}/kWh", "MWh") == float(written)


@pytest.mark.parametrize("flag", [True, False])
def test_a_boolean_is_refused_in_one_line(flag: bool) -> None:
    with pytest.raises(InputError, match=r"cannot read electricity price (True|False); expected e\.g\. 70/MWh"):
        parse_energy_price(flag)
