"""The closed loop over a prefill pool and a decode pool in one pass: every engine stepped in one event loop.

Client c sends its next request when its last one ends (`serving.disaggregated`): its prefill engine (c mod E_p)
sees the request, its decode engine (routed below) the prefill completion plus the KV transfer, and the last token
(or, for a one-token output, the first token and its transfer) sends the client's next request. Every engine is
the one engine loop (`serving.fcfs_loop` / `serving.serving_engine`), driven as a generator (`loop_stepping`):
fed its requests as their arrivals become known, it yields what it waits for, and a discrete-event loop over all
engines resumes, at each step, the engine whose wait ends first, in global time order (Chandy and Misra,
"Distributed simulation: a case study in design and verification of distributed programs", IEEE TSE 1979: the
conservative rule, here in one process):
* an engine waiting for the arrivals up to its clock (TOP) or for its next arrival (IDLE: the earliest one
  posted) runs when the global time reaches that time. Every arrival up to it is posted by then: an engine
  resumed at time g decides its next iteration with what arrived by g, so its completions, and the arrivals
  they post (the transfer and the client's think time are >= 0), come at g or later;
* an engine about to leap a pure-decode stretch (LEAP) needs every arrival up to the stretch's end; it runs when
  the global time reaches the earlier of that end and the earliest arrival posted to it since (which cuts the
  stretch). A leap can complete sequences at exactly its resume time, so at equal times leaps run first.
Routing (`closed_pair_loop`): client-sticky (client c on prefill engine c mod E_p and decode engine c mod E_d),
or round-robin over a pool's workers in the order the requests reach it, as a router's counter does: a hand-over
is an event at its time (before any other at that time), so the k-th request to reach the pool goes to worker
k mod W, each worker's in turn to its next engine or to its least loaded one (`Router`); the requests per engine
are known up front (least loaded: each rank sized for its worker's share, topped up with empty requests; the
engines then match an engine run alone over their real arrivals to rounding, the padding's arrival cutting a leap).
Ties at equal times run in engine order; the arrivals of one engine in (time, request) order, as a simulation of
the engine over the same arrivals sorted stably by time takes them. So each engine runs exactly as the engine
loop does given its final arrivals up front: the answer is the closed loop's unique fixed point
(`serving.disaggregated`), found in one pass instead of rounds of whole-pool simulations. Cost: one generator
resume and a few heap operations per wait, about 5 per request on the Hopper rows (614k waits for 124k requests:
an engine waits after each iteration it runs and before each stretch it leaps), about 4x the engines' own work
simulated once over known arrivals; a wait ends at once, without the heap, when no other event comes first.
The steady window (`window_marks.ClosedCuts`, hO59): the pair's, `closed_window`'s rule on its requests, from the
middle request's send (appended to the cuts every engine shares as it is sent, no earlier than the global time) to
the earliest end of a client's last request, settled by an event at that end (-3, before any other at its time:
no engine resumed later can report an earlier end); each engine records its work at both (`window_marks.next_cut`:
a cut its clock had passed falls in its last iteration or the stretch leapt before it), and while the end is still
to come no engine is told that all its arrivals are in (`SteppedEngine.held`: it would run to its end unmarked).
The bounds held make more waits, not other times: a stepped engine runs as given its arrivals up front.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

from infraplan.serving import run_progress
from infraplan.serving.engine_loop import engine_steps
from infraplan.serving.fcfs_loop import fcfs_steps
from infraplan.serving.llm_iteration import Deployment, IterationCost
from infraplan.serving.loop_stepping import (
    IDLE,
    LEAP,
    TOP,
    Need,
    engine_policy,
    engine_request_lists,
    fcfs_path,
    fcfs_request_arrays,
)
from infraplan.serving.pair_router import Router
from infraplan.serving.window_marks import ClosedCuts, summed_rate


@dataclass(frozen=True)
class PoolSpec:
    """One pool as the loop runs it: the iteration cost and deployment of its engines, KV blocks per engine,
    engine count, and the stack's scheduler and KV admission."""

    cost: IterationCost
    dep: Deployment
    blocks: int
    engines: int
    scheduler: str
    kv_admission: str


@dataclass(frozen=True)
class PoolRun:
    """One pool's engines over the run, per request (global order): first token, finish, arrival; totals; the
    engine (index in the pool) that ran each request."""

    first_token_s: np.ndarray
    finish_s: np.ndarray
    arrival_s: np.ndarray
    busy_s: float
    compute_s: float
    iterations: int
    engine: np.ndarray
    window_rate: float | None = None  # its engines' busy + tensor-core s per s over the window (`window_marks`)


