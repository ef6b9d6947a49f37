"""The `infraplan` command line: thin Typer shells over the Python API."""

from infraplan.cli.main import main

__all__ = ["main"]
