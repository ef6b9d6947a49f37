"""The event loop of one serving engine: continuous batching with chunked prefill over paged KV blocks.

The scheduling policy is pluggable (`serving.schedulers`: which waiting request starts, how the prefill
budget is cut); the default "fcfs" (Orca iteration-level batching, Yu et al. OSDI'22; chunked prefill as in
Sarathi-Serve, Agrawal et al. OSDI'24, and vLLM/TensorRT-LLM) does:
1. every running sequence in decode contributes one token to the iteration;
2. the rest of the per-iteration token budget goes to prefill, first to prompts already being prefilled,
   then to newly admitted requests in arrival order (FCFS);
3. a request is admitted while the batch (prefilling + decoding sequences) is below `max_batch` and the
   KV cache has blocks for its whole prompt and output (TensorRT-LLM's GUARANTEED_NO_EVICT capacity
   policy: no preemption, no recomputation);
4. a prompt whose last chunk runs in an iteration emits its first token at the end of it (TTFT); each
   following iteration emits one token; the sequence leaves after its last token and frees its blocks.

Closed loop (`clients` > 0; genai-perf `--concurrency`, vLLM `benchmark_serving --max-concurrency`, SGLang
`bench_serving --max-concurrency`): the requests belong to `clients` clients in turn (request k to client
k mod clients); the first `clients` arrive at their given times and request k + clients arrives exactly when
request k finishes (its last token), so the arrival times are an output of the run.

A "prefill-first" policy (SGLang's default, `serving.schedulers`) changes step 2: while a started prompt has
tokens left, the iteration is prefill only with the whole budget and the decode batch waits. A sequence's last
token is therefore due after a count of decode iterations (not of all iterations).

KV admission (`kv_admission`, a stack property, `serving.engines`): "reserve_full" is step 3 above. "on_demand"
(vLLM; SGLang as modelled) admits a request when the cache holds its prompt's blocks and takes a decode block only
when a sequence's next token starts one: a sequence with t tokens in the cache that writes one more needs a new
block iff t is a multiple of the block size, so with `off` = its tokens at joining the decode batch less the
decode-iteration count then, it takes a block at decode iteration s iff (off + s) = 1 (mod block). The engine keeps
the number of decoding sequences per residue (1 - off) mod block, so the blocks an iteration takes are one table
read. When they exceed the free blocks, the newest running request (by admission) is preempted until they fit
(vLLM V1 `self.running.pop()`): its blocks are freed and it goes to the front of the waiting queue, to be prefilled
again over its prompt and every token it generated (recompute; its first-token time stays the first one) and then
decode the rest; a preempted prompt restarts. A decoding sequence frees ceil(tokens / block) blocks at its end.

The loop (`serving.engine_loop.engine_steps`) runs once per event, leaping pure-decode stretches in closed form
(issue 18; its docstring); the common case (built-in FCFS, leaps, reserve_full or on-demand KV that never binds)
runs in `serving.fcfs_loop`, the same loop specialised: bit-identical (tests/serving/test_serving_engine_fcfs_loop.py).
Both loops are generators that `simulate_engine` runs to the end; fed arrivals as they become known, many step
together in one event loop (`loop_stepping`, `serving.pair_loop`).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from infraplan.serving import engine_memo
from infraplan.serving.engine_loop import engine_steps
from infraplan.serving.fcfs_loop import KvBinds, fcfs_steps
from infraplan.serving.llm_iteration import IterationCost
from infraplan.serving.loop_stepping import (
    engine_policy,
    engine_request_lists,
    fcfs_path,
    fcfs_request_arrays,
    run_to_end,
)
from infraplan.serving.schedulers import Scheduler
from infraplan.serving.window_marks import close_marks

_NAN = (math.nan,)  # a time not written: NaN

# EngineResult's fields: first-token s, finish s, busy s, tensor-core s, iterations, arrival s, preemptions,
# recomputed tokens, iterations leapt, work (busy + tensor-core s) at the window cuts or None (`serving.window_marks`)
EngineFields = tuple[np.ndarray, np.ndarray, float, float, int, np.ndarray, int, int, int, tuple[float, ...] | None]


@dataclass
class EngineResult:
    """Per-request times (seconds) and the engine's busy and tensor-core time."""

    first_token_s: np.ndarray
    finish_s: np.ndarray
    busy_s: float
    compute_s: float
    iterations: int
    arrival_s: np.ndarray  # as given, or in closed loop when each request was sent
    preemptions: int = 0  # on-demand KV admission: requests preempted (and recomputed)
    recomputed_tokens: int = 0  # prompt and output tokens prefilled again after a preemption
    leapt_iterations: int = 0  # of `iterations`, those advanced in closed form (the rest ran one by one)
    window_work: tuple[float, ...] | None = None  # busy + tensor-core s at each window cut (`serving.window_marks`)
    window_rate: float | None = None  # a closed loop's busy + tensor-core s per s over its own window (`ClosedCuts`)


