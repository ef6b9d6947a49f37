"""hI67 mutation wave on hK66's `infraplan.bounds` (`Bound.check`, the lead's whole-int fast path): the stated rules
a Python caller meets, each by Python's and pydantic's own semantics.

* A bool is no number (the docstring): `True` is an int to Python (`isinstance(True, int)`) and pydantic's lax int
  reads it as 1, so only the rule refuses `estimate_training(..., gpus=True)`.
* A float bound returns a float: pydantic's float reads 2 as 2.0; the int fast path must not answer for it.
* A float bound is always finite (`allow_inf_nan=False`): nan and inf are refused as not finite, not as out of range
  (pydantic would otherwise accept inf and nan and then fail their comparisons with range words).
* A float shows as the caller gave it: 1e300 is whole (`float.is_integer`), but only an int bound reads it as an int.
* The API's `top` takes more than `search --top`'s 1,000 (the lead, session 66: scripts take every plan).
"""

from __future__ import annotations

import pytest

from infraplan import bounds
from infraplan.errors import InputError


@pytest.mark.parametrize("bound", [bounds.ACCELERATORS, bounds.TOKENS, bounds.SEQUENCES, bounds.TOP_PLANS])
def test_a_bool_is_not_a_count(bound: bounds.Bound) -> None:
    for value in (True, False):
        with pytest.raises(InputError, match=r"Invalid value for '--x': 'True|False' is not a whole number"):
            bound.check(value, "--x")


def test_a_float_bound_answers_a_float() -> None:
    for value in (2, 1, 10**9):
        got = bounds.SLO_SECONDS.check(value, "--ttft-slo")
        assert type(got) is float and got == value
    assert type(bounds.ARRIVAL_RATE.check(5, "--rate")) is float


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_float_bound_refuses_what_is_not_finite(value: float) -> None:
    with pytest.raises(InputError, match="finite number"):
        bounds.SLO_SECONDS.check(value, "--ttft-slo")


def test_a_whole_float_above_a_float_bound_is_shown_as_given() -> None:
    with pytest.raises(InputError, match=r"'--ttft-slo': 1e\+300: must be less than or equal to"):
        bounds.SLO_SECONDS.check(1e300, "--ttft-slo")


def test_the_api_top_takes_more_than_the_terminals_thousand() -> None:
    assert bounds.TOP_PLANS_API.check(5000, "top") == 5000
    with pytest.raises(InputError):
        bounds.TOP_PLANS.check(5000, "--top")
