"""`infraplan validate`: predicted vs published for every training case, with the error."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.table import Table

from infraplan.cli.commands._output import console, emit, fmt_percent
from infraplan.cli.options import JsonFlag
from infraplan.validation.results import ValidationReport, ValidationSection
from infraplan.validation.runner import run_validation

_UNITS = {"model_tflops_per_gpu": "TFLOP/s/GPU", "hardware_tflops_per_gpu": "TFLOP/s/GPU (HFU)",
          "mfu": "MFU", "tokens_per_s_per_gpu": "tokens/s/GPU"}


def _value(metric: str, value: float) -> str:
    return fmt_percent(value) if metric == "mfu" else f"{value:.1f}"


def render_validation(report: ValidationReport) -> None:
    table = Table(title="infraplan validation: training cases (published measurements)", expand=False)
    for col, justify in (("case", "left"), ("metric", "left"), ("published", "right"), ("predicted", "right"),
                         ("error", "right"), ("plan", "left"), ("gated", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in report.cases:
        table.add_row(r.id, _UNITS[r.metric], _value(r.metric, r.published), _value(r.metric, r.predicted),
                      f"{r.error * 100:+.1f} %", r.plan_source, "yes" if r.gated else "no (known gap)")
    console.print(table)
    s = report.summary
    console.print(f"gated cases: {s.gated_cases}, mean |error| {s.mean_abs_error * 100:.1f} %, "
                  f"max {s.max_abs_error * 100:.1f} % (gate: mean <= {s.gate.mean * 100:.0f} %, "
                  f"max <= {s.gate.max * 100:.0f} %): {'PASS' if s.passes_gate else 'FAIL'}")
    console.print(f"all {s.all_cases} cases: mean |error| {s.mean_abs_error_all * 100:.1f} %, "
                  f"max {s.max_abs_error_all * 100:.1f} %")
    if report.plan_ranking is not None:
        k = report.plan_ranking
        console.print(f"plan ranking on {k.cases} measured A100 single-node runs (vTrain): Spearman "
                      f"{k.spearman:.3f}, median predicted/measured {k.median_predicted_over_measured:.2f}, "
                      f"mean |error| {k.mean_abs_error * 100:.1f} %")
    for name, section in (report.sections or {}).items():
        render_section(name, section)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render_section(name: str, section: ValidationSection) -> None:
    table = Table(title=f"infraplan validation: {name}", expand=False)
    for col in ("case", "metric", "published", "predicted", "error", "gated"):
        table.add_column(col)
    for r in section.cases:
        table.add_row(r.id, r.metric or "", _fmt(r.published), _fmt(r.predicted),
                      "-" if r.error is None else f"{r.error * 100:+.1f} %",
                      "yes" if r.gated in (True, None) else "no (known gap)")
    console.print(table)
    s = section.summary
    parts = [f"{k}: {_fmt(v * 100 if 'error' in k and isinstance(v, float) else v)}"
             + (" %" if "error" in k and isinstance(v, float) else "")
             for k, v in s.items() if not isinstance(v, list | dict)]
    console.print(f"{name}: " + ", ".join(parts))


def markdown_report(report: ValidationReport) -> str:
    """The validation table as Markdown (the README's table is this output)."""
    lines = ["| case | metric | published | predicted | error | plan | gated |", "|---|---|---:|---:|---:|---|---|"]
    for r in report.cases:
        lines.append(f"| {r.id} | {_UNITS[r.metric]} | {_value(r.metric, r.published)} | "
                     f"{_value(r.metric, r.predicted)} | {r.error * 100:+.1f} % | {r.plan_source} | "
                     f"{'yes' if r.gated else 'no: known gap'} |")
    s = report.summary
    lines += ["", f"Gated cases ({s.gated_cases}): mean |error| **{s.mean_abs_error * 100:.1f} %**, max "
              f"**{s.max_abs_error * 100:.1f} %** (gate: {s.gate.mean * 100:.0f} % / "
              f"{s.gate.max * 100:.0f} %). All {s.all_cases} cases: mean "
              f"{s.mean_abs_error_all * 100:.1f} %, max {s.max_abs_error_all * 100:.1f} %."]
    if report.plan_ranking is not None:
        k = report.plan_ranking
        lines.append(f"Plan ranking on {k.cases} measured single-node A100 runs (vTrain): Spearman "
                     f"{k.spearman:.3f}; median predicted/measured step time "
                     f"{k.median_predicted_over_measured:.2f} (mean |error| {k.mean_abs_error * 100:.0f} %).")
    for name, section in (report.sections or {}).items():
        lines += ["", f"**{name}**", "", "| case | metric | published | predicted | error | gated |",
                  "|---|---|---:|---:|---:|---|"]
        for c in section.cases:
            lines.append(f"| {c.id} | {c.metric or ''} | {_fmt(c.published)} | "
                         f"{_fmt(c.predicted)} | {'-' if c.error is None else f'{c.error * 100:+.1f} %'} | "
                         f"{'yes' if c.gated in (True, None) else 'no: known gap'} |")
    return "\n".join(lines)


def validate(
    as_json: JsonFlag = False,
    markdown: bool = typer.Option(False, "--markdown", help="print the table as Markdown"),
) -> None:
    """Compare the models with every published case (training, facility, ...): error per case, mean and max."""
    report = run_validation()
    if markdown and not as_json:
        print(markdown_report(report))
    else:
        emit(report, as_json, render_validation)
    failed = failed_gates(report)
    if failed:  # the output is printed in full; the exit code says the gate failed
        print(f"infraplan: validation gate failed: {', '.join(failed)}", file=sys.stderr)
        raise typer.Exit(1)


def failed_gates(report: Any) -> list[str]:
    """The sections whose gate fails ("training" for the main table); empty when every gate passes."""
    data = report.model_dump() if hasattr(report, "model_dump") else report
    failed = [] if data["summary"].get("passes_gate", True) else ["training"]
    for name, section in (data.get("sections") or {}).items():
        summary = section.get("summary", {})
        if summary.get("passes_gate", True) is False or summary.get("all_gated_passed", True) is False:
            failed.append(name)
    return failed


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
