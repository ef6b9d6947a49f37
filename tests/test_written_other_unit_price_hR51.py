"""A price written in the other unit than its field's is refused in the unit it was written in (hR51, session 47).

A field's slip line guesses the other unit ("USD/MWh? (20 USD/MWh = 0.02 USD/kWh)"): right for a bare number, or a
price written in the field's own unit, but a misreading of one written in the other unit: a plan's
`electricity_usd_per_kwh: 20000/MWh` (20 USD/kWh, above the 10 USD/kWh bound) was told "USD/MWh? (20 USD/MWh = 0.02
USD/kWh)", and a location's `electricity_usd_per_mwh: 0.0005/kWh` "USD/kWh? (0.5 USD/kWh = 500 USD/MWh)": neither
20 USD/MWh nor 0.5 USD/kWh was written. `--electricity-price` and `--vary` said the bounds (`read_electricity_price`).
"""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from infraplan.errors import InputError
from infraplan.limits import ElectricityUsdPerKwh, ElectricityUsdPerMwh, read_electricity_price

PER_KWH, PER_MWH = TypeAdapter(ElectricityUsdPerKwh), TypeAdapter(ElectricityUsdPerMwh)


@pytest.mark.parametrize(("adapter", "per", "text", "read"), [
    (PER_KWH, "kWh", "20000/MWh", "20 USD/kWh"), (PER_MWH, "MWh", "0.0005/kWh", "0.5 USD/MWh")])
def test_a_field_refuses_a_price_written_in_the_other_unit_as_the_flag_does(adapter: TypeAdapter, per: str,
                                                                              text: str, read: str) -> None:
    with pytest.raises(ValidationError) as exc:
        adapter.validate_python(text)
    line = str(exc.value)
    assert f"{text} is {read}, outside" in line and "?" not in line.split("[type=")[0]  # no guessed unit
    with pytest.raises(InputError) as flag:  # the flag's own words for the same price
        read_electricity_price(text, "p", per)
    assert line.split("outside ")[1].split(" [")[0] == str(flag.value).split("outside ")[1]


def test_a_price_written_in_the_fields_own_unit_keeps_the_guess() -> None:
    """Written in the field's unit, a slip is the other unit's price (the line hU48 / hR49 chose), as a bare one is."""
    for adapter, text, guess in ((PER_KWH, "20/kWh", "USD/MWh?"), (PER_KWH, 20, "USD/MWh?"),
                                 (PER_MWH, "0.5/MWh", "USD/kWh?"), (PER_MWH, 0.5, "USD/kWh?")):
        with pytest.raises(ValidationError, match=guess.replace("?", r"\?")):
            adapter.validate_python(text)
    with pytest.raises(ValidationError, match=r"is below 0.001 USD/kWh \(1 USD/MWh\), no grid's price"):
        PER_KWH.validate_python("0.5/MWh")  # a slip line without a guess (hX50's) stays
    assert PER_KWH.validate_python("70/MWh") == 0.07 and PER_MWH.validate_python("0.07/kWh") == 70.0
    assert PER_KWH.validate_python("1/MWh") == 0.001 and PER_MWH.validate_python("0.001/kWh") == 1.0  # the bounds
