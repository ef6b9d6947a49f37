"""`infraplan recsys`: a DLRM-family model on one accelerator: QPS, latency, power, QPS/W and the bound."""

from __future__ import annotations

import typer
from rich.table import Table

from infraplan.cli.commands._output import (
    band_line,
    console,
    emit,
    fmt_bytes,
    fmt_num,
    fmt_rate,
    fmt_seconds,
    metric_table,
    print_band,
)
from infraplan.cli.options import RECSYS_SLO, SEQUENCES, JsonFlag
from infraplan.recsys.estimate import estimate_recsys
from infraplan.recsys.results import RecsysEstimate


def render_recsys(r: RecsysEstimate) -> None:
    slo = "" if r.latency_slo_s is None else (
        f", SLO {fmt_seconds(r.latency_slo_s)}: {'met' if r.meets_slo else 'NOT met'}")
    table = metric_table(f"{r.model} on {r.accelerator} ({r.dtype}, batch {r.batch}{slo})")
    table.add_row("throughput", fmt_rate(r.qps, "QPS"))
    table.add_row("latency per batch", fmt_seconds(r.latency_s))
    if r.p99_latency_s is not None:  # recsys/queueing.py: Poisson requests, greedy batching up to the batch
        table.add_row("p99 under load", f"{fmt_seconds(r.p99_latency_s)} at {fmt_rate(r.qps, 'QPS')} "
                      f"({r.busy_fraction:.1%} busy, batches up to {r.batch})")
    table.add_row("device power", f"{fmt_num(r.power_w, 4)} W")
    table.add_row("QPS per watt", fmt_rate(r.qps_per_w, "QPS/W"))
    table.add_row("bound", r.bound)
    table.add_row("platform (device + host share)", f"{fmt_num(r.platform_power_w, 4)} W (device "
                  f"{fmt_num(r.power_w, 4)} W + host {fmt_num(r.platform_power_w - r.power_w, 4)} W), "
                  f"{fmt_rate(r.platform_qps_per_w, 'QPS/W')}")
    table.add_row("work per sample", f"{fmt_rate(r.flops_per_sample, 'FLOP')}, "
                  f"{fmt_bytes(r.embedding_bytes_per_sample)} of rows ({fmt_num(r.lookups_per_sample, 4)} lookups)")
    table.add_row("tables / dense weights", f"{fmt_bytes(r.embedding_table_bytes)} / "
                  f"{fmt_bytes(r.dense_weight_bytes)}")
    console.print(table)
    times = Table(title="time per batch")
    times.add_column("term")
    times.add_column("time", justify="right")
    for name, seconds in r.breakdown_s.items():
        times.add_row(name, fmt_seconds(seconds))
    console.print(times)
    place = Table(title=f"placement (profile: {r.profile})")
    for col in ("tier", "used", "usable capacity", "dense weights"):
        place.add_column(col, justify="left" if col == "tier" else "right")
    for t in r.placement.values():
        place.add_row(t.label, fmt_bytes(t.used_bytes), fmt_bytes(t.capacity_bytes), f"{t.dense_fraction * 100:.0f} %")
    console.print(place)
    if "batch" in r.assumptions:  # why this batch, where the SLO chose it (recsys/batch_choice.py)
        console.print(f"note: {r.assumptions['batch']}", markup=False)
    if "profile" in r.assumptions:  # the default profile's figures (hA50)
        console.print(f"note: {r.assumptions['profile']}", markup=False)
    if r.meets_slo is False and r.latency_slo_s is not None:  # one line: what the SLO asks, what the batch takes
        console.print(f"warning: SLO not met: batch {r.batch} takes {fmt_seconds(r.latency_s)} on {r.accelerator} "
                      f"({r.bound}-bound) against {fmt_seconds(r.latency_slo_s)}"
                      + ("; no batch meets it" if r.batch == 1 else "; a smaller --batch, or none, may meet it"),
                      style="bold yellow", markup=False)
    if r.figures_note:
        console.print(f"note: {r.figures_note}", markup=False)
    print_band(band_line(r.error_band, "QPS") if r.error_band else f"error band: none ({r.error_band_basis})")


def recsys(
    model: str = typer.Argument(..., help="DLRM preset (dlrm-low, dlrm-medium, dlrm-high, mlperf-dlrm-dcnv2) or file"),
    accelerator: str = typer.Option(..., "--accelerator", help="accelerator or system preset, or YAML path (mtia-v1, "
                                    "...; a system such as mtia-400-rack runs on its accelerator)"),
    batch: int | None = typer.Option(None, "--batch", parser=SEQUENCES,
                                     help="samples per batch [default: the model's, or best for SLO]"),
    latency_slo: float | None = typer.Option(
        None, "--latency-slo", parser=RECSYS_SLO,
        help="batch latency SLO: seconds, or 20ms (a bare number above 0.5 is refused as ms)"),
    as_json: JsonFlag = False,
) -> None:
    """Recommendation inference on one accelerator: QPS, latency, power, QPS/W and what bounds it."""
    emit(estimate_recsys(model, accelerator, batch=batch, latency_slo_s=latency_slo), as_json, render_recsys)


def register(app: typer.Typer) -> None:
    app.command("recsys")(recsys)
