"""Files of `infraplan plan`: Parquet tables (`--out DIR`) and one self-contained HTML report (`--report`).

Parquet (pyarrow): services.parquet, pools.parquet, racks.parquet, sites.parquet, phases.parquet, one row per
result row, and tornado.parquet, one row per `--vary` parameter (the JSON's `tornado`; its columns and no rows
without `--vary`, so a folder never keeps an earlier run's sweep beside this run's tables: hV53); columns named as
the JSON fields (units in the names), readable by DuckDB and pandas. The six files are written together, with
the report where both are asked for (each to a temporary file, all renamed into place once all are written: all
or none; `cli/commands/plan.py` through `output_files.write_together`).
HTML (Plotly with plotly.js inlined, no CDN): facility power by pool, split into IT and the PUE overhead
(cooling and power distribution); the fleet by pool over the phases; the fleet value waterfall by pool (the
last phase's `fleet_value_usd`, installed base included; priced pools only: a pool without a price has none,
`cost_reason`); the SLO
headroom of every service (1 - planned latency or wall clock / its SLO or deadline).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from infraplan.catalog.output_files import write_atomically
from infraplan.errors import InputError
from infraplan.planning.scenario_results import ScenarioPlan, TornadoRow

TABLES = ("services", "pools", "racks", "sites", "phases", "tornado")


def _rows(plan: ScenarioPlan, table: str) -> list[dict[str, object]]:
    if table == "racks":
        return [{"phase": p.phase, "pool": p.pool, "site": p.site, "racks": p.racks, "devices": p.devices,
                 "devices_per_rack": p.devices / p.racks if p.racks else 0.0,
                 "it_power_per_rack_w": p.it_power_w / p.racks if p.racks else 0.0} for p in plan.pools]
    return [r.model_dump() for r in getattr(plan, table)]


def _no_rows(table: str) -> Any:
    """An empty table: the tornado's with its columns (strings and floats, TornadoRow's), so `SELECT parameter FROM
    'tornado.parquet'` reads no rows, not an error, after a plan without `--vary`."""
    import pyarrow as pa

    if table != "tornado":
        return pa.table({})
    return pa.table({name: pa.array([], pa.string() if field.annotation is str else pa.float64())
                     for name, field in TornadoRow.model_fields.items()})


def _writer(table: Any) -> Callable[[str], None]:
    import pyarrow.parquet as pq

    def write(tmp: str) -> None:
        pq.write_table(table, tmp)

    return write


def parquet_files(plan: ScenarioPlan, folder: str) -> list[tuple[str, Callable[[str], None]]]:
    """The six tables' paths in `folder` (which must exist) and their writers, for `write_together`."""
    import pyarrow as pa

    if not Path(folder).is_dir():
        raise InputError(f"--out: folder {folder[:80]!r} does not exist")
    files = []
    for table in TABLES:
        rows = _rows(plan, table)
        arrow = pa.Table.from_pylist(rows) if rows else _no_rows(table)
        files.append((str(Path(folder) / f"{table}.parquet"), _writer(arrow)))
    return files


def write_report(plan: ScenarioPlan, path: str) -> str:
    """The HTML report, atomically."""
    return write_atomically(path, report_writer(plan), "--report")


def report_writer(plan: ScenarioPlan) -> Callable[[str], object]:
    """The HTML report's writer (`write_atomically`, or `write_together` beside the tables)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    last = plan.phases[-1].phase
    pools = [p for p in plan.pools if p.phase == last]
    fig = make_subplots(rows=4, cols=1, vertical_spacing=0.07, subplot_titles=[
        f"facility power by pool, {last} (MW): IT load and PUE overhead", "fleet by pool over time (devices)",
        f"fleet value by pool, {last} (billion USD, installed base included)",
        "SLO headroom per service (1 - planned / SLO)"])
    names = [p.pool for p in pools]
    fig.add_trace(go.Bar(x=names, y=[p.it_power_w / 1e6 for p in pools], name="IT (accelerators, hosts, fabric)"),
                  row=1, col=1)
    fig.add_trace(go.Bar(x=names, y=[(p.facility_power_w - p.it_power_w) / 1e6 for p in pools],
                         name="cooling and power distribution"), row=1, col=1)
    phases = [ph.phase for ph in plan.phases]
    for name in dict.fromkeys(p.pool for p in plan.pools):
        counts = {p.phase: p.devices for p in plan.pools if p.pool == name}
        fig.add_trace(go.Bar(x=phases, y=[counts.get(ph, 0) for ph in phases], name=name), row=2, col=1)
    priced = [p for p in pools if p.fleet_value_usd is not None]  # a pool without a price (cost_reason) is left out
    value = [float(p.fleet_value_usd or 0.0) / 1e9 for p in priced]
    fig.add_trace(go.Waterfall(x=[*(p.pool for p in priced), "total" if len(priced) == len(pools) else
                                  "total of the priced pools"], y=[*value, 0.0],
                               measure=["relative"] * len(priced) + ["total"], name="fleet value"), row=3, col=1)
    svc = [s for s in plan.services if s.phase == last and s.slo_headroom is not None]
    fig.add_trace(go.Bar(x=[f"{s.service} on {s.pool}" for s in svc], y=[s.slo_headroom for s in svc],
                         name="SLO headroom"), row=4, col=1)
    fig.update_layout(barmode="stack", height=1600, title=f"infraplan plan: {plan.scenario}")
    html = fig.to_html(include_plotlyjs=True, full_html=True)
    return lambda tmp: Path(tmp).write_text(html, encoding="utf-8")
