"""Shared output helpers: a typed result as JSON (`--json`) or through a Rich renderer, and human units.

Human output never shows e-notation: every number goes through `fmt_num` (significant digits, thousands
separators), `fmt_seconds` (ns to years), the prefix formatters `fmt_rate`/`fmt_bytes`/`fmt_quantity`/`fmt_usd`
(26.7 M GPU-h, 1.39 GW, $185 M, $35 B) or `fmt_percent`. Undefined values (None, nan, inf) print as '-'.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from infraplan.raised_warnings import run_warnings
from infraplan.results import Result, with_warnings
from infraplan.units import significant_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    console: Console

R = TypeVar("R", bound=Result)


def __getattr__(name: str) -> Any:
    """`console`, the shared Rich console, made on first use: `--json` output never imports Rich (~20 ms)."""
    if name == "console":
        # no markup: tables and lines carry file text (a video device's `host_source: "[/bold]"` was a MarkupError
        # traceback, hX50); a renderer that wants a style passes a rich Text
        globals()["console"] = made = _terminal_console()(markup=False)
        return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _terminal_console() -> type[Console]:
    """A Rich console that shows a control character of a file's text escaped, never emits it (`cli.terminal_text`,
    hX67): a string before Rich wraps it (`render_str`: tables' cells and titles, printed lines), and what any
    renderable yields (`render`: a rich Text a renderer builds), Rich's own control segments (cursor, screen) kept.
    A broken pipe on its output is raised to `cli.main`, which ends the command as a Unix tool does (Rich's own
    `on_broken_pipe` exits 1: hI62)."""
    from rich.console import Console
    from rich.segment import Segment

    from infraplan.cli.terminal_text import terminal_text

    class TerminalConsole(Console):
        def render_str(self, text: str, **kwargs: Any) -> Any:
            return super().render_str(terminal_text(text), **kwargs)

        def render(self, renderable: Any, options: Any = None) -> Any:
            for segment in super().render(renderable, options):
                shown = segment.text if segment.control else terminal_text(segment.text)  # the same str if clean
                yield segment if shown is segment.text else Segment(shown, segment.style)

        def on_broken_pipe(self) -> None:
            self.quiet = True  # (nothing more written)
            raise BrokenPipeError(32, "Broken pipe")

    return TerminalConsole


@contextmanager
def stage_bar(off: bool = False) -> Iterator[Callable[[str, float, float], None]]:
    """A progress bar on stderr for long work, as `tick(stage, done, total)` (total 0: not known yet): drawn from
    the first tick (an input refused before any work prints only its error line), removed when done; nothing where
    `off` (--json) or stderr is not a terminal (a pipe, CI). `plan`'s; the columns of `collective --sim flow`'s."""
    if off:  # --json imports no Rich (`console`)
        yield lambda stage, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    errors = Console(stderr=True)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                   transient=True, disable=not errors.is_terminal, console=errors)
    task = bar.add_task("", total=None)

    def tick(stage: str, done: float, total: float) -> None:
        bar.update(task, description=stage, completed=done, total=total if total > 0 else None)
        if not bar.live.is_started:
            bar.start()

    try:
        yield tick
    finally:
        if bar.live.is_started:
            bar.stop()


def emit(result: R, as_json: bool, render: Callable[[R], None]) -> None:
    """Print `result` as its JSON serialisation (`Result.to_json`) with the warnings the command raised
    (`raised_warnings.run_warnings`, in its `warnings` or `notes` as the web's answer: `results.with_warnings`; each
    also on stderr), or hand it to a Rich renderer (the warnings on stderr only: a table's notes would say them
    twice on a terminal)."""
    if as_json:
        print(with_warnings(result, run_warnings()).to_json())
    else:
        render(result)


def device_word(system: str) -> str:
    """The word for one device of `system` (a system or accelerator, preset or file) in table headers: GPU, TPU,
    CPU, or accelerator (an ASIC such as MTIA). JSON field names keep `gpu` (users parse them)."""
    from infraplan.cluster import Cluster  # lazy: only the tables ask

    return Cluster.resolve(system).accelerator.device_word


def _scaled(value: float, unit: str, base: float, prefixes: tuple[str, ...]) -> str:
    if not math.isfinite(value):
        return f"- {unit}"
    if value == 0:
        return f"0 {unit}"
    exp = min(max(int(math.floor(math.log(abs(value), base))), 0), len(prefixes) - 1)
    if abs(float(f"{value / base**exp:.3g}")) >= 1000 and exp < len(prefixes) - 1:
        exp += 1  # 999.7 rounds to 1000 (or 1020 GiB): show the next prefix, not 1e+03
    return f"{fmt_num(value / base**exp, 3)} {prefixes[exp]}{unit}"


def fmt_num(value: float | int | None, digits: int = 4) -> str:
    """`digits` significant digits, never in e-notation: 1,394 · 26.71 · 0.000123 ('-' if undefined)."""
    if value is None or not math.isfinite(value):
        return "-"
    return significant_text(value, digits)  # infraplan.units: the notes below the CLI write numbers the same way


def fmt_seconds(value: float | None) -> str:
    """A duration with the unit that keeps it short: 850 µs, 12.3 ms, 4.5 s, 23.2 min, 5.1 h, 54 days, 3.2 years."""
    if value is None or not math.isfinite(value):
        return "-"
    if value < 0:
        return "-" + fmt_seconds(-value)
    for limit, scale, unit in ((1e-6, 1e-9, "ns"), (1e-3, 1e-6, "µs"), (1.0, 1e-3, "ms"), (120.0, 1.0, "s"),
                               (7200.0, 60.0, "min"), (172_800.0, 3600.0, "h"), (2 * 31_557_600.0, 86_400.0, "days")):
        if value < limit:
            return f"{fmt_num(value / scale, 3)} {unit}"
    return f"{fmt_num(value / 31_557_600.0, 3)} years"


_SECONDS_FIGURE = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?(?:e[-+]?\d+)?) s\b")
"""A duration written in bare seconds inside a lower layer's sentence: "TPOT p99 0.0355 s", "(0.033 s)"."""


def seconds_in_text(text: str) -> str:
    """A sentence from a lower layer (serve-plan's `rejected` and `why`: serving/capacity_answer.py writes "TPOT p99
    0.0355 s") with each duration in `fmt_seconds`'s unit, the one the table beside it uses ("35.5 ms"): one unit
    per quantity within one output (hU53). The JSON keeps the sentence as written; its numbers are fields."""
    return _SECONDS_FIGURE.sub(lambda m: fmt_seconds(float(m.group(1))), text)


def fmt_quantity(value: float | None, unit: str) -> str:
    """A count of a word unit with a decimal prefix set apart: 26.7 M GPU-h, 1.2 k tCO2e, 512 GPU-h."""
    if value is None or not math.isfinite(value):
        return "-"
    text = _scaled(value, "", 1000.0, ("", "k", "M", "G", "T", "P", "E"))
    return f"{text.strip()} {unit}"


def fmt_usd(value: float | None) -> str:
    """Dollars with the money convention's prefix: $1.27, $185 M, $29.3 B (billions, as the README and every cost
    source write them; "$29.3 G" read as a unit prefix where no planner writes one)."""
    if value is None or not math.isfinite(value):
        return "-"
    sign = "-" if value < 0 else ""  # -$25.2 k, not $-25.2 k (a negative saving)
    return sign + "$" + _scaled(abs(value), "", 1000.0, ("", "k", "M", "B", "T", "P", "E")).strip()


def fmt_bytes(value: float) -> str:
    return _scaled(value, "B", 1024.0, ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))


