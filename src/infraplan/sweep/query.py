"""Query a sweep's results with DuckDB; Pareto fronts; a self-contained Plotly chart of a front.

`query_results(folder, sql)` opens an in-memory DuckDB, defines the view `results` over the Parquet parts the
manifest lists (`read_parquet([...], union_by_name = true)`: parts may differ in columns, e.g. when every point
of a part failed; the columns in `store.canonical_columns` order, as `load_table`'s, whatever part came first)
and runs the query; `results` holds one row per point (a point recomputed on another version or catalog keeps its
old row in its part: `_current_rows` picks one), `results_all` every row. Without `--sql` the query is a per-function
summary (points, failed).
The query is read-only: one statement, whose type (DuckDB's `extract_statements`) is SELECT (WITH, VALUES, FROM,
DESCRIBE and SUMMARIZE are SELECTs); and the connection reads only the manifest's parts (DuckDB's
`allowed_paths` with `enable_external_access` off, configuration locked): COPY ... TO, ATTACH, INSTALL / LOAD and a
SELECT over `read_csv('/etc/...')` or an https:// URL are refused in one line.

Input columns named before they carried their unit (`in_power`, now `in_power_w`: `sweep.functions.INPUT_UNITS`)
are refused in one line naming the new name (`renamed_column`), where a query over a newer folder names them.

`pareto_front(rows, objectives)`: the rows no other row dominates, for objectives given as `column`
(minimised) or `column:max` (maximised): Kung et al.'s skyline ("On finding the maxima of a set of vectors",
JACM 1975) in its simple form: sort by the objectives, then keep a row when no kept row is at least as good on
every objective (of rows with equal objectives the first by point id is kept: the point's identity, not its
release's). Rows with a missing objective are left out.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infraplan.errors import InputError
from infraplan.sweep.functions import INPUT_PREFIX, INPUT_UNITS
from infraplan.sweep.results import SweepQuery
from infraplan.sweep.store import (
    canonical_columns,
    catalog_hash,
    committed_parts,
    infraplan_version,
    read_part,
    sweep_complete,
)
from infraplan.units import counted, listed

SUMMARY_SQL = ("SELECT function, count(*) AS points, count(error) AS failed, "
               "count(*) - count(error) AS succeeded FROM results GROUP BY function ORDER BY function")
FRONT_SQL = "SELECT * FROM results WHERE error IS NULL ORDER BY point_id, key"
"""Ordered by point id (then key): of rows tied on every objective the front keeps the first, which must not be the
one a worker happened to finish first, nor change with the version and catalog hashes the key holds."""


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.date | datetime.datetime | datetime.time | datetime.timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_LEADING_COMMENTS = re.compile(r"\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/)", re.S)


def _written(query: str, kind: str) -> str:
    """A statement's name as the user wrote it: its first keyword ('INSTALL httpfs' is DuckDB's LOAD type: hW71),
    'FORCE INSTALL' whole; DuckDB's type where the text starts with no word."""
    text = query
    while (comment := _LEADING_COMMENTS.match(text)) and comment.end():
        text = text[comment.end():]
    words = re.findall(r"[A-Za-z_]+", text.split("(")[0])[:2]
    if not words or not text.lstrip().startswith(words[0]):
        return kind
    return " ".join(words).upper() if words[0].upper() == "FORCE" else words[0].upper()


def run_sql(folder: str | Path, sql: str) -> tuple[list[str], list[list[Any]]]:
    """(column names, rows) of `sql` over the view `results`; a bad query is one InputError line."""
    import duckdb

    parts = committed_parts(folder)
    if not parts:
        raise InputError(f"{folder} has no results yet (run `infraplan sweep` first)")
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False})
    try:
        files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts)
        _read_only(con, files, _columns(parts))
        try:
            statements = con.extract_statements(sql)
            if len(statements) != 1 or statements[0].type.name != "SELECT":
                kinds = sorted({_written(s.query, s.type.name) for s in statements})
                raise InputError(f"--sql runs one read-only SELECT over the view `results`; got "
                                 f"{counted(len(statements), 'statement')}: {', '.join(kinds) or 'none'}")
            cursor = con.execute(sql)
        except duckdb.Error as exc:
            line = str(exc).strip().splitlines()[0]
            raise InputError(renamed_column(line) or f"--sql: {line}") from None
        if cursor.description is None:
            return [], []
        columns = [d[0] for d in cursor.description]
        rows = [[_plain(v) for v in row] for row in cursor.fetchall()]
        return columns, rows
    finally:
        con.close()


def renamed_column(text: str, flag: str = "--sql") -> str | None:
    """The one line for a missing column (DuckDB's error line, or a --pareto name) that is an input column renamed
    with its unit (`sweep.functions.INPUT_UNITS`: `in_power` is `in_power_w`), or None. Only a failed query gets it,
    so a results folder written before the rename, whose parts still hold the old names, answers as before."""
    for old, new in INPUT_UNITS.items():
        if re.search(rf"\b{INPUT_PREFIX}{old}\b", text):
            return (f"{flag}: column {INPUT_PREFIX}{old} is now {INPUT_PREFIX}{new} (sweep input columns carry their "
                    "unit in the name)")
    return None


