"""`infraplan sweep SPEC.yaml`: run an API function over the axes of a spec; resumable Parquet results."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

from infraplan.cli.commands._output import console, emit, fmt_num, fmt_seconds, metric_table
from infraplan.cli.options import JsonFlag, number
from infraplan.limits import MAX_SWEEP_CPU_S
from infraplan.sweep.results import SweepRun

CPU_HOURS = number(gt=0.0, le=1e9, why="1e9 CPU-hours: 100,000 cores for a year")


def render_sweep(r: SweepRun) -> None:
    workers = f"{r.workers:,} worker{'' if r.workers == 1 else 's'}"
    table = metric_table(f"sweep of {r.function} -> {r.directory} ({r.backend}, {workers})")
    table.add_row("points in the spec", fmt_num(r.points))
    table.add_row("already done (skipped)", fmt_num(r.points_skipped))
    table.add_row("run now", fmt_num(r.points_run))
    table.add_row("failed (see the error column)", fmt_num(r.points_failed))
    table.add_row("rows in the folder", fmt_num(r.rows))
    table.add_row("wall clock", fmt_seconds(r.wall_time_s))
    table.add_row("throughput", f"{fmt_num(r.points_per_s, 3)} points/s")
    if r.estimated_cpu_s is not None:
        from infraplan.sweep.work_estimate import cpu_time_text

        table.add_row("estimated up front (at least)", cpu_time_text(r.estimated_cpu_s))
    if r.expected_cpu_s is not None:
        from infraplan.sweep.work_estimate import cpu_time_text

        table.add_row("expected up front (start-up + points, ~2x)", cpu_time_text(r.expected_cpu_s))
    if r.interrupted:
        table.add_row("interrupted", "yes: what finished is saved; run again to go on")
    console.print(table)
    for error in r.errors:
        console.print(f"error: {error}", markup=False, highlight=False)
    query = shlex.join(["infraplan", "results", r.directory, "--sql", "SELECT * FROM results LIMIT 10"])
    console.print(f"query it: {query}", markup=False, highlight=False)  # a folder with a space typed as one word


def sweep(
    spec: str = typer.Argument(..., help="sweep spec YAML: function, fixed arguments, axes"),
    backend: str = typer.Option("local", "--backend", help="local (process pool) | ray"),
    address: str | None = typer.Option(None, "--address", help="Ray cluster to join: auto, or ray://host:10001 "
                                       "[default: start a local Ray]"),
    workers: int | None = typer.Option(None, "--workers", min=1, max=4096,
                                       help="worker processes [local: one per core; ray: the cluster's CPUs]"),
    out: str | None = typer.Option(None, "--out", help="results folder [SPEC's name without .yaml, + '.sweep']"),
    max_cpu_hours: float | None = typer.Option(None, "--max-cpu-hours", parser=CPU_HOURS,
                                               help="refuse a sweep estimated to take more CPU-hours than this "
                                               "(points x a floor of one point's CPU time) "
                                               f"[{MAX_SWEEP_CPU_S / 3600:g}]"),
    as_json: JsonFlag = False,
) -> int:
    """Run an API function over the axes of a spec (local or Ray); results in Parquet, resumable."""
    from infraplan.catalog.output_files import shown_path
    from infraplan.errors import InputError
    from infraplan.sweep.runner import run_sweep
    from infraplan.sweep.spec import load_spec

    if backend not in ("local", "ray"):
        raise InputError(f"--backend must be local or ray, got {backend!r}")
    if out is not None and not out.strip():
        raise InputError("--out must name a folder")
    loaded = load_spec(spec)
    folder = out or str(Path(spec).with_suffix("")) + ".sweep"
    try:
        limit = MAX_SWEEP_CPU_S if max_cpu_hours is None else max_cpu_hours * 3600.0
        result = run_sweep(loaded, folder, backend=backend, workers=workers, address=address, progress=not as_json,
                           max_cpu_s=limit)
    except OSError as exc:  # a full disk or a file-size limit while a part is written: was a traceback (hH70)
        raise InputError(f"--out: cannot write to {shown_path(folder)}: {exc.strerror or exc} (the parts written "
                         "before are kept: the same command resumes)") from None
    emit(result, as_json, render_sweep)
    return 130 if result.interrupted else 0


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
