"""Mutation wave hM23 (session 45) on `catalog.entry_schemas`: a unit is read off the end of a field's name only.

Fields whose names hold a unit's letters inside them are counts, names and flags: an accelerator's
`host_link_source` is a citation (text), a model's `sliding_window` its keys in tokens and `vocab_size` a count,
a serving profile's `cuda_graph_scope` a choice. None has a unit.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import entry_schemas as es


@pytest.mark.parametrize(("kind", "field"), [("accelerators", "host_link_source"), ("models", "sliding_window"),
                                             ("models", "vocab_size"), ("models", "checkpoint_weight_dtype")])
def test_a_name_with_unit_letters_inside_has_no_unit(kind: str, field: str) -> None:
    prop = es.entry_schema(kind)["properties"][field]
    assert "unit" not in prop and es.unit_of(field) is None


def test_a_nested_specs_field_is_judged_by_its_own_end() -> None:
    profile = es.entry_schema("stacks")["$defs"]["ServingProfile"]["properties"]
    assert "unit" not in profile["cuda_graph_scope"] and "unit" not in profile["mem_fraction_rule"]


def test_a_field_read_through_a_unit_parser_shows_its_text_forms_inside_an_optional() -> None:
    """A fleet site's power is optional (`PowerW | None`) and read by `parse_power_w`: the schema says a file may
    write 1.2kW or 1GW, and the parser reads those (1,200 W and 1e9 W by hand)."""
    from infraplan.units import parse_power_w

    unit = es.entry_schema("fleets")["$defs"]["FleetSite"]["properties"]["power"]["unit"]
    assert unit.startswith("W; ") and "1.2kW" in unit and "1GW" in unit
    assert parse_power_w("1.2kW") == pytest.approx(1200.0) and parse_power_w("1GW") == pytest.approx(1e9)


def test_each_kinds_schema_is_named_for_its_kind_and_spec() -> None:
    """Nested side by side (`schema catalog`), each kind's `#/$defs` refs resolve within its own `$id`: one id a kind;
    the title names the spec its loader returns; a kind read from a preset it extends says so (loader.py's
    docstring: a user's accelerator or system file may start from a preset with `extends`)."""
    ids = {kind: es.entry_schema(kind)["$id"] for kind in es.ENTRY_MODELS}
    assert len(set(ids.values())) == len(ids) and all(i.endswith("/" + k) for k, i in ids.items())
    for kind in es.ENTRY_MODELS:
        assert f"({es.entry_model(kind).__name__})" in es.entry_schema(kind)["title"]
    assert "extends: h100-sxm" in es.entry_schema("accelerators")["description"]
    assert "extends:" in es.entry_schema("systems")["description"]
