"""Lock-step attention-DP ranks under load: how long a rank waits for the other ranks' prefills.

What SGLang does (read in the sglang 0.5.6.post2 wheel): every DP-attention rank runs its own scheduler over its own
requests (prefill-first, `managers/scheduler.py`), and before each forward all ranks all-gather their token counts
and forward modes (`managers/scheduler_dp_attn_mixin.py` `prepare_mlp_sync_batch_raw`: `global_num_tokens`,
`is_extend_in_batch` = max over ranks, `can_cuda_graph` = min over ranks); a rank with nothing to run runs an idle
batch whenever any rank has tokens (`need_idle_batch`, `get_idle_batch`), because the MoE layers' all-to-all (DeepEP
dispatch / combine, normal mode in any iteration holding a prefill anywhere: `layers/moe/utils.py`
`DeepEPMode.resolve`) meets every rank at every layer. So an iteration lasts as long as its slowest rank's: a rank
that decodes while another prefills waits for that prefill; ranks that prefill in the same iteration wait for the
longest of them only.

`prefill_stall.wide_ep_prefill_stall` prices the low-load limit: each own prefill token carries the attention_dp - 1
other ranks' prefill of as many tokens, on the prefill (TTFT). Under load and in a burst the ranks' prefills
coincide, and the wait falls on the other ranks' decode iterations, not on the prefilling rank.

The model (`LOCKSTEP_LOOP`, `run_lockstep_pool`, called from `serving_sim.simulate_deployment` and
`capacity_candidate.Candidate.run`, so serve and serve-plan agree): the ranks of each replica run in lock-step
(`serving.lockstep_loop`: every rank's engine loop, the same scheduler rules and cost tables on the stall-free cost,
every iteration the slowest rank's, the routed experts run on the ranks' mean tokens). It reproduces the lock-step
reference of validation/notes/serving_hopper_moe_tried.md (rounds 21, 24) to 0.5 % in TTFT and TPOT, convoys
included: under a high load of mixed-length prompts at 72 ranks the arrivals during one long prefill iteration
prefill together in the next (72 GB200 ranks, chat prompts at 1 request/s a rank: TPOT 4x the stall-free one).

Fallback (PP > 1, whose virtual engines per rank the loop does not pipeline; `LOCKSTEP_LOOP` off): the mean-wait
rule (`LOAD_AWARE_STALL`). A first pass simulates every rank without any wait; each rank's prefill work is placed
where it ran (`prefill_spans`: the requests sharing a first-token time prefilled together, lasting the stall-free
cost of their tokens and pairs in budget-sized chunks); for rank r, D_r is where it decodes (its requests between
first token and finish) and U the time any rank of its replica prefills (the union of their spans, r's own P_r
included). Rank r waits |U n D_r| - |P_r n D_r| (the others prefill while it decodes), spread over its decode
iterations ((|D_r| - |P_r n D_r|) / tau_r, tau_r its seconds per decode step); the run is then repeated with every
decode iteration lengthened by the pool's mean wait (`decode_wait_s`) and no prefill stall. Against the reference:
exact where the ranks stay in phase (bursts and closed loops of equal requests), TPOT within 0-15 % at 8 ranks up to
a middle load, but 70-82 % under it at 72 ranks under a high mixed load (no independent-rank pass shows convoys).

ASSUMPTIONS (both paths): the decode that runs eager (`can_cuda_graph` false while any rank prefills) and DeepEP's
normal-mode dispatch in those iterations are not charged. The mean-wait rule also: the rank cost tables price a
prefill's expert GEMMs as if every rank held as many tokens; a decoding rank's own rows add to the iteration rather
than overlapping the other rank's prefill; one mean wait per pool; a rank's prefill is not stretched by a longer
coinciding prefill. Stacks whose ranks do not stall (`attention_dp_prefill_stall: false`) and prefill pools
(`disaggregated.prefill_pool_cost`) are unchanged, except where the stack balances its ranks' context requests
(TensorRT-LLM's `attention_dp_config`, `serving.adp_balance`): those ranks run in the lock-step loop, which holds
every rank's prefills while the balance waits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from infraplan.serving import request_intake, run_progress
from infraplan.serving.adp_balance import BalanceGate, balance_of
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import IterationCost
from infraplan.serving.lockstep_loop import lockstep_replica
from infraplan.serving.serving_engine import EngineResult
from infraplan.serving.window_marks import summed, summed_rate

LOAD_AWARE_STALL = True  # the wait measured on the ranks' timelines (module docstring; toggle to compare)
LOCKSTEP_LOOP = True  # the ranks stepped together (`serving.lockstep_loop`); False: the mean-wait rule alone
PASSES = 1  # measuring passes before the final run (more drift: the notes, round 21)


def applies(cost: IterationCost) -> bool:
    """Whether a colocated run of `cost` takes the measured lock-step wait (its ranks stall, the rule is on)."""
    return LOAD_AWARE_STALL and stall_of(cost)[2] > 0


def stall_of(cost: IterationCost) -> tuple[float, float, int]:
    """The low-load stall built into `cost` (per prefill token s, per pair s, other ranks); zeros without one."""
    token_s, pair_s, others = cost.extra.get("stall", (0.0, 0.0, 0))
    return float(token_s), float(pair_s), int(others)


def with_others(cost: IterationCost, others: float) -> IterationCost:
    """`cost` with its low-load stall scaled from its attention_dp - 1 other ranks to `others` (0: none)."""
    token_s, pair_s, full = stall_of(cost)
    if full <= 0:
        return cost
    scale = others / full - 1.0
    return replace(cost, per_prefill_token_s=cost.per_prefill_token_s + scale * token_s,
                   pair_s=cost.pair_s + scale * pair_s, extra={**cost.extra, "others": others})


def waiting(cost: IterationCost, wait_s: float) -> IterationCost:
    """`cost` without the low-load stall and with every decode iteration lengthened by `wait_s`."""
    free = with_others(cost, 0.0)
    return replace(free, decode_fixed_s=free.decode_fixed_s + wait_s, extra={**free.extra, "decode_wait_s": wait_s})


def union_s(starts: np.ndarray, ends: np.ndarray) -> float:
    """Measure (s) of the union of the intervals [starts, ends]."""
    if starts.size == 0:
        return 0.0
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], np.maximum.accumulate(ends[order])
    first = np.flatnonzero(np.concatenate(([True], s[1:] > e[:-1])))  # starts after every earlier one ended
    last = np.concatenate((first[1:] - 1, [s.size - 1]))
    return float(np.sum(e[last] - s[first]))


def _both_s(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> float:
    """Measure of (union of a) n (union of b): |A| + |B| - |A u B|."""
    return union_s(*a) + union_s(*b) - union_s(np.concatenate((a[0], b[0])), np.concatenate((a[1], b[1])))


def prefill_spans(cost: IterationCost, token_budget: int, first_s: np.ndarray, prefill: np.ndarray,
                  cached: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start s, end s) of one rank's prefill work: the requests sharing a first-token time prefilled together
    (SGLang's prefill batch) in chunks of the budget, each chunk at the stall-free iteration time."""
    ok = np.isfinite(first_s) & (prefill > 0)
    if not ok.any():
        return np.zeros(0), np.zeros(0)
    ends, inverse = np.unique(first_s[ok], return_inverse=True)
    p = prefill[ok].astype(np.float64)
    tokens = np.bincount(inverse, weights=p)
    pairs = np.bincount(inverse, weights=p * (p + 1.0) / 2.0 + p * cached[ok])
    rows = np.bincount(inverse).astype(np.int64)
    chunks = np.ceil(tokens / max(token_budget, 1))
    per_chunk = with_others(cost, 0.0).time(np.ceil(tokens / chunks).astype(np.int64), 0, 0, pairs / chunks,
                                            rows=np.maximum(rows // chunks.astype(np.int64), 1))
    return ends - chunks * per_chunk, ends


def decode_wait_s(cost: IterationCost, token_budget: int, first_s: np.ndarray, finish_s: np.ndarray,
                  prefill: np.ndarray, cached: np.ndarray, steps: np.ndarray, engine_of: np.ndarray,
                  ranks: int) -> float:
    """Mean seconds a decode iteration waits for the other ranks' prefills, over replicas of `ranks` engines
    (module docstring): the sum over ranks of |U n D_r| - |P_r n D_r| over that of (|D_r| - |P_r n D_r|) / tau_r."""
    waited = iterations = 0.0
    for group in range(int(engine_of.max()) // ranks + 1 if engine_of.size else 0):
        rows = [m for e in range(group * ranks, (group + 1) * ranks) if (m := engine_of == e).any()]
        spans = [prefill_spans(cost, token_budget, first_s[m], prefill[m], cached[m]) for m in rows]
        anyone = (np.concatenate([s for s, _ in spans]), np.concatenate([e for _, e in spans]))
        for m, own in zip(rows, spans, strict=True):
            dec = m & (steps > 0) & np.isfinite(first_s) & np.isfinite(finish_s)
            if not dec.any():
                continue
            active = (first_s[dec], finish_s[dec])
            tau = float(np.sum(finish_s[dec] - first_s[dec]) / np.sum(steps[dec]))  # s per decode iteration
            own_in = _both_s(own, active)
            waited += _both_s(anyone, active) - own_in
            iterations += (union_s(*active) - own_in) / tau if tau > 0 else 0.0
    return waited / iterations if iterations > 0 else 0.0


def engine_of_requests(n: int, engines: int, clients: int) -> np.ndarray:
    """The engine each request runs on, as `serving_sim.run_pool` routes them (round-robin, or by client)."""
    k = np.arange(n)
    return (k % clients) % engines if clients > 0 else k % engines


def lockstep_pool(cost: IterationCost, dep: Any, blocks: int, arrival: np.ndarray, prefill: np.ndarray,
                  cached: np.ndarray, steps: np.ndarray, engines: int, clients: int = 0,
                  round_trip_s: float = 0.0, lag: bool = False, cuts: Sequence[float] = ()) -> EngineResult:
    """The pool's replicas, each of `dep.engines_per_replica` ranks run in lock-step (`serving.lockstep_loop`) on the
    stall-free `cost`, the requests routed as `serving_sim.run_pool` routes them (`round_trip_s`, `lag`: its client
    cycle, `serving.client_loop.next_request_s`), under the stack's attention-DP balancing where it has one
    (`serving.adp_balance`); `cuts`: the replicas' work there, summed (`serving.window_marks`; open loop; a closed
    loop's replicas find their own, `window_rate` summed)."""
    n, ranks = len(arrival), dep.engines_per_replica
    works, rates = [], []
    engine_of = engine_of_requests(n, engines, clients)
    first, finish, sent = np.full(n, np.nan), np.full(n, np.nan), np.array(arrival, dtype=np.float64)
    busy = compute = 0.0
    iterations = preemptions = recomputed = 0
    stack, balance = load_engine(dep.stack), balance_of(dep)
    free = with_others(cost, 0.0)
    for group in range(-(-engines // ranks)):
        idx = np.flatnonzero(engine_of // ranks == group)
        if idx.size == 0:
            continue
        local_clients = len({int(k) % clients for k in idx}) if clients > 0 else 0
        r = lockstep_replica(free, arrival[idx], prefill[idx], cached[idx], steps[idx], engine_of[idx] % ranks,
                             ranks, dep.max_batch, dep.token_budget, blocks, dep.block_tokens,
                             request_intake.loop_scheduler(stack, dep.speculative_tokens),
                             stack.kv_admission, local_clients, round_trip_s, lag,
                             BalanceGate(balance) if balance is not None else None, () if clients > 0 else cuts)
        first[idx], finish[idx], sent[idx] = r.first_token_s, r.finish_s, r.arrival_s
        busy, compute, iterations = busy + r.busy_s, compute + r.compute_s, iterations + r.iterations
        preemptions, recomputed = preemptions + r.preemptions, recomputed + r.recomputed_tokens
        works.append(r.window_work)
        rates.append(r.window_rate)
    return EngineResult(first, finish, busy, compute, iterations, sent, preemptions, recomputed,
                        window_work=summed(works) if cuts and clients <= 0 else None,
                        window_rate=summed_rate(rates) if clients > 0 else None)


def run_lockstep_pool(run_pool: Callable[..., Any], cost: IterationCost, dep: Any, blocks: int, arrival: np.ndarray,
                      prefill: np.ndarray, cached: np.ndarray, steps: np.ndarray, engines: int,
                      clients: int = 0, round_trip_s: float = 0.0, lag: bool = False,
                      cuts: Sequence[float] = (), watch: Callable[..., None] | None = None) -> Any:
    """Where the stack balances its attention-DP ranks' context requests (`serving.adp_balance`, PP 1) or the ranks
    stall (`applies`): the ranks stepped together (`lockstep_pool`, `LOCKSTEP_LOOP`), else (PP > 1)
    `run_pool` (serving_sim's, passed in: it sits above this module, with the same `round_trip_s` and `lag`) with the
    lock-step wait measured on the ranks' timelines (module docstring); `run_pool` on `cost` itself where the rule
    does not apply. `cuts`: the lock-step pool's window cuts (`serving.window_marks`; `run_pool` has its own).
    `watch`: `run_pool`'s, on its last run only (`serving.miss_stop`; the lock-step loop runs without it)."""
    if balance_of(dep) is not None and np.any(prefill > 0):  # held context requests: the ranks in lock-step
        return lockstep_pool(cost, dep, blocks, arrival, prefill, cached, steps, engines, clients, round_trip_s, lag,
                             cuts)
    if not applies(cost) or not np.any(prefill > 0):
        return run_pool(cost, dep, blocks, arrival, prefill, cached, steps, engines, clients, watch=watch)
    if LOCKSTEP_LOOP and dep.pp == 1:
        return lockstep_pool(cost, dep, blocks, arrival, prefill, cached, steps, engines, clients, round_trip_s, lag,
                             cuts)
    engine_of = engine_of_requests(len(arrival), engines, clients)
    wait_s = 0.0
    run_progress.expect(PASSES * len(arrival))  # the measuring passes' (`serving.run_progress`)
    for _ in range(PASSES):
        pool = run_pool(waiting(cost, wait_s), dep, blocks, arrival, prefill, cached, steps, engines, clients)
        wait_s = decode_wait_s(cost, dep.token_budget, pool.first_token_s, pool.finish_s, prefill, cached, steps,
                               engine_of, dep.engines_per_replica)
    return run_pool(waiting(cost, wait_s), dep, blocks, arrival, prefill, cached, steps, engines, clients, watch=watch)
