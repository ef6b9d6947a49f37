"""The bounds of the numbers a command takes, as one check shared by the CLI's options and the Python API (hK66).

A `Bound` is a kind (int or float) and pydantic constraints (`ge`, `gt`, `le`; a float is always finite). The CLI's
option parsers (`cli.options.Bounded`) read the text, then ask `verdict`; the public API functions (`infraplan.
estimate_training`, `search_plans`, ...) call `check` on the value a Python caller passed, which raises the same
one line as an `InputError` ("Invalid value for '--top': 0: must be greater than or equal to 1", what the CLI
prints after "infraplan: error: "). Before hK66 the API took what the CLI refused: `search_plans(..., top=0)` ran,
`seq_len=nan` raised numpy's ValueError, `plan_serving(rate=inf)` an OverflowError.
"""

from __future__ import annotations

import math
import numbers
from functools import cached_property
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from infraplan.errors import InputError
from infraplan.limits import (
    MAX_ACCELERATORS,
    MAX_ARRIVAL_RATE_PER_S,
    MAX_SEQUENCES,
    MAX_SLO_S,
    MAX_TOKENS,
    MAX_TOP,
    MIN_ARRIVAL_RATE_PER_S,
)


class Bound:
    """Finite numbers of one kind within pydantic constraints; `why` the limit's reason (said above the upper bound),
    `low` the words for a value under the lower bound where that bound is a floor, not the limit."""

    def __init__(self, kind: type, why: str = "", low: str = "", **constraints: Any) -> None:
        self.kind = kind
        self.why = why
        self.low = low
        self.constraints = constraints

    @cached_property
    def adapter(self) -> TypeAdapter[Any]:
        """The pydantic check, built on first use (~0.2 ms each: a command parses a few of its options)."""
        field = Field(allow_inf_nan=False, **self.constraints) if self.kind is float else Field(**self.constraints)
        target: Any = Annotated[self.kind, field]
        return TypeAdapter(target)

    def verdict(self, number: Any, shown: object) -> tuple[Any, str | None]:
        """(the number as its kind, None), or (None, the refusal: "<shown>: must be ...")."""
        try:
            return self.adapter.validate_python(number), None
        except ValidationError as exc:
            err = exc.errors()[0]
            msg = err["msg"].replace("Input should be", "must be")
            if self.low and err["type"] in ("greater_than_equal", "greater_than"):
                msg = self.low  # --rate 0: "must be > 0 ...", not "... greater than or equal to 0.000000001"
            why = f" ({self.why})" if self.why and err["type"] == "less_than_equal" else ""
            return None, f"{shown}: {msg}{why}"

    def within(self, number: int) -> bool:
        """Whether a whole `number` meets the constraints (ge / gt / le), as pydantic would judge it."""
        c = self.constraints
        return (number >= c.get("ge", number) and ("gt" not in c or number > c["gt"])
                and number <= c.get("le", number))

    def check(self, value: object, flag: str) -> Any:
        """`value` as a Python caller gave it, within the bound; else the CLI's line for `flag` as an InputError. A
        whole float (8.0) is a whole number; a bool, text or None is not a number (the CLI reads text, the API not)."""
        if type(value) is int and self.kind is int and self.within(value):  # the common case, without pydantic's
            return value  # ~40 calls (an estimate's hot path: 3 checks an estimate)
        whole = "whole " if self.kind is int else ""
        real = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if real and self.kind is int and isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if not real or (self.kind is int and not isinstance(value, numbers.Integral)):
            shown = repr(str(value)[:40])  # quoted as the CLI quotes the text it could not read: 'nan', '8.5'
            raise InputError(f"Invalid value for '{flag}': {shown} is not a {whole}number")
        number, refusal = self.verdict(value, value)
        if refusal is not None:
            raise InputError(f"Invalid value for '{flag}': {refusal}")
        return number


def count(lo: int = 1, hi: int = MAX_ACCELERATORS, why: str = "") -> Bound:
    """Whole numbers in [lo, hi]."""
    return Bound(int, why, ge=lo, le=hi)


def number(gt: float | None = None, ge: float | None = None, le: float | None = None, why: str = "",
           low: str = "") -> Bound:
    """Finite numbers with the given bounds (nan and inf are always refused)."""
    bounds = {k: v for k, v in (("gt", gt), ("ge", ge), ("le", le)) if v is not None}
    return Bound(float, why, low, **bounds)


# the bounds a public API function checks, with the CLI option that parses by the same one
ACCELERATORS = count(1, MAX_ACCELERATORS, "the limit is 10 M accelerators")  # --gpus, --max-gpus
TOKENS = count(1, MAX_TOKENS, "the limit is 10 M tokens")  # --seq-len
SEQUENCES = count(1, MAX_SEQUENCES, "the limit is 100 M")  # --global-batch
TOP_PLANS = count(1, MAX_TOP, f"the limit is {MAX_TOP:,} plans")  # search --top
# the API lists as many plans as a caller asks for (tests and scripts take every plan): 1,000 is what `search --top`
# shows a terminal, so a Python caller gets only the lower bound
TOP_PLANS_API = count(1, 2**63 - 1)
ARRIVAL_RATE = number(ge=MIN_ARRIVAL_RATE_PER_S, le=MAX_ARRIVAL_RATE_PER_S, why="the limit is 1e9 requests/s",
                      low=f"must be > 0: at least {MIN_ARRIVAL_RATE_PER_S:g} requests/s (one request in ~32 years)")
SLO_SECONDS = number(gt=0.0, le=MAX_SLO_S, why="seconds: at most 1e9 s")  # --ttft-slo, --tpot-slo
HOURS_PER_DAY = number(gt=0.0, le=1e9)  # video --daily-hours
FACTOR_AT_LEAST_1 = number(ge=1.0, le=1e3)  # video --peak-to-average
