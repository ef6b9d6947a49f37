"""The shipped presets of a catalog folder (`accelerators/*.yaml`, `systems/*.yaml`, `stacks/*.yaml`, ...), listed
through `importlib.resources` so an installed wheel works as well as a clone.

Its own module (from `catalog.loader`, hN75) so that `catalog.loader_kinds`, which `loader` imports, can name the
preset a user's what-if file `extends` without an import cycle.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

SUFFIXES = (".yaml", ".yml", ".json")


def preset_files(folder: str) -> dict[str, Any]:
    """Preset name -> packaged file, for a catalog folder such as 'systems' or 'video/devices'."""
    return dict(_packaged_files(folder))


@cache
def _packaged_files(folder: str) -> tuple[tuple[str, Any], ...]:
    """The packaged files of a catalog folder, listed once per process (the package does not change while it
    runs; the serving simulator looks stacks up thousands of times per validation run)."""
    base = resources.files("infraplan.catalog")
    for part in folder.split("/"):
        base = base / part
    return tuple((entry.name.rsplit(".", 1)[0], entry) for entry in base.iterdir() if entry.name.endswith(SUFFIXES))


WHAT_IF_KINDS = ("system", "accelerator", "stack")
"""The kinds whose files may start from a preset (`extends: NAME`, `catalog.loader.extended`)."""


def what_if_kind(base: object) -> str | None:
    """The kind ('system', 'accelerator' or 'stack') of the preset named `base` (a what-if file's `extends`), None
    where `base` names none of them."""
    if not isinstance(base, str):
        return None
    return next((kind for kind in WHAT_IF_KINDS if base in preset_files(f"{kind}s")), None)
