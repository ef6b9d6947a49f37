"""Electricity prices with their units, read the one way every edge reads them (the CLI's --electricity-price, the web
API's and a sweep's `electricity_price`, a location or cost file, a plan's or fleet-mix's `electricity_usd_per_kwh`,
`--vary electricity=`).

One internal unit per field, named in the field (USD/MWh for the cost model's prices, USD/kWh for a spec's policy):
`parse_energy_price` reads a price written with its unit ('70/MWh', '$0.07/kWh'; converted in decimal, so 0.07/kWh is
exactly 70 USD/MWh), `read_electricity_price` is the rule for a bare number given under a name without a unit, and the
bounds (`MIN_ELECTRICITY_USD_PER_MWH`, `MAX_ELECTRICITY_USD_PER_KWH`) refuse a price written in the other unit by
mistake (a unit slip: 0.07 for 70 USD/MWh is a 1,000x cheaper grid). Sources of the bounds: EIA Electric Power Annual
2023 (the cheapest state's price, catalog/facility/locations.yaml) and ERCOT's offer cap ($5,000/MWh). The pydantic
field types `ElectricityUsdPerMwh` / `ElectricityUsdPerKwh` carry the same rules. Moved out of limits.py (hD, session
70), unchanged; `infraplan.limits` still exports every public name here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from infraplan.errors import InputError

MIN_ELECTRICITY_USD_PER_MWH = 1.0
"""The least positive electricity price in USD/MWh an option takes (`--electricity-price`, the web's
`electricity_price`): 1 USD/MWh = 0.1 cents/kWh, ~1/59 of the cheapest state in the catalog (Louisiana, 58.8
USD/MWh, EIA Electric Power Annual 2023, catalog/facility/locations.yaml). Below it a price is USD/kWh written for
USD/MWh (0.07 for 70: a 1,000x cheaper grid, exit 0 before, hU48); 0 (energy left out of the money) stays."""


MAX_ELECTRICITY_USD_PER_KWH = 10.0
"""The most electricity may cost in USD/kWh (a plan's or fleet-mix's `electricity_usd_per_kwh`, `--vary
electricity=`): above any wholesale price (ERCOT's offer cap, the highest in the US, is $5,000/MWh = $5/kWh). Above it
a price is USD/MWh written for USD/kWh (80 for 0.08: TCO x1,000, exit 0 before, hU48)."""


def usd_per_kwh_unit_slip(price: float) -> str | None:
    """Why a price above `MAX_ELECTRICITY_USD_PER_KWH` or a positive one below `MIN_ELECTRICITY_USD_PER_MWH` (in
    USD/kWh: '0.5/MWh' was taken by a plan's policy and `--vary electricity=`, refused by `--electricity-price` and a
    location file, hX50) is refused (one line), or None where it is not."""
    if price > MAX_ELECTRICITY_USD_PER_KWH:
        return (f"electricity_usd_per_kwh is in USD/kWh (0.08 = 8 cents/kWh); {price:g} is above "
                f"{MAX_ELECTRICITY_USD_PER_KWH:g} USD/kWh: USD/MWh? ({price:g} USD/MWh = {price / 1e3:g} USD/kWh)")
    if 0.0 < price < MIN_ELECTRICITY_USD_PER_MWH / 1e3:
        return (f"{price:g} USD/kWh ({price * 1e3:g} USD/MWh) is below {MIN_ELECTRICITY_USD_PER_MWH / 1e3:g} USD/kWh "
                f"({MIN_ELECTRICITY_USD_PER_MWH:g} USD/MWh), no grid's price; 0 leaves energy out of the money")
    return None


def _refused_by(slip: Callable[[float], str | None]) -> Callable[[float], float]:
    """A pydantic after-validator refusing a price with `slip`'s line where it gives one."""
    def check(price: float) -> float:
        if (why := slip(price)) is not None:
            raise ValueError(why)
        return price
    return check


def _shown(value: object, width: int = 40) -> str:
    """`value` as an error line quotes it: stripped, cut to `width` characters (a 5,000-digit price was echoed)."""
    text = str(value).strip()
    return text if len(text) <= width else text[:width] + "..."


ENERGY_UNITS_MWH = {"mwh": 1.0, "kwh": 1e-3}  # MWh in one <unit>: a price per kWh is 1,000x the same price per MWh
_NUMBER = r"([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)"
_NEGATIVE_PRICE = re.compile(r"^(\s*\$?\s*)-(\s*)")  # a minus before a price with its unit ('-70/MWh', '$-70/MWh')
_ENERGY_PRICE = re.compile(r"\s*\$?\s*" + _NUMBER + r"\s*(?:usd|\$)?\s*/\s*(mwh|kwh)\s*",
                           re.IGNORECASE)


def parse_energy_price(text: str | float | int, per: str = "MWh") -> float | None:
    """An electricity price with its unit, in USD per `per` (MWh or kWh): '70/MWh', '$70/MWh', '70 USD/MWh' -> 70.0;
    '0.07/kWh' -> 70.0 per MWh or 0.07 per kWh (converted in decimal, so 0.07/kWh is exactly 70 USD/MWh). None for a
    bare number (70, '70'): its unit is its field's (`read_electricity_price` says which and when it is
    refused; '-1' too, as a bare number below 0). InputError for anything else: a price below 0 ('-70/MWh', said
    so), another unit, nan."""
    if isinstance(text, bool):
        raise InputError(f"cannot read electricity price {text!r}; expected e.g. 70/MWh or 0.07/kWh")
    if isinstance(text, int | float) or re.fullmatch(r"\s*-?" + _NUMBER + r"\s*", str(text)):
        return None  # a bare number, signed or not: `read_electricity_price` bounds it in its field's unit
    match = _ENERGY_PRICE.fullmatch(str(text))
    if not match and _ENERGY_PRICE.fullmatch(_NEGATIVE_PRICE.sub(r"\1\2", str(text), count=1)):
        # '-70/MWh' is read, and its sign is the fault: "cannot read" named the text before (hI63, hO63)
        raise InputError(f"electricity price {_shown(text)!r} is below 0: a price is >= 0, e.g. 70/MWh or 0.07/kWh")
    if not match:
        raise InputError(f"cannot read electricity price {_shown(text)!r}; expected e.g. 70/MWh or 0.07/kWh")
    # decimal scaling: 0.07/kWh is exactly 70 USD/MWh, not 70.00000000000001
    scale = Decimal(str(ENERGY_UNITS_MWH[per.lower()])) / Decimal(str(ENERGY_UNITS_MWH[match.group(2).lower()]))
    written = Decimal(match.group(1))
    try:  # 1e999999999999/MWh overflows decimal's context (a decimal.Overflow traceback before, hX50)
        price = float(written * scale)
    except ArithmeticError:
        price = math.inf
    if not math.isfinite(price):
        raise InputError(f"electricity price {_shown(text)!r} is not a finite number")
    if price == 0.0 and written != 0:  # 1e-400/MWh underflowed to a free grid, exit 0 (hX50)
        raise InputError(f"electricity price {_shown(text)!r} rounds to 0; write 0/MWh to leave energy out")
    if per.lower() == "mwh" and match.group(2).lower() == "kwh" and written > Decimal(str(MAX_ELECTRICITY_USD_PER_KWH)):
        # the written unit's slip in a USD/MWh field, as a USD/kWh one refuses it (hR49): '70/kWh' was 70,000 USD/MWh
        # in `facility`, `campus`, the web and a sweep (x1,000, exit 0), refused in a plan's policy and `--vary`
        raise InputError(f"electricity price {_shown(text)!r} is above {MAX_ELECTRICITY_USD_PER_KWH:g} USD/kWh, no "
                         f"grid's price: {_shown(match.group(1))}/MWh?")
    return price


def priced_in(per: str) -> Callable[[object], object]:
    """A pydantic before-validator reading a price written with its unit ('70/MWh', '0.07/kWh') in USD per `per`;
    a bare number passes as it is (the field's name carries its unit)."""
    def read(value: object) -> object:
        if isinstance(value, bool):  # `true` in a location or cost file was a price of 1 USD/MWh (hX50)
            raise ValueError("a boolean (true/false) is not a number; write the price, e.g. 70/MWh")
        if isinstance(value, str) and (price := parse_energy_price(value, per)) is not None:
            guessed = 0.0 < price < MIN_ELECTRICITY_USD_PER_MWH if per == "MWh" else price > MAX_ELECTRICITY_USD_PER_KWH
            if guessed and (written := _ENERGY_PRICE.fullmatch(value)) and written.group(2).lower() != per.lower():
                # the slip line's guess ("USD/kWh?") would misread a price written in the other unit (hR51)
                raise ValueError(f"{_shown(value)} is {price:g} {_UNITS[per]}, outside {_bounds(per)}")
            return price
        return value
    return read


ElectricityUsdPerKwh = Annotated[float, BeforeValidator(priced_in("kWh")), Field(ge=0),
                                 AfterValidator(_refused_by(usd_per_kwh_unit_slip))]
"""A spec's electricity price in USD/kWh (plan policy, fleet-mix): >= 0, at most `MAX_ELECTRICITY_USD_PER_KWH`; text
with its unit ('70/MWh') converted."""


def usd_per_mwh_unit_slip(price: float) -> str | None:
    """Why a positive price below `MIN_ELECTRICITY_USD_PER_MWH` is refused (one line), or None where it is not."""
    if 0.0 < price < MIN_ELECTRICITY_USD_PER_MWH:
        return (f"electricity prices are in USD/MWh (70 = 7 cents/kWh); {price:g} is below "
                f"{MIN_ELECTRICITY_USD_PER_MWH:g} USD/MWh: USD/kWh? ({price:g} USD/kWh = {price * 1e3:g} USD/MWh)")
    return None


ElectricityUsdPerMwh = Annotated[float, BeforeValidator(priced_in("MWh")), Field(ge=0, le=1e6, allow_inf_nan=False),
                                 AfterValidator(_refused_by(usd_per_mwh_unit_slip))]
"""A location file's electricity price in USD/MWh: 0, or from `MIN_ELECTRICITY_USD_PER_MWH` to 1e6 (the CLI's
--electricity-price bound); text with its unit ('0.07/kWh') converted."""


class ElectricityPriceWarning(UserWarning):
    """An electricity price given as a bare number where the name it is given under carries no unit."""


_UNITS = {"MWh": "USD/MWh", "kWh": "USD/kWh"}
_OTHER = {"MWh": "kWh", "kWh": "MWh"}


def _bounds(per: str) -> str:
    """The prices a field in USD per `per` takes, as its error line says them."""
    return (f"0 or {MIN_ELECTRICITY_USD_PER_MWH:g} .. 1e6 USD/MWh" if per == "MWh" else
            f"0 or {MIN_ELECTRICITY_USD_PER_MWH / 1e3:g} .. {MAX_ELECTRICITY_USD_PER_KWH:g} USD/kWh")


def read_electricity_price(value: str | float | int, name: str, per: str = "MWh") -> tuple[float, str | None]:
    """(USD per `per`, a warning line or None) of an electricity price given under `name`, a name that carries no
    unit (`--electricity-price`, the web's and a sweep's `electricity_price`: bare USD/MWh until 2026-12-04;
    `--vary electricity=`: bare USD/kWh). With its unit ('70/MWh', '$0.07/kWh') it is read as written. A bare
    number keeps its old unit `per` with a warning naming it, except where it is a slip or ambiguous (one line,
    InputError): a positive USD/MWh price below `MIN_ELECTRICITY_USD_PER_MWH` or a USD/kWh one above
    `MAX_ELECTRICITY_USD_PER_KWH` is the other unit's, and from 1 to 10 a bare number is a price in either (5 is a
    nearly free grid per MWh and a 60x dear one per kWh). 0 is 0 in both. Either way the price must then lie in its
    unit's bounds (`ElectricityUsdPerMwh`, `ElectricityUsdPerKwh`)."""
    priced = parse_energy_price(value, per)
    if priced is not None:
        slip = usd_per_mwh_unit_slip(priced) if per == "MWh" else usd_per_kwh_unit_slip(priced)
        if slip is not None or not priced <= (1e6 if per == "MWh" else MAX_ELECTRICITY_USD_PER_KWH):
            raise InputError(f"{name} {_shown(value)}: {priced:g} {_UNITS[per]} is outside {_bounds(per)}")
        return priced, None
    text, other = _shown(value), _OTHER[per]
    try:
        price = float(value)
    except OverflowError:  # an integer of 400 digits (a JSON or YAML number): a traceback before (hX50)
        price = math.inf
    if not math.isfinite(price):
        raise InputError(f"{name} {text} is not a finite number")
    if price < 0:
        raise InputError(f"{name} {text}: an electricity price is a number >= 0 with its unit, e.g. 70/MWh or 0.07/kWh")
    if price == 0:
        return 0.0, None
    if MIN_ELECTRICITY_USD_PER_MWH <= price <= MAX_ELECTRICITY_USD_PER_KWH:
        raise InputError(f"{name} {text} has no unit and is a price per MWh or per kWh alike; write {text}/MWh or "
                         f"{text}/kWh")
    slip = usd_per_mwh_unit_slip(price) if per == "MWh" else usd_per_kwh_unit_slip(price)
    if slip is not None and per == "kWh" and price < MAX_ELECTRICITY_USD_PER_KWH:  # too cheap in either unit
        raise InputError(f"{name} {text}: {slip}")
    if slip is not None:
        meant = price * 1e3 if per == "MWh" else price / 1e3
        raise InputError(f"{name} {text} has no unit: a bare number is {_UNITS[per]}, and {text} {_UNITS[per]} is "
                         f"no grid's price: {_UNITS[other]}? ({text} {_UNITS[other]} = {meant:g} {_UNITS[per]}): "
                         f"write {text}/{other}")
    if price > 1e6:
        raise InputError(f"{name} {text}: above 1e6 USD/MWh")
    return price, (f"{name} {text} has no unit: read as {text} {_UNITS[per]} (the old spelling); write "
                   f"{text}/{per}, or the price per {other}")
