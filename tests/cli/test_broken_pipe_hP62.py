"""A reader that closes the pipe early (`infraplan ... --json | head -1`) ends the command quietly with 141, as the
shell reports a Unix tool that SIGPIPE ended (hP62; was exit 1, Typer's EPIPE exit or Rich's, with no message)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

RUN = "import sys; from infraplan.cli.main import main; sys.exit(main())"  # (the console script's entry)


def _closed_reader(*args: str) -> tuple[int, str]:
    """The exit status and stderr of `infraplan ARGS` whose stdout's reader is gone before it writes."""
    env = {**os.environ, "PYTHONPATH": "src"}
    proc = subprocess.Popen([sys.executable, "-c", RUN, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # (the only reader: every write of the command's is a broken pipe)
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


@pytest.mark.parametrize("args", [("catalog", "models", "--json"), ("catalog", "models")],
                         ids=["json-print", "rich-table"])
def test_a_closed_reader_ends_the_command_quietly_with_141(args: tuple[str, ...]) -> None:
    status, err = _closed_reader(*args)
    assert (status, err) == (141, "")


def test_a_reader_that_stays_gets_the_whole_answer() -> None:
    env = {**os.environ, "PYTHONPATH": "src"}
    done = subprocess.run([sys.executable, "-c", RUN, "catalog", "models", "--json"],
                          capture_output=True, env=env, timeout=120, check=False)
    assert done.returncode == 0 and done.stdout.decode().rstrip().endswith(("]", "}"))