class SteppedEngine:
    """One engine of a pool, fed its requests as their arrivals become known (`loop_stepping`). `cuts`: a list of
    window cuts its driver appends to (`window_marks.ClosedCuts`; a pair's engines share one); `held`: its bound stays
    short of inf once every arrival is in, until the driver `release`s it (the window's end is still to come)."""

    def __init__(self, pool: PoolSpec, n: int, tables: tuple[Any, ...], fcfs: bool,
                 cuts: list[float] | None = None, held: bool = False) -> None:
        dep = pool.dep
        self.tables = tables  # the pool's per-request lists by request, in the loop's argument order
        # the engine's, filled as its requests arrive (the FCFS loop's: arrays it reads in place)
        self.lists: list[Any] = [np.zeros(n, dtype=t.dtype) if fcfs else [0] * n for t in tables]
        lists = self.lists
        self.copies = list(zip(lists, tables, strict=True))
        self.arr = [0.0] * n
        self.arr_open = [-math.inf]  # the arrivals known, then the bound up to which they are all known
        self.first, self.finish = array("d", (math.nan,)) * n, array("d", (math.nan,)) * n  # (C doubles: read in place)
        self.log: list[int] = []
        self.requests: list[int] = []  # the request of each local index, in arrival order
        self.n = n
        self.totals: tuple[float, float, int] | None = None  # busy s, tensor-core s, iterations, once done
        self.fcfs = fcfs
        self.steps: Generator[Need, None, Any]
        self.cuts: list[float] = [] if cuts is None else cuts  # window cuts, appended by a driver that finds them
        self.held = held
        self.marks: list[float] = []  # the engine's work at each cut passed
        if fcfs:
            self.steps = fcfs_steps(pool.cost, self.arr, self.arr_open, lists[0], lists[1], lists[2], lists[3],
                                    lists[4], lists[5], dep.max_batch, dep.token_budget, pool.blocks, 0, self.first,
                                    self.finish, self.log, False, self.cuts, self.marks)
        else:
            policy = engine_policy(pool.cost, dep.max_batch, dep.token_budget, pool.scheduler, pool.kv_admission)
            self.steps = engine_steps(pool.cost, self.arr, self.arr_open, lists[0], lists[1], lists[2], lists[3],
                                      lists[4], self.first, self.finish, dep.max_batch, dep.token_budget, pool.blocks,
                                      dep.block_tokens, policy, True, 0, pool.kv_admission == "on_demand", self.log,
                                      self.cuts, self.marks)

    def give(self, arrivals: list[tuple[float, int]]) -> None:
        """Append `arrivals` (time, request; in order) to the engine's, before the bound (inf once all are in and
        the engine is not `held`)."""
        known, requests, arr, copies = self.arr_open, self.requests, self.arr, self.copies
        bound = known.pop()
        for t, k in arrivals:
            j = len(requests)
            requests.append(k)
            arr[j] = t
            for mine, pool in copies:
                mine[j] = pool[k]
            known.append(t)
        known.append(bound if len(requests) < self.n or self.held else math.inf)

    def release(self) -> None:
        """No longer `held`: once every arrival is in, the loop runs to its end."""
        self.held = False
        if len(self.requests) == self.n:
            self.arr_open[-1] = math.inf

    def resume(self) -> Need | None:
        """Run the loop to its next wait (None: it has ended, `close`d)."""
        try:
            return self.steps.send(None)
        except StopIteration as end:
            self.close(end.value)
            return None

    def close(self, totals: tuple[Any, ...]) -> None:
        """Keep the ended loop's (busy s, tensor-core s, iterations)."""
        self.totals = (totals[0], totals[1], totals[2] + totals[3] if self.fcfs else totals[2])


def pool_tables(pool: PoolSpec, prefill: np.ndarray, cached: np.ndarray, steps: np.ndarray,
                fcfs: bool) -> tuple[Any, ...]:
    """The loop's per-request lists of every request of the pool (each engine copies its own as they arrive)."""
    growth, slots = pool.cost.decode_growth_tokens, pool.cost.draft_slots  # `serving.speculative`
    if fcfs:
        return fcfs_request_arrays(prefill, cached, steps, pool.dep.block_tokens, growth, slots)
    return engine_request_lists(prefill, cached, steps, pool.dep.block_tokens, pool.kv_admission == "on_demand",
                                growth, slots)


