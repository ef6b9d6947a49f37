"""Find and load catalog entries: a preset name shipped in the package, or a path to a user's file.

Presets live beside this module (`accelerators/*.yaml`, `systems/*.yaml`, `models/*.json`) and are
read through `importlib.resources`, so an installed wheel works as well as a clone.
"""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from infraplan.catalog.model_config import TransformerShape, shape_from_hf_config
from infraplan.catalog.schemas import Accelerator, System
from infraplan.errors import InputError

_SUFFIXES = (".yaml", ".yml", ".json")


def preset_files(folder: str) -> dict[str, Any]:
    """Preset name -> packaged file, for a catalog folder such as 'systems' or 'video/devices'."""
    base = resources.files("infraplan.catalog")
    for part in folder.split("/"):
        base = base / part
    return {entry.name.rsplit(".", 1)[0]: entry for entry in base.iterdir() if entry.name.endswith(_SUFFIXES)}


def list_presets(folder: str) -> list[str]:
    """Names of the shipped presets in a catalog folder ('accelerators', 'systems', 'models', ...)."""
    return sorted(preset_files(folder))


def parse_text(text: str, origin: str) -> Any:
    try:
        if origin.endswith(".json"):
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        reason = str(exc).replace("\n", " ")
        raise InputError(f"malformed file {origin}: {reason}") from None


def looks_like_path(ref: str) -> bool:
    return "/" in ref or ref.endswith((".yaml", ".yml", ".json"))


def read_user_file(path: str | Path) -> Any:
    """Parse a user's YAML/JSON file; a missing or malformed file is one InputError line."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"no such file: {path}")
    return parse_text(file.read_text(), file.name)


def read_entry(folder: str, ref: str, what: str | None = None) -> tuple[dict[str, Any], str]:
    """Return (raw mapping, display name) for a preset in a catalog folder or a file path.

    `what` names the entry in errors (default: the folder name without its plural s).
    """
    what = what or folder.rsplit("/", 1)[-1].removesuffix("s")
    if looks_like_path(ref):
        path = Path(ref)
        if not path.is_file():
            raise InputError(f"no such file: {ref}")
        data = parse_text(path.read_text(), path.name)
        name = path.stem if path.stem != "config" else path.parent.name or "config"
    else:
        presets = preset_files(folder)
        if ref not in presets:
            close = difflib.get_close_matches(ref, list(presets), n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(close)}?" if close else f"; known: {', '.join(sorted(presets))}"
            raise InputError(f"unknown {what} {ref!r}{hint}")
        entry = presets[ref]
        data = parse_text(entry.read_text(), entry.name)
        name = ref
    if not isinstance(data, dict):
        raise InputError(f"{what} file {ref!r} must hold a mapping")
    return data, name


ModelT = TypeVar("ModelT", bound=BaseModel)


def validated(cls: type[ModelT], data: Any, ref: str, what: str | None = None) -> ModelT:
    """Validate `data` as `cls`; the first error becomes one line naming the file, field and problem."""
    label = what or cls.__name__.lower()
    if not isinstance(data, dict):
        raise InputError(f"{label} {ref!r} must be a mapping")
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(file)"
        raise InputError(f"invalid {label} {ref!r}: {where}: {err['msg']}") from None


@lru_cache(maxsize=256)
def load_accelerator(ref: str) -> Accelerator:
    data, name = read_entry("accelerators", ref)
    data.setdefault("name", name)
    return validated(Accelerator, data, ref)


@lru_cache(maxsize=256)
def load_system(ref: str) -> System:
    data, name = read_entry("systems", ref)
    data.setdefault("name", name)
    system = validated(System, data, ref)
    load_accelerator(system.accelerator)  # the accelerator it names must exist
    return system


@lru_cache(maxsize=256)
def load_model(ref: str) -> TransformerShape:
    data, name = read_entry("models", ref)
    return shape_from_hf_config(data, name)
