"""Typed results of `infraplan sweep` and `infraplan results`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from infraplan.results import Result


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
    elapsed_s: float = Field(description="wall-clock time of this run, seconds")
    points_per_s: float = Field(description="points evaluated per second of wall clock")
    errors: list[str] = Field(description="up to 5 distinct one-line errors of failed points")
    estimated_cpu_s: float | None = Field(default=None, description=(
        "the spec's work as estimated before it ran, CPU seconds: the points it had still to run (all of them "
        "in a new folder) x a floor of one point's CPU time (sweep.work_estimate); null for a function outside "
        "the registry"))
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