def fcfs_engine(cost: IterationCost, arrival_s: np.ndarray, prefill_tokens: np.ndarray, cached_tokens: np.ndarray,
                decode_steps: np.ndarray, max_batch: int, token_budget: int, kv_blocks: int, block_tokens: int,
                clients: int, stop_if_kv_binds: bool = False, cuts: Sequence[float] = ()) -> EngineFields | None:
    """`simulate_engine` (its arguments, checked there) on `serving.fcfs_loop`: the fields of its result
    (`stop_if_kv_binds`: None where an admission finds too few free KV blocks, `fcfs_steps`; `cuts`: its work at
    them, `serving.window_marks`; they enter the memo's key: a recalled run keeps its marks)."""
    arrival = np.array(arrival_s, dtype=np.float64)  # a contiguous copy (a pool's engine gets a strided view)
    key = engine_memo.run_key(cost, arrival, prefill_tokens, cached_tokens, decode_steps, max_batch, token_budget,
                              kv_blocks, block_tokens, clients, stop_if_kv_binds, tuple(cuts))  # None outside `plan`'s
    if key is not None:
        hit, kept = engine_memo.recall(key)  # the same run asked before (`serving.engine_memo`)
        if hit:
            return None if kept is None else (*kept[:5], arrival if kept[5] is None else kept[5], *kept[6:])
    fields = _fcfs_fields(cost, arrival, prefill_tokens, cached_tokens, decode_steps, max_batch, token_budget,
                          kv_blocks, block_tokens, clients, stop_if_kv_binds, cuts)
    if key is not None:  # (open loop: the arrivals as given, not kept twice)
        engine_memo.keep(key, None if fields is None else (*fields[:5], fields[5] if clients > 0 else None,
                                                            *fields[6:]))
    return fields


def _fcfs_fields(cost: IterationCost, arrival: np.ndarray, prefill_tokens: np.ndarray, cached_tokens: np.ndarray,
                 decode_steps: np.ndarray, max_batch: int, token_budget: int, kv_blocks: int, block_tokens: int,
                 clients: int, stop_if_kv_binds: bool, cuts: Sequence[float]) -> EngineFields | None:
    """`fcfs_engine`'s run (`arrival`: its contiguous float64 copy)."""
    n = len(arrival)
    marks: list[float] = []
    sent = arrival.copy() if clients > 0 else arrival  # (closed loop: the loop writes each send time)
    first, finish = np.full(n, math.nan), np.full(n, math.nan)
    try:
        busy_s, compute_s, one_by_one, leapt = run_to_end(fcfs_steps(
            cost, sent, np.append(arrival[:min(clients, n)] if clients > 0 else arrival, math.inf),
            *fcfs_request_arrays(prefill_tokens, cached_tokens, decode_steps, block_tokens, cost.decode_growth_tokens,
                                 cost.draft_slots), max_batch, token_budget,
            kv_blocks, clients, first, finish, None, stop_if_kv_binds, cuts, marks))
    except KvBinds:
        return None
    return (first, finish, busy_s, compute_s, one_by_one + leapt, sent, 0, 0, leapt,
            close_marks(marks, cuts, busy_s + compute_s))


def simulate_engine(cost: IterationCost, arrival_s: np.ndarray, prefill_tokens: np.ndarray,
                    cached_tokens: np.ndarray, decode_steps: np.ndarray, max_batch: int, token_budget: int,
                    kv_blocks: int, block_tokens: int, jump: bool = True,
                    scheduler: str | Scheduler = "fcfs", clients: int = 0,
                    kv_admission: str = "reserve_full", cuts: Sequence[float] = ()) -> EngineResult:
    """Simulate one engine over requests sorted by arrival.

    prefill_tokens: prompt tokens to compute here (0 for a decode-only engine that received the KV cache);
    cached_tokens: tokens already in the KV cache on arrival; decode_steps: iterations after the first token
    (output tokens - 1, fewer with drafts: `Deployment.decode_steps`; 0 for a prefill-only engine). A request reserves
    blocks for cached + prefill + decode_steps + 1 tokens (with drafts its last verification's slots, each step
    appending T tokens: `loop_stepping.request_tokens`, `serving.speculative`). Requests larger than the whole
    cache never start: callers check that first (`fits`). `jump=False` steps every iteration (for testing the
    closed form).
    `scheduler`: the admission and prefill policy, a `serving.schedulers.SCHEDULERS` name or an instance.
    `clients` > 0: closed loop (module docstring): only the first `clients` arrival times are used.
    `kv_admission`: "reserve_full" (as above) or "on_demand" (prompt blocks at admission, decode blocks as
    written, newest request preempted and recomputed when they run out; module docstring).
    `cuts`: times at which the result's `window_work` reads the engine's work (`serving.window_marks`)."""
    policy = engine_policy(cost, max_batch, token_budget, scheduler, kv_admission)
    on_demand = kv_admission == "on_demand"
    if fcfs_path(policy, jump, "reserve_full", cost):  # `serving.fcfs_loop`; on demand, while the KV never binds
        fields = fcfs_engine(cost, arrival_s, prefill_tokens, cached_tokens, decode_steps, max_batch, token_budget,
                             kv_blocks, block_tokens, clients, stop_if_kv_binds=on_demand, cuts=cuts)
        if fields is not None:
            return EngineResult(*fields)
    n = len(arrival_s)
    arr = arrival_s.tolist()
    first, finish = array("d", _NAN) * n, array("d", _NAN) * n  # (`_fcfs_fields`' C doubles)
    marks: list[float] = []
    busy, compute, iterations, preemptions, recomputed, leapt = run_to_end(engine_steps(
        cost, arr, arr[:min(clients, n) if clients > 0 else n] + [math.inf],
        *engine_request_lists(prefill_tokens, cached_tokens, decode_steps, block_tokens, on_demand,
                              cost.decode_growth_tokens, cost.draft_slots), first, finish,
        max_batch, token_budget, kv_blocks, block_tokens, policy, jump, clients, on_demand, None, cuts, marks))
    return EngineResult(np.frombuffer(first, np.float64), np.frombuffer(finish, np.float64), busy, compute, iterations,
                        np.array(arr if clients > 0 else arrival_s, dtype=np.float64), preemptions, recomputed, leapt,
                        close_marks(marks, cuts, busy + compute))