def _columns(parts: Sequence[Path]) -> str:
    """The view's column list, quoted, in `store.canonical_columns` order: `read_parquet(union_by_name)` takes the
    first part's order, and which batch lands in the first part depends on the workers (an all-failed batch has no
    output columns), so `SELECT *` changed its columns' order with `--workers`."""
    import pyarrow.parquet as pq

    names = {name for p in parts for name in read_part(p, pq.read_schema).names}  # a damaged part: one line
    return ", ".join('"' + name.replace('"', '""') + '"' for name in canonical_columns(names))


def _current_rows(every_row: str, columns: str) -> str:
    """The SELECT of one row per point out of `every_row` (a SELECT of every committed row with each part's file
    name, `filename`): the row of the running infraplan version and catalog where the point has one, else its
    latest (parts are named in commit order, `store.ResultStore`). A point recomputed after an upgrade or a catalog
    edit keeps its old row in its part (a part is never rewritten), so `results` gave two answers for one point
    (hG, session 60: a 3-point spec rerun after a catalog edit, 6 rows and two step times each); a catalog reverted
    reads the rows of its own hash again, as the rerun skips them."""
    current = f"infraplan_version = '{infraplan_version()}' AND catalog_hash = '{catalog_hash()}'"
    return (f"SELECT {columns} FROM (SELECT *, row_number() OVER (PARTITION BY point_id ORDER BY "
            f"coalesce({current}, false) DESC, filename DESC) AS row_rank__ FROM ({every_row})) WHERE row_rank__ = 1 "
            "ORDER BY filename, file_row_number")  # the parts' order, as `results_all` reads them


def _read_only(con: Any, files: str, columns: str) -> None:
    """Define the views `results` (one row per point: `_current_rows`) and `results_all` (every committed row, a
    point's rows of earlier versions and catalogs too) over the Parquet parts `files` (quoted, comma-separated) and
    let `con` read them and nothing else: no other file, URL or extension, the configuration locked (DuckDB
    `allowed_paths`, `enable_external_access`, `lock_configuration`). A DuckDB without `allowed_paths` (1.1.0 has
    none) gets them as tables read before the access is closed."""
    import duckdb

    every_row = (f"SELECT {columns}, filename, file_row_number FROM read_parquet([{files}], union_by_name = true, "
                 "filename = true, file_row_number = true)")
    sources = {"results_all": f"SELECT {columns} FROM read_parquet([{files}], union_by_name = true)",
               "results": _current_rows(every_row, columns)}
    if {'"filename"', '"file_row_number"'} & set(columns.split(", ")):  # a function's own output named so (DuckDB
        sources["results"] = sources["results_all"]  # 1.0 takes no other name for these columns): every row, as before
    try:
        con.execute(f"SET allowed_paths = [{files}]")
        kind = "VIEW"
    except duckdb.Error:
        kind = "TABLE"
        for name, source in sources.items():
            con.execute(f"CREATE TABLE {name} AS {source}")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    if kind == "VIEW":
        for name, source in sources.items():
            con.execute(f"CREATE VIEW {name} AS {source}")


def parse_objectives(text: str, columns: Sequence[str]) -> list[tuple[str, bool]]:
    """'time_s,usd:max' -> [(time_s, minimise), (usd, maximise)]; each must be a column of the rows."""
    objectives: list[tuple[str, bool]] = []
    for item in listed(text, "--pareto", "step_time_s,cost_usd"):
        name, _, sense = item.partition(":")
        if sense not in ("", "min", "max"):
            raise InputError(f"--pareto {item!r}: write column, column:min or column:max")
        if name not in columns:
            raise InputError(renamed_column(name, "--pareto") or
                             f"--pareto: no column {name!r} in the rows (columns: {', '.join(columns[:30])})")
        if any(name == kept for kept, _ in objectives):  # (one column twice: a front over one objective)
            raise InputError(f"--pareto names column {name!r} twice; give two or more different columns")
        objectives.append((name, sense == "max"))
    if len(objectives) < 2:
        raise InputError("--pareto needs at least two objectives, e.g. step_time_s,cost_usd")
    return objectives


def pareto_front(rows: Sequence[Sequence[Any]], indices: Sequence[int], maximise: Sequence[bool]) -> list[int]:
    """Row numbers of the non-dominated rows (see the module docstring), in order of the first objective."""
    points: list[tuple[tuple[float, ...], int]] = []
    for r, row in enumerate(rows):
        cells = [row[i] for i in indices]
        if all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in cells):
            points.append((tuple(-float(v) if m else float(v) for v, m in zip(cells, maximise, strict=True)), r))
    points.sort()
    front: list[tuple[tuple[float, ...], int]] = []
    for values, r in points:
        dominated = any(all(a <= b for a, b in zip(kept, values, strict=True)) for kept, _ in front)
        if not dominated:
            front.append((values, r))
    return [r for _, r in front]


