"""Stepping the engine loops from outside: what a loop waits for, and the request lists both loops take.

Both engine loops (`serving.fcfs_loop.fcfs_steps`, `serving.engine_loop.engine_steps`) are generators. Given
every arrival up front (`arr_open` ends with inf) they never yield: `run_to_end` takes their totals, and that is
every batch simulation (`simulate_engine`). Stepped (`serving.pair_loop`: the engines of a disaggregated closed
loop, whose arrivals are other engines' completions), the last entry of `arr_open` is instead a bound: every
arrival before it is in the list (the driver gives the float just above the time it knows them up to). A loop
that would read the bound as an arrival yields what it waits for (`Need`), and the driver sends it on once that
is known, having appended the arrivals up to then and a new bound (inf once every arrival is in):
* TOP, clock: every arrival up to the engine's clock (to admit them before the next iteration);
* LEAP, time: every arrival up to the end of a pure-decode stretch about to be leapt in closed form (an arrival
  inside cuts it; `serving.engine_loop` module docstring);
* IDLE, clock: the next arrival, whenever it comes (nothing admitted can run).
An engine so driven runs exactly as it would given the same arrivals up front (the same passes, sums and order):
it reads an arrival only once every earlier one is known.
Both loops also read the same per-engine tables (`cost_tables`). Inside `kept_cost_tables` (the capacity search,
the validation report's serving sets) they are built once per cost and batch cap: a search runs each candidate's
engine on many probes, and building them (~0.2 ms) was a tenth of a short run (issue 18: the test suite's scenario
plans 9.5 -> 8.2 CPU s, the validation report 9.5 -> 9.0; results bit-identical). Their per-batch-size entries are
built in numpy (the same float64 operations in the same order as a loop over the batch size, so the same floats).
`on_demand_stretch`: the general loop's bound on a decode stretch under on-demand KV admission. `request_tokens`: a
request's cached tokens after its last step and its reserved KV blocks (T tokens a step with drafts, the last
verification's draft slots: `serving.speculative`).
`iteration_seconds`: one iteration's seconds over those tables as the general loop sums them, with what the host's
floor adds (`decode_floor`: an eager step's launches, a decode step's per-sequence host work,
`serving.host_overhead`), for the lock-step loop's ranks (`serving.lockstep_loop`; moved from there, hE62).
"""

from __future__ import annotations

import weakref
from bisect import bisect_right
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from itertools import accumulate
from typing import Any, TypeVar

import numpy as np

from infraplan.identity_memo import KeptScopes
from infraplan.serving.llm_iteration import IterationCost
from infraplan.serving.schedulers import FcfsScheduler, Scheduler, make_scheduler
from infraplan.serving.sparse_decode import short_extend, short_prefill_s

T = TypeVar("T")
LoopTotals = tuple[float, float, int, int]  # busy s, tensor-core s, iterations one by one, iterations leapt
EngineTotals = tuple[float, float, int, int, int, int]  # busy s, tensor-core s, iterations, preemptions,
# recomputed tokens, iterations leapt
# what a stepped loop waits for (module docstring)
TOP, LEAP, IDLE = 0, 1, 2
Need = tuple[int, float]  # (TOP / LEAP / IDLE, seconds)
# the FCFS loop's per-request arrays: todo, ctx0, steps, need, end_ctx, whole_pairs (`fcfs_request_arrays`)
FcfsArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Steps = Generator[Need, None, LoopTotals]
# an arrival this far (relative) past a decode stretch surely falls after it: the root placing it rounds to about
# 1e-16 x iteration seconds / KV-read seconds per cached token (< 1e-8 relative); both loops use these
SKIP_ROOT = 1.0 + 1e-6
NEVER = 1 << 100  # a heap key above any (decode-iteration count x requests + request)
# the cost's body, head (an iteration holding prefill tokens reads it: with `prefill_row_s` a row past the first;
# pure decode reads its own table) and body tensor-core tables as lists; per batch size k <= the cap: a pure-decode
# iteration less its cached-token term (eager ones floored), its tensor-core part, the same without fixed costs,
# and a leap's growth term kv_token_s * k / 2 with its doubles and quadruples (the root's products); then the head of
# a prefill-only iteration (no decode attention: `IterationCost.decode_row_s`) and the decode rows' part of the head
CostTables = tuple[list[float], list[float], list[float], list[float], list[float], list[float], list[float],
                   list[float], list[float], list[float], list[float]]
