"""The interpreter `make` builds .venv from (Makefile PYTHON): the first of PYTHON_CANDIDATES that runs, is CPython 3.11
or newer and has `ensurepip` (a venv with pip), else `python3` on PATH; the distribution's /usr/bin/python3 first,
Debian's PGO / LTO build taking ~12.4 % fewer instructions a never-seen estimate than pyenv's 3.11.7
(validation/notes/serving_speed_tried.md, hE session 54). A candidate that exists but does not run (a pyenv shim of a
version not selected) or is too old is passed over; `make PYTHON=...` still overrides."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")


def _python(*args: str) -> str:
    done = subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "--eval", "print-python: ; @echo $(PYTHON)",
                           "print-python", *args], capture_output=True, text=True, check=True, cwd=ROOT)
    return done.stdout.strip()


def test_the_first_candidate_that_runs_and_makes_a_venv_is_chosen(tmp_path: Path) -> None:
    broken = tmp_path / "python3.13"  # a shim whose version is not installed: exists, exits 127
    broken.write_text("#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\nexit 127\n")
    broken.chmod(0o755)
    assert _python(f"PYTHON_CANDIDATES={broken} {sys.executable}") == sys.executable


def test_python3_when_no_candidate_fits(tmp_path: Path) -> None:
    old = tmp_path / "python3.10"  # runs, but older than requires-python
    old.write_text("#!/bin/sh\nexit 1\n")
    old.chmod(0o755)
    assert _python(f"PYTHON_CANDIDATES={tmp_path / 'missing'} {old}") == "python3"


def test_an_explicit_python_wins() -> None:
    assert _python("PYTHON=/opt/some/python3.12") == "/opt/some/python3.12"
