"""The FCFS engine loop compiled (hS, session 72; `serving.fcfs_core`): one source, compiled with numba or run as
written, gives the same bits either way and the sums written out by hand on a small case; a stepped run (arrivals
fed a few at a time, its ends logged) equals the run given every arrival; the guard that keeps numba's disk cache
from serving a loop compiled against an older `fcfs_state`. (The compiled loop against the general loop, bit for
bit, over many cases: tests/serving/test_serving_engine_fcfs_loop.py.)"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.serving.test_serving_engine_fcfs_loop import COST

from infraplan.serving import fcfs_core, fcfs_loop, fcfs_state
from infraplan.serving.fcfs_loop import KvBinds, fcfs_steps
from infraplan.serving.fcfs_setup import fcfs_constants
from infraplan.serving.loop_stepping import IDLE, LEAP, TOP, fcfs_request_arrays, run_to_end
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.window_marks import window_cuts


def _requests(seed: int, n: int, rate: float) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    arrival = np.cumsum(rng.exponential(1.0 / rate, n))
    prompt = rng.integers(0, 3_000, n)
    cached = np.where(rng.random(n) < 0.3, rng.integers(1, 500, n), 0)
    steps = np.where(rng.random(n) < 0.1, 0, rng.integers(1, 600, n))
    return arrival, prompt, cached, steps


def _run(seed: int, clients: int = 0, blocks: int = 4_000, budget: int = 1_024) -> tuple[Any, ...]:
    arrival, prompt, cached, steps = _requests(seed, 400, 30.0)
    arr = arrival.copy()
    first, finish, marks = np.full(len(arr), math.nan), np.full(len(arr), math.nan), []  # type: ignore[var-annotated]
    opened = np.append(arr[:clients] if clients else arr, math.inf)
    totals = run_to_end(fcfs_steps(COST, arr, opened, *fcfs_request_arrays(prompt, cached, steps, 16), 32, budget,
                                   blocks, clients, first, finish, None, False, window_cuts(arrival), marks))
    return totals, first.tobytes(), finish.tobytes(), arr.tobytes(), marks


@pytest.mark.parametrize(("seed", "clients", "blocks", "budget"),
                         [(1, 0, 4_000, 1_024), (2, 0, 400, 256), (3, 24, 4_000, 1_024), (4, 8, 600, 512)])
def test_the_compiled_loop_equals_its_source_run_uncompiled(seed: int, clients: int, blocks: int, budget: int,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Open and closed loop, KV-bound queues and chunked prompts: numba's build and the Python source agree."""
    if "fcfs_run" not in fcfs_state.numba_kernels():  # (numba absent: the source is all there is)
        pytest.skip("numba not installed")
    with monkeypatch.context() as patch:
        patch.setattr(fcfs_loop, "COMPILE_AFTER", -1)  # (the build, however short the run: hQ72's lazy load)
        built = _run(seed, clients, blocks, budget)
    assert built[0][3] > 0 and len(built[4]) == 2  # leaps taken, both window cuts marked
    monkeypatch.setattr(fcfs_loop, "loop_for", lambda n: fcfs_core.fcfs_run)  # (as written: hQ72's lazy load)
    assert repr(_run(seed, clients, blocks, budget)) == repr(built)


