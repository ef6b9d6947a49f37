"""Mutants of hG60's oversubscription ratio (`file_checks.parse_oversubscription`; hM, session 60): a side that is
not finite is refused as a side that is not positive is, and a plain number written as a string reads as before."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infraplan.catalog.schemas import NetworkTier


@pytest.mark.parametrize("ratio", ["7:inf", "inf:1", "1:nan"])
def test_a_side_that_is_not_a_finite_number_is_named(ratio: str) -> None:
    with pytest.raises(ValidationError, match="both sides"):
        NetworkTier(name="spine", group_size=3072, oversubscription=ratio)  # type: ignore[arg-type]


@pytest.mark.parametrize("written", ["7", "7.0", " 7"])
def test_a_number_written_as_text_reads_as_the_number(written: str) -> None:
    tier = NetworkTier(name="spine", group_size=3072, oversubscription=written)  # type: ignore[arg-type]
    assert tier.oversubscription == NetworkTier(name="spine", group_size=3072, oversubscription=7).oversubscription
