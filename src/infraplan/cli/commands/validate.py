"""`infraplan validate`: predicted vs published for every training case, with the error."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from rich.console import JustifyMethod
from rich.table import Table

from infraplan.cli.commands._output import console, emit, fmt_num, fmt_percent, fmt_rate
from infraplan.cli.options import JsonFlag
from infraplan.validation.results import ValidationReport, ValidationSection
from infraplan.validation.runner import run_validation

_UNITS = {"model_tflops_per_gpu": "TFLOP/s/GPU", "hardware_tflops_per_gpu": "TFLOP/s/GPU (HFU)",
          "mfu": "MFU", "tokens_per_s_per_gpu": "tokens/s/GPU"}


def _value(metric: str, value: float) -> str:
    return fmt_percent(value) if metric == "mfu" else f"{value:.1f}"


Column = tuple[str, dict[str, Any]]
"""A table column: its header and Rich's `Table.add_column` settings."""


def _number_column(header: str, cells: list[str], justify: JustifyMethod = "left") -> Column:
    """A column of numbers ("+11.1 %", "1,394"): never wrapped, folded nor cut; the text columns give way."""
    return header, {"justify": justify, "no_wrap": True, "min_width": max([len(header), *(len(c) for c in cells)])}


def _case_table(title: str, metric: dict[str, Any], columns: list[Column], rows: Sequence[tuple[str, ...]],
                stack: bool = False) -> Table:
    """The table of cases (rows: id, metric, with `stack` the case's software stack, then `columns`): each id on one
    line in its own column where the console has the width, else each id on its own line above its metric (and its
    stack) in one "case / metric" column, folded (at spaces, then inside an id) to the width the numbers leave. At 80
    columns (Rich's width for a pipe or a file: `validate > out.txt`) the uncut id column pushed error and gated off
    every table, and at 100 the serving table's 53-character ids did (hY41, session 41). The stack is its own column
    beside the metric where it fits, the third line of the case cell where it does not (hT, session 62)."""
    labels = 3 if stack else 2
    ids = ("case", {"no_wrap": True, "min_width": max(len(r[0]) for r in [("case",), *rows])})
    stacks: list[Column] = [("stack", {"no_wrap": True})] if stack else []
    table = _table(title, [ids, ("metric", metric), *stacks, *columns], rows)
    unbounded = console.options.update_width(sys.maxsize)  # the table's own minimum, not one squeezed to fit
    if console.measure(table, options=unbounded).minimum <= console.width:
        return table
    header = "case / metric / stack" if stack else "case / metric"
    return _table(title, [(header, {"overflow": "fold"}), *columns],
                  [("\n".join(cell for cell in r[:labels] if cell), *r[labels:]) for r in rows])


def _table(title: str, columns: list[Column], rows: Sequence[tuple[str, ...]]) -> Table:
    table = Table(title=title, expand=False)
    for header, settings in columns:
        table.add_column(header, **settings)
    for row in rows:
        table.add_row(*row)
    return table


def render_validation(report: ValidationReport) -> None:
    rows = [(r.id, _UNITS[r.metric], r.stack, _value(r.metric, r.published), _value(r.metric, r.predicted),
             f"{r.error * 100:+.1f} %", r.plan_source, "yes" if r.gated else "no (known gap)") for r in report.cases]
    # the metric wraps at its words and gated's "no (known gap)" in three lines: as an id and one line they made the
    # table 104 columns wide, and Rich cut gated to "no (know" at 100 (hU41, session 41)
    metric = {"min_width": max(len(w) for unit in _UNITS.values() for w in unit.split())}
    columns = [*(_number_column(col, [row[i] for row in rows], justify="right")
                 for i, col in ((3, "published"), (4, "predicted"), (5, "error"))),
               ("plan", {"min_width": len("plan")}), ("gated", {"min_width": len("gated"), "max_width": len("(known")})]
    table = _case_table("infraplan validation: training cases (published measurements)", metric, columns, rows,
                        stack=True)
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
    for line in set_lines(report):
        console.print(line)
    for name, section in (report.sections or {}).items():
        render_section(name, section)


def set_lines(report: ValidationReport) -> list[str]:
    """One line per validation set: the model's mean/max |error| next to the best constant fitted to the set."""
    lines = []
    for v in report.sets or []:
        extra = ("" if v.spearman is None else
                 f"; median predicted/measured {v.median_predicted_over_measured:.2f}, Spearman {v.spearman:.3f}")
        lines.append(f"set {v.name} ({v.cases} cases): model mean |error| {v.mean_abs_error * 100:.1f} %, max "
                     f"{v.max_abs_error * 100:.1f} %; best {v.baseline} fitted to the set "
                     f"({fmt_num(v.baseline_constant, 3)}): "
                     f"mean {v.baseline_mean_abs_error * 100:.1f} %, max {v.baseline_max_abs_error * 100:.1f} %"
                     f"{extra}; gate mean <= {v.gate_mean_abs_error * 100:.0f} % and beat the constant: "
                     f"{'PASS' if v.passes_gate else 'FAIL'}")
        lines += [f"  {a}" for a in v.awaiting]
    return lines


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt_rate(value, "").strip() if abs(value) >= 1e5 else fmt_num(value, 4)
    return str(value)


