"""Suite-wide set-up: each pytest-xdist worker gets its own temporary folder (`make test` runs `pytest -n auto`).

Tests and helpers that name a fixed path under `tempfile.gettempdir()` (e.g. the fuzz table's sweep output
folder) would otherwise share it between workers running at the same time. Setting `tempfile.tempdir` here,
before any test module is imported, gives every worker a private folder below the system one; a run without
xdist keeps the system folder.

It also hands the slowest tests out first (`SLOWEST_FIRST`, from `pytest --durations`), so that with
`--dist worksteal` the CI workers finish together instead of one running a 15 s test at the end (tests that
read the same per-process cache, e.g. the validation report's sections, sit together at the front of the list:
worksteal gives each worker a contiguous share and steals from its end, so the front runs in one process), and
keeps out of collection the slow-only modules (`SLOW_ONLY_MODULES`) that a default `-m 'not slow'` run would
build and then deselect.

Tests that mostly wait on other processes (`WAITING`: Ray's start-up, Chromium, killed sweep subprocesses: ~35 s
of wall for ~10 CPU s) open the second worker's share of the queue (worksteal hands each worker a contiguous share
and steals from the ends), so the per-process caches of the slow CPU tests at the front stay in the first worker.
(One worker more than the cores, to fill the waits, was tried: on the 2-core VM it measured 58-69 s against
59-68 s with two, alternating runs, so `-n auto` keeps xdist's one per core.)

Last, `pytest.approx` refuses a comparison that its default absolute tolerance decides (`_approx_refuses_the_floor`,
hK65), and so do numpy's `isclose` / `allclose` called from a test (`_numpy_refuses_the_floor`, hS66; their default
atol is 1e-8, `np.testing.assert_allclose`'s 0): a test that cannot fail is no test.
"""

from __future__ import annotations

import gc
import math
import numbers
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

_WORKER_TMP = pytest.StashKey[Path]()

# node-id prefixes of the tests that mostly wait on other processes (module docstring), in the order they run
WAITING = (
    "tests/sweep/test_sweep_ray.py",  # Ray's start-up: ~11 s of wall, ~5 CPU s in Ray's own processes
    # the compare of two presets, then the browser's (its live server runs in this process: the sizing caches hit)
    "tests/web/test_web_scenarios.py::test_compare_of_two_presets_equals_the_cli",
    "tests/web/test_web_browser.py",  # Chromium: ~12 s of wall, ~7 CPU s in its own processes
    "tests/sweep/test_sweep_local.py",  # kill -9 / Ctrl-C of sweep subprocesses: mostly waiting
)

# node-id prefixes of the tests that take seconds (`make test` durations on 2 cores), slowest first; the rest keep
# their collection order after them. A stale entry only costs balance, never a test.
SLOWEST_FIRST = (
    # first, so that its worker is through them before a steal (from the end of its queue) can reach them
    "tests/validation/test_validation.py",  # the per-process validation report (~9-11 CPU s, shared by the module)
    # next to it, so that the same worker runs them on the same per-process caches: the report itself, its
    # training rows and scored sets (`validation.runner.case_rows` / `scored_sets`: the error bands, ~1.5 CPU s)
    # and its sections (serving hopper, inference, inference frontier, recsys MLPerf: each cached per process)
    "tests/cli/test_fuzz.py::test_hostile_values_on_every_option[validate]",
    "tests/validation/test_sets.py::test_stored_error_bands_are_current",
    "tests/validation/test_shared_scoring.py",
    "tests/validation/test_sets.py::test_gated_training_cases_meet_the_gate_and_beat_a_constant_mfu",
    "tests/serving/test_serving_hopper.py",
    "tests/cli/test_schema.py::test_validation_report_round_trips",
    "tests/serving/test_serving_validation.py",  # the inference section (`inference.inference_report`)
    "tests/validation/test_inference_frontier.py",
    "tests/validation/test_recsys_mlperf.py",
    "tests/validation/test_serving_hopper_moe.py",  # its set is one of `scored_sets`
    "tests/validation/test_serving_hopper_disagg.py",  # so is its (~5 CPU s): scored twice when on the other worker
    # (a set scored again in another worker costs up to ~8 CPU s: seen when these came after the two below)
    "tests/planning/test_scenario.py::test_gigawatt_2027_fills_the_campus_at_epoch_capex",  # ~6-8 CPU s
    "tests/planning/test_scenario.py::test_meta_2024_preset_anchors",  # ~4-6 CPU s
    *WAITING,  # under xdist moved to the second worker's share (`pytest_collection_modifyitems`)
    "tests/cli/test_fuzz.py::test_hostile_values_on_every_option",
    "tests/test_consistency.py::test_serving_memory_estimate_covers_the_measured_per_request_cost",
    "tests/serving/test_capacity_search_work.py::test_shortcuts_give_the_plain_search_with_fewer_simulations",
    "tests/serving/test_capacity_steady_state.py",
    "tests/serving/test_llm_iteration.py::test_measured_phase_times_rank_like_the_model",
    "tests/training/test_search_bounds.py",
    "tests/training/test_stage_work_bound.py",
    "tests/training/test_search.py",
    "tests/training/test_one_plan_float_path.py",
    "tests/training/test_search_grid_memory.py",
    "tests/training/test_properties.py",
    "tests/training/test_search_speed.py",
    "tests/network/test_topology.py::test_graphml_export_round_trips",
    "tests/web/test_web_schemathesis.py",
)


