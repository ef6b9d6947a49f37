"""A sweep's answer does not depend on the order its batches finish in (workers, backends): the `errors` it
reports, the `results` view's columns and the rows a Pareto front keeps of tied rows. Each test runs one spec
through an in-process backend twice, batches finishing in spec order and in reverse, one part per batch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infraplan.sweep.backends import run_task
from infraplan.sweep.query import query_results
from infraplan.sweep.runner import run_sweep


class _InOrder:
    """Runs every batch in this process and yields them in spec order, or reversed (the last to finish first)."""

    name, workers = "stub", 1

    def __init__(self, reverse: bool) -> None:
        self.reverse = reverse

    def map_unordered(self, batches: Iterator[Any], max_in_flight: int) -> Iterator[tuple[Any, Any]]:
        done = [(batch, run_task(*batch)) for batch in batches]
        yield from (reversed(done) if self.reverse else done)

    def close(self) -> None:
        pass


def _spec(xs: range, delays: tuple[float, ...] = (0.0,)) -> dict[str, Any]:
    return {"function": "sweep_helpers:slow_square", "seed": 3, "batch_size": 1,
            "axes": {"x": list(xs), "delay_s": list(delays)}}


def _both(spec: dict[str, Any], tmp_path: Path) -> tuple[Any, Any, Path, Path]:
    outs = (tmp_path / "forward", tmp_path / "reversed")
    runs = [run_sweep(spec, out, backend=_InOrder(reverse), flush_s=0, progress=False)
            for out, reverse in zip(outs, (False, True), strict=True)]
    return runs[0], runs[1], outs[0], outs[1]


def test_sweep_errors_are_the_first_five_of_the_spec_whatever_finishes_first(tmp_path: Path) -> None:
    """`errors` kept the first 5 distinct lines to *arrive*: `sweep --json` on the 405B example listed other
    errors, in another order, with --workers 1, 2 and 4."""
    forward, backward, _, _ = _both(_spec(range(-9, 3)), tmp_path)
    assert forward.points_failed == backward.points_failed == 9
    first = [f"InputError: x must be >= 0, got {x}" for x in (-9, -8, -7, -6, -5)]
    assert forward.errors == backward.errors == first


def test_results_columns_do_not_depend_on_which_part_was_written_first(tmp_path: Path) -> None:
    """The view took the first part's column order: a first part of failed points (no outputs) put `function`,
    `point_id`, ... before the outputs, so `SELECT *` changed its columns with --workers 4 (405B example)."""
    _, _, a, b = _both(_spec(range(-2, 2)), tmp_path)
    sql = "SELECT * FROM results ORDER BY key"
    first, second = query_results(a, sql), query_results(b, sql)
    assert first.columns == second.columns and first.rows == second.rows
    assert first.columns[:2] == ["key", "point_id"] and first.columns[-2:] == ["square", "x"]


def test_pareto_front_keeps_the_same_of_tied_rows_whatever_finishes_first(tmp_path: Path) -> None:
    """Two points with equal objectives (the delay changes no output): the front kept the one stored first."""
    _, _, a, b = _both(_spec(range(0, 3), delays=(0.0, 1e-6)), tmp_path)
    first, second = query_results(a, pareto="square,x:max"), query_results(b, pareto="square,x:max")
    assert first.rows == second.rows and first.row_count == 3
    key = first.columns.index("key")
    # the first by point id (`query.FRONT_SQL`), not the least key: keys hold the catalog hash, which any edit moves
    zero = query_results(a, "SELECT key FROM results WHERE x = 0 ORDER BY point_id, key LIMIT 1").rows[0][0]
    assert first.rows[0][key] == zero
