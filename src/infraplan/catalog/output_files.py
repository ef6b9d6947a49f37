"""Output files a command writes (`--out`, `--plot`, `--graphml`, `--csv`): the path refused up front when it cannot be
written, and the file written whole or not at all (a temporary file beside it, renamed), so a failed command leaves
nothing half-written. Moved out of catalog/loader.py (session 39) unchanged.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from infraplan.errors import InputError


def shown_path(path: str | Path, limit: int = 80) -> str:
    """A path for an error line: long ones are cut in the middle so the line stays readable."""
    text = str(path)
    return text if len(text) <= limit else f"{text[:40]}...{text[-30:]} ({len(text):,} characters)"


def check_output_path(path: str, option: str) -> Path:
    """Refuse an output path that cannot be written (missing folder, a directory, a name too long), up front.

    Commands call this before they compute, so a bad `--plot`/`--graphml`/`--out` fails fast and writes nothing.
    """
    shown = shown_path(path)
    try:
        target = Path(path)
        folder = target.parent
        if target.is_dir():
            raise InputError(f"{option}: {shown} is a directory; give a file name")
        if not folder.is_dir():
            raise InputError(f"{option}: folder {shown_path(folder)} does not exist")
        if len(target.name.encode()) > os.pathconf(folder, "PC_NAME_MAX"):
            raise InputError(f"{option}: file name too long ({len(target.name):,} characters)")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise InputError(f"{option}: folder {shown_path(folder)} is not writable")
    except InputError:  # a ValueError too: not to be wrapped again below ("--plot: cannot write X: --plot: X ...")
        raise
    except OSError as exc:
        raise InputError(f"{option}: cannot write {shown}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(f"{option}: cannot write {shown}: {exc}") from None
    return target


def write_atomically(path: str, write: Callable[[str], object], option: str) -> str:
    """Write a file whole or not at all: `write(tmp)` fills a temporary file beside `path`, then it is renamed.

    The file gets the permissions the user's umask gives a new file (0666 & ~umask), as `open()` would.
    Returns `path`.
    """
    target = check_output_path(path, option)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".infraplan-", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise InputError(f"{option}: cannot write {shown_path(path)}: {exc.strerror or exc}") from None
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise InputError(f"{option}: cannot write {shown_path(path)}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return str(path)


def _kept(target: Path, folders: list[str]) -> str | None:
    """A hard link to the file now at `target` (a copy where the folder cannot link), in a private folder beside
    it (added to `folders`, removed by the caller), so a rename that fails after `target` was replaced can put the old
    file back; None when there is no old file."""
    if not (target.is_file() or target.is_symlink()):
        return None
    folder = tempfile.mkdtemp(prefix=".infraplan-old-", dir=target.parent)
    folders.append(folder)
    keep = os.path.join(folder, target.name)
    try:
        os.link(target, keep, follow_symlinks=False)  # a link is kept as the link it was
    except OSError:
        shutil.copy2(target, keep, follow_symlinks=False)
    return keep


def _put_back(moved: Sequence[tuple[Path, str | None]]) -> None:
    """Undo the renames done so far (best effort): each old file back in place, each new file without one removed."""
    for target, keep in reversed(moved):
        with contextlib.suppress(OSError):
            if keep is None:
                os.unlink(target)
            else:
                os.replace(keep, target)


def write_together(files: Sequence[tuple[str, Callable[[str], object]]], option: str,
                   options: Sequence[str] | None = None) -> list[str]:
    """Several files whole or none of them: each `write(tmp)` fills a temporary file beside its path, and only when
    all are filled are they renamed into place, so a failure while any is written leaves every one as it was (hH70:
    `plan --out` left services.parquet behind when pools.parquet hit a full disk). A rename that fails after others
    succeeded puts those back: each replaced file is kept (a hard link beside it) until all renames are done, and
    restored, or the new file removed, on a failure (hW51). `options`: each file's option for the error line where
    they differ (`plan --out` with `--report`), else `option`. Returns the paths."""
    named = list(options) if options is not None else [option] * len(files)
    targets = [check_output_path(path, name) for (path, _), name in zip(files, named, strict=True)]
    staged: list[str] = []
    kept: list[str] = []  # the private folders holding the replaced files until all renames are done
    moved: list[tuple[Path, str | None]] = []  # renamed into place so far, with the old file's keeper
    current, option = (files[0][0], named[0]) if files else ("", option)  # the file being written, for the error
    try:
        for (path, write), target, name in zip(files, targets, named, strict=True):
            current, option = path, name
            fd, tmp = tempfile.mkstemp(prefix=".infraplan-", suffix=".tmp", dir=target.parent)
            os.close(fd)
            staged.append(tmp)
            write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        for tmp in staged:
            os.chmod(tmp, 0o666 & ~umask)
        for (path, _), tmp, target, name in zip(files, staged, targets, named, strict=True):
            current, option = path, name
            keep = _kept(target, kept)
            os.replace(tmp, target)
            moved.append((target, keep))
    except BaseException as exc:
        _put_back(moved)
        for tmp in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        for folder in kept:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, OSError):
            raise InputError(f"{option}: cannot write {shown_path(current)}: {exc.strerror or exc}") from None
        raise
    for folder in kept:
        shutil.rmtree(folder, ignore_errors=True)
    return [path for path, _ in files]
