"""A sweep's results on disk: Parquet part files plus a manifest, written so a crash never corrupts the table.

Layout of a results folder:

    manifest.json          format, function, spec, infraplan version, catalog hash, the list of committed parts
    parts/part-NNNNNN-<token>.parquet     one row per point (key, error, in_* inputs, flattened outputs, ...)

A part is written to a temporary name, fsynced and renamed; only then is the manifest rewritten the same way
(temporary file, fsync, rename, fsync of the folder). The manifest is the commit: a part it does not list
(a kill -9 between the two renames) is deleted when the folder is next opened and its points run again, so
after any crash and a rerun every point is there exactly once. Finished points are found by reading the `key`
column of the committed parts. One writer per folder at a time: a writer holds an exclusive POSIX lock
(`lockf`) on `.lock` in the folder, released by the kernel when its process dies (kill -9 included) and not
inherited by the forked pool workers, and a second sweep into the same folder is refused in one line (two
writers each recomputed what the other was computing and rewrote the manifest without the other's parts: the
first reported 100 rows, the manifest kept 3 of 5 part files, the last writer's).

The manifest's `complete` says whether the run that last wrote the folder finished every point of its spec: it is
written false before a run computes anything and true only when the run ends without Ctrl-C or an error, so a
folder left by a kill, a Ctrl-C or a crash reads as incomplete in `infraplan results` (`sweep_complete`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import sys
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from infraplan.catalog.loader import looks_like_path
from infraplan.catalog.versioned_cache import Version, file_version
from infraplan.errors import InputError

Read = TypeVar("Read")
FORMAT = 1
MANIFEST = "manifest.json"
PARTS = "parts"
LOCK = ".lock"
META_COLUMNS = ("key", "point_id", "function", "sweep_seed", "error", "config_warnings", "infraplan_version",
                "catalog_hash", "stack_hash")
"""The columns every row has, first in a loaded table; then the `in_*` inputs, then the outputs, by name."""


def infraplan_version() -> str:
    """`infraplan.__version__` (read from the loaded package: importing the root would pull in its API table)."""
    return str(sys.modules["infraplan"].__version__)


@lru_cache(maxsize=1)
def catalog_hash() -> str:
    """Content hash of every catalog data file (YAML, JSON, CSV) shipped with infraplan."""
    return _tree_hash(Path(__file__).resolve().parents[1] / "catalog")


@lru_cache(maxsize=1)
def stacks_hash() -> str:
    """Content hash of the software-stack profiles (catalog/stacks)."""
    return _tree_hash(Path(__file__).resolve().parents[1] / "catalog" / "stacks")


def _tree_hash(root: Path) -> str:
    digest = hashlib.blake2b(digest_size=10)
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".json", ".csv") and p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\x00" + path.read_bytes() + b"\x00")
    return digest.hexdigest()


def file_hash(path: str) -> str | None:
    """Content hash of a user file an argument names (a config.json, system/stack/workload YAML), else None; hashed
    again when the file's (mtime, size) changes (keyed on the path only, a file edited between two sweeps of one
    process kept its first hash, so the first version's stored rows were reused)."""
    return _file_hash(path, file_version(path) if looks_like_path(path) else None)