def test_one_prompt_alone_is_the_sum_written_out() -> None:
    """One request of 100 prompt tokens and 2 decode steps, alone: its prompt iteration, then two decode
    iterations, each the cost's terms summed in the loop's order."""
    c = fcfs_constants(COST, 32, 1_024)
    first, finish = np.full(1, math.nan), np.full(1, math.nan)
    lists = fcfs_request_arrays(np.array([100]), np.array([0]), np.array([2]), 16)
    busy, compute, one_by_one, leapt = run_to_end(fcfs_steps(COST, np.zeros(1), np.array([0.0, math.inf]), *lists,
                                                             32, 1_024, 1_000, 0, first, finish, None))
    t0 = c.body[100] + c.head_1 + c.pre_fix
    t0 = (c.host if c.cap < 100 and t0 < c.host else t0) + c.pair_c * (100 * (0.0 + 101 / 2.0)) + c.over \
        + c.per_tok * 100.0
    sum_ctx = 100.0
    a_ctx = c.decode_s[1] + c.kv_c * sum_ctx  # a stretch of one iteration, leapt in closed form
    span = 1.0 * a_ctx + c.half_kv[1] * 1.0 * 0.0
    sum_ctx += 1.0 * 1.0 * c.adv
    t2 = c.decode_head_s[1] + c.kv_c * sum_ctx + c.over + c.dec_fix  # the last, its sequence's end priced
    if c.fin:
        t2 += c.per_fin * 1
    assert first[0] == t0
    assert finish[0] == t0 + span + t2 and busy == t0 + span + t2
    assert (one_by_one, leapt) == (2, 1)
    assert compute > 0.0


def test_a_stepped_run_equals_the_run_given_every_arrival() -> None:
    """Fed its arrivals as a driver feeds them (up to the time it waits for), its ends logged, the loop stops
    (TOP / LEAP / IDLE) and resumes to the same times and totals as given everything; the log holds every request
    once."""
    arrival, prompt, cached, steps = _requests(5, 300, 20.0)
    lists = fcfs_request_arrays(prompt, cached, steps, 16)
    whole = [np.full(300, math.nan) for _ in range(2)]
    want = run_to_end(fcfs_steps(COST, arrival, np.append(arrival, math.inf), *lists, 32, 1_024, 4_000, 0, *whole,
                                 None))
    first, finish, log, known = np.full(300, math.nan), np.full(300, math.nan), [], [-math.inf]  # type: ignore[var-annotated]
    loop = fcfs_steps(COST, arrival.tolist(), known, *lists, 32, 1_024, 4_000, 0, first, finish, log)
    given, kinds = 0, set()
    while True:
        try:
            kind, at = loop.send(None)
        except StopIteration as end:
            got = end.value
            break
        kinds.add(kind)
        known.pop()  # the driver: every arrival up to the time waited for (idle: the next one), then the bound
        upto = given + 1 if kind == IDLE else max(given, int(np.searchsorted(arrival, at, side="right")))
        known.extend(arrival[given:upto].tolist())
        given = upto
        known.append(math.nextafter(known[-1] if kind == IDLE else at, math.inf) if given < 300 else math.inf)
    assert got == want and kinds == {TOP, LEAP, IDLE}
    assert first.tobytes() == whole[0].tobytes() and finish.tobytes() == whole[1].tobytes()
    assert sorted(log) == list(range(300))


def test_kv_stops_raise_as_the_python_loop_raised() -> None:
    """A request larger than the cache: ValueError with its numbers; the KV-bind stop: KvBinds."""
    with pytest.raises(ValueError, match=r"request 0 needs \d+ KV blocks, the engine has 5"):
        simulate_engine(COST, np.zeros(1), np.array([90]), np.zeros(1, dtype=np.int64), np.array([3]), 8, 1_024, 5, 16)
    arrival, prompt, cached, steps = _requests(6, 200, 50.0)
    args = (np.full(200, math.nan), np.full(200, math.nan), None, True)
    with pytest.raises(KvBinds):
        run_to_end(fcfs_steps(COST, arrival, np.append(arrival, math.inf), *fcfs_request_arrays(
            prompt, cached, steps, 16), 32, 1_024, 300, 0, *args))


def test_the_cache_guard_names_the_state_module_as_it_is() -> None:
    """Numba's disk cache keys `fcfs_run` on its own file: `STATE_SHA256` ties it to `fcfs_state`'s source."""
    source = Path(fcfs_state.__file__).read_bytes()
    assert hashlib.sha256(source).hexdigest()[:16] == fcfs_core.STATE_SHA256
