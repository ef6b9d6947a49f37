"""`infraplan schema catalog` describes what a catalog file holds, every field with its meaning and unit (hW47).

Session 44's `schema catalog` described only the listing (kind, name, display name, source): a user writing a new
accelerator file learnt its fields from the shipped YAML. Now the schema carries each kind's entry spec
(`catalog.entry_schemas`), and `schema catalog KIND` prints one.
"""

from __future__ import annotations

import json
import re
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from infraplan.catalog import entry_schemas as es
from infraplan.catalog.index import kinds, list_kind
from infraplan.cli.commands.catalog import FILE_READERS
from infraplan.cli.main import main


def _schema(capsys: pytest.CaptureFixture[str], *words: str) -> dict[str, Any]:
    assert main(["schema", *words]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def _properties(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(spec, field, property) of the schema's own properties and of every spec it nests ($defs)."""
    return [(spec, name, prop) for spec, body in [("", schema), *schema.get("$defs", {}).items()]
            for name, prop in body.get("properties", {}).items()]


def test_schema_catalog_json_lists_an_accelerators_fields(capsys: pytest.CaptureFixture[str]) -> None:
    """`--json` is taken (the schema is JSON either way; it was "no command 'catalog --json'"), and the accelerator
    entry lists every field of the spec, each with its meaning, the datasheet figures with their units."""
    schema = _schema(capsys, "catalog", "--json")
    assert "kinds" in schema["properties"]  # the listing's schema, as before
    accelerator = schema["entry_schemas"]["accelerators"]
    props = accelerator["properties"]
    assert set(props) == {info.alias or name for name, info in es.entry_model("accelerators").model_fields.items()}
    for name, unit in (("memory_bytes", "B;"), ("memory_bandwidth_bytes_per_s", "B/s;"), ("tdp_w", "W;"),
                       ("scale_up_bandwidth_bytes_per_s", "B/s;"), ("peak_flops_per_s", "FLOP/s"),
                       ("price_usd", "USD")):
        assert props[name]["description"] and props[name]["unit"].startswith(unit), name
    assert "3.35TB/s" in props["memory_bandwidth_bytes_per_s"]["unit"]  # what a file may write
    efficiency = accelerator["$defs"]["KernelEfficiency"]["properties"]
    assert efficiency["kernel_overhead_s"]["unit"] == "s" and "unit" not in efficiency["compute_units"]
    assert set(schema["entry_schemas"]) == set(kinds())


def test_schema_catalog_kind_prints_one_kind(capsys: pytest.CaptureFixture[str]) -> None:
    whole = _schema(capsys, "catalog")
    systems = _schema(capsys, "catalog", "systems")
    assert systems == whole["entry_schemas"]["systems"]
    assert systems["$defs"]["NetworkTier"]["properties"]["hop_latency_s"]["unit"] == "s"
    assert main(["schema", "catalog", "accelerator"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'accelerators'" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", es.ENTRY_MODELS)
def test_every_field_of_every_kind_is_described(kind: str) -> None:
    bare = [f"{spec}.{name}" for spec, name, prop in _properties(es.entry_schema(kind)) if not prop.get("description")]
    assert not bare, f"{kind}: {bare}"


@pytest.mark.parametrize("kind", es.ENTRY_MODELS)
def test_a_shipped_preset_is_what_the_schema_describes(kind: str) -> None:
    """The schema is the spec a file of the kind is read with: the first shipped preset, as the commands read it
    (its loader, `catalog KIND FILE`'s), validates against it."""
    jsonschema = pytest.importorskip("jsonschema")  # not a dependency: a dev extra's (schemathesis) dependency
    entry = FILE_READERS[kind](list_kind(kind).entries[0].name)
    jsonschema.validate(entry.model_dump(mode="json", by_alias=True), es.entry_schema(kind))


def test_the_kinds_specs_are_their_loaders() -> None:
    """ENTRY_MODELS names the model each kind's loader returns (the one `catalog KIND FILE` prints)."""
    assert set(es.ENTRY_MODELS) == set(FILE_READERS) == set(kinds())
    for kind, reader in FILE_READERS.items():
        assert typing.get_type_hints(reader)["return"] is es.entry_model(kind), kind


def test_each_meaning_has_one_home() -> None:
    """entry_fields.yaml names only fields that exist and have no description of their own (no stale entry, no
    second text beside the spec's)."""
    specs: dict[str, type[BaseModel]] = {}
    for kind in es.ENTRY_MODELS:
        specs.update(es.nested_models(es.entry_model(kind)))
    for spec, meanings in es.field_meanings().items():
        assert spec in specs, f"entry_fields.yaml: no spec {spec}"
        fields = specs[spec].model_fields
        for name in meanings:
            assert name in fields, f"entry_fields.yaml: {spec} has no field {name}"
            assert not fields[name].description, f"{spec}.{name} has its own description: drop the yaml's"


@pytest.mark.parametrize(("name", "unit"), [
    ("memory_bandwidth_bytes_per_s", "B/s"), ("sram_bytes", "B"), ("tdp_w", "W"), ("hop_latency_s", "s"),
    ("peak_flops_per_s", "FLOP/s"), ("flops_per_s", "FLOP/s"), ("decoder_flops", "FLOP"),
    ("unet_flops_per_image_step", "FLOP per image and denoising step"), ("electricity_usd_per_mwh", "USD/MWh"),
    ("grid_gco2_per_kwh", "gCO2e/kWh"), ("kv_memory_fraction", "dimensionless, 0-1"), ("resolution_px", "px"),
    ("num_layers", None), ("scheduler", None), ("cuda_graphs", None), ("name", None),
])
def test_the_unit_is_the_names(name: str, unit: str | None) -> None:
    assert es.unit_of(name) == unit


@pytest.mark.parametrize("parser", list(es.TEXT_FORMS))
def test_the_text_forms_shown_are_read(parser: Any) -> None:
    """Each example a unit's text gives ("3.35TB/s, 400Gbps") is read by the spec's parser, to a positive number."""
    examples = re.search(r"\(([^)]*)\)", es.TEXT_FORMS[parser]).group(1).split(", ")  # type: ignore[union-attr]
    assert len(examples) >= 2
    assert all(parser(text) > 0 for text in examples)


def test_every_number_with_a_unit_name_has_it() -> None:
    """No property whose name states a unit goes without `unit` (nested specs included)."""
    for kind in es.ENTRY_MODELS:
        missing = [f"{spec}.{name}" for spec, name, prop in _properties(es.entry_schema(kind))
                   if es.unit_of(name) and "unit" not in prop]
        assert not missing, f"{kind}: {missing}"
