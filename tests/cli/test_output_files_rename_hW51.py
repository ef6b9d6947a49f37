"""`write_together` is all or none through its renames too (hW51): the files were renamed into place one by one,
so a rename failing at the third file left the first two new files in place (one of them over an older file).
Now each replaced file is kept until every rename is done and put back on a failure; a new file is removed."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from infraplan.catalog import output_files
from infraplan.catalog.output_files import write_together
from infraplan.errors import InputError


def _write(text: str) -> Callable[[str], object]:
    return lambda tmp: Path(tmp).write_text(text)


def _rename_fails_on(monkeypatch: pytest.MonkeyPatch, name: str, code: int, message: str) -> None:
    """`os.replace` of a temporary onto `name` raises OSError(code, message); every other rename runs."""
    real = os.replace

    def replace(src: str, dst: str | Path) -> None:
        if Path(dst).name == name and Path(src).name.startswith(".infraplan-"):
            raise OSError(code, message)
        real(src, dst)

    monkeypatch.setattr(output_files.os, "replace", replace)


def test_a_failed_rename_restores_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text("old a")
    (tmp_path / "c.txt").write_text("old c")
    _rename_fails_on(monkeypatch, "c.txt", errno.EXDEV, "Invalid cross-device link")
    files = [(str(tmp_path / name), _write(f"new {name[0]}")) for name in ("a.txt", "b.txt", "c.txt")]
    with pytest.raises(InputError, match=r"^--out: cannot write .*c\.txt: Invalid cross-device link$"):
        write_together(files, "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "c.txt"]  # no b.txt, no temporary, no keeper
    assert (tmp_path / "a.txt").read_text() == "old a"  # was "new a": renamed before c.txt failed
    assert (tmp_path / "c.txt").read_text() == "old c"


def test_a_whole_write_replaces_and_leaves_no_keeper(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("old a")
    paths = write_together([(str(tmp_path / n), _write(f"new {n[0]}")) for n in ("a.txt", "b.txt")], "--out")
    assert paths == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]
    assert [(tmp_path / n).read_text() for n in ("a.txt", "b.txt")] == ["new a", "new b"]


def test_a_failed_rename_puts_a_link_back_as_a_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "real.txt").write_text("real")
    (tmp_path / "a.txt").symlink_to("real.txt")
    _rename_fails_on(monkeypatch, "b.txt", errno.ENOSPC, "No space left on device")
    with pytest.raises(InputError, match=r"b\.txt: No space left on device$"):
        write_together([(str(tmp_path / n), _write("new")) for n in ("a.txt", "b.txt")], "--out")
    assert (tmp_path / "a.txt").is_symlink() and (tmp_path / "a.txt").read_text() == "real"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "real.txt"]
