"""What a catalog file of each kind holds: the JSON Schema of its entries, every field with its meaning and unit.

`infraplan catalog KIND NAME` prints a preset's data and `infraplan catalog KIND FILE` what the commands read from a
user's file; `infraplan schema catalog [KIND]` (cli/commands/schema.py) prints this, so a user writing a new
accelerator (system, stack, workload, ...) file sees every field it may hold. The schema is the kind's pydantic spec
(`ENTRY_MODELS`, the model its loader returns: a test keeps the two equal) in validation mode, with, on every
property of it and of the specs it nests:

- `description`: the spec's own `Field(description=...)`, else the field's meaning from `entry_fields.yaml` (the
  specs of earlier sessions left about half their fields bare; a test requires one of the two, never both);
- `unit`: the unit its name carries (the product's rule: SI units, the unit in the name, `UNIT_SUFFIXES`), and,
  where the spec reads text with a unit (`units.parse_bytes`, `parse_rate_bytes_per_s`, `parse_power_w`), the
  forms a file may write (`TEXT_FORMS`: `3.35TB/s`, `80GB`, `700W`).
"""

from __future__ import annotations

import importlib
import typing
from functools import lru_cache
from importlib import resources
from typing import Any

from pydantic import BaseModel

from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.units import parse_bytes, parse_power_w, parse_rate_bytes_per_s

ENTRY_MODELS: dict[str, str] = {
    "accelerators": "infraplan.catalog.schemas:Accelerator",
    "systems": "infraplan.catalog.schemas:System",
    "models": "infraplan.catalog.transformer_shape:TransformerShape",
    "stacks": "infraplan.catalog.stacks:Stack",
    "workloads": "infraplan.catalog.serving_loader:WorkloadSpec",
    "diffusion": "infraplan.catalog.serving_loader:DiffusionModel",
    "recsys": "infraplan.catalog.recsys_schemas:RecsysModel",
    "recsys-devices": "infraplan.catalog.recsys_schemas:RecsysProfile",
    "video-devices": "infraplan.catalog.video_schemas:VideoAsic",
    "fleets": "infraplan.catalog.facility_loader:Fleet",
    "locations": "infraplan.catalog.facility_loader:Location",
    "cooling": "infraplan.catalog.facility_loader:CoolingType",
    "build-types": "infraplan.catalog.facility_loader:BuildType",
    "failure-rates": "infraplan.catalog.reliability_loader:FailureRate",
}
"""Catalog kind (`catalog.index.kinds()`) -> "module:Name" of the spec its entries validate against (imported when
asked). A model preset is an HF config.json: its spec is the shape the commands read from it."""
KIND_NOTES: dict[str, str] = {
    "accelerators": "a file may start from a preset (`extends: h100-sxm`) and set only what it changes",
    "systems": "a file may start from a preset (`extends: gb200-nvl72-superpod`) and set only what it changes",
    "models": "a model file is an HF config.json; these are the fields the commands read from it "
              "(`infraplan catalog models FILE` prints them)",
    "stacks": "a file may start from a preset (`extends: nemo-26.04`) and set only what it changes",
    "locations": "the entries of catalog/facility/locations.yaml, one per location name",
    "cooling": "the entries of catalog/facility/cooling.yaml, one per cooling type (--cooling NAME or FILE)",
    "build-types": "the entries of catalog/facility/build_types.yaml, one per build type (--build-type NAME or FILE)",
    "failure-rates": "the entries of catalog/facility/reliability.yaml's failure_rates (--failure-rate NAME or FILE)",
    "recsys-devices": "an accelerator file names its own with `recsys_profile: FILE` (read beside it); a preset is "
                      "named like its accelerator; a tier's capacity and bandwidth default to the part's figures",
}
"""What the schema's description adds for a kind whose files are read otherwise than field by field."""

UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_bytes_per_image_step", "B per image and denoising step"),
    ("_flops_per_image_step", "FLOP per image and denoising step"),
    ("_bytes_per_s", "B/s"),
    ("flops_per_s", "FLOP/s"),
    ("_exp_per_s", "exponentials/s"),
    ("_pixels_per_s", "pixels/s"),
    ("_usd_per_mwh", "USD/MWh"),
    ("_gco2_per_kwh", "gCO2e/kWh"),
    ("_kgco2e_per_accelerator", "kgCO2e per accelerator"),
    ("_bytes", "B"),
    ("_flops", "FLOP"),
    ("_params", "parameters"),
    ("_usd", "USD"),
    ("_px", "px"),
    ("_w", "W"),
    ("_s", "s"),
    ("_fraction", "dimensionless, 0-1"),
    ("_collective_efficiency", "dimensionless, 0-1"),
    ("_share", "dimensionless, 0-1"),
    ("_ratio", "dimensionless"),
    ("_multiplier", "dimensionless"),
)
"""Name suffix -> the unit it states, longest first (the first that ends a name is its unit)."""
TEXT_FORMS: dict[Any, str] = {
    parse_bytes: "a number of bytes, or text with its unit (80GB, 81559MiB)",
    parse_rate_bytes_per_s: "a number of B/s, or text with its unit (3.35TB/s, 400Gbps)",
    parse_power_w: "a number of watts, or text with its unit (700W, 1.2kW, 1GW)",
}
"""The parsers a spec reads text with (a `BeforeValidator`) -> what a file may write there."""