def fmt_rate(value: float, unit: str) -> str:
    return _scaled(value, unit, 1000.0, ("", "k", "M", "G", "T", "P", "E"))


def fmt_percent(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value * 100:.1f} %"


def band_line(band: Any, quantity: str, value: float | None = None, unit: str = "", inverse: bool = False,
              latency: bool = False, label: str = "error band") -> str:
    """A result's `error_band` (`catalog.error_bands.ErrorBand`: residuals r = predicted / measured throughput - 1,
    the 80 % conformal band of the nearest validation campaigns) as one human line, then one naming a few of the
    cases it comes from (its `cases_line`, `catalog.band_cases.nearest_line`, indented; the web pages show the same
    line); '' when the result has none. With `value`, the measured value the band implies: a throughput
    `value` / (1 + r); a time (`inverse`, e.g. TPOT, the inverse of decode throughput) `value` x (1 + r); a time whose
    own residual the band is (`latency`, TTFT: r = predicted / measured TTFT - 1) `value` / (1 + r)."""
    if band is None:
        return ""
    near = getattr(band, "cases_line", "")  # a few of the cases behind it (catalog/band_cases.py, hX59)
    return _band_text(band, quantity, value, unit, inverse, latency, label) + (f"\n  {near}" if near else "")


def _band_text(band: Any, quantity: str, value: float | None, unit: str, inverse: bool, latency: bool,
               label: str) -> str:
    """`band_line`'s first line: the band, its basis and the measured values it implies."""
    line = (f"{label}: {band.low * 100:+.1f} % to {band.high * 100:+.1f} % (predicted / measured {quantity} - 1; "
            f"{band.basis})")
    if value is not None and math.isfinite(value) and value > 0 and min(band.low, band.high) > -1.0:
        ends = sorted(value * (1.0 + r) if inverse else value / (1.0 + r) for r in (band.low, band.high))
        shown = [fmt_seconds(v) if inverse or latency else fmt_rate(v, unit) for v in ends]
        line += f": measured likely {shown[0]} to {shown[1]}"
    return line


