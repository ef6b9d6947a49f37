"""The serving engine's event loop for its common case, specialised: FCFS, mixed iterations, KV reserved up front.

`serving_engine.simulate_engine` runs here when the policy is the built-in "fcfs" (its pick and chunk cut inline), the
KV admission is "reserve_full" (no preemption) and decode stretches are leapt (`jump`): the scheduler of TensorRT-LLM
(GUARANTEED_NO_EVICT) and of every mixed-batch stack, and so of most serving runs and of the capacity search. It is the
same model as the general loop (`engine_loop`'s docstring: Orca continuous batching, Sarathi-Serve chunked prefill,
closed-form decode leaps), the same floating-point sums in the same order, so the times are bit-identical
(tests/serving/test_serving_engine_fcfs_loop.py); only the bookkeeping is leaner (every request costs about two passes
of the loop, whose work is the simulator's whole cost: issue 18, "1 M requests <= 3 s online"): how, and what it reads
once per run, is `serving.fcfs_setup`'s. The passes run compiled over arrays (`serving.fcfs_core.fcfs_run`, numba;
session 72: the same floating-point operations in the same order as the Python loop they replaced, so the same times);
this module is their driver: it hands them the run's arrays and state, and turns their stops into the generator's
yields, the log's entries, the window marks and the exceptions. Like the general loop it is a generator
(`loop_stepping`): given every arrival it runs to the end without yielding; stepped, it yields where it would read an
arrival not yet known (a check per arrival read, none per iteration), so a disaggregated closed loop runs its engines
together (`serving.pair_loop`). Where it adds an iteration's seconds it records its work at the arrival window's cuts
(`serving.window_marks`).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, MutableSequence, Sequence
from typing import Any

import numpy as np

from infraplan.serving import fcfs_core
from infraplan.serving.fcfs_setup import KvBinds, fcfs_arrays
from infraplan.serving.fcfs_state import (
    AT,
    BITS,
    BUSY,
    CLOCK,
    COMPUTE,
    CUT,
    DONE,
    E_MIN,
    FREE,
    HSIZE,
    KV_BINDS,
    LAST,
    LEAP_F,
    LEAP_S,
    LEAPT,
    N_LOG,
    NEVER_KEY,
    NM,
    PREFILL_ONLY,
    SOLO,
    STEPS_DONE,
    TOO_BIG,
    W_HEAD,
    F,
    T,
    numba_kernels,
    numba_loaded,
)
from infraplan.serving.llm_iteration import IterationCost
from infraplan.serving.loop_stepping import Steps
from infraplan.serving.window_marks import next_cut

__all__ = ["KvBinds", "fcfs_steps"]


# requests a process runs through the loop as written before it loads the loop's numba build (`loop_for`): as
# written a request costs 7.6-16 us CPU, built ~0.1-0.5 us, and loading numba and the cached build ~0.3-0.4 s, so
# 20,000 requests as written (0.15-0.3 s) cost no more than the load (session 72, hQ: serving_speed_tried.md)
COMPILE_AFTER = 20_000
_RUN_AS_WRITTEN = [0]


def loop_for(n: int) -> Callable[..., int]:
    """`fcfs_core.fcfs_run` for a run of `n` requests: as written while this process's runs so far and this one
    come to at most COMPILE_AFTER requests, else (and from then on) its numba build (`fcfs_state.numba_kernels`;
    as written without numba). Both give the same bits (tests/serving/test_fcfs_lazy_numba_hQ72.py), so a short
    `serve` (README's: 2,000 requests) never imports numba."""
    if not numba_loaded() and _RUN_AS_WRITTEN[0] + n <= COMPILE_AFTER:
        _RUN_AS_WRITTEN[0] += n
        return fcfs_core.fcfs_run
    return numba_kernels().get("fcfs_run", fcfs_core.fcfs_run)


def doubles(times: Any) -> np.ndarray:
    """`times` as a float64 array the loop writes: itself (an array), a view of an `array("d")`'s doubles, or a
    copy of a list (written back after each call, `fcfs_steps`)."""
    if isinstance(times, np.ndarray):
        return times
    if isinstance(times, array):
        return np.frombuffer(times, np.float64)
    return np.array(times, dtype=np.float64)


def fcfs_steps(cost: IterationCost, arr: Any, arr_open: Any, todo: Any, ctx0: Any, steps: Any, need: Any,
               end_ctx: Any, whole_pairs: Any, max_batch: int, token_budget: int, kv_blocks: int, clients: int,
               first: MutableSequence[float] | np.ndarray, finish: MutableSequence[float] | np.ndarray,
               log: list[int] | None, stop_if_kv_binds: bool = False, cuts: Sequence[float] = (),
               marks: list[float] | None = None) -> Steps:
    """Run the engine (arguments as `simulate_engine`'s, as sequences: `loop_stepping.fcfs_request_arrays`, arrays
    or lists; `end_ctx`: cached + prompt + decode tokens, a sequence's tokens after its last step as counted (T a step
    with drafts: `loop_stepping.request_tokens`); `whole_pairs`: the query-key pairs of a prompt prefilled in one
    chunk, todo x (cached + (todo + 1) / 2) as the loop sums them; `arr` is updated in closed loop with the send
    times; `arr_open`: the arrival times given up front, then inf), writing `first` and `finish` (arrays,
    `array("d")`s or lists); returns (busy s, tensor-core s, iterations one by one, iterations leapt).

    Stepped (`loop_stepping`, `arr_open` a list the driver appends to, `log` a list): the last entry of `arr_open` is
    not an arrival but the time up to which the arrivals are known; the loop yields what it waits for (`Need`) when
    it would read past it, the driver appends the arrivals it knows by then (and a new bound, inf after the last)
    and sends the loop on; every request that ends is appended to `log`. Given every arrival up front (an array, or
    a list ending with inf) it never yields.

    `stop_if_kv_binds`: raise KvBinds at the first admission that finds too few free KV blocks (the batch not
    full, no queue ahead; `fcfs_setup.KvBinds`: what a run that never does stands for).

    `cuts` (`serving.window_marks`): times at which `marks` gets the engine's work (busy + tensor-core s) so far, the
    step that straddles one split pro rata; a cut after the last step is left for the caller (`close_marks`)."""
    n = len(arr)
    fcfs_run = loop_for(n)
    sc, ci, tables = fcfs_arrays(cost, max_batch, token_budget, clients, log is not None, stop_if_kv_binds)
    times = [doubles(arr) if clients > 0 else np.empty(0), doubles(first), doubles(finish)]  # (arr: closed loop's)
    back = [(x, a) for x, a in zip((arr, first, finish), times, strict=True) if isinstance(x, list) and len(a)]
    ints, floats = (np.asarray(x, dtype=np.int64) for x in (todo, steps)), (np.asarray(x, dtype=np.float64)
                                                                          for x in (ctx0, need, end_ctx, whole_pairs))
    (todo_a, steps_a), (ctx0_a, need_a, end_a, pairs_a) = ints, floats
    fs, st = np.zeros(11), np.zeros(18, dtype=np.int64)
    fs[FREE], st[SOLO], st[BITS], st[HSIZE] = float(kv_blocks), -1, max(n - 1, 0).bit_length(), 1
    st[E_MIN] = NEVER_KEY >> int(st[BITS])
    heap = np.empty(n + 2, dtype=np.int64)
    heap[0] = NEVER_KEY
    waiting, p_req, p_left, logged = np.empty((4, n), dtype=np.int64)  # (rows: C-contiguous)
    p_done = np.empty(n)
    marks = [] if marks is None else marks
    cuts_a, marks_a = np.array(cuts, dtype=np.float64), np.empty(len(cuts))
    fs[CUT] = cuts[0] if len(cuts) else math.inf
    stepped = not isinstance(arr_open, np.ndarray) and arr_open[-1] != math.inf
    known = np.empty(n + 1) if stepped else np.asarray(arr_open, dtype=np.float64)
    synced = 0
    st[LAST] = len(known) - 1
    while True:
        if stepped:  # the arrivals the driver appended, and its new bound
            size = len(arr_open)
            known[synced:size] = arr_open[synced:size]
            synced = st[LAST] = size - 1
        code = fcfs_run(fs, st, sc, ci, times[0], known, todo_a, ctx0_a, steps_a, need_a, end_a, pairs_a, times[1],
                        times[2], waiting, p_req, p_left, p_done, heap, logged, cuts_a, marks_a, *tables)
        if st[NM] > len(marks):
            marks.extend(marks_a[len(marks):st[NM]].tolist())
        if log is not None and st[N_LOG]:
            log.extend(logged[:st[N_LOG]].tolist())
            st[N_LOG] = 0
        for x, a in back:  # (a list given: the times written back)
            x[:] = a.tolist()
        if code == DONE:
            break
        if code == KV_BINDS:
            raise KvBinds
        if code == TOO_BIG:
            j = int(waiting[st[W_HEAD]])
            raise ValueError(f"request {j} needs {int(need_a[j])} KV blocks, the engine has {int(fs[FREE])}")
        yield int(code), float(fs[AT])
        if len(cuts) != len(cuts_a):  # cuts a driver added (`window_marks.ClosedCuts`)
            cuts_a, marks_a = np.array(cuts, dtype=np.float64), np.empty(len(cuts))
        fs[CUT] = next_cut(marks, cuts, float(fs[CLOCK]), float(fs[BUSY]) + float(fs[COMPUTE]), float(fs[T]),
                           float(fs[F]), float(fs[LEAP_S]), float(fs[LEAP_F]))
        st[NM] = len(marks)
    return (float(fs[BUSY]), float(fs[COMPUTE]), int(st[STEPS_DONE] - st[LEAPT] + st[PREFILL_ONLY]),
            int(st[LEAPT]))