@lru_cache(maxsize=4096)
def _file_hash(path: str, version: Version) -> str | None:
    try:
        target = Path(path)
        if len(path) > 4096 or not target.is_file():
            return None
        return hashlib.blake2b(target.read_bytes(), digest_size=10).hexdigest()
    except (OSError, ValueError):
        return None


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows (dicts with possibly different keys: a failed point has no outputs) as one Arrow table.

    Column types are inferred from every row; a column whose values mix kinds (text and numbers) is stored as
    JSON text so the part still writes.
    """
    names = list(dict.fromkeys(k for row in rows for k in row))
    arrays = {}
    for name in names:
        values = [row.get(name) for row in rows]
        try:
            arrays[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            arrays[name] = pa.array([None if v is None else json.dumps(v, default=str) for v in values],
                                    type=pa.string())
    return pa.table(arrays)


class ResultStore:
    """One results folder: open (recovering from a crash), append rows as committed parts, list what is done."""

    def __init__(self, folder: str | Path, function: str, spec: Mapping[str, Any] | None = None,
                 create: bool = True) -> None:
        self.folder = Path(folder)
        self.parts_folder = self.folder / PARTS
        self._lock: int | None = None
        try:
            if create:
                self.parts_folder.mkdir(parents=True, exist_ok=True)
                self._lock = _writer_lock(self.folder)
            elif not (self.folder / MANIFEST).is_file():
                raise InputError(f"{_shown(self.folder)} holds no sweep results (no {MANIFEST}){_plan_tables(folder)}")
        except OSError as exc:
            raise InputError(f"--out {_shown(self.folder)}: cannot use it ({exc.strerror or exc})") from None
        try:
            self.manifest = self._read_manifest()
            if self.manifest.get("function", function) != function:
                raise InputError(f"{_shown(self.folder)} holds a {self.manifest['function']!r} sweep, not "
                                 f"{function!r}; give another --out")
            self.manifest.setdefault("format", FORMAT)
            self.manifest["function"] = function
            if spec is not None:
                self.manifest["spec"] = dict(spec)
            self.manifest.setdefault("parts", [])
            if create:
                self._drop_uncommitted()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the writer lock (a store opened with `create`)."""
        lock, self._lock = getattr(self, "_lock", None), None  # (None where __init__ failed before the lock)
        if lock is not None:
            os.close(lock)  # closing the descriptor drops the process's lock

    def __del__(self) -> None:
        self.close()

    def _read_manifest(self) -> dict[str, Any]:
        path = self.folder / MANIFEST
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{_shown(path)} is not a sweep manifest ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("parts"), list):
            raise InputError(f"{_shown(path)} is not a sweep manifest of format {FORMAT}")
        return data

    def _drop_uncommitted(self) -> None:
        """Delete part files and temporaries the manifest does not list (left by a crash)."""
        committed = set(self.manifest["parts"])
        for path in self.parts_folder.iterdir():
            if f"{PARTS}/{path.name}" not in committed:
                with contextlib.suppress(OSError):
                    path.unlink()
        for path in self.folder.glob(f".{MANIFEST}.*.tmp"):
            with contextlib.suppress(OSError):
                path.unlink()

    @property
    def part_paths(self) -> list[Path]:
        return [self.folder / p for p in self.manifest["parts"]]

    def done_keys(self) -> set[str]:
        keys: set[str] = set()
        for path in self.part_paths:
            keys.update(read_part(path, lambda p: pq.read_table(p, columns=["key"])).column("key").to_pylist())
        return keys

    def rows(self) -> int:
        return int(sum(read_part(p, pq.ParquetFile).metadata.num_rows for p in self.part_paths))

    def append(self, tables: list[pa.Table]) -> None:
        """Commit tables of rows as one new part: part file first, then the manifest that lists it."""
        tables = [t for t in tables if t.num_rows]
        if not tables:
            return
        table = pa.concat_tables(tables, promote_options="permissive")
        name = f"part-{len(self.manifest['parts']) + 1:06d}-{secrets.token_hex(4)}.parquet"
        target = self.parts_folder / name
        tmp = self.parts_folder / f".{name}.tmp"
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        manifest = {**self.manifest, "parts": [*self.manifest["parts"], f"{PARTS}/{name}"],
                    "infraplan_version": infraplan_version(), "catalog_hash": catalog_hash()}
        _write_atomic(self.folder / MANIFEST, json.dumps(manifest, indent=1, default=str).encode())
        self.manifest = manifest

    def mark(self, complete: bool) -> None:
        """Record in the manifest whether the run that writes this folder has finished its spec."""
        manifest = {**self.manifest, "complete": complete, "infraplan_version": infraplan_version(),
                    "catalog_hash": catalog_hash()}
        _write_atomic(self.folder / MANIFEST, json.dumps(manifest, indent=1, default=str).encode())
        self.manifest = manifest