def band_or_why(band: Any, basis: str, quantity: str, value: float | None = None, unit: str = "",
                latency: bool = False, label: str = "error band") -> str:
    """`band_line`, or `LABEL: none (why)` for a result without a band (its `error_band_basis`); what the basis adds
    to the band's own (what the answer rests on that no case checks) follows the line."""
    if band is None:
        return f"{label}: none ({basis})"
    extra = basis[len(band.basis):] if basis.startswith(band.basis) else ""
    near = getattr(band, "cases_line", "")
    return _band_text(band, quantity, value, unit, False, latency, label) + extra + (f"\n  {near}" if near else "")


def print_band(line: str) -> None:
    """Print an error-band line (`band_line`, `band_or_why`) as the shared console prints any line, unhighlighted and
    without markup, but wrapped where a metric table's cell wraps (`unit_text`): never between a number and its unit
    ("+211.0 %", "58.5 GB/s"), which a plain line did at 23 of the widths 40-120 for `collective` (hU51, hC52)."""
    from rich.console import Group

    from infraplan.cli.terminal_text import terminal_text

    shared = globals().get("console") or __getattr__("console")  # (made on first use, as `console` is)
    # in a Group: `Console.print` joins bare Texts into one plain Text, which would wrap at every space
    shared.print(Group(_rich_classes()[1](terminal_text(line))))


def print_serving_bands(band: Any, tpot_s: float | None, ttft_band: Any, ttft_s: float | None) -> None:
    """`serve`'s and `serve-plan`'s band lines (`print_band`), each where the answer has its band: the decode band
    with the TPOT p50 it implies (`tpot_s`), the TTFT band with the mean TTFT (`ttft_s`)."""
    if band is not None:
        print_band(band_line(band, "decode throughput (1 / TPOT)", tpot_s, inverse=True).replace(
            "measured likely", "measured TPOT p50 likely"))
    if ttft_band is not None:  # a plan may bind on its TTFT SLO
        print_band(band_line(ttft_band, "mean TTFT", ttft_s, latency=True, label="error band (TTFT)").replace(
            "measured likely", "measured mean TTFT likely"))