SLOW_ONLY_MODULES = ("tests/web/test_web_schemathesis_slow.py",)
"""Modules whose every test is marked slow: not collected at all when `-m` deselects slow tests, as the default run
does (collecting them would import and build what no selected test uses)."""


def _slow_deselected(config: pytest.Config) -> bool:
    """Whether the `-m` expression refuses a test marked only `slow` (the default `-m 'not slow'` does)."""
    from _pytest.mark.expression import Expression

    markexpr = config.getoption("markexpr", "")
    if not markexpr:
        return False
    try:
        return not Expression.compile(markexpr).evaluate(lambda name, **_: name == "slow")
    except Exception:  # an expression pytest itself will report: collect, let pytest say why
        return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    relative = collection_path.relative_to(config.rootpath).as_posix() if collection_path.is_relative_to(
        config.rootpath) else ""
    if relative in SLOW_ONLY_MODULES and _slow_deselected(config):
        return True
    return None  # no opinion: pytest's own rules decide


def _rank(nodeid: str) -> int:
    return next((i for i, prefix in enumerate(SLOWEST_FIRST) if nodeid.startswith(prefix)), len(SLOWEST_FIRST))


@pytest.hookimpl(trylast=True)  # after `-m` has deselected: the split below counts the items that will run
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slowest first (a stable sort: every xdist worker computes the same order, as xdist requires); under xdist
    the `WAITING` tests then start the second worker's initial share, which begins at len(items) // workers
    (worksteal's first split: each idle worker in turn gets len(pending) // workers left)."""
    items.sort(key=lambda item: _rank(item.nodeid))
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    waiting = [item for item in items if item.nodeid.startswith(WAITING)]
    if workers < 2 or not waiting:
        return
    rest = [item for item in items if not item.nodeid.startswith(WAITING)]
    start = min(len(items) // workers, len(rest))
    items[:] = [*rest[:start], *waiting, *rest[start:]]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection built (every test module, the app) out of the cyclic
    garbage collector: later full collections then scan only what tests create (GC time -30 % on 433 tests)."""
    gc.collect()
    gc.freeze()


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


def _console_follows_the_environment() -> None:
    output = sys.modules.get("infraplan.cli.commands._output")  # not imported: no console yet
    made = vars(output).get("console") if output is not None else None
    if made is not None:
        made._width = made._height = None  # what `Console()` keeps where COLUMNS / LINES are unset


@pytest.fixture(autouse=True)
def _shared_console_width() -> Iterator[None]:
    """The CLI's one Rich console per process (`cli.commands._output.console`) fixes its width at creation from
    COLUMNS (rich reads it in `Console.__init__`), and `monkeypatch.setattr(console, "width", w)` undoes itself by
    writing back the width it read, a fixed number: either left every later test in that xdist worker at 100 or 80
    columns, whatever COLUMNS it set (hL45's `test_the_text_says_what_is_bought` cut its total line at 100, hM25).
    Before and after each test the console reads COLUMNS / LINES again at every print, as a fresh process's does."""
    _console_follows_the_environment()
    yield
    _console_follows_the_environment()


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_WORKER_TMP, None)
    if folder is not None:
        tempfile.tempdir = None
        shutil.rmtree(folder, ignore_errors=True)


# pytest.approx's scalar comparator (the class of a public object: no import from `_pytest`)
_APPROX_SCALAR = type(pytest.approx(1.0))
_approx_scalar_eq = _APPROX_SCALAR.__eq__
FLOOR_SHARE = 0.01
"""The largest share of an expected value that pytest.approx's default absolute tolerance may be (1e-12 abs; 1 %
of 1e-10 s, 0.1 ns): above it the floor, not the relative tolerance asked for, decides the comparison."""


def floor_decides(approx: Any) -> bool:
    """Whether pytest.approx, given no abs=, compares a nonzero finite real expected value with its default absolute
    tolerance (1e-12) above both the relative tolerance and `FLOOR_SHARE` of the value. `approx(6e-11, rel=1e-12)`
    passes anything within 1e-12, 1.7 % of 6e-11: a 61-layer mutant of a 62-layer cost passed (hI65)."""
    if approx.abs is not None:
        return False  # the writer's own absolute tolerance
    expected = approx.expected
    if not isinstance(expected, float) and (isinstance(expected, bool) or not isinstance(expected, numbers.Real)):
        return False
    value = abs(float(expected))
    floor = float(approx.DEFAULT_ABSOLUTE_TOLERANCE)
    rel = approx.DEFAULT_RELATIVE_TOLERANCE if approx.rel is None else approx.rel
    return 0 < value < math.inf and floor > max(float(rel) * value, FLOOR_SHARE * value)


def _approx_refuses_the_floor(self: Any, actual: object) -> bool:
    """pytest.approx's comparison, failing the test instead where `floor_decides` (the value is too small for
    pytest's default absolute tolerance): give abs=0, an abs well below the value, or compare in a natural unit."""
    if floor_decides(self):
        expected, floor = self.expected, self.DEFAULT_ABSOLUTE_TOLERANCE
        pytest.fail(f"pytest.approx({expected!r}) without abs=: pytest's default abs={floor:g} is "
                    f"{floor / abs(expected):.1%} of the value and passes any value that close; give abs=0, an abs "
                    "well below the value, or compare in a natural unit (tests/conftest.py, hK65)")
    return _approx_scalar_eq(self, actual)


_APPROX_SCALAR.__eq__ = _approx_refuses_the_floor


NUMPY_ATOL = 1e-8
"""numpy's default absolute tolerance of `isclose` / `allclose` (numpy 2.4 `_core/numeric.py`): |a - b| <= atol +
rtol * |b| passes any value within 1e-8 of a reference of 1e-7 s (a small kernel) or less."""
_TESTS = str(Path(__file__).parent) + os.sep


def numpy_floor_decides(desired: Any, rtol: Any) -> float | None:
    """The least nonzero finite |value| of `desired` (numpy's reference, its `b`) where `NUMPY_ATOL` is above both
    rtol x value and `FLOOR_SHARE` of it (the default atol, not the relative tolerance, decides), else None."""
    try:
        values = np.abs(np.asarray(desired, dtype=float))
    except (TypeError, ValueError):
        return None
    tolerance = np.maximum(np.abs(rtol) * values, FLOOR_SHARE * values)
    decided = (values > 0) & np.isfinite(values) & (tolerance < NUMPY_ATOL)
    return float(values[decided].min()) if decided.any() else None


def _numpy_refuses_the_floor(compare: Any) -> Any:
    """numpy's `compare` (isclose or allclose), failing a test's call that gives no atol where `numpy_floor_decides`:
    give atol=0 (rtol alone), an atol well below the value, or compare in a natural unit. Calls from outside tests/
    (the package, a library) compare as numpy's own."""

    def guarded(a: Any, b: Any, rtol: Any = 1e-05, atol: Any = None, equal_nan: bool = False) -> Any:
        if atol is None:
            caller = sys._getframe(1).f_code.co_filename
            if caller.startswith(_TESTS) and (value := numpy_floor_decides(b, rtol)) is not None:
                pytest.fail(f"np.{compare.__name__} of {value:g} without atol=: numpy's default atol={NUMPY_ATOL:g} is "
                            f"{NUMPY_ATOL / value:.1%} of the value and passes any value that close; give atol=0 (rtol "
                            "alone), an atol well below the value, or compare in a natural unit (tests/conftest.py, "
                            "hS66)")
            atol = NUMPY_ATOL
        return compare(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)

    guarded.__name__, guarded.__doc__ = compare.__name__, compare.__doc__
    return guarded


np.isclose, np.allclose = _numpy_refuses_the_floor(np.isclose), _numpy_refuses_the_floor(np.allclose)