_TABLES: dict[tuple[int, int], tuple[weakref.ref[IterationCost], CostTables]] = {}
_TABLES_KEPT = 8  # (about 1 MB each at 8,192 tokens; a search's probes of one candidate run back to back)
_SCOPES = KeptScopes(_TABLES.clear)  # the open `kept_cost_tables` scopes (under a lock: web jobs search in threads)


@contextmanager
def kept_cost_tables() -> Iterator[None]:
    """Within (also as a decorator): `cost_tables` keeps the tables of the last few costs for the next run on
    them; after the last scope closes they are dropped. Outside, they live for one run, as they did when each run
    built its own: a lone simulation's peak memory is unchanged (tests/test_consistency.py's per-request slope)."""
    with _SCOPES.scope():
        yield


def tables_kept() -> bool:
    """Whether `cost_tables` keeps tables now (inside a `kept_cost_tables` scope)."""
    return _SCOPES.open > 0


def cost_tables(cost: IterationCost, max_batch: int) -> CostTables:
    """`CostTables` of `cost` up to `max_batch` sequences (read only: shared by every run of that engine), each
    float computed as the loops computed it in place; inside `kept_cost_tables`, kept while the cost lives."""
    key = (id(cost), max_batch)
    kept = _TABLES.get(key)
    if kept is not None and kept[0]() is cost:
        return kept[1]
    # the per-batch-size entries elementwise in numpy: the same IEEE float64 operations, in the same order, as a
    # loop over k (body + head, then each fixed cost; kv x k, then / 2): the same floats, faster
    k = np.arange(max_batch + 1)
    head_max = len(cost.head_s) - 1
    decode_head = cost.body_s[k] + cost.head_s[np.minimum(k, head_max)]
    # an eager decode step (k tokens, k rows) lasts at least the host's launches (`serving.host_overhead`)
    eager = (k > cost.eager_above_tokens) & (decode_head + cost.decode_fixed_s < cost.host_issue_s)
    decode_head = np.where(eager, cost.host_issue_s - cost.decode_fixed_s, decode_head)
    if cost.host_per_sequence_s:  # at least its k sequences' host work (`serving.host_overhead`)
        host_k = cost.host_per_sequence_s * k
        decode_head = np.where(decode_head + cost.decode_fixed_s < host_k, host_k - cost.decode_fixed_s, decode_head)
    decode = decode_head + cost.decode_fixed_s + cost.overhead_s
    flop = cost.body_flop_s[k]
    half_kv = cost.kv_token_s * (k * cost.decode_growth_tokens) / 2.0  # growth 1.0: k as float64, the same floats
    head = cost.head_s  # the iterations holding prefill tokens read it: their rows past the first (`IterationCost`)
    if cost.prefill_row_s:
        head = head + cost.prefill_row_s * np.maximum(np.arange(len(head)) - 1, 0)
    # their rows' decode attention (`IterationCost.decode_row_s`): a prefill-only iteration's head (finishing rows)
    rows_s = cost.decode_row_s if cost.decode_row_s is not None else np.zeros_like(head)
    tables = (cost.body_s.tolist(), head.tolist(), cost.body_flop_s.tolist(), decode.tolist(),
              np.where(flop <= decode, flop, decode).tolist(), decode_head.tolist(), half_kv.tolist(),
              (2.0 * half_kv).tolist(), (4.0 * half_kv).tolist(),
              (head - rows_s).tolist() if cost.decode_row_s is not None else head.tolist(), rows_s.tolist())
    if _SCOPES.open > 0:
        if len(_TABLES) >= _TABLES_KEPT:  # a fresh start (one call, safe beside another thread's run)
            _TABLES.clear()
        _TABLES[key] = (weakref.ref(cost, lambda _: _TABLES.pop(key, None)), tables)  # dropped with the cost
    return tables


