"""Suite-wide set-up: each pytest-xdist worker gets its own temporary folder (`make test` runs `pytest -n auto`).

Tests and helpers that name a fixed path under `tempfile.gettempdir()` (e.g. the fuzz table's sweep output
folder) would otherwise share it between workers running at the same time. Setting `tempfile.tempdir` here,
before any test module is imported, gives every worker a private folder below the system one; a run without
xdist keeps the system folder.

It also hands the slowest tests out first (`SLOWEST_FIRST`, from `pytest --durations`), so that with
`--dist worksteal` the two CI workers finish together instead of one running a 15 s test at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_WORKER_TMP = pytest.StashKey[Path]()

# node-id prefixes of the tests that take seconds (`make test` durations on 2 cores), slowest first; the rest keep
# their collection order after them. A stale entry only costs balance, never a test.
SLOWEST_FIRST = (
    "tests/validation/test_validation.py",  # the per-process validation report (~15 s, shared by the module)
    "tests/planning/test_scenario.py::test_meta_2024_preset_anchors",
    "tests/planning/test_scenario.py::test_gigawatt_2027_fills_the_campus_at_epoch_capex",
    "tests/sweep/test_sweep_ray.py",
    "tests/web/test_web_scenarios.py::test_compare_of_two_presets_equals_the_cli",
    "tests/cli/test_fuzz.py::test_hostile_values_on_every_option",
    "tests/training/test_search.py::test_search_best_equals_a_plain_loop_over_single_estimates",
    "tests/test_consistency.py::test_serving_memory_estimate_covers_the_measured_per_request_cost",
    "tests/web/test_web_browser.py",
    "tests/sweep/test_sweep_local.py",
    "tests/training/test_properties.py",
    "tests/web/test_web_schemathesis.py",
    "tests/serving/test_serving_validation.py",
    "tests/serving/test_serving_hopper.py",
    "tests/training/test_search_bounds.py",
)


def _rank(nodeid: str) -> int:
    return next((i for i, prefix in enumerate(SLOWEST_FIRST) if nodeid.startswith(prefix)), len(SLOWEST_FIRST))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slowest first (a stable sort: every xdist worker computes the same order, as xdist requires)."""
    items.sort(key=lambda item: _rank(item.nodeid))


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