def unit_of(name: str) -> str | None:
    """The unit a field's name states (`UNIT_SUFFIXES`), or None (a count, a name, a flag, a choice)."""
    return next((unit for suffix, unit in UNIT_SUFFIXES if name.endswith(suffix)), None)


@lru_cache(maxsize=1)
def field_meanings() -> dict[str, dict[str, str]]:
    """Spec name -> field -> meaning, for the fields whose spec gives no description (entry_fields.yaml)."""
    text = (resources.files("infraplan.catalog") / "entry_fields.yaml").read_text("utf-8")
    fields: dict[str, dict[str, str]] = safe_load_yaml(text)["fields"]
    return fields


def entry_model(kind: str) -> type[BaseModel]:
    """The spec of one kind's entries; KeyError for a kind without one."""
    module, _, name = ENTRY_MODELS[kind].partition(":")
    model: type[BaseModel] = getattr(importlib.import_module(module), name)
    return model


def nested_models(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """The spec and every spec its fields hold (in lists, dicts, unions), by class name (the schema's `$defs` keys)."""
    found: dict[str, type[BaseModel]] = {}

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation.__name__ not in found:
                found[annotation.__name__] = annotation
                for info in annotation.model_fields.values():
                    visit(info.annotation)
            return
        for arg in typing.get_args(annotation):
            visit(arg)

    visit(model)
    return found


def _text_form(annotation: Any, metadata: list[Any]) -> str | None:
    """What a file may write for a field read through a unit parser (`TEXT_FORMS`), else None."""
    for item in [*metadata, *getattr(annotation, "__metadata__", ())]:
        form = TEXT_FORMS.get(getattr(item, "func", None))
        if form is not None:
            return form
    return next((f for a in typing.get_args(annotation) if (f := _text_form(a, [])) is not None), None)


def _describe(schema: dict[str, Any], model: type[BaseModel]) -> None:
    meanings = field_meanings().get(model.__name__, {})
    for name, info in model.model_fields.items():
        prop = schema["properties"][info.alias or name]
        if not prop.get("description") and name in meanings:
            prop["description"] = meanings[name]
        unit = unit_of(name)
        form = _text_form(info.annotation, info.metadata)
        if unit is not None or form is not None:
            prop["unit"] = f"{unit or ''}{'; ' if unit and form else ''}{form or ''}"


PYDANTIC_BOUNDS: dict[str, str] = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum",
                                   "lt": "exclusiveMaximum"}
"""pydantic's bound keywords -> JSON Schema's. A bound on a field read through a unit parser (`Field(ge=0)` after a
`BeforeValidator`) reached the schema under pydantic's name (`"ge": 0`), which JSON Schema validators ignore (hA50)."""


def _json_schema_bounds(node: Any) -> None:
    """Rename pydantic's bound keywords to JSON Schema's in every subschema of `node`, in place."""
    if isinstance(node, dict):
        for key in [k for k in node if k in PYDANTIC_BOUNDS and isinstance(node[k], (int, float))]:
            node[PYDANTIC_BOUNDS[key]] = node.pop(key)
        for value in node.values():
            _json_schema_bounds(value)
    elif isinstance(node, list):
        for value in node:
            _json_schema_bounds(value)


def entry_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind's entries, each field described with its unit (module docstring)."""
    model = entry_model(kind)
    schema: dict[str, Any] = model.model_json_schema(mode="validation")
    _json_schema_bounds(schema)
    schema["$id"] = f"infraplan:catalog/{kind}"  # its `#/$defs/...` refs resolve here when nested in another schema
    schema["title"] = f"catalog {kind} entry ({model.__name__})"
    note = KIND_NOTES.get(kind)
    schema["description"] = " ".join((model.__doc__ or "").split()) + (f" ({note})" if note else "")
    for name, spec in nested_models(model).items():
        _describe(schema if spec is model else schema["$defs"][name], spec)
    return schema
