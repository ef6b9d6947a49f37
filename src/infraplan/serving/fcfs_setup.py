"""What the FCFS engine loop (`serving.fcfs_loop.fcfs_steps`) reads once per run, before its first iteration.

Nothing is modelled here that the loop does not model: the iteration cost's figures (`llm_iteration.IterationCost`: KV
read per cached token, query-key pairs, fixed and per-token costs, the host's floor on an eager iteration,
`serving.host_overhead`) and its per-batch-size tables (`loop_stepping.cost_tables`), unpacked into the loop's own
locals (`FcfsConstants`, in this order), so that the loop's passes read fast locals and not attributes; the counts as
floats the loop sums (`loop_stepping.whole_floats`); and all of it as the compiled loop reads it (`fcfs_arrays`). Split
from the loop's module (hA, session 58) to keep each module under the project's size cap; the loop's floats and their
order are unchanged.

How the loop's bookkeeping is leaner than the general loop's (`serving.engine_loop`), with the same floating-point
sums in the same order (moved here from `fcfs_loop`'s docstring, hE62; written for the Python loop, whose passes the
compiled `serving.fcfs_core.fcfs_run` keeps since session 72, its CPython notes now history):
* an arrival that finds nobody waiting and room in the batch and the cache is admitted on the spot (the general
  loop queues it, then admits it from the queue head in the same pass: the same order); in open loop the arrivals
  during a leap wait for the next pass instead of being queued before the event iteration (nothing reads the
  queue in between; in closed loop the event iteration's releases must queue after them, so they are queued);
* the usual prompt, started with no other pending and whole within the budget (`solo`), needs no queue entry,
  and its query-key pairs are summed beforehand with numpy (the same float operations in the same order);
* pure-decode stretches and their event iterations repeat in an inner loop until an arrival, a queue or an idle
  engine needs the outer one; the next completion's decode-iteration count is a local (`e_min`), so an
  iteration with no completion reads no heap; iteration counts are derived, not counted per pass;
* with no preemption, a request's blocks and its end are fixed at admission and nothing is tracked per block
  residue or per admission order;
* counts enter the float sums as floats (`loop_stepping.whole_floats`, `fcfs_request_lists`): CPython 3.11
  specialises float x float, not int x float (the same products: an int below 2^53 converts exactly), and a
  compare only before a short jump, so the hot tests are breaks and identity tests (serving_speed_tried.md).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from infraplan.serving.llm_iteration import IterationCost
from infraplan.serving.loop_stepping import SKIP_ROOT, cost_tables, tables_kept, whole_floats


class KvBinds(Exception):
    """A run asked to stop where KV blocks would keep a request out (`fcfs_steps`'s `stop_if_kv_binds`: the first
    admission that finds too few free KV blocks, the batch not full and no queue ahead). A run that never does is
    also the run of on-demand KV admission (`serving_engine`): with the same running requests, on demand holds no
    more blocks than their whole reservations, so it admits the same requests and never preempts."""


class FcfsConstants(NamedTuple):
    """The loop's per-run locals (unpacked in this order)."""

    kv_c: float  # KV read seconds per cached token
    pair_c: float  # seconds per query-key pair (prefill attention)
    pair_f: float  # tensor-core seconds per query-key pair
    pre_fix: float  # a prefill iteration's fixed seconds
    dec_fix: float  # a decode iteration's fixed seconds
    shared: float  # the part of both a mixed iteration pays once (`IterationCost.shared_fixed_s`)
    over: float  # every iteration's overhead seconds
    per_tok: float  # seconds per prefill token
    per_fin: float  # seconds per finishing sequence
    fin: bool  # per_fin != 0.0: a bool, tested without a truth-value call
    host: float  # an eager prefill iteration's floor, the host's launches (`host_overhead`)
    cap: int  # prefill tokens above which an iteration runs eager
    adv: float  # cached tokens a decode step appends: T with drafts (`serving.speculative`), else 1.0
    grow: list[float]  # per batch size k, a decode iteration's growth of the cached tokens, k x T (a list: no cell)
    wholes: list[float]  # wholes[k] = float(k): counts entering the float sums (`loop_stepping.whole_floats`)
    body: list[float]  # `cost_tables`: body, head and body tensor-core seconds per token / row count
    head: list[float]
    body_flop: list[float]
    decode_s: list[float]  # a pure-decode iteration less its cached-token term, per batch size
    decode_flop_s: list[float]  # its tensor-core part
    decode_head_s: list[float]  # the same less the fixed costs
    half_kv: list[float]  # a leapt stretch's growth term and the root's products (`cost_tables`)
    twice_half_kv: list[float]
    four_half_kv: list[float]
    head0: list[float]  # a prefill-only iteration's head (its rows: prompt chunks', no decode attention)
    rows_s: list[float]  # the decode rows' attention part of the head (`IterationCost.decode_row_s`; hC65)
    head1: list[float]  # a lone prompt's row beside k decoding sequences: head[k + 1] - (rows_s[k + 1] - rows_s[k])
    head_1: float  # a lone prompt's row alone (head0[1])