def metric_table(title: str) -> Table:
    """A titled two-column table without a header: metric names, then their values right-aligned. A value wraps
    between words but never inside a number and its unit ("p99 23 ms", "TTFT <= 2 s": `unit_text`), unless such a
    held run is wider than the cell: it then breaks at its spaces (Rich cut it to "…": "470,880 (1,190,…", hR52)."""
    # up to 100 columns wide for its title (a 60-column table wrapped a plan's title in four lines)
    table = _rich_classes()[0](title=title, show_header=False, min_width=min(len(title), 100))
    table.add_column("metric")
    table.add_column("value", justify="right")
    return table


HELD_SPACES = re.compile(r"(?<=\d) (?=[^\s\d])|(?<=[<>=~≤≥≈]) (?=[-\d])|(?<=\bp\d\d) (?=\d)"
                         r"|(?<=\bp\d\d\.\d) (?=\d)")
"""The spaces a table cell is not broken at: after a number (before its unit or word: "23 ms"), after a percentile
before its number ("p99 23 ms", "p99.9 40 ms") and after a comparison sign before a number ("<= 2 s"). Rich breaks
at any whitespace, U+00A0 included (hU51)."""
_HELD = "\ue000"  # a private-use character one cell wide that is not whitespace: a held space while Rich wraps
_LONG_RUN = re.compile(r"\S*\ue000\S*")  # a run of words joined by held spaces


def unit_text(cell: str) -> Any:
    """A table cell as a Rich Text that wraps only at the spaces `HELD_SPACES` does not hold (highlighted and its
    control characters escaped as the shared console does a plain string cell)."""
    from rich.highlighter import ReprHighlighter

    from infraplan.cli.terminal_text import terminal_text

    text = _rich_classes()[1](terminal_text(cell))
    ReprHighlighter().highlight(text)
    return text


@functools.cache
def _rich_classes() -> tuple[type[Table], type[Any]]:
    """(the metric table, whose string cells become `unit_text`; the Text that wraps so), made on first use: `--json`
    output never imports Rich."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    class MetricTable(Table):
        def add_row(self, *renderables: Any, **kwargs: Any) -> None:
            super().add_row(*(unit_text(r) if isinstance(r, str) else r for r in renderables), **kwargs)

    class UnitText(Text):
        def _held(self, width: int | None = None) -> Text:
            held = self.copy()
            plain = HELD_SPACES.sub(_HELD, self.plain)  # the same length: styles stay where they were
            if width is not None:  # a held run wider than the cell breaks at its spaces, not cut to "…" (hR52)
                plain = _LONG_RUN.sub(lambda run: run.group().replace(_HELD, " ") if cell_len(run.group()) > width
                                      else run.group(), plain)
            held.plain = plain
            return held

        def wrap(self, console: Any, width: int, **kwargs: Any) -> Any:
            lines = Text.wrap(self._held(width), console, width, **kwargs)
            for line in lines:
                line.plain = line.plain.replace(_HELD, " ")
            return lines

        def __rich_measure__(self, console: Any, options: Any) -> Any:
            return Text.__rich_measure__(self._held(), console, options)

    return MetricTable, UnitText


def add_id_column(table: Table, header: str, ids: Iterable[str], **kwargs: Any) -> None:
    """A column of identifiers that is never cut: as wide as the longest id; the other columns wrap instead."""
    width = max([len(header), *(len(str(i)) for i in ids)])
    table.add_column(header, no_wrap=True, min_width=width, **kwargs)


def check_html_path(path: str, option: str) -> None:
    """An HTML output (`--plot`, `--report`) must be named .html, as `search` and `results` require, and be
    writable (`check_output_path`): refused before any work, so nothing is half-written."""
    from infraplan.catalog.output_files import check_output_path
    from infraplan.errors import InputError

    if not path.endswith(".html"):
        raise InputError(f"{option} must name an .html file, got {path!r}")
    check_output_path(path, option)