def closed_pair_loop(prefill: PoolSpec, decode: PoolSpec, first_arrival_s: np.ndarray, input_tokens: np.ndarray,
                     output_tokens: np.ndarray, decode_steps: np.ndarray, transfer_s: np.ndarray,
                     clients: int, decode_workers: int = 0, prefill_workers: int = 0,
                     least_loaded_ranks: bool = False,
                     client_round_trip_s: float = 0.0) -> tuple[np.ndarray, PoolRun, PoolRun]:
    """Arrival times of the requests (request k: client k mod clients; client c's first at `first_arrival_s[c]`)
    and each pool's run (its `window_rate` over the pair's window), in one pass (module docstring).
    `decode_workers` > 0: the decode pool takes the prefill results round-robin over that many workers in the order
    they are handed over (ties by request), each worker's in turn over its engines or to its least loaded
    (`least_loaded_ranks`, both pools; `Router`) (`serving.disaggregated`, `ROUND_ROBIN_DECODE`); `prefill_workers`
    > 0: the prefill pool takes the requests round-robin, in the order they are sent (`ROUND_ROBIN_PREFILL`); 0:
    client-sticky. A client's next request is sent `client_round_trip_s` after its last one ends
    (`serving.client_loop`)."""
    if clients < 1:
        raise ValueError("a closed loop needs at least one client")
    n = len(input_tokens)
    e_pre = prefill.engines
    pre_route = Router(n, clients, e_pre, prefill_workers, least_loaded_ranks)
    dec_route = Router(n, clients, decode.engines, decode_workers, least_loaded_ranks)
    counts = pre_route.counts + dec_route.counts
    zeros = np.zeros_like(input_tokens)
    fcfs = [fcfs_path(engine_policy(p.cost, p.dep.max_batch, p.dep.token_budget, p.scheduler, p.kv_admission),
                      True, p.kv_admission, p.cost) for p in (prefill, decode)]
    empty = np.zeros(1, dtype=input_tokens.dtype)  # request n: an empty one, the pools' padding
    tables = (pool_tables(prefill, np.append(input_tokens, empty), np.append(zeros, empty), np.append(zeros, empty),
                          fcfs[0]),
              pool_tables(decode, np.append(zeros, empty), np.append(input_tokens, empty),
                          np.append(decode_steps, empty), fcfs[1]))
    window = ClosedCuts(n, clients)  # the pool's window (`closed_window`'s rule), its cuts shared by every engine
    engines = [SteppedEngine(prefill if e < e_pre else decode, c, tables[e >= e_pre], fcfs[e >= e_pre], window.cuts,
                             window.open) if c else None for e, c in enumerate(counts)]
    arrival = first_arrival_s[:min(clients, n)].tolist() + [math.nan] * max(n - clients, 0)
    out, transfer = output_tokens.tolist(), transfer_s.tolist()
    pending: list[list[tuple[float, int]]] = [[] for _ in engines]  # arrivals posted, not yet given, per engine
    state: list[Need | None] = [None] * len(engines)
    key_of = [math.inf] * len(engines)  # the time an engine's wait ends, as scheduled
    version = [0] * len(engines)
    events: list[tuple[float, int, int, int]] = []  # (time, 0 leap / 1 other, engine, version; < 0: module docstring)
    heappush, heappop, nextafter, inf = heapq.heappush, heapq.heappop, math.nextafter, math.inf
    tally = run_progress.current()  # (None: nobody asked)

    def post(e: int, t: float, k: int) -> None:
        heappush(pending[e], (t, k))
        if t < key_of[e] and state[e] is not None and state[e][0] != TOP:  # type: ignore[index]
            key_of[e] = t
            version[e] += 1
            heappush(events, (t, 0 if state[e][0] == LEAP else 1, e, version[e]))  # type: ignore[index]

    for c in range(min(clients, n)):
        if prefill_workers:
            heappush(events, (arrival[c], -2, c, 0))
        else:
            post(pre_route.route(c), arrival[c], c)
    for e, engine in enumerate(engines):  # each waits for the arrivals up to 0
        if engine is not None:
            state[e] = engine.resume()
            key_of[e] = 0.0
            heappush(events, (0.0, 1, e, 0))
    while events:
        key, cls, e, v = heappop(events)
        if cls < 0:  # request e sent to the prefill pool (-2), or its prefill result handed to the decode pool
            if cls == -3:  # the window's end (`ClosedCuts.settle`): its cut to every engine, the bounds let go
                if window.open and key == window.end:
                    window.settle()
                    for x, other in enumerate(engines):
                        if other is not None and other.totals is None:
                            other.release()
                            if other.arr_open[-1] == inf and key_of[x] == inf:  # idle, all in: let it end
                                key_of[x] = key
                                version[x] += 1
                                heappush(events, (key, 1, x, version[x]))
            elif cls == -2:
                p = pre_route.route(e)
                post(p, key, e)
                for x in pre_route.padding(p):
                    post(x, key, n)
            else:
                d = dec_route.route(e)
                post(e_pre + d, key + transfer[e], e)
                for x in dec_route.padding(d):
                    post(e_pre + x, key + transfer[e], n)
            continue
        if v != version[e]:
            continue
        engine = engines[e]
        assert engine is not None
        pend, known, log, steps = pending[e], engine.arr_open, engine.log, engine.steps
        while True:  # resume e; again at once while its wait ends before any other event
            if pend and pend[0][0] <= key:
                given = []
                while pend and pend[0][0] <= key:
                    given.append(heappop(pend))
                engine.give(given)
            if known[-1] != inf:
                known[-1] = nextafter(key, inf)  # every arrival up to `key` is known
            try:
                need = steps.send(None)
            except StopIteration as end:
                need = None
                engine.close(end.value)
            state[e] = need
            for j in log:  # the requests that ended: their next hop
                k, t = engine.requests[j], engine.finish[j]
                if k == n:  # padding
                    continue
                if e >= e_pre:
                    dec_route.finished(e - e_pre)
                else:
                    pre_route.finished(e)
                if e < e_pre:
                    sent = t + transfer[k]
                    if decode_workers:  # handed over in time order (an event before any other at t)
                        heappush(events, (t, -1, k, 0))
                    else:
                        post(e_pre + dec_route.route(k), sent, k)
                    if out[k] > 1:  # its client waits for the decode pool
                        continue
                elif out[k] > 1:
                    sent = t
                else:  # its client was sent on at the first token
                    continue
                if k + clients < n:  # the client sends its next request (after its round trip)
                    sent += client_round_trip_s
                    arrival[k + clients] = sent
                    window.sent(k + clients, sent)
                    if prefill_workers:
                        heappush(events, (sent, -2, k + clients, 0))
                    else:
                        post(pre_route.route(k + clients), sent, k + clients)
                elif window.noted(sent):  # its client's last: the window ends here unless an earlier end comes
                    heappush(events, (sent, -3, 0, 0))  # (before any other event at that time)
            if log:
                if tally is not None:  # both pools' ends (and the padding's: the share stops at 1)
                    tally.ended(len(log))
                log.clear()
            if need is None:
                break
            # when its wait ends: TOP its clock; LEAP the stretch's end or an earlier arrival posted; IDLE its
            # earliest arrival posted (inf: none yet, it waits for a post)
            kind, key = need
            cls = 0 if kind == LEAP else 1
            if kind != TOP and pend and (kind == IDLE or pend[0][0] < key):
                key = pend[0][0]
            elif kind == IDLE:
                key = inf
            key_of[e] = key
            version[e] += 1  # drops an entry e posted to itself (a one-token output's client on this engine)
            if key == inf:
                break
            if not events:
                continue
            top = events[0]  # the next other event (stale ones included: the check errs to the heap)
            if key < top[0] or key == top[0] and (cls < top[1] or cls == top[1] and e < top[2]):
                continue
            heappush(events, (key, cls, e, version[e]))
            break
    if any(engine is not None and engine.totals is None for engine in engines):
        raise RuntimeError("the disaggregated closed loop stalled with requests left")
    runs: list[PoolRun] = []
    for pool_engines in (engines[:e_pre], engines[e_pre:]):
        pool_first, pool_finish = np.full(n + 1, math.nan), np.full(n + 1, math.nan)  # n: the padding
        which = np.full(n + 1, -1)
        busy = compute = 0.0
        iterations = 0
        for index, engine in enumerate(pool_engines):
            if engine is None or engine.totals is None:
                continue
            idx = np.array(engine.requests)
            pool_first[idx], pool_finish[idx] = engine.first, engine.finish
            which[idx] = index
            busy += engine.totals[0]
            compute += engine.totals[1]
            iterations += engine.totals[2]
        sent_s = np.array(arrival) if not runs else runs[0].first_token_s + transfer_s  # the KV's arrival
        rate = summed_rate([window.rate(x.marks, x.totals[0] + x.totals[1]) for x in pool_engines
                            if x is not None and x.totals is not None])  # over the window (`window_marks`)
        runs.append(PoolRun(pool_first[:n], pool_finish[:n], sent_s, busy, compute, iterations, which[:n], rate))
    return np.array(arrival), runs[0], runs[1]
