"""Another kind's file where an accelerator is asked for: one line saying what the file is and what to give instead.

`--accelerator FILE` (recsys, facility --count, campus) and a what-if's `extends:` read an accelerator file
(`catalog.loader.load_accelerator`). A video ASIC's file there (hU50) and a system file there (hA50, session 45: a
hardware architect's rack file given to `recsys --accelerator` or `campus --accelerator` read "invalid accelerator
'rack.yaml': vendor: Field required") are each named, with the file to give: a system file's own `accelerator:`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infraplan.catalog.output_files import shown_path
from infraplan.errors import InputError

SYSTEM_KEYS = frozenset({"node", "network", "total_accelerators"})
"""Keys only a system file holds (`catalog.schemas.System`); an accelerator file holds none of them."""


def refuse_other_kind(data: dict[str, Any], ref: str, beside: Callable[[str, str], str]) -> None:
    """InputError where the mapping read from `ref` is a video device's or a system's, not an accelerator's
    (`beside`: `catalog.loader.beside`, the path a file written inside `ref` names)."""
    if data.get("kind") == "video-asic":
        raise InputError(f"{shown_path(ref)} is a video device file (kind: video-asic), not an accelerator: `video "
                         "--device FILE` and a fleet-mix pool take it")
    if "peak_flops_per_s" in data or not SYSTEM_KEYS & set(data):
        return
    inner = data.get("accelerator")
    named = f": {shown_path(beside(inner, ref))}" if isinstance(inner, str) else ""
    raise InputError(f"{shown_path(ref)} is a system file (node, network), not an accelerator file: give its "
                     f"accelerator's file or preset here{named}; `train`, `search`, `serve`, `serve-plan`, `facility` "
                     "and a fleet-mix pool take the system file itself (--system, `device:`)")
