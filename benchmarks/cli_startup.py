"""CLI start-up time: `infraplan --help` and `infraplan --version` as fresh subprocesses, median of 5 runs each.

Goal (issue 11): under 0.5 s each, so the command list never imports numpy, scipy or the models (subcommands
load lazily, `infraplan.cli.main.COMMANDS`). Before the lazy CLI: ~0.9-1.3 s for `--help`. Exits 1 above the goal.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_S = 0.5
RUNS = 5


def infraplan_command() -> list[str]:
    """The installed `infraplan` script beside this interpreter, else on PATH, else `python -m`."""
    beside = Path(sys.executable).with_name("infraplan")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("infraplan")
    return [found] if found else [sys.executable, "-m", "infraplan.cli.main"]


def median_seconds(args: list[str], runs: int = RUNS) -> float:
    """Median wall time of `runs` fresh processes running `args` (each must exit 0)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    command = infraplan_command()
    worst = 0.0
    for flag in ("--help", "--version"):
        seconds = median_seconds([*command, flag])
        worst = max(worst, seconds)
        print(f"cli_startup: infraplan {flag}: {seconds:.3f} s (median of {RUNS}; goal < {GOAL_S} s)")
    if worst >= GOAL_S:
        print(f"cli_startup: FAIL, {worst:.3f} s >= {GOAL_S} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
