"""The compiled FCFS engine loop's state slots and helpers (`serving.fcfs_core.fcfs_run`, `serving.fcfs_loop`).

One source: `fcfs_core.fcfs_run` and these helpers are compiled with numba (`@njit(cache=True)`, no fastmath: IEEE
float64 operations in the order written, no contraction into fused multiply-adds; `numba_kernels`, loaded by the first
run that pays for it, `fcfs_loop.loop_for`), or run as written (short runs, or numba missing). Its floating-point
operations and their order are those of the Python loop it replaced (session 72: every answer bit-identical,
serving_speed_tried.md), so the Python loop's notes hold: counts enter the float sums as floats (a float64 conversion
of an int below 2^53 is exact), the finish heap's keys are (decode-iteration count << bits | request), unique, so a
binary heap pops them in the same order as `heapq`.

State between calls (a stepped run returns where the generator yielded, `fcfs_loop`): the float and int scalars in
`fs` and `st` (slots below), the queues and the heap in arrays of the run's request count (each request enters the
waiting queue and the prefill queue at most once, so each is a plain array with a head and a tail).
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any

KERNELS: list[Callable[..., Any]] = []  # `fcfs_run` and its helpers, in the order defined (`compiled`)
_BUILT: dict[str, Any] = {}  # their numba builds by name, once a process asks (`numba_kernels`)
_UNCACHED: set[str] = set()  # the names built without numba's disk cache (`compiled(cache=False)`, hV72)
_INLINED: set[str] = set()  # the names numba inlines into their callers (`inlined`, hR77)


def compiled(fn: Callable[..., Any], cache: bool = True) -> Callable[..., Any]:
    """`fn` as written, registered to be compiled with the others (`numba_kernels`): nothing imports numba here.
    `cache` False: built afresh, not loaded from numba's disk cache (fcfs_core.CACHED, hV72)."""
    KERNELS.append(fn)
    if not cache:
        _UNCACHED.add(fn.__name__)
    return fn


