"""hC73: `milp_start.quiet` silences HiGHS's stray debug line (a C `puts` in HighsMipSolverData::
transformNewIntegerFeasibleSolution, no HiGHS option guards it) by pointing C's stdio `stdout` at the null device,
not descriptor 1: another thread's output (uvicorn's access log under `infraplan web`, a progress bar) written while a
solve runs keeps its lines. hK72's `quiet` sent descriptor 1, the whole process's stdout, to the null device.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from tests.planning.test_bound_seed_hK72 import DRAW_39, HIGHS_LINE

import infraplan
from infraplan.cli import main
from infraplan.planning import milp_start
from infraplan.planning.milp_start import quiet

PRINTS = Path(__file__).parent / "data" / "highs_prints_hC73.json"
# A process that solves the saved programme at HiGHS's default tolerance (HiGHS prints its line there) while a thread
# prints through Python's sys.stdout: argv[2] "quiet" runs milp_start as it is, "bare" with `quiet` a no-op.
SCRIPT = """
import contextlib, json, sys, threading
import numpy as np
from infraplan.planning import milp_start
raw = json.loads(open(sys.argv[1]).read())
a = np.zeros(raw["shape"])
a[raw["rows"], raw["cols"]] = raw["values"]
prog = [np.array(raw[k], dtype=float) for k in ("c", "lb", "ub", "vlb", "vub", "integrality")]
if sys.argv[2] == "bare":
    milp_start.quiet = contextlib.nullcontext
said, three, stop = [0], threading.Event(), threading.Event()
def talk():
    while not (stop.is_set() and said[0] >= 3):
        print(f"thread line {said[0]}", flush=True)
        said[0] += 1
        if said[0] == 3:
            three.set()
        stop.wait(0.001)
with milp_start.quiet():
    talker = threading.Thread(target=talk)
    talker.start()
    three.wait()
    got = milp_start.solve_from(prog[0], a, *prog[1:], None, {})
    stop.set()
    talker.join()
print(f"thread wrote {said[0]}; status {got.status}", flush=True)
"""


def _run(mode: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(Path(infraplan.__file__).parents[1])}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(PRINTS), mode], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    return done.stdout


def test_a_thread_printing_during_a_solve_keeps_its_lines() -> None:
    """Every line the thread printed inside `quiet` (at least 3 before the solve starts, more during it) reaches
    stdout; HiGHS's line does not. Without `quiet` the same solve prints HiGHS's line (skips where a later HiGHS
    no longer does)."""
    if HIGHS_LINE not in _run("bare"):
        pytest.skip("this HiGHS no longer prints its debug line on the saved programme")
    out = _run("quiet").splitlines()
    assert HIGHS_LINE not in "\n".join(out)
    last = out[-1].split()
    assert last[:2] == ["thread", "wrote"] and last[-1] == "0", out[-3:]
    wrote = int(last[2].rstrip(";"))
    assert wrote >= 3
    assert out[:-1] == [f"thread line {i}" for i in range(wrote)]


def _puts(text: bytes) -> None:
    libc = ctypes.CDLL(None)
    libc.puts(text)
    libc.fflush(None)


def test_quiet_drops_c_stdout_and_keeps_descriptor_one(capfd: pytest.CaptureFixture[str]) -> None:
    """Inside (nested) `quiet`, C's stdout goes to the null device and descriptor 1 still writes; after, C's stdout
    writes where it did."""
    _puts(b"C before")
    with quiet():
        _puts(b"C inside")
        os.write(1, b"fd inside\n")
        with quiet():
            _puts(b"C nested")
            os.write(1, b"fd nested\n")
        _puts(b"C after nested")
    _puts(b"C after")
    out, _ = capfd.readouterr()
    assert out == "C before\nfd inside\nfd nested\nC after\n"
    assert milp_start._quiet_state == [0, None]


def test_without_c_stdout_descriptor_one_only_while_no_other_thread(
        monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    """Where C's `stdout` pointer cannot be reached (Windows' C runtime): descriptor 1 on the null device while this
    is the only thread; with another thread alive nothing is silenced (its lines would be lost)."""
    monkeypatch.setattr(milp_start, "_silence_c_stdout", lambda: None)
    with monkeypatch.context() as alone:  # a thread another test left alive (a pool's) would count
        alone.setattr(threading, "active_count", lambda: 1)
        with quiet():
            os.write(1, b"alone\n")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with quiet():
            os.write(1, b"beside a thread\n")
    finally:
        stop.set()
        other.join()
    os.write(1, b"after\n")
    out, _ = capfd.readouterr()
    assert out == "beside a thread\nafter\n"
    assert milp_start._quiet_state == [0, None]


def test_plan_json_stays_json_where_highs_prints(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    """hK72's draw 39 at HiGHS's default tolerance (its bound's solve prints HiGHS's line there, the saved
    programme): `plan --optimality-gap --json` is the JSON alone."""
    monkeypatch.setattr(milp_start, "BOUND_OPTIONS", {})
    path = tmp_path / "draw39.yaml"
    path.write_text(yaml.safe_dump(DRAW_39))
    assert main(["plan", str(path), "--optimality-gap", "--json"]) == 0
    ctypes.CDLL(None).fflush(None)
    out, err = capfd.readouterr()
    assert HIGHS_LINE not in out and HIGHS_LINE not in err
    got = json.loads(out)
    assert got["objective_lower_bound"] <= got["objective_value"] * (1 + 1e-9)