# the last run's constants with the cost and kept tables they were read from (one tuple, read and replaced whole:
# safe beside another thread's run); reused while `cost_tables` hands back the same kept tables (`kept_cost_tables`;
# the last entry of a closed scope lives until a later scope's run replaces it)
_LAST: list[tuple[IterationCost, object, int, int, FcfsConstants] | None] = [None]


def fcfs_constants(cost: IterationCost, max_batch: int, token_budget: int) -> FcfsConstants:
    """`FcfsConstants` of `cost` for an engine of `max_batch` sequences and `token_budget` tokens an iteration. The
    next run on the same cost, engine and kept tables (a pool's engines, a candidate's probes: `kept_cost_tables`)
    reads the same constants (read only, as the tables are), not new lists: the batch sizes' growth and the head
    rows past the first were built per run, O(max_batch + token_budget) (hG, session 65)."""
    tables = cost_tables(cost, max_batch)
    last = _LAST[0]
    if (last is not None and last[0] is cost and last[1] is tables and last[2] == max_batch
            and last[3] == token_budget):
        return last[4]
    adv = cost.decode_growth_tokens
    head, rows_s = np.asarray(tables[1]), np.asarray(tables[10])  # (numpy: the loop's float operations)
    constants = FcfsConstants(cost.kv_token_s, cost.pair_s, cost.pair_flop_s, cost.prefill_fixed_s,
                              cost.decode_fixed_s, cost.shared_fixed_s, cost.overhead_s, cost.per_prefill_token_s,
                              cost.per_finish_s, cost.per_finish_s != 0.0, cost.host_issue_s,
                              cost.eager_prefill_above_tokens, adv,
                              list(map(adv.__mul__, range(max_batch + 1))),  # (k x T: the float the loop computes)
                              whole_floats(max(max_batch, token_budget)), *tables,
                              (head[1:] - (rows_s[1:] - rows_s[:-1])).tolist(), tables[9][1])
    if tables_kept():  # (outside a scope each run's tables are its own: nothing to read again)
        _LAST[0] = (cost, tables, max_batch, token_budget, constants)
    return constants


# the last run's constants as the compiled loop reads them, with the constants they were made from (`fcfs_arrays`)
_ARRAYS: list[tuple[FcfsConstants, tuple[np.ndarray, tuple[int, int], tuple[np.ndarray, ...]]] | None] = [None]


def fcfs_arrays(cost: IterationCost, max_batch: int, token_budget: int, clients: int, logged: bool,
                stop_if_kv_binds: bool) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """`fcfs_constants` as the compiled loop reads them (`serving.fcfs_core.fcfs_run`): the figures (`fcfs_state`'s
    `sc` slots, then `SKIP_ROOT`), the run's int settings (`ci` slots: `clients`, whether ends are `logged`, the KV
    bind stop) and the per-batch-size tables as float64 arrays (body, head, body_flop, decode_s, decode_flop_s,
    decode_head_s, half_kv, twice_half_kv, four_half_kv, head0, rows_s, head1). The counts-as-floats tables are not
    read: float(k) is wholes[k], and adv x k is grow[k] (the same IEEE product). Converted once per kept constants
    (`fcfs_constants`: a pool's engines, a candidate's probes)."""
    c = fcfs_constants(cost, max_batch, token_budget)
    kept = _ARRAYS[0]
    if kept is not None and kept[0] is c:
        figures, ints, tables = kept[1]
    else:
        figures = np.array([c.kv_c, c.pair_c, c.pair_f, c.pre_fix, c.dec_fix, c.shared, c.over, c.per_tok, c.per_fin,
                            c.host, c.adv, c.head_1, SKIP_ROOT], dtype=np.float64)
        ints = (c.cap, int(c.fin))
        tables = tuple(np.array(x, dtype=np.float64) for x in (
            c.body, c.head, c.body_flop, c.decode_s, c.decode_flop_s, c.decode_head_s, c.half_kv, c.twice_half_kv,
            c.four_half_kv, c.head0, c.rows_s, c.head1))
        _ARRAYS[0] = (c, (figures, ints, tables))
    settings = np.array([*ints, max_batch, token_budget, clients, int(logged), int(stop_if_kv_binds),
                         cost.budget_tokens], dtype=np.int64)  # (a decoding sequence's budget tokens, hL76)
    return figures, settings, tables