def inlined(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`compiled`, and inlined by numba into each caller (`njit(inline="always")`, its IR spliced in): a helper on
    every iteration's path, whose call numba's build otherwise keeps (hR77: `close_iteration`'s three calls were out
    of line in `fcfs_run`'s machine code; benchmarks/serving_sim.py, 1,000,000 requests online, CPU s medians of 6
    over 4 alternated rounds: hD77's three lines inline 0.30-0.34, its call 0.35-0.38, inlined 0.32-0.35)."""
    _INLINED.add(fn.__name__)
    return compiled(fn)


def numba_loaded() -> bool:
    """Whether this process has loaded the numba builds (`numba_kernels`)."""
    return bool(_BUILT)


def numba_kernels() -> dict[str, Any]:
    """The registered functions compiled with numba (`@njit(cache=True)`, cached on disk in `__pycache__` or
    `NUMBA_CACHE_DIR`), by name; {} without numba. Each build is a copy of the function's own code object over a copy
    of its module's globals in which the helpers' names are their builds: the same source, compiled, while the module
    keeps the functions as written (`fcfs_loop.loop_for`). Numba's cache keys on the code's file, name and line, so
    the copies find the builds cached before."""
    if not _BUILT:
        try:
            from numba import njit
        except ImportError:  # pragma: no cover - numba is a dependency
            return _BUILT
        spaces: dict[str, dict[str, Any]] = {}
        for fn in KERNELS:
            space = spaces.setdefault(fn.__module__, dict(fn.__globals__))
            copy = types.FunctionType(fn.__code__, space, fn.__name__, fn.__defaults__, fn.__closure__)
            options: dict[str, Any] = {"inline": "always"} if fn.__name__ in _INLINED else {}
            try:
                _BUILT[fn.__name__] = njit(cache=fn.__name__ not in _UNCACHED, **options)(copy)
            except RuntimeError:  # pragma: no cover - no writable cache folder at all (numba's locators): no cache
                _BUILT[fn.__name__] = njit(**options)(copy)
        for space in spaces.values():
            space.update((name, built) for name, built in _BUILT.items() if name in space)
    return _BUILT


# `fs` slots: the float state
CLOCK, BUSY, COMPUTE, T, F, LEAP_S, LEAP_F, CUT, SUM_CTX, FREE, AT = range(11)
# `st` slots: the int state (SOLO -1: none; PHASE 1: resume inside a decode stretch, after its LEAP)
(LEAPT, STEPS_DONE, NXT, N_DEC, RUNNING, PREFILL_ONLY, SOLO, W_HEAD, W_TAIL, P_HEAD, P_TAIL, HSIZE, E_MIN, NM, N_LOG,
 LAST, PHASE, BITS) = range(18)
# `sc` slots: the cost's figures (`fcfs_setup.FcfsConstants`) and `loop_stepping.SKIP_ROOT`
KV_C, PAIR_C, PAIR_F, PRE_FIX, DEC_FIX, SHARED, OVER, PER_TOK, PER_FIN, HOST, ADV, HEAD_1, SKIP = range(13)
# `ci` slots: the run's int settings
CAP, FIN, MAX_BATCH, TOKEN_BUDGET, CLIENTS, LOGGED, STOP_KV, ROW_TOKENS = range(8)
# what `fcfs_run` returns: ended, or stopped (the `loop_stepping` waits TOP, LEAP, IDLE; a KV bind; a request
# larger than the cache)
DONE, KV_BINDS, TOO_BIG = -1, 3, 4
NEVER_KEY = 1 << 62  # a heap key above any (decode-iteration count << bits | request)


@compiled
def heap_push(heap: Any, size: int, key: int) -> int:
    """heapq.heappush on heap[:size]; the new size."""
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if heap[p] <= key:
            break
        heap[i] = heap[p]
        i = p
    heap[i] = key
    return size + 1


@compiled
def heap_pop(heap: Any, size: int) -> tuple[int, int]:
    """heapq.heappop on heap[:size]: the smallest key and the new size."""
    top = heap[0]
    size -= 1
    last = heap[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and heap[c + 1] < heap[c]:
            c += 1
        if heap[c] >= last:
            break
        heap[i] = heap[c]
        i = c
    if size > 0:
        heap[i] = last
    return top, size


@compiled
def due_count(heap: Any, size: int, due: int) -> int:
    """The keys under `due`: the sequences ending in this iteration (their per-finish cost)."""
    count = 0
    for q in range(size):
        if heap[q] < due:
            count += 1
    return count


@compiled
def cut_marks(marks: Any, nm: int, cuts: Any, clock: float, step_s: float, work: float,
               step_work: float) -> tuple[float, int]:
    """`window_marks.pass_cuts` over marks[:nm]: the next cut (inf after the last) and the marks' count."""
    start, before = clock - step_s, work - step_work
    while nm < len(cuts) and cuts[nm] <= clock:
        cut = cuts[nm]
        marks[nm] = before + (cut - start) / step_s * step_work if cut > start and step_s > 0.0 else before
        nm += 1
    return (cuts[nm] if nm < len(cuts) else math.inf), nm


@inlined
def close_iteration(marks: Any, nm: int, cuts: Any, cut: float, clock: float, busy: float, compute: float, t: float,
                    f: float) -> tuple[float, float, float, float, int]:
    """An iteration of `t` seconds ran, `f` of them compute (capped at `t`): the clock, busy and compute seconds moved
    and the window cuts it passed marked (`cut_marks`); (clock, busy, compute, next cut, marks' count). Each of
    `fcfs_core.fcfs_run`'s iterations but a decode stretch's leap closes here (hD77: three copies before)."""
    clock += t
    busy += t
    work = f if f < t else t
    compute += work
    if clock >= cut:  # a window cut passed (`window_marks`): the work there
        cut, nm = cut_marks(marks, nm, cuts, clock, t, busy + compute, t + work)
    return clock, busy, compute, cut, nm


@compiled
def release_one(j: int, clock: float, ci: Any, arr: Any, waiting: Any, w_tail: int, log: Any,
             n_log: int) -> tuple[int, int]:
    """Request j ended at `clock`: logged for the stepping driver, or (closed loop) its client's next request sent
    and queued; the waiting queue's tail and the log's count."""
    if ci[LOGGED]:
        log[n_log] = j
        n_log += 1
    elif j + ci[CLIENTS] < len(arr):
        arr[j + ci[CLIENTS]] = clock
        waiting[w_tail] = j + ci[CLIENTS]
        w_tail += 1
    return w_tail, n_log


@compiled
def start_prompt(j: int, solo: int, p_head: int, p_tail: int, todo: Any, ctx0: Any, p_req: Any, p_left: Any,
           p_done: Any) -> tuple[int, int]:
    """A prompt admitted: `solo` if no other is pending, else queued (a solo before it first); (solo, queue tail)."""
    if solo < 0 and p_tail == p_head:
        return j, p_tail
    if solo >= 0:
        p_req[p_tail], p_left[p_tail], p_done[p_tail] = solo, todo[solo], ctx0[solo]
        p_tail += 1
    p_req[p_tail], p_left[p_tail], p_done[p_tail] = j, todo[j], ctx0[j]
    return -1, p_tail + 1




@compiled
def join_decode(heap: Any, hsize: int, e_min: int, k: int, bits: int, j: int) -> tuple[int, int]:
    """Request j joins the decode batch, its last token due at decode iteration k: (heap size, next due)."""
    return heap_push(heap, hsize, k << bits | j), (k if k < e_min else e_min)


@compiled
def end_due(heap: Any, hsize: int, e_min: int, steps_done: int, bits: int, clock: float, need: Any, end_ctx: Any,
            finish: Any, free: float, running: int, n_dec: int, sum_ctx: float, ci: Any, arr: Any, waiting: Any,
            w_tail: int, log: Any, n_log: int) -> tuple[int, int, float, int, int, float, int, int]:
    """The sequences whose last token the iteration ending at `clock` was, popped in key order: they end, free their
    blocks and leave the decode batch (released: `release_one`); (heap size, next due, free blocks, running,
    decoding, their cached tokens, waiting queue's tail, log count)."""
    low = (1 << bits) - 1
    while e_min <= steps_done:
        key, hsize = heap_pop(heap, hsize)
        j = key & low
        finish[j] = clock
        free += need[j]
        running -= 1
        n_dec -= 1
        sum_ctx -= end_ctx[j]
        if ci[CLIENTS] > 0 or ci[LOGGED]:
            w_tail, n_log = release_one(j, clock, ci, arr, waiting, w_tail, log, n_log)
        e_min = heap[0] >> bits
    return hsize, e_min, free, running, n_dec, sum_ctx, w_tail, n_log
