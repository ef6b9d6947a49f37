"""Mutation wave 12 (hM12): the sweep spec's axis values at their edges and the runner's batching, repeats and
error lines, each against the rule its docstring states (sweep/spec.py, sweep/runner.py), and a row's cells
(sweep/results.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infraplan.errors import InputError
from infraplan.sweep.backends import run_task
from infraplan.sweep.query import pareto_front
from infraplan.sweep.results import flatten, table_cell
from infraplan.sweep.runner import _keep_first_errors, run_sweep
from infraplan.sweep.spec import MAX_POINTS, load_spec


class _Recording:
    """Runs every batch in this process, in spec order, and records how many points each held."""

    name, workers = "stub", 1

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def map_unordered(self, batches: Iterator[Any], max_in_flight: int) -> Iterator[tuple[Any, Any]]:
        for batch in batches:
            self.sizes.append(len(batch[1]))
            yield batch, run_task(*batch)

    def close(self) -> None:
        pass


def _run(spec: dict[str, Any], out: Path) -> tuple[Any, _Recording]:
    backend = _Recording()
    return run_sweep(spec, out, backend=backend, flush_s=0, progress=False), backend


def test_a_range_from_a_value_to_itself_is_that_one_value() -> None:
    """start, start + step, ... up to stop, inclusive when it falls on the grid: start = stop is one value."""
    spec = load_spec({"function": "train", "axes": {"gpus": {"range": {"start": 64, "stop": 64, "step": 8}}}})
    assert list(spec.points()) == [{"gpus": 64}] and spec.size() == 1


def test_an_integer_log_axis_drops_the_values_that_round_alike() -> None:
    """num = 10 from 1 to 4 evenly in log: 1, 1.17, 1.36, 1.59, 1.85, 2.16, 2.52, 2.94, 3.43, 4 round to
    1, 1, 1, 2, 2, 2, 3, 3, 3, 4: the axis is 1, 2, 3, 4 (four points, not ten with repeats)."""
    spec = load_spec({"function": "train", "axes": {"tp": {"log": {"start": 1, "stop": 4, "num": 10,
                                                                   "integer": True}}}})
    assert [p["tp"] for p in spec.points()] == [1, 2, 3, 4]
    assert spec.size() == 4


def test_a_spec_of_exactly_the_point_limit_is_accepted() -> None:
    """The limit refuses *above* 10**9 points: 1,000 x 1,000 x 1,000 is the limit itself, 1,000 x 1,000 x 1,001
    is above it."""
    axes = {name: {"range": {"start": 1, "stop": 1000}} for name in ("a", "b", "c")}
    assert load_spec({"function": "train", "axes": axes}).size() == MAX_POINTS
    axes["c"] = {"range": {"start": 1, "stop": 1001}}
    with pytest.raises(InputError, match="1,001,000,000 points"):
        load_spec({"function": "train", "axes": axes})


def test_points_go_in_batches_of_the_batch_size_and_the_rest(tmp_path: Path) -> None:
    """7 points at batch_size 3: tasks of 3, 3 and the remaining 1 (not 4 and 3)."""
    spec = {"function": "sweep_helpers:slow_square", "batch_size": 3, "fixed": {"delay_s": 0.0},
            "axes": {"x": list(range(7))}}
    run, backend = _run(spec, tmp_path / "out")
    assert backend.sizes == [3, 3, 1]
    assert run.points_run == run.rows == 7


def test_a_point_repeated_in_the_spec_runs_once(tmp_path: Path) -> None:
    """x = 1, 2, 1: the third point is the first again (same arguments, same seed): 2 run, 1 skipped, 2 rows."""
    spec = {"function": "sweep_helpers:slow_square", "batch_size": 1, "fixed": {"delay_s": 0.0},
            "axes": {"x": [1, 2, 1]}}
    run, backend = _run(spec, tmp_path / "out")
    assert (run.points, run.points_run, run.points_skipped, run.rows) == (3, 2, 1, 2)
    assert backend.sizes == [1, 1]


def test_an_error_line_is_placed_at_its_first_point_in_the_spec(tmp_path: Path) -> None:
    """x = -1, -2, then -1 again at another delay (another point, the same error line): the lines come in the
    order of their first failed point, so the line of x = -1 (points 0 and 2) comes before that of x = -2."""
    spec = {"function": "sweep_helpers:slow_square", "batch_size": 1,
            "axes": [{"zip": {"x": [-1, -2, -1], "delay_s": [0.0, 0.0, 1e-6]}}]}
    run, _ = _run(spec, tmp_path / "out")
    assert run.points_failed == 3
    assert run.errors == ["InputError: x must be >= 0, got -1", "InputError: x must be >= 0, got -2"]


def test_the_kept_error_lines_are_the_five_first_in_the_spec() -> None:
    """A line first met at position 0 and again at 6 keeps position 0: of six lines (positions 0-5) the five
    first are kept, the one at 5 dropped."""
    errors: dict[str, int] = {}
    _keep_first_errors(errors, [("a", 0), ("b", 1), ("c", 2), ("d", 3), ("e", 4), ("f", 5), ("a", 6)])
    assert errors == {"a": 0, "b": 1, "c": 2, "d": 3, "e": 4}


def test_a_table_cell_of_any_non_finite_float_is_null() -> None:
    """Non-finite floats as null (sweep/results.py): inf and -inf as NaN, a finite float as itself."""
    assert flatten({"a": float("inf"), "b": float("-inf"), "c": float("nan"), "d": 1.5}) == {
        "a": None, "b": None, "c": None, "d": 1.5}
    assert table_cell(float("inf")) is None


def test_an_empty_nested_mapping_is_one_null_column() -> None:
    """Nested mappings become `a__b` columns; an empty one (no field to spread) keeps its column, null, as
    `flatten_result` gives an empty nested model (the two routes must agree)."""
    assert flatten({"a": {}, "b": {"c": 1, "d": {}}}) == {"a": None, "b__c": 1, "b__d": None}


def test_a_row_without_a_finite_objective_is_not_on_the_front() -> None:
    """Rows with a missing objective are left out (sweep/query.py): NaN or infinite time is no answer, so the front
    of (NaN, 1), (inf, 0.5), (2, 1) minimised is the third row alone."""
    rows = [[float("nan"), 1.0], [float("inf"), 0.5], [2.0, 1.0]]
    assert pareto_front(rows, [0, 1], [False, False]) == [2]


def test_an_empty_axis_group_is_refused_whichever_way_it_is_written() -> None:
    """hM12's finding: an empty zip group said it held one point and ran none, an empty product ran one; both are
    now one InputError line (sweep/spec.py `AxisGroup._one`)."""
    from infraplan.errors import InputError
    from infraplan.sweep.spec import load_spec

    for group in ({"zip": {}}, {"product": {}}):
        with pytest.raises(InputError, match="names at least one axis"):
            load_spec({"function": "train", "fixed": {"model": "llama3-8b"}, "axes": [group]})
