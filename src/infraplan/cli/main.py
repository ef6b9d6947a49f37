"""The `infraplan` command line: a thin Typer layer over the Python API.

Every module in `infraplan.cli.commands` defines `register(app)`; each command is a function a notebook
user can call directly. Bad input of any kind ends as one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from infraplan.errors import InputError

app = typer.Typer(
    name="infraplan",
    help="Planner and simulator for AI compute infrastructure, from the chip to the gigawatt.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)



@app.callback()
def _root() -> None:
    """Planner and simulator for AI compute infrastructure, from the chip to the gigawatt."""


for _module in sorted(m.name for m in pkgutil.iter_modules(importlib.import_module("infraplan.cli.commands").__path__)):
    if not _module.startswith("_"):
        importlib.import_module(f"infraplan.cli.commands.{_module}").register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning every input error into one line and exit code 2."""
    try:
        result = app(args=argv, standalone_mode=False)
    except InputError as exc:
        print(f"infraplan: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # click's exceptions (typer may vendor its own click): match by interface
        kind = type(exc).__name__
        if kind == "NoArgsIsHelpError":
            ctx = getattr(exc, "ctx", None)
            print(ctx.get_help() if ctx else "", file=sys.stderr)
            return 2
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            print(f"infraplan: error: {exc.format_message()}", file=sys.stderr)
            return int(exc.exit_code) or 2
        if kind == "Abort":
            print("infraplan: aborted", file=sys.stderr)
            return 130
        raise
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