_WHOLES: list[float] = [0.0]
WHOLES_KEPT = 1 << 15  # `whole_floats` keeps a table up to this many entries (~1 MB); a longer one is built per call


def whole_floats(top: int) -> list[float]:
    """0.0, 1.0, ..., float(top) at least (read only): the loops' counts as floats (`serving.fcfs_loop`). Up to
    `WHOLES_KEPT` entries shared by every run (rebound, never mutated: safe beside another thread's run)."""
    global _WHOLES
    wholes = _WHOLES
    if len(wholes) <= top:
        wholes = np.arange(max(top + 1, min(2 * len(wholes), WHOLES_KEPT)), dtype=np.float64).tolist()
        if len(wholes) <= WHOLES_KEPT:
            _WHOLES = wholes
    return wholes


def run_to_end(steps: Generator[Need, None, T]) -> T:
    """The return value of a loop given every arrival up front (it never yields)."""
    try:
        need = next(steps)
    except StopIteration as end:
        return end.value  # type: ignore[no-any-return]
    raise RuntimeError(f"an engine given every arrival waits for more: {need}")


def on_demand_stretch(grow: list[int], steps_done: int, free: int, n_dec: int, k_max: int) -> tuple[int, int]:
    """Under on-demand KV admission (`serving_engine` module docstring), the decode iterations of a stretch of at
    most `k_max` that fit (stopping before the first whose new blocks exceed the `free` ones) and the blocks they
    take; `grow[s % block]`: the blocks decode iteration s takes (counts >= 0), `steps_done` iterations so far."""
    bt = len(grow)
    cycles, rest = divmod(free, n_dec)  # each sequence takes one block per bt iterations
    # taken[i - 1]: the blocks of iterations 1..i (i < bt); the last i whose blocks fit in `rest`, by bisection
    s0 = (steps_done + 1) % bt
    taken = list(accumulate(grow[s0:] + grow[:s0] if s0 else grow))
    m = bisect_right(taken, rest, 0, bt - 1)
    if cycles * bt + m < k_max:
        k_max = cycles * bt + m
    if k_max <= 0:
        return k_max, 0
    q, r = divmod(k_max, bt)
    return k_max, q * n_dec + (taken[r - 1] if r else 0)


def request_tokens(prefill_tokens: np.ndarray, cached_tokens: np.ndarray, decode_steps: np.ndarray, block_tokens: int,
                   growth: float, slots: int) -> tuple[list[float], list[int]]:
    """Per request: its cached tokens after its last decode step as the loops count them (a step appends `growth`,
    T with drafts; floats, whole numbers without drafts: `fcfs_loop` sums them as floats), and the KV blocks it
    reserves: prompt + steps + 1 tokens, or with drafts the slots of its last verification, ctx + T (steps - 1) + 1
    + `slots` (K), + 1 (`serving.speculative` module docstring)."""
    tokens, blocks = _request_tokens(prefill_tokens, cached_tokens, decode_steps, block_tokens, growth, slots)
    return tokens.tolist(), blocks.tolist()


