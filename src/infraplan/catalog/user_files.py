"""A user's file (model configs, systems, costs, workloads, traces, fleets) read as text and parsed: one InputError line
for a missing, unreadable, binary, huge, empty or malformed file, the same rules for every command and the Python API
(the catalog's presets and `extends` files: `catalog.loader`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from infraplan.catalog.output_files import shown_path as _shown
from infraplan.catalog.versioned_cache import read_by_loads
from infraplan.catalog.yaml_text import safe_load_json, safe_load_yaml
from infraplan.errors import InputError

MAX_USER_FILE_BYTES = 64 * 2**20
"""A user's YAML/JSON/CSV input above 64 MiB is refused (the largest shipped file is a few hundred KiB)."""


def parse_text(text: str, origin: str) -> Any:
    """Parse YAML (or JSON by suffix); malformed text is one InputError line. An empty document is refused."""
    try:
        data = safe_load_json(text) if origin.endswith(".json") else safe_load_yaml(text)
    except (ValueError, yaml.YAMLError, RecursionError) as exc:  # ValueError: JSON's, or a 5,000-digit integer's
        reason = " ".join(str(exc).split(";")[0].split())[:200]
        raise InputError(f"malformed file {_shown(origin)}: {reason}") from None
    if data is None:
        raise InputError(f"file {_shown(origin)} is empty")
    return data


def read_text_file(path: str | Path, what: str = "file") -> str:
    """The text of a user's file; a missing, unreadable, binary, huge or directory path is one InputError line.

    Every user file (model configs, systems, costs, workloads, traces, fleets) is read through here, so the
    rules hold the same for every command and for the Python API.
    """
    shown = _shown(path)
    try:
        file = Path(path)
        if file.is_dir():  # a Hugging Face checkpoint folder: name its config.json (hU41, session 41)
            inside = file / "config.json"
            hint = f": give its config.json, {_shown(inside)}" if what == "model file" and inside.is_file() else ""
            raise InputError(f"{what} {shown} is a directory, not a file{hint}")
        if not file.is_file():  # a pipe or device is not read: a FIFO blocks, /dev/zero never ends (hH70)
            raise InputError(f"{what} {shown} is not a regular file (a pipe or a device)" if file.exists() else
                             f"no such file: {shown}")
        stat = file.stat()
        if stat.st_size > MAX_USER_FILE_BYTES:
            raise InputError(f"{what} {shown} is larger than {MAX_USER_FILE_BYTES // 2**20} MiB")
        read_by_loads(str(path), (stat.st_mtime_ns, stat.st_size))
        return file.read_bytes().decode("utf-8-sig")
    except InputError:
        raise
    except UnicodeDecodeError:
        raise InputError(f"{what} {shown} is not UTF-8 text (a binary file?)") from None
    except OSError as exc:  # name too long, permission denied, a FIFO, ...
        raise InputError(f"cannot read {what} {shown}: {exc.strerror or exc}") from None
    except ValueError as exc:  # embedded NUL byte in the path
        raise InputError(f"cannot read {what} {shown}: {exc}") from None


def read_user_file(path: str | Path) -> Any:
    """Parse a user's YAML/JSON file; a missing, binary, empty or malformed file is one InputError line."""
    return parse_text(read_text_file(path), Path(str(path)[-255:]).name)