def _writer_lock(folder: Path) -> int | None:
    """An exclusive, non-blocking POSIX lock on the folder's lock file (None where the OS has none). A POSIX lock
    (not `flock`) belongs to this process only: forked pool workers, which inherit the descriptor, do not hold it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: one writer per folder is then the user's to keep
        return None
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise InputError(f"--out {_shown(folder)}: another sweep is writing to it; wait for it to finish or "
                             "give another --out") from None
        raise
    return fd


def _plan_tables(folder: Path | str) -> str:
    """What a folder without a manifest holds where it is `infraplan plan --out`'s (its Parquet tables, named by
    `planning.scenario_outputs.TABLES`): a planner asked `results` of it and read only "holds no sweep results"
    (hU54). Empty otherwise."""
    from infraplan.planning.scenario_outputs import TABLES

    path = Path(folder)
    try:
        found = [t for t in TABLES if (path / f"{t}.parquet").is_file()]
    except OSError:  # a name the file system refuses (too long: ENAMETOOLONG is not one is_file ignores)
        return ""
    if "phases" not in found:
        return ""
    example = (path / "pools.parquet").as_posix().replace("'", "''")
    return (f": it holds the tables of `infraplan plan --out` ({', '.join(found)}; .parquet), which `results` does "
            f"not read (it reads `infraplan sweep --out` folders); query them with DuckDB itself, e.g. "
            f"SELECT * FROM '{example}'")


def _shown(path: Path | str) -> str:
    text = str(path) if str(path).isprintable() else ascii(str(path))
    return text if len(text) <= 120 else text[:120] + "..."


def read_part(path: Path, read: Callable[[Path], Read]) -> Read:
    """`read(path)` of a part file the manifest lists; one that is gone or not Parquet (a folder damaged by hand) is
    one line, not pyarrow's traceback (hR52: a resumed sweep reads its parts first, `runner.points_to_run`)."""
    try:
        return read(path)
    except (OSError, pa.ArrowException) as exc:
        why = "missing" if isinstance(exc, FileNotFoundError) else "not a readable Parquet file"
        raise InputError(f"sweep part {_shown(path)} listed in its folder's {MANIFEST} is {why}: restore the "
                         "folder, or sweep into a new --out folder") from None


def load_table(folder: str | Path) -> pa.Table:
    """Every committed row of a results folder as one table, sorted by key, columns in a canonical order.

    Parts may disagree on a column's type (an all-null column in one part; ints in one, floats in another):
    they are unified by Arrow's permissive promotion. Two runs of one spec (any backend, any batching, any
    number of crashes) give equal tables.
    """
    store = ResultStore(folder, function=_function_of(folder), create=False)
    tables = [read_part(p, pq.read_table) for p in store.part_paths]
    if not tables:
        return pa.table({name: pa.array([], type=pa.string()) for name in META_COLUMNS})
    table = pa.concat_tables(tables, promote_options="permissive")
    return table.select(canonical_columns(table.column_names)).sort_by("key")


def canonical_columns(names: Iterable[str]) -> list[str]:
    """`names` in the canonical order (META_COLUMNS, then the `in_*` inputs, then the outputs, by name): one order
    whatever order the parts were written in (`load_table`, and the `results` view of `sweep.query`)."""
    present = set(names)
    inputs = sorted(n for n in present if n.startswith("in_"))
    outputs = sorted(n for n in present if n not in META_COLUMNS and not n.startswith("in_"))
    return [*(n for n in META_COLUMNS if n in present), *inputs, *outputs]


def _function_of(folder: str | Path) -> str:
    path = Path(folder) / MANIFEST
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("function", ""))
    except (OSError, ValueError, AttributeError):
        raise InputError(f"{_shown(folder)} holds no sweep results (no readable {MANIFEST})"
                         f"{_plan_tables(folder)}") from None


def sweep_complete(folder: str | Path) -> bool | None:
    """Whether the last run that wrote the folder finished its spec (None: written before the manifest said)."""
    complete = ResultStore(folder, function=_function_of(folder), create=False).manifest.get("complete")
    return complete if isinstance(complete, bool) else None


def committed_parts(folder: str | Path) -> list[Path]:
    """The part files a results folder's manifest lists (what queries read)."""
    return ResultStore(folder, function=_function_of(folder), create=False).part_paths
