"""The CLI process runs numpy's OpenBLAS on one thread (`cli.main.one_blas_thread`, hB62): its worker threads spun at
import for CPU a command never used (`train --json` 0.493 -> 0.455 s CPU, medians on the 2-core VM at load 6), unless
the caller set the thread count, and never where numpy was imported before `main` (a notebook's pool is its own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

cli_main = sys.modules["infraplan.cli.main"]  # `infraplan.cli.main` the attribute is the function

TRAIN = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "8192",
         "--global-batch", "512", "--json"]
# after the command: the variable as the process saw it and the threads the process runs (Linux: /proc/self/task)
PROBE = ("import json, os, sys; from infraplan.cli.main import main; code = main(sys.argv[1:]); "
         "tasks = len(os.listdir('/proc/self/task')) if os.path.isdir('/proc/self/task') else -1; "
         "print(json.dumps([os.environ.get('OPENBLAS_NUM_THREADS'), tasks]), file=sys.stderr); sys.exit(code)")


def _run(env: dict[str, str]) -> tuple[str | None, int]:
    done = subprocess.run([sys.executable, "-c", PROBE, *TRAIN], capture_output=True, text=True,
                          check=True, env=env)
    assert json.loads(done.stdout)["step_time_s"] > 0  # the command ran (numpy loaded, the estimate priced)
    blas, tasks = json.loads(done.stderr.strip().splitlines()[-1])
    return blas, tasks


def _without_blas_variables() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}


def test_the_cli_process_loads_openblas_on_one_thread():
    blas, tasks = _run(_without_blas_variables())
    assert blas == "1"
    if tasks > 0 and (os.cpu_count() or 1) > 1:  # OpenBLAS would start one worker per further core
        assert tasks == 1


def test_a_thread_count_the_caller_set_is_kept():
    blas, tasks = _run({**_without_blas_variables(), "OPENBLAS_NUM_THREADS": "2"})
    assert blas == "2"
    if tasks > 0 and (os.cpu_count() or 1) > 1:
        assert tasks == 2  # main + one worker: the caller's choice, not ours


def test_a_process_with_numpy_loaded_is_left_alone(monkeypatch: pytest.MonkeyPatch):
    assert np.__name__ in sys.modules  # (imported above, as a notebook would have)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    cli_main.one_blas_thread()
    assert "OPENBLAS_NUM_THREADS" not in os.environ