def query_results(folder: str | Path, sql: str | None = None, pareto: str | None = None,
                  plot: str | None = None) -> SweepQuery:
    """The Python API of `infraplan results`: a query, optionally reduced to its Pareto front and charted."""
    if plot is not None:
        if pareto is None:
            raise InputError("--plot draws the Pareto front: give --pareto too")
        if not plot.endswith(".html"):
            raise InputError(f"--plot must name an .html file, got {plot!r}")
        from infraplan.catalog.output_files import check_output_path

        check_output_path(plot, "--plot")
    query = sql or (FRONT_SQL if pareto else SUMMARY_SQL)
    columns, rows = run_sql(folder, query)
    complete = sweep_complete(folder)
    warned = folder_config_warnings(folder)
    if pareto is None:
        return SweepQuery(directory=str(folder), sql=query, columns=columns, rows=rows, row_count=len(rows),
                          complete=complete, config_warnings=warned)
    objectives = parse_objectives(pareto, columns)
    indices = [columns.index(name) for name, _ in objectives]
    for name, i in zip((n for n, _ in objectives), indices, strict=True):  # a text column gave "0 rows"
        cells = [row[i] for row in rows if row[i] is not None]
        if cells and not any(isinstance(v, int | float) and not isinstance(v, bool) for v in cells):
            raise InputError(f"--pareto: column {name!r} is not numeric (e.g. {cells[0]!r}); objectives are numbers")
        if rows and not cells:  # every row's value null (serve's slo_attainment without an SLO): "0 rows" before
            considered = counted(len(rows), "row")
            raise InputError(f"--pareto: column {name!r} has no value in any row considered ({considered}, each "
                             "null): no point has a value to rank by")
    front = pareto_front(rows, indices, [m for _, m in objectives])
    front_rows = [rows[r] for r in front]
    written = None
    if plot is not None and not front:  # hV77: an empty chart was written, exit 0; refused as the all-null column is
        held = (f"{counted(len(rows), 'row')}, none with a number in every objective "
                f"({', '.join(n for n, _ in objectives)})" if rows else "no rows")
        raise InputError(f"--plot: no rows to chart: the query gave {held}; no chart written")
    if plot is not None:
        written = write_front_plot(plot, columns, rows, front, objectives)
    return SweepQuery(directory=str(folder), sql=query, columns=columns, rows=front_rows, row_count=len(front_rows),
                      pareto=[f"{n}:max" if m else n for n, m in objectives], rows_considered=len(rows),
                      plot=written, complete=complete, config_warnings=warned)


def folder_config_warnings(folder: str | Path) -> list[str]:
    """Each distinct model config warning of the folder's rows with how many rows carry it (a folder written before
    the column was: none)."""
    import pyarrow.parquet as pq

    parts = committed_parts(folder)
    if not any("config_warnings" in read_part(p, pq.read_schema).names for p in parts):
        return []
    _, rows = run_sql(folder, "SELECT config_warnings, count(*) FROM results WHERE config_warnings IS NOT NULL "
                              "GROUP BY config_warnings ORDER BY config_warnings")
    return [f"{line} ({count:,} row{'s' if count != 1 else ''})" for text, count in rows
            for line in str(text).splitlines()]


def write_front_plot(path: str, columns: list[str], rows: list[list[Any]], front: list[int],
                     objectives: list[tuple[str, bool]]) -> str:
    """Every row in grey and the front in colour, on the first two objectives; one HTML file with plotly.js."""
    import plotly.graph_objects as go

    from infraplan.catalog.output_files import write_atomically

    (x_name, _), (y_name, _) = objectives[:2]
    x, y = columns.index(x_name), columns.index(y_name)
    labels = [c for c in columns if c.startswith("in_")]

    def hover(row: list[Any]) -> str:
        return "<br>".join(f"{c[3:]}={row[columns.index(c)]}" for c in labels)

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[r[x] for r in rows], y=[r[y] for r in rows], mode="markers", name="all points",
                             marker={"color": "lightgrey"}, text=[hover(r) for r in rows], hoverinfo="text+x+y"))
    fig.add_trace(go.Scatter(x=[rows[i][x] for i in front], y=[rows[i][y] for i in front], mode="lines+markers",
                             name="Pareto front", text=[hover(rows[i]) for i in front], hoverinfo="text+x+y"))
    fig.update_layout(title=f"Pareto front: {', '.join(n + (' (max)' if m else '') for n, m in objectives)}",
                      xaxis_title=x_name, yaxis_title=y_name, template="plotly_white")
    html = fig.to_html(include_plotlyjs=True, full_html=True)
    return write_atomically(path, lambda tmp: Path(tmp).write_text(html, encoding="utf-8"), "--plot")
