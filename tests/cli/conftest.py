"""Fixtures of the CLI tests: `cli(args)` runs `infraplan ARGS` in process and returns (exit code, stdout, stderr)."""

from __future__ import annotations

from collections.abc import Callable

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
