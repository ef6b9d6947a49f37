"""The FCFS loop loads numba only for work that pays for it (hQ, session 72; `serving.fcfs_loop.loop_for`): a
process runs its first COMPILE_AFTER requests through `fcfs_core.fcfs_run` as written, then its numba build, and the
two give the same bits; a short `serve` never imports numba."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.serving.test_serving_engine_fcfs_loop import COST

from infraplan.serving import fcfs_core, fcfs_loop, fcfs_state
from infraplan.serving.fcfs_loop import fcfs_steps
from infraplan.serving.loop_stepping import fcfs_request_arrays, run_to_end
from infraplan.serving.window_marks import window_cuts

ROOT = Path(__file__).resolve().parents[2]


def _run(seed: int, clients: int, blocks: int, log: list[int] | None) -> str:
    rng = np.random.default_rng(seed)
    n = 300
    arrival = np.cumsum(rng.exponential(1.0 / 30.0, n))
    prompt, steps = rng.integers(0, 3_000, n), np.where(rng.random(n) < 0.1, 0, rng.integers(1, 600, n))
    cached = np.where(rng.random(n) < 0.3, rng.integers(1, 500, n), 0)
    arr, first, finish, marks = arrival.copy(), np.full(n, math.nan), np.full(n, math.nan), []  # type: ignore[var-annotated]
    opened = np.append(arr[:clients] if clients else arr, math.inf)
    totals = run_to_end(fcfs_steps(COST, arr, opened, *fcfs_request_arrays(prompt, cached, steps, 16), 32, 512,
                                   blocks, clients, first, finish, log, False, window_cuts(arrival), marks))
    return repr((totals, first.tobytes(), finish.tobytes(), arr.tobytes(), marks, log))


def _as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fcfs_loop, "numba_loaded", lambda: False)
    monkeypatch.setattr(fcfs_loop, "_RUN_AS_WRITTEN", [0])
    monkeypatch.setattr(fcfs_loop, "COMPILE_AFTER", 10**12)


@pytest.mark.parametrize(("seed", "clients", "blocks", "logged"), [(5, 0, 4_000, False), (6, 0, 500, True),
                                                                  (7, 16, 4_000, True), (8, 8, 700, False)])
def test_the_run_as_written_and_the_numba_build_give_the_same_bits(seed: int, clients: int, blocks: int,
                                                                   logged: bool,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Open and closed loop, KV-bound queues, the log: the path taken changes no bit."""
    if "fcfs_run" not in fcfs_state.numba_kernels():
        pytest.skip("numba not installed")
    with monkeypatch.context() as patch:
        patch.setattr(fcfs_loop, "COMPILE_AFTER", -1)
        built = _run(seed, clients, blocks, [] if logged else None)
    _as_written(monkeypatch)
    assert fcfs_loop.loop_for(300) is fcfs_core.fcfs_run  # (the module's function: Python, not a numba dispatcher)
    plain = _run(seed, clients, blocks, [] if logged else None)
    assert plain == built and "nan" not in plain


def test_a_process_runs_its_first_requests_as_written_then_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """The count is per process and cumulative: the run that would pass COMPILE_AFTER, and every one after, gets
    the build."""
    if "fcfs_run" not in fcfs_state.numba_kernels():
        pytest.skip("numba not installed")
    _as_written(monkeypatch)
    monkeypatch.setattr(fcfs_loop, "COMPILE_AFTER", 1_000)
    assert fcfs_loop.loop_for(600) is fcfs_core.fcfs_run
    assert fcfs_loop.loop_for(400) is fcfs_core.fcfs_run
    built = fcfs_loop.loop_for(1)
    assert built is fcfs_state.numba_kernels()["fcfs_run"] and built is not fcfs_core.fcfs_run
    assert built.py_func.__code__ is fcfs_core.fcfs_run.__code__  # (one source)
    assert fcfs_loop._RUN_AS_WRITTEN == [1_000]


def test_a_short_serve_never_imports_numba() -> None:
    """README's serve example (2,000 requests over 4 engines) as a fresh process: numba stays unloaded."""
    code = ("import sys\nfrom infraplan.cli.main import main\nsys.argv = ['infraplan', 'serve', 'llama3-70b', "
            "'--system', 'dgx-h100-superpod', '--gpus', '8', '--tp', 'auto', '--dtype', 'fp8', '--rate', '10', "
            "'--workload', 'chat', '--json']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('numba' in sys.modules, file=sys.stderr)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120, check=True)
    assert '"ttft' in done.stdout.lower() or "ttft" in done.stdout.lower()
    assert done.stderr.strip().splitlines()[-1] == "False"
