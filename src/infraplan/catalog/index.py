"""The index of the shipped presets: each kind of catalog entry (accelerators, systems, models, stacks, ...),
its entries by name with their display name and `source:`, and one entry's parsed data.

Only packaged presets are read (by name, through `catalog.loader.preset_files`): nothing a name can reach another
file. Locations, cooling types, build types and failure rates are one file each with many entries
(`TABLE_KINDS`: `facility/locations.yaml`, ...) and are listed from it. The web's
`GET /api/catalog[/{kind}[/{name}]]` (web/app.py) and `infraplan catalog` (cli/commands/catalog.py) print it.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field

from infraplan.catalog.loader import preset_files
from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.catalog.user_files import parse_text
from infraplan.errors import InputError, close_names
from infraplan.results import Result

KINDS: dict[str, str] = {
    "accelerators": "accelerators",
    "systems": "systems",
    "models": "models",
    "stacks": "stacks",
    "workloads": "workloads",
    "diffusion": "diffusion",
    "recsys": "recsys",
    "recsys-devices": "recsys/devices",
    "video-devices": "video/devices",
    "fleets": "facility/fleets",
}
"""Kind (as `infraplan catalog KIND` and `/api/catalog/KIND` name it) -> catalog folder of one file per preset."""
TABLE_KINDS: dict[str, tuple[str, str]] = {
    "locations": ("locations", "locations"),
    "cooling": ("cooling", "types"),
    "build-types": ("build_types", "build_types"),
    "failure-rates": ("reliability", "failure_rates"),
}
"""Kind -> (file of catalog/facility, its key whose mapping holds one entry per name): the kinds the commands take by
name from one file (`--location`, `--cooling`, `--build-type`, `--failure-rate`; hK76: `catalog cooling` was
"unknown catalog kind", so the shipped presets' fields could be read only in the package's YAML)."""


class CatalogEntry(BaseModel):
    name: str = Field(description="preset name (what a request's field takes)")
    display_name: str | None = Field(None, description="the entry's long name, when it has one")
    source: str | None = Field(None, description="where the entry's figures come from")
    family: str | None = Field(None, description="models: the config's model_type (the architecture family)")
    total_parameters: int | None = Field(None, description="models: parameters of every layer and the embeddings, "
                                         "MTP modules left out (count)")
    active_parameters: int | None = Field(None, description="models: parameters a token touches (an MoE's routed "
                                          "top-k and shared experts; the input embedding counted, as DeepSeek, "
                                          "Qwen and Mistral publish it) (count)")
    active_parameters_without_input_embedding: int | None = Field(
        None, description="models: active_parameters less the input embedding (a lookup, no matmul), as OpenAI's "
        "gpt-oss model card counts them (5.13 B for gpt-oss-120b) (count)")
    layers: int | None = Field(None, description="models: transformer layers (count)")
    context_tokens: int | None = Field(None, description="models: the longest context the config allows, tokens "
                                       "(a rope_scaling factor's extension included) (count)")


class CatalogKind(BaseModel):
    kind: str = Field(description="catalog kind")
    entries: list[CatalogEntry] = Field(description="the shipped presets, by name")


class CatalogListing(Result):
    """`infraplan catalog [KIND]`: the shipped presets of every kind (or of one), by name, with their sources."""

    kinds: list[CatalogKind] = Field(description="each kind with its entries")


def _source(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    value = data.get("source") or data.get("_source")
    return " ".join(str(value).split()) if value else None


@lru_cache(maxsize=64)
def _entry_data(kind: str, name: str) -> Any:
    if kind in TABLE_KINDS:
        table = _table(kind)
        if name not in table:
            raise _unknown(_TABLE_WORDS[kind], name, sorted(table))
        return table[name]
    files = preset_files(KINDS[kind])
    if name not in files:
        raise _unknown(f"{kind} entry", name, sorted(files))
    return parse_text(files[name].read_text(), files[name].name)


_TABLE_WORDS = {"locations": "location", "cooling": "cooling type", "build-types": "build type",
                "failure-rates": "failure rate"}


@lru_cache(maxsize=8)
def _table(kind: str) -> dict[str, Any]:
    filename, key = TABLE_KINDS[kind]
    entry = preset_files("facility")[filename]
    data = parse_text(entry.read_text(), entry.name)
    return dict(data.get(key, {}))


def _unknown(what: str, name: str, known: list[str]) -> InputError:
    """One line for a name that is not in the catalog: the did-you-mean (`catalog model` -> models, `llama3-8` ->
    llama3-8b), then every known name."""
    close = close_names(name, known)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    return InputError(f"unknown {what} {name[:64]!r}; {hint}known: {', '.join(known)}")


def kinds() -> list[str]:
    return [*KINDS, *TABLE_KINDS]


@lru_cache(maxsize=16)
def list_kind(kind: str) -> CatalogKind:
    """Every preset of a kind with its display name and source; InputError for an unknown kind."""
    if kind not in KINDS and kind not in TABLE_KINDS:
        raise _unknown("catalog kind", kind, kinds())
    names = sorted(_table(kind)) if kind in TABLE_KINDS else sorted(preset_files(KINDS[kind]))
    entries = []
    for name in names:
        data = _entry_data(kind, name)
        display = data.get("display_name" if kind != "cooling" else "description") if isinstance(data, dict) else None
        entries.append(CatalogEntry(name=name, display_name=str(display) if display else None,
                                    source=_source(data), **(_model_figures(data, name) if kind == "models" else {})))
    return CatalogKind(kind=kind, entries=entries)


def _model_figures(data: Any, name: str) -> dict[str, Any]:
    """What a model preset is, as the commands read it (`model_config.shape_from_hf_config`): its family, total and
    active parameters, layers and context (hW59: the listing's only column was a display name no config.json has).
    The config's warnings are the commands' to say (stderr, once), not the listing's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shape = shape_from_hf_config(data, name)
    return {"family": shape.model_type, "total_parameters": shape.total_params(),
            "active_parameters": shape.active_params(),
            "active_parameters_without_input_embedding": shape.active_params(input_embedding=False),
            "layers": shape.num_layers,
            "context_tokens": shape.max_seq_len}


def entry(kind: str, name: str) -> Any:
    """One preset's parsed data (a mapping); InputError for an unknown kind or name."""
    if kind not in KINDS and kind not in TABLE_KINDS:
        raise _unknown("catalog kind", kind, kinds())
    return _entry_data(kind, name)
