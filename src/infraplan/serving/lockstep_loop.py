"""Lock-step engine loop: the attention-DP ranks of one replica stepped together, each iteration the slowest rank's.

What is modelled (SGLang's DP attention, sglang 0.5.6.post2 `managers/scheduler_dp_attn_mixin.py`
`prepare_mlp_sync_batch_raw`; `serving.wide_ep_lockstep` module docstring): every rank runs its own scheduler over
its own requests, and before each forward the ranks all-gather their batches, so every iteration of every rank
starts together and ends when the slowest rank's ends; a rank with nothing to run runs an idle batch (priced as
nothing: a busy rank's iteration is always longer). Each rank here is the engine loop of `serving.engine_loop`
(`engine_steps`) with the same rules, tables and arithmetic: its policy's `pick` under the same KV admission
(reserve_full, or on_demand prompt blocks with decode blocks taken per block residue), prefill-first or mixed
iterations cut by the policy's `schedule_prefill`, the iteration's seconds by the engine loop's own sum over
`loop_stepping.cost_tables` (`loop_stepping.iteration_seconds`, its lines), the per-finish term, drafts' growth.
Only the clock is shared: it advances by the longest rank's iteration, and a request arriving while the ranks run waits
for the iteration's end. A stretch in which no rank prefills and no arrival could start is leapt as the engine loop
leaps it (up to the first completion on any rank, cut before the iteration in which an arrival that could start
lands, or before an on-demand rank runs out of blocks), its iterations each the largest of the ranks' linear
decode times (summed in numpy over the stretch: `serving.lockstep_leap`). A rank short of blocks for a decode step
preempts its newest request as the engine loop does (the same lines: `serving.decode_book`). With one rank, and on
ranks that stay in phase (a burst of equal requests), it is the engine loop (tests/serving/test_lockstep_loop.py).
Under a stack's attention-DP context balancing (TensorRT-LLM's `attention_dp_config`, `serving.adp_balance`) each
iteration first asks its gate whether the ranks' context requests run; held, every rank decodes only (a leapt
stretch counts its iterations there too).

Shared experts (`SHARED_EXPERTS`): the cost tables price a rank's routed-expert GEMMs for m tokens as if every rank
held m (balanced ranks: each GPU runs its E / ep experts on the copies the whole EP group routes to them,
`ops.layer` with EP outside TP; `llm_iteration` "Wide expert parallelism"). In a lock-step iteration the ranks hold
different counts, and DeepEP's dispatch sends every rank's routed copies to the experts' owners (sglang 0.5.6
`layers/moe/token_dispatcher/deepep.py:426-485`, `_DeepEPDispatcherImplNormal._dispatch_core`: `buffer.dispatch`
returns the tokens received from every rank and `num_recv_tokens_per_expert`, on which the local experts run;
DeepSeek-V3 report, arXiv:2412.19437 sec. 3.4), so the experts' GPUs run the copies of all ranks' tokens: the
iteration lasts the longest rank's time without its routed-expert GEMMs (`llm_iteration`'s `extra["routed_s"]`) plus
those GEMMs at the ranks' mean token count (rounded). A lone rank's 8,192-token prefill on 72 ranks then takes its
attention, dense layers and dispatch, not 72 ranks' expert work. With one rank, or ranks holding equal counts, it is
the same sum. A host-bound rank (an eager iteration's launches, a decode step's per-sequence host work:
`serving.host_overhead`, max(GPU time, host time)) keeps its host time: the experts' change is to its GPU time,
under that floor (hX2, session 38: subtracting its own experts from the floored time priced a lone eager prefill
below its own launches, so a part with more FLOP/s was slower: Qwen3-30B-A3B on 4 H200 ranks under vLLM, 4
requests/s of 1024/128, TTFT 37.1 -> 40.8 ms at 4x FLOP/s; tests/serving/test_metamorphic_hX2_serving.py).

ASSUMPTIONS: the eager decode
of a rank while another prefills (SGLang's `can_cuda_graph` is the min over ranks) and DeepEP's normal-mode
dispatch in such iterations are not charged (an eager decode step's floor, ~40 ms for DeepSeek-R1 on GB200, is
about the shortest prefill's, which floors at the same launches); the dispatch and combine stay priced on the
rank's own tokens (its sends); routing stays balanced over the experts; with drafts, the verification's extra tokens
per row and the draft layer (in the head table, `serving.speculative`) keep their experts on the rank's own count.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

import numpy as np

from infraplan.serving import run_progress
from infraplan.serving.adp_balance import BalanceGate
from infraplan.serving.client_loop import next_request_s
from infraplan.serving.decode_book import DecodeBook
from infraplan.serving.llm_iteration import IterationCost
from infraplan.serving.lockstep_leap import Rank, leap_ranks, ranks_work
from infraplan.serving.loop_stepping import (
    cost_tables,
    decode_floor,
    decode_within,
    engine_policy,
    engine_request_lists,
    iteration_seconds,
)
from infraplan.serving.serving_engine import EngineResult
from infraplan.serving.window_marks import ClosedCuts, close_marks, pass_cuts, upcoming

SHARED_EXPERTS = True  # routed experts priced on the mean of the ranks' tokens (module docstring; toggle to compare)


def shared_experts_s(cost: IterationCost) -> list[float]:
    """The routed experts' seconds of an iteration by the rank's token count (`llm_iteration`'s "routed_s"), where
    `SHARED_EXPERTS` prices them on the mean of the ranks' tokens; empty otherwise."""
    routed = cost.extra.get("routed_s")
    return [float(x) for x in routed] if SHARED_EXPERTS and routed is not None else []


def lockstep_replica(cost: IterationCost, arrival_s: np.ndarray, prefill_tokens: np.ndarray,
                     cached_tokens: np.ndarray, decode_steps: np.ndarray, rank_of: np.ndarray, ranks: int,
                     max_batch: int, token_budget: int, kv_blocks: int, block_tokens: int, scheduler: str,
                     kv_admission: str, clients: int = 0, round_trip_s: float = 0.0,
                     lag: bool = False, balance: BalanceGate | None = None, cuts: Sequence[float] = ()) -> EngineResult:
    """One replica's `ranks` engines in lock-step (module docstring) over its requests (in arrival order, request k
    on rank `rank_of[k]`). `clients` > 0: closed loop, request k + clients sent `round_trip_s` after request k
    ends, a schedule-ahead loop's iteration later with `lag` (`serving.client_loop.next_request_s`; both on one
    rank). `balance`: the engine's attention-DP context balancing, which may hold every rank's prefills in an
    iteration (`serving.adp_balance`). `cuts`: the result's `window_work` reads the ranks' work there (summed; the
    lock-step iteration or stretch that straddles one split pro rata, `serving.window_marks`); in closed loop its own
    cuts, found as its clients send (`window_marks.ClosedCuts`), give the result's `window_rate` instead."""
    n = len(arrival_s)
    on_demand = kv_admission == "on_demand"
    todo, ctx0, steps, need, fin_blocks = engine_request_lists(prefill_tokens, cached_tokens, decode_steps,
                                                               block_tokens, on_demand, cost.decode_growth_tokens,
                                                               cost.draft_slots)
    tables = cost_tables(cost, max_batch)
    decode_s, decode_flop_s = tables[3], tables[4]
    kv_c, per_fin, bt = cost.kv_token_s, cost.per_finish_s, block_tokens
    adv = cost.decode_growth_tokens if cost.decode_growth_tokens != 1.0 else 1
    short = cost.short_prefill_len  # SGLang's short DSA extend (`IterationCost`): a mixed one reads the decode rows
    routed = shared_experts_s(cost)  # the routed experts' seconds by token count, if shared (`SHARED_EXPERTS`)
    floors = [decode_floor(tables, cost, k) for k in range(len(tables[5]))] if routed else []
    rs = [Rank(engine_policy(cost, max_batch, token_budget, scheduler, kv_admission), kv_blocks, bt)
          for _ in range(ranks)]
    for r in rs:  # SGLang's output reserve, one per rank's scheduler (`serving.output_reserve`)
        r.policy.bind_reserve(todo, steps, adv, bt, on_demand, cost.reserve_scale)
    prefill_first = rs[0].policy.prefill_first if rs else False
    head_of_line = rs[0].policy.head_of_line if rs else True
    arr = [float(t) for t in arrival_s]
    for k in range(min(clients, n) if clients > 0 else n):
        rs[int(rank_of[k])].arrivals.append((arr[k], k))  # in order: heaps
    first, finish = [float("nan")] * n, [float("nan")] * n
    # per request: its end, finish key, block residue, running / decoding flags, preemption (`serving.decode_book`)
    book = DecodeBook(todo, ctx0, steps, need, fin_blocks, first, bt, adv, on_demand)
    end_ctx, end_at, live, decoding = book.end_ctx, book.end_at, book.live, book.decoding
    clock, done, leapt = 0.0, 0, 0
    window = ClosedCuts(n, clients) if clients > 0 else None  # a closed loop's cuts, found as it sends
    cuts = window.cuts if window is not None else cuts
    cut = cuts[0] if cuts else math.inf  # the next window cut (inf once all are passed)
    marks: list[float] = []  # the work at each cut passed
    tally = run_progress.current()  # (None: nobody asked)

    def end(r: Rank, j: int) -> None:  # request j left rank r at `clock`: its client sends the next one
        nonlocal done, cut
        finish[j] = clock
        done += 1
        if tally is not None:
            tally.ended(1)
        if clients > 0 and j + clients < n:
            arr[j + clients] = (next_request_s(book.kept_first.get(j, first[j]), clock, float(decode_steps[j]),
                                               round_trip_s, True) if lag else clock + round_trip_s)
            if window is not None:  # at or after `clock`: passed (pro rata) after this iteration, or later
                window.sent(j + clients, arr[j + clients])
                cut = upcoming(marks, cuts)
            if arr[j + clients] > clock:  # reaches the rank later, in order of (time, request) as `client_loop` does
                heapq.heappush(r.arrivals, (arr[j + clients], j + clients))
            else:  # at once, behind the waiting ones (the engine loop's own closed loop)
                r.waiting.append(j + clients)
        elif window is not None:  # its client's last: the window's end, at this iteration's end
            window.ended(clock)
            cut = upcoming(marks, cuts)

    def join(r: Rank, j: int, ctx: int) -> None:  # j joins r's decode batch with ctx cached tokens
        r.n_dec += 1
        r.sum_ctx += ctx
        book.join(j, ctx, r.steps_done, r.heap, r.grow)
        if r.policy.reserve is not None:
            r.policy.reserve.joined((j,), end_at)

    while done < n:
        for r in rs:  # admission, as the engine loop's top
            while r.arrivals and r.arrivals[0][0] <= clock:
                r.waiting.append(heapq.heappop(r.arrivals)[1])
            if r.policy.reserve is not None and r.waiting and r.running < max_batch:
                r.policy.reserve.open(r.steps_done, r.n_dec, r.heap, n)
            while r.waiting and r.running < max_batch:
                j = r.policy.pick(r.waiting, need, r.free)
                if j is None:
                    break
                r.free -= need[j]
                r.running += 1
                if on_demand:
                    live[j] = True
                    r.order.append(j)
                if todo[j] > 0:
                    r.prefill.append([j, todo[j], ctx0[j]])
                elif steps[j] > 0:
                    first[j] = clock
                    join(r, j, ctx0[j])
                else:  # done at admission
                    first[j] = clock
                    r.free += need[j]
                    live[j] = False  # ended (on demand: never the newest running request to preempt, hL69)
                    r.running -= 1
                    end(r, j)
        busy = [r for r in rs if r.running]
        if not busy:
            if done == n:
                break
            for r in rs:  # every rank idle: SGLang's schedulers reset their ratios
                if r.policy.reserve is not None:
                    r.policy.reserve.idle()
            stuck = next((r for r in rs if r.waiting), None)
            if stuck is not None:
                j = stuck.waiting[0]
                raise ValueError(f"request {j} needs {need[j]} KV blocks, the engine has {stuck.free}")
            clock = max(clock, min(r.arrivals[0][0] for r in rs if r.arrivals))
            continue
        if not any(r.prefill for r in busy):  # pure decode on every busy rank: leap to the next event
            k = min(r.heap[0] // n - r.steps_done - 1 for r in busy)  # a rank's head the reserve lets in stops it
            k = min([k] + [r.policy.reserve.leap_cap(k, r.waiting[0], need[r.waiting[0]], r.steps_done, r.n_dec, r.free,
                                                     r.grow, r.heap, n) for r in busy if r.policy.reserve is not None
                           and r.waiting and r.running < max_batch and k > 0])
            span, k = leap_ranks(busy, rs, clock, n, kv_c, decode_s, decode_flop_s, tables[7], adv, head_of_line,
                                 on_demand, routed, ranks, floors, k)
            clock += span
            leapt += k
            if clock >= cut and k:  # every busy rank's k / len(busy) iterations
                cut = pass_cuts(marks, cuts, clock, span, ranks_work(rs), span * len(busy) + k // len(busy) * sum(
                    decode_flop_s[r.n_dec] for r in busy))
            if balance is not None and k:  # the balance counts the leapt iterations (`serving.adp_balance`)
                balance.idle(k // len(busy), len(busy) == ranks)
        hold = balance is not None and not balance.admits([len(r.prefill) for r in rs], [r.n_dec for r in rs],
                                                          max_batch)
        plans = []
        longest = floor_s = 0.0  # floor_s: the longest host-bound rank's own time (`iteration_seconds`' floor)
        tokens = 0  # every rank's tokens, whose routed copies the experts' GPUs run
        for r in busy:  # one iteration of every rank (`engine_steps`' general step)
            d = 0 if prefill_first and r.prefill and not hold else r.n_dec
            if on_demand and d:  # the blocks this iteration's tokens start; preempt the newest until they fit
                if r.policy.reserve is not None and (not r.prefill or hold):  # a decode batch: the ratio decays
                    r.policy.reserve.decays += 1
                while r.grow[(r.steps_done + 1) % bt] > r.free:  # free the newest running request, requeued first
                    freed, left, dropped = book.preempt(r.order, r.prefill, r.heap, r.grow, r.policy.reserve,
                                                        r.steps_done, r.waiting)
                    r.free, r.n_dec, r.sum_ctx, r.running = (r.free + freed, r.n_dec - left, r.sum_ctx - dropped,
                                                             r.running - 1)
                r.free -= r.grow[(r.steps_done + 1) % bt]
                d = 0 if prefill_first and r.prefill and not hold else r.n_dec
            budget = token_budget - d * cost.budget_tokens  # (1 + drafts: `speculative.budget_tokens`)
            if hold:  # every rank's context requests wait (`serving.adp_balance`)
                budget = 0
            seq_max = keys = 0  # the iteration's longest sequence and keys (`iteration_seconds`, `Scheduler`)
            if not r.prefill or budget <= 0:
                p_tok, pairs, fin, rows = 0, 0.0, [], d
            else:
                p_tok, pairs, fin = r.policy.schedule_prefill(r.prefill, budget)
                rows = d + r.policy.prompts  # every prompt chunk samples a row (hC66)
                seq_max, keys = r.policy.longest, r.policy.keys
                if d and short and seq_max <= short and not decode_within(r.heap, n, end_ctx,
                                                                          short - 1 - r.steps_done):
                    seq_max = 1 << 62  # a decode row's context + 1 past it: the long path (hO64)
            t, f, gap, floor = iteration_seconds(tables, cost, p_tok, d, rows, pairs, r.sum_ctx, seq_max, keys)
            if d:
                r.steps_done += 1
                if per_fin and r.heap[0] < (r.steps_done + 1) * n:
                    fin_s = per_fin * sum(1 for at in r.heap if at < (r.steps_done + 1) * n)
                    t, floor = t + fin_s, floor + fin_s if floor else 0.0
            plans.append((r, d, fin, f if f < t else t))
            if routed:  # its routed experts run on every rank's tokens (added below)
                if floor:  # its host floor stays: the experts change the GPU's time under it (module docstring)
                    floor_s = floor if floor > floor_s else floor_s
                t = t - gap - routed[p_tok + d] if gap else t - routed[p_tok + d]
                tokens += p_tok + d
            longest = t if t > longest else longest
        if routed:
            longest += routed[round(tokens / ranks)]
            longest = floor_s if floor_s > longest else longest
        clock += longest
        for r, d, fin, f in plans:
            r.busy += longest
            r.compute += f
            r.iterations += 1
            r.sum_ctx += d * adv
            due = (r.steps_done + 1) * n
            while d and r.heap[0] < due:
                j = heapq.heappop(r.heap) % n
                r.free += fin_blocks[j]
                r.running -= 1
                r.n_dec -= 1
                r.sum_ctx -= book.end_read[j]
                if on_demand:
                    live[j] = decoding[j] = False
                    r.grow[book.key[j]] -= 1
                if r.policy.reserve is not None:
                    r.policy.reserve.dec_end -= end_at[j]
                end(r, j)
            for j in fin:
                first[j] = clock
                if steps[j] > 0:
                    join(r, j, ctx0[j] + todo[j])
                else:
                    r.free += need[j]
                    live[j] = False
                    r.running -= 1
                    if r.policy.reserve is not None:
                        r.policy.reserve.dropped(j)
                    end(r, j)
        if clock >= cut:
            cut = pass_cuts(marks, cuts, clock, longest, ranks_work(rs),
                            longest * len(plans) + sum(p[3] for p in plans))
    book.restore_first()  # a recomputed prompt's end is not its first token
    work = ranks_work(rs)
    return EngineResult(np.array(first), np.array(finish), sum(r.busy for r in rs), sum(r.compute for r in rs),
                        sum(r.iterations for r in rs) + leapt, np.array(arr, dtype=np.float64), book.preemptions,
                        book.recomputed, window_work=None if window is not None else close_marks(marks, cuts, work),
                        window_rate=window.rate(marks, work) if window is not None else None)

