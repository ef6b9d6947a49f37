"""The `infraplan` command line: a thin Typer layer over the Python API, with lazily imported subcommands.

`COMMANDS` maps each command name to the function that implements it ("module:function") and its one-line
help. `infraplan --help` lists the table without importing any command module (so numpy, scipy and the
models stay unloaded and start-up stays under 0.5 s: `benchmarks/cli_startup.py`); a command's module is
imported only when that command runs, or its own `--help` is asked. Every command function is plain Python a
notebook user can call directly. Bad input of any kind ends as one line on stderr and exit code 2. A reader that
closes the pipe early (`infraplan ... --json | head -1`) ends the command quietly with `BROKEN_PIPE_EXIT` (`main`).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

import typer
from typer.core import TyperGroup

from infraplan import __version__
from infraplan.cli.option_synonyms import synonym_hint, value_hint
from infraplan.cli.terminal_text import terminal_text
from infraplan.errors import InputError
from infraplan.raised_warnings import raised_warnings

try:  # typer >= 0.2x vendors click as typer._click; older releases use click itself
    from typer import _click as click
except ImportError:  # pragma: no cover - depends on the installed typer
    import click  # type: ignore[no-redef]


@dataclass(frozen=True)
class LazyCommand:
    """One subcommand: where its function lives ("module:function") and the line `--help` shows for it."""

    target: str
    help: str


_COMMANDS = "infraplan.cli.commands"
COMMANDS: dict[str, LazyCommand] = {
    "campus": LazyCommand(f"{_COMMANDS}.campus:campus", "Plan a campus for a power budget (accelerators, racks, "
                          "buildings, cost, carbon, Llama-3-405B runs/year)."),
    "catalog": LazyCommand(f"{_COMMANDS}.catalog:catalog", "List the shipped presets (systems, accelerators, "
                           "models, stacks, workloads, locations, ...) by name."),
    "collective": LazyCommand(f"{_COMMANDS}.collective:collective", "Time one collective: time_s, algbw, busbw "
                              "(nccl-tests conventions) and the bottleneck tier."),
    "facility": LazyCommand(f"{_COMMANDS}.facility:facility", "Size the data centre: IT and facility power, racks, "
                            "floor, water, capex, opex, $/GPU-h, energy, CO2."),
    "fleet-mix": LazyCommand(f"{_COMMANDS}.fleet_mix:fleet_mix", "Place inference services (ranking, video, LLM) on "
                             "pools (MTIA, GPU, CPU, MSVP) minimising power or TCO."),
    "plan": LazyCommand(f"{_COMMANDS}.plan:plan", "Plan a fleet from a scenario: demand to devices, racks, sites, "
                        "MW, capex, TCO and tCO2e per phase."),
    "compare": LazyCommand(f"{_COMMANDS}.compare:compare", "Compare scenarios side by side: devices, MW, capex, "
                           "TCO/yr, tCO2e, risks."),
    "network": LazyCommand(f"{_COMMANDS}.network:network", "Build the explicit folded-Clos fabric: switches per "
                           "tier, links, transceivers, bisection, power, capex."),
    "recsys": LazyCommand(f"{_COMMANDS}.recsys:recsys", "Recommendation inference on one accelerator: QPS, latency, "
                          "power, QPS/W and what bounds it."),
    "reliability": LazyCommand(f"{_COMMANDS}.reliability:reliability", "Expected interruptions, job MTTF, Young/Daly "
                               "checkpoint interval and goodput for a job of N GPUs."),
    "schema": LazyCommand(f"{_COMMANDS}.schema:schema", "Print the JSON Schema of a command's --json output."),
    "results": LazyCommand(f"{_COMMANDS}.results:results", "Query a sweep's results with DuckDB SQL; Pareto "
                           "fronts and Plotly charts."),
    "search": LazyCommand(f"{_COMMANDS}.search:search", "Search every valid training plan (TP/CP/PP/VPP/DP/EP, "
                          "micro-batch, recompute, ZeRO, dtype); list the best."),
    "serve": LazyCommand(f"{_COMMANDS}.serve:serve", "Simulate serving: throughput, TTFT/TPOT/end-to-end "
                         "percentiles, SLO attainment, J/token, $/M tokens."),
    "serve-plan": LazyCommand(f"{_COMMANDS}.serve_plan:serve_plan", "Capacity search: fewest accelerators (TP, "
                              "replicas, batch cap, dtype, disaggregation) meeting the SLOs."),
    "sweep": LazyCommand(f"{_COMMANDS}.sweep:sweep", "Run an API function over the axes of a spec (local or Ray); "
                         "results in Parquet, resumable."),
    "train": LazyCommand(f"{_COMMANDS}.train:train", "Estimate one training plan: step time, tokens/s, MFU, memory "
                         "per GPU and the breakdown."),
    "validate": LazyCommand(f"{_COMMANDS}.validate:validate", "Compare the models with every published case "
                            "(training, facility, ...): error per case, mean and max."),
    "web": LazyCommand(f"{_COMMANDS}.web:web", "Serve the web app and JSON API (planner pages, /api/COMMAND, "
                       "API reference at /docs) on loopback."),
    "video": LazyCommand(f"{_COMMANDS}.video:video", "Video transcoding: real-time streams per device, watts per "
                         "stream and devices for a daily ingest."),
}


@functools.cache
def load_command(name: str) -> click.Command:
    """Import one subcommand's module and turn its function into a click command (Typer's own conversion).

    Built once per process: `app(...)` makes a fresh group on every call, and converting a command's signature
    costs milliseconds (a notebook or test calling `main` repeatedly pays it once). The command is stateless;
    click makes a new context per invocation."""
    module_name, _, function = COMMANDS[name].target.partition(":")
    with collector_paused():
        module = importlib.import_module(module_name)
    sub = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    sub.command(name, context_settings=getattr(module, "CONTEXT_SETTINGS", None))(getattr(module, function))
    command = typer.main.get_command(sub)
    command.name = name
    command.parse_args = functools.partial(_given_once, command, command.parse_args)  # type: ignore[method-assign]
    for param in command.params:  # typer names a unit-reading number option "<float>" ("--ttft-slo 200ms" works)
        info = getattr(getattr(param, "type_descriptor", None), "parameter_info", None)
        if getattr(getattr(info, "parser", None), "reader", None) is not None and param.metavar is None:
            param.metavar = "<number|duration>"
    return command


def _given_once(command: click.Command, parse: Any, ctx: click.Context, args: list[str]) -> list[str]:
    """`command.parse_args`, refusing an option that takes one value and is given twice (`plan --report a.html
    --report b.html` wrote b.html only: click keeps the last, hW51): a UsageError, one line, exit 2. Options that
    collect values (`multiple`), flags and counters repeat freely; `--help` anywhere shows the help as before."""
    if not ctx.resilient_parsing:  # not while the shell completes a word
        _, _, order = command.make_parser(ctx).parse_args(args=list(args))
        seen: set[str] = set()
        for param in [] if any(p.is_eager for p in order) else order:  # --help: the help, whatever else is given
            takes_one = not (param.multiple or getattr(param, "is_flag", False) or getattr(param, "count", False))
            if param.param_type_name == "option" and takes_one:
                shown = max(param.opts, key=len)
                if shown in seen:
                    ctx.fail(f"option {shown} is given more than once; give it once")
                seen.add(shown)
    return parse(ctx, args)  # type: ignore[no-any-return]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a command's modules import (they live as long as the process), then every
    object into the oldest generation without a scan: mypy's treatment of its own start-up (mypy/build.py:4132-4147
    in mypy 2.4: gc.disable() while loading, then gc.freeze(); gc.unfreeze()). Importing `train` spent ~30 ms of
    collections scanning its ~75,000 new objects (validation/notes/cli_startup_tried.md). Skipped when objects are
    already frozen (the caller's), so nothing of theirs leaves the permanent generation."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


class ReaderGone(BaseException):
    """A command's standard output lost its reader (a BrokenPipeError under the command), carried past Typer, which
    ends an EPIPE with exit 1 (typer/core.py `_main`: `except OSError` ... `sys.exit(1)`), to `_main`."""


class LazyGroup(TyperGroup):
    """A Typer group whose subcommands come from `COMMANDS` and are imported on first use."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:  # (`main`: `BROKEN_PIPE_EXIT`, quietly)
            raise ReaderGone from exc

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table's help lines: nothing is imported to print `--help`."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, click.utils.make_default_short_help(self._short_help(ctx, name), limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _short_help(self, ctx: click.Context, name: str) -> str:
        if name in COMMANDS:
            return COMMANDS[name].help
        command = self.get_command(ctx, name)
        return command.get_short_help_str() if command else ""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                            list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.UsageError as exc:
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches and "Did you mean" not in exc.message:
                exc.message = exc.message.rstrip(".") + ". Did you mean " + ", ".join(map(repr, matches)) + "?"
            raise

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[Any]:
        """Complete command names from the table (no imports), then the group's own options."""
        items = [click.shell_completion.CompletionItem(name, help=self._short_help(ctx, name))
                 for name in self.list_commands(ctx) if name.startswith(incomplete)]
        return items + click.Command.shell_complete(self, ctx, incomplete)


