"""Fixtures of the CLI tests: `cli(args)` runs `infraplan ARGS` in process and returns (exit code, stdout, stderr);
`cli_json(capsys, args)` runs `infraplan ARGS --json` and returns its JSON (tests elsewhere import it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infraplan.cli import main

CliRun = Callable[[list[str]], tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRun:
    """`infraplan ARGS` through `infraplan.cli.main`, its output captured: (exit code, stdout, stderr)."""

    def run(args: list[str]) -> tuple[int, str, str]:
        code = main(args)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def cli_json(capsys: pytest.CaptureFixture[str], args: list[str] | str) -> dict[str, Any]:
    """`infraplan ARGS --json` in process (`args` a list, or one line split on spaces): its JSON, the command
    asserted to exit 0 (its stderr the message otherwise)."""
    capsys.readouterr()
    code = main([*(args.split() if isinstance(args, str) else args), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def json_strings(value: object) -> Iterator[str]:
    """Every string in a JSON answer, at any depth (notes sit at different depths in train, campus, plan, catalog)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)
