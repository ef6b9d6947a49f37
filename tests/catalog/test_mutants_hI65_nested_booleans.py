"""hI65 mutation wave on `catalog.spec_base._leaves` / `holds_bool` (hS64): a boolean is not a number at any depth
of a field's mappings and lists (the module's rule, hL64's strict booleans). YAML reads `cool: yes`-style slips
(`true`) as booleans, and pydantic's lax mode would read True as 1.0, a valid PUE (>= 1)."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from infraplan.catalog.facility_loader import CoolingType, load_cooling
from infraplan.catalog.spec_base import BOOLEAN_NOT_A_NUMBER, holds_bool


def test_a_boolean_in_a_mapping_of_numbers_is_refused() -> None:
    fields = load_cooling("liquid").model_dump()
    with pytest.raises(ValidationError, match=re.escape(BOOLEAN_NOT_A_NUMBER)):
        CoolingType.model_validate({**fields, "pue": {**fields["pue"], "cool": True}})


@pytest.mark.parametrize(("value", "held"), [
    ({"cool": True}, True), ({"engine": {"bf16": True}}, True), ([{"a": 1.0}, {"b": [False]}], True),
    ((1.0, {"a": {"b": {"c": True}}}), True), ({"cool": 1.0, "hot": {"x": [2, 3]}}, False), ({True: 1.0}, False),
])
def test_a_boolean_at_any_depth(value: object, held: bool) -> None:
    """Mapping keys are not values (a YAML key `yes` names an entry)."""
    assert holds_bool(value) is held
