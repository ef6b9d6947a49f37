"""`significant_text` (and the web's `IP.fmt`, its copy in app.js) group the thousands of a value that rounding
carries to 10^(digits - 1) (hR, session 52): 999.96 at 4 digits was "1000" (its magnitude was taken before
rounding: 2 decimals' worth of digits, then rstripped), beside "1,000" for 1000.0 itself; -999.96 "-1000"."""

from __future__ import annotations

import pytest

from infraplan.units import significant_text


@pytest.mark.parametrize(("value", "digits", "text"), [
    (999.96, 4, "1,000"), (-999.96, 4, "-1,000"), (9999.96, 5, "10,000"), (1000.0, 4, "1,000"),
    (999.94, 4, "999.9"), (0.99996, 4, "1"), (99.996, 4, "100"), (9999.6, 4, "10,000"), (26.714, 4, "26.71"),
])
def test_a_value_rounded_up_to_the_thousands_is_grouped(value: float, digits: int, text: str) -> None:
    assert significant_text(value, digits) == text
