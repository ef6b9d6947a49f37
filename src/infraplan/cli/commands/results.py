"""`infraplan results DIR`: DuckDB SQL over a sweep's Parquet results, Pareto fronts and charts."""

from __future__ import annotations

import typer
from rich.table import Table

from infraplan.cli.commands._output import console, emit, fmt_num
from infraplan.cli.options import JsonFlag
from infraplan.sweep.results import SweepQuery

MAX_SHOWN_ROWS = 50
MAX_SHOWN_COLUMNS = 10


def _cell(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int | float):
        return fmt_num(value)
    return str(value)


def render_query(r: SweepQuery) -> None:
    shown = r.columns
    if r.pareto:
        wanted = [c.split(":")[0] for c in r.pareto]
        shown = wanted + [c for c in r.columns if c.startswith("in_")]  # the objectives first
    shown = shown[:MAX_SHOWN_COLUMNS] if len(shown) > MAX_SHOWN_COLUMNS else shown
    title = (f"Pareto front of {r.rows_considered} rows ({', '.join(r.pareto)}): {r.row_count} rows"
             if r.pareto else f"{r.row_count} rows")
    table = Table(title=title)
    for name in shown:
        table.add_column(name, overflow="fold")
    index = [r.columns.index(c) for c in shown]
    for row in r.rows[:MAX_SHOWN_ROWS]:
        table.add_row(*(_cell(row[i]) for i in index))
    console.print(table)
    hidden = len(r.columns) - len(shown)
    if r.row_count > MAX_SHOWN_ROWS or hidden:
        console.print(f"(showing {min(r.row_count, MAX_SHOWN_ROWS)} of {r.row_count} rows and {len(shown)} of "
                      f"{len(r.columns)} columns: narrow the --sql, or use --json)", markup=False, highlight=False)
    if r.plot:
        console.print(f"chart: {r.plot}", markup=False, highlight=False)
    for line in r.config_warnings:  # the rows' model config warnings, as `train` says them on stderr
        console.print(f"warning: {line}", markup=False, highlight=False, soft_wrap=True)
    if r.complete is False:
        console.print("incomplete: the sweep that wrote this folder stopped before its last point (Ctrl-C, a kill or "
                      "an error); rerun the same `infraplan sweep SPEC --out DIR` to finish it (done points are "
                      "skipped)", markup=False, highlight=False, soft_wrap=True)


def results(
    directory: str = typer.Argument(..., help="results folder of `infraplan sweep`"),
    sql: str | None = typer.Option(None, "--sql", help="DuckDB SQL over the view `results` (one row per point; "
                                   "`results_all`: a point's rows of earlier versions and catalogs too) "
                                   "[default: points and failures per function]"),
    pareto: str | None = typer.Option(None, "--pareto", help="Pareto front over these columns, e.g. "
                                      "step_time_s,cost_usd (column:max to maximise)"),
    plot: str | None = typer.Option(None, "--plot", help="write the front as a self-contained HTML chart"),
    as_json: JsonFlag = False,
) -> None:
    """Query a sweep's results with DuckDB SQL; Pareto fronts and Plotly charts."""
    from infraplan.sweep.query import query_results

    emit(query_results(directory, sql=sql, pareto=pareto, plot=plot), as_json, render_query)


def register(app: typer.Typer) -> None:
    app.command("results")(results)
