"""Suite-wide set-up: each pytest-xdist worker gets its own temporary folder (`make test` runs `pytest -n auto`).

Tests and helpers that name a fixed path under `tempfile.gettempdir()` (e.g. the fuzz table's sweep output
folder) would otherwise share it between workers running at the same time. Setting `tempfile.tempdir` here,
before any test module is imported, gives every worker a private folder below the system one; a run without
xdist keeps the system folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_WORKER_TMP = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ... inside an xdist worker; unset otherwise
    if worker:
        folder = Path(tempfile.gettempdir()) / f"infraplan-tests-{os.getpid()}-{worker}"
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.tempdir = str(folder)
        config.stash[_WORKER_TMP] = folder
        # the worker inherits COLUMNS=80 LINES=24 from xdist; rich's module-level Console would freeze at 80
        # columns at import, and tests that set COLUMNS themselves would then see the wrong width
        for name in ("COLUMNS", "LINES"):
            os.environ.pop(name, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_WORKER_TMP, None)
    if folder is not None:
        tempfile.tempdir = None
        shutil.rmtree(folder, ignore_errors=True)
