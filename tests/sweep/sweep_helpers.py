"""A slow, seeded toy function for the crash tests (`sweep_helpers:slow_square`): a sweep of it takes long
enough to be killed in the middle, and its result depends on (x, seed) only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pydantic import Field

from infraplan.errors import InputError
from infraplan.results import Result


class Square(Result):
    """x squared, plus the seed."""

    x: float = Field(description="input")
    square: float = Field(description="x squared plus the seed")


def slow_square(x: float, delay_s: float = 0.02, seed: int = 0) -> Square:
    time.sleep(delay_s)
    if x < 0:
        raise InputError(f"x must be >= 0, got {x}\nsecond line")
    return Square(x=x, square=x * x + seed)


HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def cli_env() -> dict[str, str]:
    """The environment of a CLI subprocess: these helpers importable (and by its workers), Ray quiet."""
    paths = [str(HERE), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p), "RAY_AUTH_MODE": "disabled",
            "COLUMNS": "100"}


def start_cli(args: list[str]) -> subprocess.Popen[str]:
    """`infraplan ARGS` in its own process group (so a kill reaches its workers too), with Ctrl-C's default
    disposition: a child inherits an ignored SIGINT from its parent (a test runner's worker may ignore it), and
    Python then never raises KeyboardInterrupt, so the Ctrl-C test would see the whole sweep run."""
    return subprocess.Popen([sys.executable, "-m", "infraplan.cli.main", *args], env=cli_env(), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_default_sigint)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_parts(folder: Path, parts: int, timeout_s: float = 60.0) -> None:
    """Until the folder's manifest lists at least `parts` committed parts."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if len(json.loads((folder / "manifest.json").read_text())["parts"]) >= parts:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"no {parts} parts in {folder} after {timeout_s} s")