def render_section(name: str, section: ValidationSection) -> None:
    stack = any(r.stack for r in section.cases)  # a layer that models no software stack has no stack column
    rows = [(r.id, r.metric or "", *([r.stack or "-"] if stack else []), _fmt(r.published), _fmt(r.predicted),
             "-" if r.error is None else f"{r.error * 100:+.1f} %",
             "yes" if r.gated in (True, None) else "no (known gap)") for r in section.cases]
    first = 3 if stack else 2  # the first number's cell
    # the metric wraps: never cut like an id, it pushed error and gated off a 100-column table (facility: 42
    # characters wide; hU41, session 41)
    columns: list[Column] = []
    for i, col in ((first, "published"), (first + 1, "predicted")):
        words = any(isinstance(getattr(r, col), str) for r in section.cases)  # custom silicon: "MTIA best on ..."
        columns.append((col, {"min_width": len(col), "overflow": "fold"}) if words else
                       _number_column(col, [row[i] for row in rows]))
    columns += [_number_column("error", [row[first + 2] for row in rows]), ("gated", {"min_width": len("gated")})]
    table = _case_table(f"infraplan validation: {name}", {"min_width": len("metric"), "overflow": "fold"}, columns,
                        rows, stack=stack)
    console.print(table)
    s = section.summary
    parts = [f"{k}: {_fmt(v * 100 if 'error' in k and isinstance(v, float) else v)}"
             + (" %" if "error" in k and isinstance(v, float) else "")
             for k, v in s.items() if not isinstance(v, list | dict)]
    console.print(f"{name}: " + ", ".join(parts))


def markdown_report(report: ValidationReport) -> str:
    """The validation table as Markdown (the README's table is this output)."""
    lines = ["| case | metric | stack | published | predicted | error | plan | gated |",
             "|---|---|---|---:|---:|---:|---|---|"]
    for r in report.cases:
        lines.append(f"| {r.id} | {_UNITS[r.metric]} | {r.stack} | {_value(r.metric, r.published)} | "
                     f"{_value(r.metric, r.predicted)} | {r.error * 100:+.1f} % | {r.plan_source} | "
                     f"{'yes' if r.gated else 'no: known gap'} |")
    s = report.summary
    lines += ["", f"Gated cases ({s.gated_cases}): mean |error| **{s.mean_abs_error * 100:.1f} %**, max "
              f"**{s.max_abs_error * 100:.1f} %** (gate: {s.gate.mean * 100:.0f} % / "
              f"{s.gate.max * 100:.0f} %). All {s.all_cases} cases: mean "
              f"{s.mean_abs_error_all * 100:.1f} %, max {s.max_abs_error_all * 100:.1f} %."]
    if report.plan_ranking is not None:
        k = report.plan_ranking
        lines.append(f"Plan ranking on {k.cases:,} single-node A100 runs (vTrain): Spearman "
                     f"{k.spearman:.3f}; median predicted/measured step time "
                     f"{k.median_predicted_over_measured:.2f} (mean |error| {k.mean_abs_error * 100:.1f} %).")
    lines += ["", *[f"- {line.strip()}" for line in set_lines(report)]]
    for name, section in (report.sections or {}).items():
        stack = any(c.stack for c in section.cases)  # (as `render_section`)
        lines += ["", f"**{name}**", "", f"| case | metric |{' stack |' if stack else ''} published | predicted | "
                  "error | gated |", f"|---|---|{'---|' if stack else ''}---:|---:|---:|---|"]
        for c in section.cases:
            stack_cell = f" {c.stack or '-'} |" if stack else ""
            lines.append(f"| {c.id} | {c.metric or ''} |{stack_cell} {_fmt(c.published)} | "
                         f"{_fmt(c.predicted)} | {'-' if c.error is None else f'{c.error * 100:+.1f} %'} | "
                         f"{'yes' if c.gated in (True, None) else 'no: known gap'} |")
    return "\n".join(lines)


def validate(
    as_json: JsonFlag = False,
    markdown: bool = typer.Option(False, "--markdown", help="print the table as Markdown"),
    write_error_bands: bool = typer.Option(
        False, "--write-error-bands",
        help="rewrite catalog/error_bands.yaml and catalog/band_residuals/ from the current residuals"),
) -> None:
    """Compare the models with every published case (training, facility, ...): error per case, mean and max."""
    if write_error_bands:
        from infraplan.validation.bands import write_error_bands as write

        print(f"wrote {write()}", file=sys.stderr)
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
        if summary.get("enforced", True) is False:  # an open gate: reported as a known gap, tracked by a test
            continue
        if summary.get("passes_gate", True) is False or summary.get("all_gated_passed", True) is False:
            failed.append(name)
    return failed


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
