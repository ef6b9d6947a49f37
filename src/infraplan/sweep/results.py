"""A sweep's results: the typed answers of `infraplan sweep` and `infraplan results` (`SweepRun`, `SweepQuery`), and
one point's result as one flat row of the sweep's table: nested fields joined by `SEP`, lists as JSON text,
non-finite floats as null, and the error of a point that raised as one line.

`flatten_result` walks a pydantic result's fields directly; it equals flattening `model_dump(mode="json")` (a
test checks it) at several times the speed, which matters at 100k points per sweep. (The row half was
sweep/columns.py until session 62, hS.)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python

from infraplan.results import Result, finite_or_none


class SweepRun(Result):
    """What one `infraplan sweep` run did."""

    directory: str = Field(description="results folder (manifest.json and parts/)")
    function: str = Field(description="API function swept")
    backend: str = Field(description="local or ray")
    workers: int = Field(description="worker processes (local) or CPUs of the Ray cluster")
    points: int = Field(description="points in the spec (with any repeats the axes produce)")
    points_skipped: int = Field(description="points already in the folder from an earlier run, not run again")
    points_run: int = Field(description="points evaluated and saved by this run")
    points_failed: int = Field(description="points of this run whose function raised (their `error` column)")
    rows: int = Field(description="rows in the folder after this run (one per distinct point)")
    interrupted: bool = Field(description="stopped by Ctrl-C; what finished is saved, rerun to go on")
    wall_time_s: float = Field(description="the run's own wall clock (not a model answer), seconds")
    points_per_s: float = Field(description="points evaluated per second of wall clock")
    errors: list[str] = Field(description="up to 5 distinct one-line errors of failed points")
    estimated_cpu_s: float | None = Field(default=None, description=(
        "the spec's work as estimated before it ran, CPU seconds: the points it had still to run (all of them "
        "in a new folder) x a floor of one point's CPU time (sweep.work_estimate); null for a function outside "
        "the registry"))
    expected_cpu_s: float | None = Field(default=None, description=(
        "the same points' expected CPU seconds, driver and workers together, estimated before they ran: the "
        "start-up the floor leaves out (the function's imports, each worker's first point, a numba load) + the "
        "points at their typical cost measured on this code (sweep.work_estimate, hP77; within ~2x, not a bound); "
        "null for a function outside the registry"))
    warnings: list[str] = Field(default_factory=list, description=(
        "the warning lines the run raised in this process, each once, as the CLI says them on stderr (the work "
        "estimate past a CPU-hour; `results.with_warnings`, hF60); a point's own lines (a model config's) are in its "
        "row's config_warnings column"))


class SweepQuery(Result):
    """Rows of a DuckDB query over a sweep's results (the view `results`), or its Pareto front."""

    directory: str = Field(description="results folder queried")
    sql: str = Field(description="the query run; the table is the view `results`")
    columns: list[str] = Field(description="column names of the rows")
    rows: list[list[Any]] = Field(description="result rows (with --pareto: the non-dominated rows only)")
    row_count: int = Field(description="number of rows returned")
    pareto: list[str] | None = Field(default=None, description="objectives of the front: column, or column:max")
    rows_considered: int | None = Field(default=None, description="rows the Pareto front was taken from")
    plot: str | None = Field(default=None, description="HTML chart written (self-contained Plotly)")
    complete: bool | None = Field(default=None, description="whether the sweep that wrote the folder finished its "
                                  "spec (false: interrupted, killed or failed; rerun it to finish); null: a folder "
                                  "written before infraplan recorded it")
    config_warnings: list[str] = Field(default_factory=list, description=(
        "the model config warnings the folder's rows carry (column config_warnings), each with its row count"))


SEP = "__"
"""Flattened column names join nested output fields with this: `breakdown_s__compute`, `ttft_s__p99`."""
RESERVED = frozenset({"key", "point_id", "function", "sweep_seed", "error", "config_warnings", "infraplan_version",
                      "catalog_hash", "stack_hash"})
"""The sweep's own columns (store.META_COLUMNS): an output field of one of these names is stored as out_<name>."""


def one_line_error(exc: BaseException) -> str:
    """`Type: first line of the message`, at most 500 characters."""
    text = str(exc).strip().splitlines()
    line = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return line[:500]


def table_cell(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return value


def flatten(value: Mapping[str, Any], prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested mappings become `a__b` columns; lists become JSON text; non-finite floats become null."""
    out = {} if out is None else out
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping) and item:
            flatten(item, name + SEP, out)
        else:
            out[name] = table_cell(item if not isinstance(item, Mapping) else None)
    return out


def flatten_result(result: BaseModel, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """`flatten(result.model_dump(mode="json"))`, walking the model's fields directly (several times faster).

    Nested models recurse; enums give their value; anything else that is not a plain scalar (lists, tuples,
    dicts) goes through pydantic's JSON conversion first. A test checks it equals the model_dump route.
    """
    out = {} if out is None else out
    for key in type(result).model_fields:
        item = getattr(result, key)
        name = f"{prefix}{key}"
        if isinstance(item, BaseModel):
            if type(item).model_fields:
                flatten_result(item, name + SEP, out)
            else:
                out[name] = None
        elif isinstance(item, Enum):
            out[name] = table_cell(item.value)
        elif item is None or isinstance(item, str | int | float):
            out[name] = table_cell(item)
        elif isinstance(item, tuple) and (held := _TUPLE_CELLS.get(id(item))) is not None and held[0] is item:
            out[name] = held[1]
        else:
            plain = finite_or_none(to_jsonable_python(item))
            if isinstance(plain, Mapping) and plain:
                flatten(plain, name + SEP, out)
            else:
                out[name] = cell = table_cell(plain if not isinstance(plain, Mapping) else None)
                if isinstance(item, tuple) and item:
                    _remember_tuple_cell(item, cell)
    return out


_TUPLE_CELLS: dict[int, tuple[tuple[Any, ...], Any]] = {}
"""A tuple field's JSON cell by the tuple's identity (the tuple held, so its id is not reused): the points of a sweep
share one error band's `cases_used` / `campaigns_used` tuples (catalog/band_cases.py), whose JSON text would
otherwise be rebuilt at every point (lead, session 59: 6,144 batched train points 1.21 s with it, 2.08 s without;
1.19 s before the lists existed). Tuples of
frozen records cannot change, so a held cell stays right."""


def _remember_tuple_cell(item: tuple[Any, ...], cell: Any) -> None:
    if len(_TUPLE_CELLS) >= 256:
        _TUPLE_CELLS.clear()
    _TUPLE_CELLS[id(item)] = (item, cell)
