"""Closed-loop clients with a round trip: a client's next request reaches the engine after its last one ended.

The engine loops' own closed loop (`serving_engine`, `clients` > 0) sends request k + clients at the instant request
k ends, so it joins the very iteration that starts at that instant. No served engine can do that. vLLM 0.12.0's
engine core drains the requests already in its input queue, runs a step, puts the step's outputs on the output queue,
and drains the input queue again at once (v1/engine/core.py:855-895 `run_busy_loop`, `_process_input_queue`,
`_process_engine_step`): a request that answers step i's output has first to leave through the output queue, the
API server (or Dynamo's worker and front end), the HTTP stream and the client, and come back the same way, so it is
not in the queue when step i + 1 is scheduled. The client adds its own hops: aiperf 0.3.0 returns a credit only
after the whole response is read and its record pushed (workers/worker.py:143-171, :241), the timing manager then
releases its concurrency semaphore and drops the next credit over ZMQ (timing/request_rate_strategy.py:48-96,
timing/timing_manager.py:178-201), and the worker that takes it fetches the conversation from the dataset manager
(worker.py:199, :246) before it starts the request's TTFT clock (transports/aiohttp_client.py:83-84). The instant
tie matters beyond its size: with equal output lengths a closed loop's clients end one iteration apart, and a
request sent at the instant joins the next iteration alone, so the start-up wave dissolves within a cycle; with any
positive round trip the sequences that end while the first new prompt prefills come back together (a microsecond
moves a 1.0.0rc3 Qwen3-32B row from 334 to 432 ms: validation/notes/serving_hopper_tried.md round 6).

`closed_loop_engine` runs one engine of a closed loop with the round trip: the engine loop is stepped
(`loop_stepping`, the drive `serving.pair_loop` gives a disaggregated pair), fed each client's next request at its
predecessor's finish plus `round_trip_s`; with round_trip_s 0 it is the engine's own closed loop. ASSUMPTION: one
figure per run, no spread (aiperf's hops and the serving path's are not published; a millisecond is the order of
a few inter-process hops on one host). Measured on the Hopper serving sets with the front ends refitted by their
rule: validation/notes/serving_hopper_tried.md round 19.

The client's cycle (`next_request_s`, the one place every closed loop takes it from: `closed_loop_engine`,
`serving.lockstep_loop`, `serving.pair_loop` through its `client_round_trip_s`). A client sends its next request when
it has read the last one's response, so everything between the engine's last token and the client reading it, and
between the client sending and the engine receiving, lies inside the cycle (Little's law: N = X x (E2E + think time)
for N clients, X requests/s). Three terms separate the engine's finish of request k from request k + N reaching it:
* the stack's front end (`serving.engines` `request_latency_s`: HTTP server, tokenizer, hand-off to the engine, the
  tokens streamed back), which the reported TTFT and end-to-end latency hold (`serving_sim`): `client_cycle` adds it
  to the round trip where `FRONT_END_IN_CYCLE` is on;
* a schedule-ahead engine loop's one-iteration lag (`serving.request_intake`): the engine's real last token comes one
  of the request's mean decode iterations after the simulated one (`request_intake.shift_s`), which the reported
  latencies hold too (`lag`, where `LAG_IN_CYCLE` is on);
* `CLIENT_ROUND_TRIP_S`, the benchmark client's own hops: aiperf's credit return, its semaphore and the conversation
  fetch happen after the response is read and before the next request's TTFT clock starts (above), so they are in the
  cycle but in no reported latency: a think time of 1 ms (X x E2E / N = 1 - 1 ms / cycle).
With all three, X x mean E2E / N comes to 1 within the round trip and the run's start and drain (tests/serving/
test_client_cycle.py). Both switches are OFF by default: the front end and the lag are then added to the reported
latencies after the loop only, and X x E2E / N reaches 1.22 (SGLang, Llama 3 8B, 8 clients, 512/256, MTP) and 1.50
(one client, 128/64) on `serve --concurrency`. Why off: each term is one fixed figure per run, and a fixed gap of
more than a few ms between a request's end and its successor's arrival keeps every start-up wave of fixed-length
requests together for the whole run (the wave ends together and comes back together while the engine is idle), so
every TTFT holds a wave's prefills; the measured rows show no such waves (round 19 found the same for round trips of
20 ms and more). On the Hopper sets (mean |error|, session 34): dense 21.74 % -> 37.6 % with both (TTFT 31.2 -> 60.7;
front end only 37.3; front ends refitted by their rule: 28.0), MoE 15.14 -> 19.3 %, disaggregated 14.11 -> 13.88 %;
the lag alone 22.1 / 15.5 / 14.1 % (SGLang 0.5.6 Llama-8B TTFT). No published spread of either term to dissolve the
waves with: validation/notes/serving_hopper_tried.md, "hL (session 34)".

The first wave (`first_wave`, every closed loop's first `clients` arrivals, `serving_sim`): the clients start
together but send one request after another, and an idle engine takes the first and steps. Every benchmark client
read starts its N clients behind one semaphore in one event loop, so their requests leave one by one: aiperf 0.3.0
timing/request_rate_strategy.py:44-90 (one credit at a time), vLLM 0.18.0 benchmarks/serve.py:794-867 (one task per
request, created in a loop behind `asyncio.Semaphore`), SGLang 0.5.6.post2 bench_serving.py:1946-2023 (the same).
vLLM 0.18.0's idle engine core blocks on its input queue, takes the first request, drains only what is already
queued and steps (v1/engine/core.py:1137-1165 `_process_input_queue`): the first prompt runs alone and the others
join at the next iterations. Modelled as request k of the wave sent `FIRST_WAVE_SPACING_S` after request k - 1 (or
at its own given arrival, if later). ASSUMPTION: TensorRT-LLM's executor and Dynamo's front end (code not read)
order the wave the same way. The spacing's value does not matter from 1 us to 0.3 ms (the order does:
tests/serving/test_first_wave.py); measured on the Hopper sets: validation/notes/serving_hopper_tried.md, hD43 and
"adopted (hD44)".
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from infraplan.serving import run_progress
from infraplan.serving.loop_stepping import IDLE, TOP, engine_policy, fcfs_path
from infraplan.serving.pair_loop import PoolSpec, SteppedEngine, pool_tables
from infraplan.serving.serving_engine import EngineResult
from infraplan.serving.window_marks import ClosedCuts

# seconds from a request's last token to its client's next request reaching the engine (module docstring):
# ASSUMPTION, the order of a few inter-process hops on one host; any value above 0 and below ~5 ms gives the same
# waves on the Hopper serving sets (validation/notes/serving_hopper_tried.md round 19). The default of every
# closed loop (`serve --concurrency`, `serving_sim.simulate_deployment`) and of the validation sets alike.
CLIENT_ROUND_TRIP_S = 1e-3
# seconds between two requests of a closed loop's first wave reaching the engine, in client order (module docstring):
# an ASSUMPTION of size (one HTTP request through one event loop); any value from 1 us to 0.3 ms gives the same runs
FIRST_WAVE_SPACING_S = 10e-6
# the stack's front end and a schedule-ahead loop's lag inside the client's cycle (module docstring); False: the
# loop's gap is the round trip alone and the term only delays what the client sees (as before session 34)
FRONT_END_IN_CYCLE = False
LAG_IN_CYCLE = False


def client_cycle(round_trip_s: float, front_end_s: float, schedules_ahead: bool) -> tuple[float, bool]:
    """(gap_s, lag) of a closed loop's `next_request_s`: the client's round trip plus, with `FRONT_END_IN_CYCLE`, the
    front end the reported latencies hold; the schedule-ahead lag with `LAG_IN_CYCLE` where the stack's loop
    schedules ahead (`serving.request_intake.schedules_ahead`; module docstring)."""
    return round_trip_s + (front_end_s if FRONT_END_IN_CYCLE else 0.0), schedules_ahead and LAG_IN_CYCLE


def first_wave(arrival_s: np.ndarray, clients: int, spacing_s: float | None = None) -> np.ndarray:
    """The arrivals of a closed loop of `clients` with its first wave sent in order (module docstring): request k <
    `clients` reaches the engine at max(its given arrival, request k - 1's + `spacing_s`), `FIRST_WAVE_SPACING_S`
    unless given; the later requests' arrivals (set by the loop) are returned as given. A new array."""
    d = FIRST_WAVE_SPACING_S if spacing_s is None else spacing_s
    if not (d >= 0 and math.isfinite(d)):
        raise ValueError(f"the first wave's spacing must be a finite time >= 0, not {d}")
    out = np.array(arrival_s, dtype=np.float64)
    m = min(max(clients, 0), len(out))
    if m > 1 and d > 0:  # sent_k = max_j<=k (a_j + (k - j) d) = k d + max_j<=k (a_j - j d)
        step = np.arange(m) * d
        out[:m] = step + np.maximum.accumulate(out[:m] - step)
    return out


def next_request_s(first_s: float, finish_s: float, decode_steps: float, gap_s: float, lag: bool) -> float:
    """The instant a client's next request reaches the engine after the engine's simulated first token `first_s` and
    last token `finish_s` of its previous one: `gap_s` (`client_cycle`) after the real last token, which a
    schedule-ahead loop (`lag`) gives one of the request's mean decode iterations later (`request_intake.shift_s`)."""
    if lag and decode_steps > 0:
        finish_s += (finish_s - first_s) / decode_steps
    return finish_s + gap_s


def closed_loop_engine(pool: PoolSpec, arrival_s: np.ndarray, prefill_tokens: np.ndarray,
                       cached_tokens: np.ndarray, decode_steps: np.ndarray, clients: int,
                       round_trip_s: float, lag: bool = False) -> EngineResult:
    """One engine of `pool` in closed loop over its requests (sorted as `simulate_engine` takes them; request k
    belongs to client k mod `clients`, the first `clients` arrive at `arrival_s`), each later request reaching the
    engine `round_trip_s` after its client's previous one finished (`next_request_s`; `lag`: a schedule-ahead loop's,
    module docstring). Its `window_rate`: its work per second over its steady window (`window_marks.ClosedCuts`)."""
    if clients < 1:
        raise ValueError("a closed loop needs at least one client")
    if round_trip_s < 0 or not math.isfinite(round_trip_s):
        raise ValueError(f"the client round trip must be a finite time >= 0, not {round_trip_s}")
    n = len(arrival_s)
    fcfs = fcfs_path(engine_policy(pool.cost, pool.dep.max_batch, pool.dep.token_budget, pool.scheduler,
                                   pool.kv_admission), True, pool.kv_admission, pool.cost)
    window = ClosedCuts(n, clients)  # the steady window's cuts as the clients send (`window_marks`)
    engine = SteppedEngine(pool, n, pool_tables(pool, prefill_tokens, cached_tokens, decode_steps, fcfs), fcfs,
                           window.cuts, window.open)  # held until the window's end is in (`ClosedCuts`)
    arrival = [float(t) for t in arrival_s[:min(clients, n)]] + [math.nan] * max(n - clients, 0)
    steps = decode_steps.tolist() if lag else []
    pending = sorted((arrival[k], k) for k in range(min(clients, n)))  # sent, not yet given to the engine
    known = engine.arr_open
    key = 0.0  # the time up to which the engine is told every arrival
    tally = run_progress.current()  # (None: nobody asked)
    while True:
        if pending and pending[0][0] <= key:
            given = []
            while pending and pending[0][0] <= key:
                given.append(heapq.heappop(pending))
            engine.give(given)
        if known[-1] != math.inf:
            known[-1] = math.nextafter(key, math.inf)
        need = engine.resume()
        for j in engine.log:  # the requests that ended: their clients send the next ones
            k = engine.requests[j]
            if k + clients < n:
                sent = (next_request_s(engine.first[j], engine.finish[j], steps[k], round_trip_s, True) if lag
                        else engine.finish[j] + round_trip_s)
                arrival[k + clients] = sent
                heapq.heappush(pending, (sent, k + clients))
                window.sent(k + clients, sent)
            else:  # its client's last
                window.ended(engine.finish[j])
        if tally is not None and engine.log:
            tally.ended(len(engine.log))
        engine.log.clear()
        if engine.held and not window.open:
            engine.release()
        if need is None:
            break
        kind, key = need  # TOP: its clock; LEAP: the stretch's end, cut by an earlier arrival; IDLE: the next one
        if kind != TOP and pending and (kind == IDLE or pending[0][0] < key):
            key = pending[0][0]
        elif kind == IDLE and known[-1] != math.inf:  # (inf: released, every request done, it ends)
            raise RuntimeError("the closed loop stalled with requests left")
    assert engine.totals is not None
    index = np.array(engine.requests, dtype=np.int64)
    first, finish = np.full(n, math.nan), np.full(n, math.nan)
    first[index], finish[index] = engine.first, engine.finish
    busy_s, compute_s, iterations = engine.totals
    return EngineResult(first, finish, busy_s, compute_s, iterations, np.array(arrival, dtype=np.float64),
                        window_rate=window.rate(engine.marks, busy_s + compute_s))