def _request_tokens(prefill_tokens: np.ndarray, cached_tokens: np.ndarray, decode_steps: np.ndarray,
                    block_tokens: int, growth: float, slots: int) -> tuple[np.ndarray, np.ndarray]:
    """`request_tokens` as arrays (float64 tokens, int64 blocks)."""
    ctx = prefill_tokens + cached_tokens
    if growth == 1.0 and not slots:  # one token a step: whole numbers (blocks as ints)
        tokens = ctx + decode_steps
        return tokens.astype(np.float64), -(-(tokens + 1) // block_tokens)
    held = ctx + np.where(decode_steps > 0, growth * (decode_steps - 1) + 1 + slots, 0) + 1
    return ctx + growth * decode_steps, np.ceil(held / block_tokens).astype(np.int64)


def fcfs_request_arrays(prefill_tokens: np.ndarray, cached_tokens: np.ndarray, decode_steps: np.ndarray,
                        block_tokens: int, growth: float = 1.0, slots: int = 0) -> FcfsArrays:
    """`fcfs_steps`'s per-request arrays (todo, ctx0, steps, need, end_ctx, whole_pairs) of the requests (`growth`,
    `slots`: the cost's `decode_growth_tokens`, `draft_slots`; `request_tokens`): todo and steps int64, the rest
    float64 (the blocks `need` and the cached tokens `ctx0` as whole floats: `fcfs_steps` counts its free blocks and
    sums cached tokens as floats, exact below 2^53)."""
    # contiguous copies first: a pool hands each engine a strided view (`serving_sim.run_pool`), where every element
    # is a cache line of its own, and each is read several times below
    prefill_tokens, cached_tokens, decode_steps = (
        np.ascontiguousarray(prefill_tokens), np.ascontiguousarray(cached_tokens), np.ascontiguousarray(decode_steps))
    end_ctx, need = _request_tokens(prefill_tokens, cached_tokens, decode_steps, block_tokens, growth, slots)
    return (prefill_tokens.astype(np.int64), cached_tokens.astype(np.float64), decode_steps.astype(np.int64),
            need.astype(np.float64), end_ctx.astype(np.float64),
            (prefill_tokens * (cached_tokens + (prefill_tokens + 1) / 2.0)).astype(np.float64))


def fcfs_request_lists(prefill_tokens: np.ndarray, cached_tokens: np.ndarray, decode_steps: np.ndarray,
                       block_tokens: int, growth: float = 1.0, slots: int = 0) -> tuple[list[Any], list[Any], list[Any],
                                                                                      list[Any], list[Any], list[Any]]:
    """`fcfs_request_arrays` as lists (todo and steps ints, the rest floats)."""
    todo, ctx0, steps, need, end_ctx, pairs = fcfs_request_arrays(prefill_tokens, cached_tokens, decode_steps,
                                                                  block_tokens, growth, slots)
    return todo.tolist(), ctx0.tolist(), steps.tolist(), need.tolist(), end_ctx.tolist(), pairs.tolist()


def engine_policy(cost: IterationCost, max_batch: int, token_budget: int, scheduler: str | Scheduler,
                  kv_admission: str) -> Scheduler:
    """The scheduler instance; ValueError on an unknown KV admission or cost tables smaller than the engine."""
    if kv_admission not in ("reserve_full", "on_demand"):
        raise ValueError(f"unknown kv_admission {kv_admission!r}; choose reserve_full or on_demand")
    if token_budget > cost.max_tokens or 2 * max_batch > len(cost.head_s) - 1:  # a batch above the budget: SGLang's
        # chunk (`engines.chunk_budget`), or TensorRT-LLM's token cap lowers the batch first (`raised_budget`)
        raise ValueError("cost tables built for a smaller token budget or batch than the engine runs")
    return make_scheduler(scheduler)


def inline_fcfs(policy: Scheduler) -> bool:
    """The built-in FCFS pick and chunk cut, run inline (same arithmetic, no call per iteration); a policy that
    overrides either (or the cut, `take`) goes through its methods."""
    return (isinstance(policy, FcfsScheduler) and type(policy).pick is FcfsScheduler.pick
            and type(policy).schedule_prefill is FcfsScheduler.schedule_prefill
            and type(policy).take is FcfsScheduler.take)


def fcfs_path(policy: Scheduler, jump: bool, kv_admission: str, cost: IterationCost | None = None) -> bool:
    """Whether the engine runs on `serving.fcfs_loop` (built-in FCFS, reserve_full, leaps, mixed iterations); not a
    `cost` with SGLang's short DSA extend or vLLM's masked prefill logits (`IterationCost.short_prefill_len`,
    `prefill_clean_s`: the general loop tracks the longest sequence and the keys they need)."""
    return (jump and inline_fcfs(policy) and kv_admission == "reserve_full" and not policy.prefill_first
            and not (cost is not None and (cost.short_prefill_len or cost.prefill_clean_s)))


def engine_request_lists(prefill_tokens: np.ndarray, cached_tokens: np.ndarray, decode_steps: np.ndarray,
                         block_tokens: int, on_demand: bool, growth: float = 1.0,
                         slots: int = 0) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """`engine_steps`'s per-request lists (todo, ctx0, steps, need, fin_blocks) of the requests (`growth`, `slots`:
    `fcfs_request_lists`)."""
    n = len(prefill_tokens)
    # blocks taken at admission: the whole request (reserve_full: `request_tokens`) or its prompt (on_demand)
    need = ((-(-(prefill_tokens + cached_tokens) // block_tokens)).tolist() if on_demand else
            request_tokens(prefill_tokens, cached_tokens, decode_steps, block_tokens, growth, slots)[1])
    return (prefill_tokens.tolist(), cached_tokens.tolist() if cached_tokens.any() else [0] * n,
            decode_steps.tolist(), need, need[:] if not on_demand else [0] * n)  # fin_blocks: freed at the end


def decode_within(heap: list[int], n: int, end_ctx: list[int], bound: int) -> bool:
    """Whether every decoding sequence of a loop's finish `heap` (keys: its last decode iteration x `n` + request;
    `NEVER` passes) has end_ctx - last iteration <= `bound`: with `bound` = L - 1 - the decode iterations done, its
    context + 1 in the next iteration is <= L (SGLang's short DSA extend in a mixed iteration, hO64). O(rows), run only
    for a cost with that path on a mixed iteration whose prompts are short; the first row over it ends the scan."""
    return all(end_ctx[key % n] - key // n <= bound for key in heap)


def iteration_seconds(tables: tuple[Any, ...], cost: IterationCost, p_tok: int, d: int, rows: int, pairs: float,
                      sum_ctx: float, longest: int = 1 << 62, keys: int = 0) -> tuple[float, float, float, float]:
    """Seconds and tensor-core seconds of one iteration (a lock-step rank's, `serving.lockstep_loop`) over
    `cost_tables`' `tables`: `engine_loop.engine_steps`' sum, line for line (the same floats); then the seconds its
    host floor added over the GPU's own time (0.0 where the GPU's is the longer) and the iteration's time at that
    floor (0.0 where none applies): an eager iteration lasts at least its launches, a decode step at least its
    sequences' host work (`serving.host_overhead`, `cost_tables`). `longest`: the iteration's longest sequence,
    cached + chunk, a decode row's context + 1 (SGLang's short DSA extend, `IterationCost.short_prefill_len`; unknown:
    the long path); `keys`: its prompts' cached + chunk tokens (the masked prefill logits, `IterationCost.
    prefill_clean_s`; the short path's cap and cached keys; 0: unknown, none)."""
    body, head, body_flop, _, _, decode_head = tables[:6]
    head0, rows_s = tables[9], tables[10]  # a prefill-only iteration's head, the decode rows' attention (hC65)
    kv_c, pair_c, pair_f, over = cost.kv_token_s, cost.pair_s, cost.pair_flop_s, cost.overhead_s
    pre_fix, dec_fix, per_tok = cost.prefill_fixed_s, cost.decode_fixed_s, cost.per_prefill_token_s
    shared = cost.shared_fixed_s  # a mixed iteration's fixed kernels run once (`IterationCost`)
    host, cap = cost.host_issue_s, cost.eager_prefill_above_tokens
    m = p_tok + d
    clean = cost.prefill_clean_s * (p_tok * keys - pairs) if cost.prefill_clean_s and p_tok and keys else 0.0
    if cost.short_prefill_len and short_extend(cost.short_prefill_len, p_tok, longest, keys, d, sum_ctx):
        # SGLang's short DSA extend, a mixed one too (`engine_steps`)
        fix, pair_d, tok_d = short_prefill_s(cost.short_prefill_terms, cost.prefill_row_s, rows)
        d_pair, key_x, kept, once = cost.short_extend_terms
        t = (body[m] + (head[rows] - (rows_s[rows] - rows_s[d] * kept)) + pre_fix + fix
             + (dec_fix - shared + once if d else 0.0) + (cost.short_prefix_fixed_s if keys > p_tok or d else 0.0))
        gap = host - t if m > cap and t < host else 0.0
        extend = key_x * (max(keys - p_tok, 0) + (sum_ctx if d else 0)) + (d_pair * (sum_ctx + d) if d else 0.0)
        rest = pair_c * pairs + over + per_tok * p_tok + (pair_d * pairs + tok_d * p_tok) + extend
        t = ((host if gap else t) + pair_c * pairs + over + per_tok * p_tok + (pair_d * pairs + tok_d * p_tok)
             + extend)
        if clean:  # the masked prefill logits (`engine_steps`: after the sum, as here)
            t, rest = t + clean, rest + clean
        return t, body_flop[m] + pair_f * pairs, gap, host + rest if m > cap else 0.0
    if p_tok and d:
        t = body[m] + (head[rows] - (rows_s[rows] - rows_s[d])) + pre_fix + dec_fix - shared
        gap = host - t if m > cap and t < host else 0.0
        rest = kv_c * sum_ctx + pair_c * pairs + over + per_tok * p_tok
        t = (host if gap else t) + kv_c * sum_ctx + pair_c * pairs + over + per_tok * p_tok  # (engine_steps' order)
        if clean:  # the masked prefill logits (`engine_steps`: after the sum, as here)
            t, rest = t + clean, rest + clean
        return t, body_flop[m] + pair_f * pairs, gap, host + rest if m > cap else 0.0
    if p_tok or not d:
        t = body[m] + head0[rows] + (pre_fix if p_tok else 0.0) + (dec_fix if d else 0.0)
        gap = host - t if m > cap and t < host else 0.0
        rest = (kv_c * sum_ctx if d else 0.0) + pair_c * pairs + over + (per_tok * p_tok if p_tok else 0.0)
        t = ((host if gap else t) + (kv_c * sum_ctx if d else 0.0) + pair_c * pairs + over
             + (per_tok * p_tok if p_tok else 0.0))
        if clean:  # the masked prefill logits (`engine_steps`: after the sum, as here)
            t, rest = t + clean, rest + clean
        return t, body_flop[m] + pair_f * pairs, gap, host + rest if m > cap else 0.0
    gap, floor = decode_floor(tables, cost, m)
    return (decode_head[m] + kv_c * sum_ctx + over + dec_fix, body_flop[m], gap,
            floor + kv_c * sum_ctx if floor else 0.0)


def decode_floor(tables: tuple[Any, ...], cost: IterationCost, k: int) -> tuple[float, float]:
    """A decode step of k sequences: the seconds `cost_tables`' host floors add to its GPU time (decode_head less
    body + head; 0.0 where none binds), and the step's seconds at the larger floor without its KV reads (the
    eager step's launches above the graph cap, the sequences' host work; 0.0 where neither applies)."""
    body, head, decode_head = tables[0], cost.head_s, tables[5]  # (not the prefill iterations' head, hC65)
    gap = decode_head[k] - (body[k] + float(head[k if k < len(head) else len(head) - 1]))
    host = max(cost.host_issue_s if k > cost.eager_above_tokens else 0.0, cost.host_per_sequence_s * k)
    return gap, host + cost.overhead_s if host > 0.0 else 0.0
