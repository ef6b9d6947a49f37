"""`bounds.Bound.check`'s whole-number fast path (lead, session 66: an estimate checks three counts, ~40 Python calls
each through pydantic) must judge every whole number as pydantic's `verdict` does: same number kept, same refusal."""

from __future__ import annotations

import pytest

from infraplan import bounds
from infraplan.errors import InputError

COUNTS = [b for b in vars(bounds).values() if isinstance(b, bounds.Bound) and b.kind is int]


@pytest.mark.parametrize("bound", COUNTS, ids=lambda b: repr(b.constraints))
def test_the_fast_path_judges_as_pydantic(bound: bounds.Bound) -> None:
    lo, hi = bound.constraints.get("ge", 1), bound.constraints.get("le", 2**63 - 1)
    for value in (lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, 0, -1):
        number, refusal = bound.verdict(value, value)
        if refusal is None:
            assert bound.check(value, "--x") == number and bound.within(value)
        else:
            assert not bound.within(value)
            with pytest.raises(InputError, match=f"Invalid value for '--x': {value}: "):
                bound.check(value, "--x")


def test_there_are_counts_to_check() -> None:
    assert len(COUNTS) >= 4  # ACCELERATORS, TOKENS, SEQUENCES, TOP_PLANS, TOP_PLANS_API
