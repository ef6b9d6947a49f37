"""`infraplan reliability`: interruptions, MTTF, checkpoint interval and goodput of a training job."""

from __future__ import annotations

import typer
from rich.table import Table

from infraplan.cli.commands._output import (
    band_or_why,
    console,
    emit,
    fmt_bytes,
    fmt_num,
    fmt_percent,
    fmt_seconds,
    metric_table,
)
from infraplan.cli.options import ACCELERATORS, DAYS, JsonFlag, SystemOption, number
from infraplan.errors import InputError
from infraplan.facility.reliability import reliability_report
from infraplan.facility.results import ReliabilityReport
from infraplan.units import parse_duration_s, parse_stated_bytes


def render_reliability(r: ReliabilityReport) -> None:
    days = f"{fmt_num(r.days)} day{'' if r.days == 1 else 's'}"
    table = metric_table(f"{r.gpus:,} × {r.accelerator} on {r.system} for {days} "
                         f"(failure rate {r.failure_rate}: {fmt_num(r.failures_per_1000_node_days)} "
                         f"{(r.failure_rate_counts or 'failures').replace('_', ' ')} per 1,000 node-days)")
    table.add_row("expected interruptions", f"{r.expected_interruptions:.1f} "
                  f"({r.expected_unexpected_interruptions:.1f} unexpected)")
    table.add_row("job MTTF", fmt_seconds(r.mttf_s))
    table.add_row("checkpoint", f"{fmt_bytes(r.checkpoint_bytes)}, written in {fmt_seconds(r.checkpoint_write_s)}")
    table.add_row("checkpoint interval (Daly)", fmt_seconds(r.checkpoint_interval_s))
    table.add_row("restart cost", fmt_seconds(r.restart_s))
    table.add_row("goodput (ETTR)", fmt_percent(r.goodput))
    console.print(table)
    mix = Table(title="expected unexpected interruptions by component (Llama 3 Table 5 mix)")
    mix.add_column("component")
    mix.add_column("count", justify="right")
    for name, value in r.interruptions_by_component.items():
        mix.add_row(name, f"{value:.1f}")
    console.print(mix)
    for note in r.notes:
        console.print(note, soft_wrap=True)
    console.print(band_or_why(r.error_band, r.error_band_basis, "job MTTF", r.mttf_s, latency=True),
                  markup=False, highlight=False)


def reliability(
    system: SystemOption,
    gpus: int = typer.Option(..., "--gpus", parser=ACCELERATORS, help="accelerators in the job"),
    days: float = typer.Option(30.0, "--days", parser=DAYS, help="days of training to count interruptions over "
                               "(54, or 54d, 2w, 12h)"),
    model: str = typer.Option("llama3-405b", "--model", help="model whose checkpoint is written"),
    checkpoint_size: str | None = typer.Option(None, "--checkpoint-size", help="override, e.g. 5TB"),
    failure_rate: str | None = typer.Option(None, "--failure-rate", help="rsc-1 | rsc-1-jobs | rsc-2 | "
                                            "llama3-h100 | epoch-h100 or a YAML file [default: by accelerator]"),
    restart: float | None = typer.Option(None, "--restart-s",
                                         parser=number(ge=0.0, le=1e9, reader=parse_duration_s),
                                         help="restart cost: seconds, or 10min [default: 600]"),
    as_json: JsonFlag = False,
) -> None:
    """Expected interruptions, job MTTF, Young/Daly checkpoint interval and goodput for a job of N GPUs."""
    size = parse_stated_bytes(checkpoint_size, "--checkpoint-size") if checkpoint_size is not None else None
    if size is not None and size <= 0:
        raise InputError(f"--checkpoint-size must be above 0 bytes, got {checkpoint_size!r}")
    emit(reliability_report(system, gpus, days, model, failure_rate, restart_s=restart, checkpoint_size_bytes=size),
         as_json, render_reliability)


def register(app: typer.Typer) -> None:
    app.command("reliability")(reliability)