app = typer.Typer(
    name="infraplan",
    cls=LazyGroup,
    help="Planner and simulator for AI compute infrastructure, from the chip to the gigawatt.",
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        print(f"infraplan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="print the version and exit", is_eager=True,
                                 callback=_print_version),
) -> None:
    """Planner and simulator for AI compute infrastructure, from the chip to the gigawatt."""


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Every warning is one line on stderr: infraplan's own (a model config's unmodelled keys, a stack's limits, an
    accelerator file named like a preset) as `infraplan: warning: ...`, any other (a numpy overflow on absurd input)
    with its category. It used to hand
    the others to the hook `catalog.model_config_keys` saved at its import, which is this function when that
    module loads after `main` installed it: an endless recursion and a traceback on the first numpy warning."""
    text = str(message).splitlines()[0] if str(message) else ""
    if category.__module__.startswith("infraplan."):
        print(f"infraplan: warning: {terminal_text(text)}", file=file or sys.stderr)  # a file's text, shown
    else:
        print(f"infraplan: warning: {category.__name__}: {terminal_text(text)}", file=file or sys.stderr)


# The cyclic garbage collector's thresholds while a command runs: the youngest generation collected after 200,000
# net new objects, not 700, the older ones after 30 of the younger's collections (mypy's own setting for the same
# reason, mypy/build.py:480-483 in mypy 2.4: "Run gc less frequently, as otherwise we can spend a large fraction of
# cpu in gc"). Importing a command leaves ~75,000 tracked objects (modules, pydantic schemas, the catalog's
# residuals): at the default thresholds `train --json` spent 81 ms of its ~600 ms of CPU in 243 collections, one of
# them over the whole heap; at these, 30 ms; with the command's import unscanned (`collector_paused`), 9-11 ms, all
# while `typer` imports, before `main` (validation/notes/cli_startup_tried.md). Collection still runs; the caller's
# thresholds are restored when `main` returns (a notebook or test calling `main` keeps its own).
GC_THRESHOLDS = (200_000, 30, 30)


BROKEN_PIPE_EXIT = 128 + 13
"""The exit status of a command whose reader closed its standard output (a broken pipe): what the shell reports of a
Unix tool that SIGPIPE (13, signal(7)) ended, 128 + N (bash manual, "EXIT STATUS"; `yes | head -1` gives 141). The
Python docs' note on SIGPIPE (library/signal.html, "Note on SIGPIPE") catches the BrokenPipeError, points stdout at
devnull so the exit's flush raises no second one, and exits (1 there); SIGPIPE's default action is not restored,
as that note advises: `infraplan web` writes to sockets."""


def one_blas_thread() -> None:
    """OpenBLAS on one thread for a command that imports numpy after this (the CLI process: `infraplan.cli.main`
    imports no numpy), unless the caller chose its thread count (`OPENBLAS_NUM_THREADS` set: kept). numpy's bundled
    OpenBLAS (scipy-openblas 0.3.31, pthreads) starts a worker per further core at import, which spins before it
    sleeps: on the 2-core development VM `import numpy` took 0.09 s of CPU against 0.045 s on one thread, and the
    README's 405B `train --json` 0.493 s against 0.455 s (CPU medians of 10 alternated pairs at load 6; hB62,
    validation/notes/cli_startup_tried.md). No command multiplies matrices large enough for a second BLAS
    thread to pay (the arrays are plans and requests priced element-wise). A process that imported numpy already
    keeps its pool (OpenBLAS reads the variable once, when it loads)."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning every input error into one line and exit code 2. The warnings the command
    raises are recorded (`raised_warnings.raised_warnings`) for its `--json` answer (`_output.emit`), each still one
    line on stderr. numpy's BLAS on one thread where the command imports it (`one_blas_thread`). A broken pipe on
    stdout (its reader gone): no message, `BROKEN_PIPE_EXIT` (hI62: Rich's exit 1, or Python's traceback-less 120)."""
    one_blas_thread()
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    # the caller's warning hook and filters back when it returns (a notebook or test calling `main`)
    with warnings.catch_warnings():
        try:
            return _main(argv)
        finally:  # the caller's collector thresholds
            gc.set_threshold(*thresholds)


def _not_utf8(args: list[str]) -> str | None:
    """The first argument that is not UTF-8 text: a file or folder name whose bytes are in another encoding reaches
    Python as lone surrogates (surrogateescape, PEP 383); the JSON answer echoing it could not be written (a
    PydanticSerializationError traceback, hH70). None when every argument is."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return arg
    return None


