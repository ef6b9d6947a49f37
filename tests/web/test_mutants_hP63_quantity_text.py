"""hP63 mutation wave on hI63's shared quantity grammar (`units.QUANTITY_TEXT`, the web's `Quantity`): a space
between the number and its unit is read, as the units docstring's example "1.5 GW" and the CLI's `--power 1.5 GW`
(one shell word when quoted) have it; the web field takes what the CLI reads."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from infraplan.units import parse_count, parse_power_w
from infraplan.web.request_fields import Quantity


@pytest.mark.parametrize(("text", "watts"), [("1.5 GW", 1.5e9), ("700 W", 700.0), (" 2 MW ", 2e6)])
def test_a_space_before_the_unit_is_read_alike(text: str, watts: float) -> None:
    assert parse_power_w(text) == pytest.approx(watts, rel=1e-15)
    assert TypeAdapter(Quantity).validate_python(text) == text


def test_a_count_with_a_spaced_suffix() -> None:
    assert parse_count("15.6 T") == pytest.approx(15.6e12, rel=1e-15)