def _stdout_to_devnull() -> None:
    """Standard output pointed at devnull, so the interpreter's flush at exit writes nothing into a closed pipe (the
    Python docs' note on SIGPIPE); a stdout without a file descriptor (a caller's StringIO) is left alone."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _main(argv: list[str] | None) -> int:
    warnings.showwarning = _show_warning
    if (bad := _not_utf8(sys.argv[1:] if argv is None else argv)) is not None:
        print(f"infraplan: error: argument {terminal_text(repr(bad))} is not UTF-8 text (a name in another "
              "encoding): rename the file or folder", file=sys.stderr)
        return 2
    try:
        with raised_warnings():  # after `_show_warning`: each recorded line is still printed, once
            result = app(args=argv, standalone_mode=False)
        sys.stdout.flush()  # (a reader gone shows here, not in the interpreter's flush at exit)
    except (BrokenPipeError, ReaderGone):  # the reader closed the pipe (`head -1`): quietly, as a Unix tool does
        _stdout_to_devnull()
        return BROKEN_PIPE_EXIT
    except InputError as exc:
        print(f"infraplan: error: {terminal_text(str(exc))}", file=sys.stderr)  # a file's text, never obeyed
        return 2
    except Exception as exc:  # click's exceptions (typer may vendor its own click): match by interface
        kind = type(exc).__name__
        if kind == "NoArgsIsHelpError":
            ctx = getattr(exc, "ctx", None)
            print(ctx.get_help() if ctx else "", file=sys.stderr)
            return 2
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            # typer's Literal choices go through pydantic, whose message starts "Value error, " (not the user's);
            # another tool's name for an option is answered with ours (`cli.option_synonyms`, hW59)
            # and a refused value with the planner's reason (`value_hint`: `--kv-dtype mxfp8`, hM70)
            hint = synonym_hint(exc) if kind == "NoSuchOption" else value_hint(exc) if kind == "BadParameter" else None
            shown = terminal_text(hint or exc.format_message().replace(': Value error, ', ': '))
            print(f"infraplan: error: {shown}", file=sys.stderr)
            return int(exc.exit_code) or 2
        if kind == "Abort":
            print("infraplan: aborted", file=sys.stderr)
            return 130
        raise
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
