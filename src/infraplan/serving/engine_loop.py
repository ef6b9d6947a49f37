"""The general event loop of one serving engine (`serving.serving_engine.simulate_engine`): any scheduling policy
(`serving.schedulers`), KV reserved up front or taken on demand with the newest request preempted and recomputed
(vLLM V1; the policies and admission rules: `serving.serving_engine` module docstring).

The loop runs once per event, never per iteration or token: decode sequences are tracked as a count, the sum
of their cached tokens, and a heap of the decode-iteration count at which each finishes (one int per sequence,
count x requests + request: the pair's order). Between two events (an arrival that could start, a prefill chunk,
a completion, a block shortage) the decode batch is a constant n sequences and an iteration costs a + kv C
(`IterationCost`: weights and per-row terms a, KV read kv per cached token, C the batch's cached tokens, growing
by n g per iteration, g the tokens a step appends: 1, or T with drafts, `serving.speculative`), so k iterations take
k (a + kv C) + kv n g k (k - 1) / 2 and the stretch is leapt in closed
form (issue 18): the next completion bounds k by a heap look-up, the next arrival by the quadratic's root (taken
only when the arrival may fall inside), and under on-demand admission the first iteration whose new blocks exceed
the free ones (every block residue recurs once per `block` iterations, so that is closed form too: a preemption
is an event). The event iteration, still pure decode, is then the one-by-one step. Token times equal the one-by-one
loop's (`jump=False`) to rounding (1e-9 relative: tests/serving/test_serving_engine_leap.py), so idle-ish engines
cost as little as busy ones. The common case (built-in FCFS, leaps, reserve_full or on-demand KV that never binds)
runs in `serving.fcfs_loop`, this loop specialised: bit-identical (tests/serving/test_serving_engine_fcfs_loop.py).
Both loops are generators (`engine_steps`, `fcfs_loop.fcfs_steps`) that `simulate_engine` runs to the end; fed
arrivals as they become known, many step together in one event loop (`loop_stepping`, `serving.pair_loop`). Where
it adds an iteration's or a stretch's seconds it records its work at the arrival window's cuts (`serving.window_marks`).
Its per-request decode bookkeeping and the on-demand preemption are `serving.decode_book`'s, one copy that the
lock-step loop (`serving.lockstep_loop`) runs too; the hot per-iteration lines stay inline here.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Generator, MutableSequence, Sequence

from infraplan.serving.decode_book import DecodeBook
from infraplan.serving.llm_iteration import IterationCost
from infraplan.serving.loop_stepping import (
    IDLE,
    LEAP,
    NEVER,
    SKIP_ROOT,
    TOP,
    EngineTotals,
    Need,
    cost_tables,
    decode_within,
    inline_fcfs,
    on_demand_stretch,
)
from infraplan.serving.schedulers import Scheduler
from infraplan.serving.sparse_decode import short_extend, short_prefill_s
from infraplan.serving.window_marks import next_cut, pass_cuts


def engine_steps(cost: IterationCost, arr: list[float], arr_open: list[float], todo: list[int], ctx0: list[int],
                 steps: list[int], need: list[int], fin_blocks: list[int], first: MutableSequence[float],
                 finish: MutableSequence[float],
                 max_batch: int, token_budget: int, kv_blocks: int, block_tokens: int, policy: Scheduler,
                 jump: bool, clients: int, on_demand: bool, log: list[int] | None, cuts: Sequence[float] = (),
                 marks: list[float] | None = None) -> Generator[Need, None, EngineTotals]:
    """The general loop (`simulate_engine`'s arguments as lists; `arr_open`, `log`, stepping, `cuts`, `marks`:
    `fcfs_steps`), writing `first`, `finish`; returns (busy s, tensor-core s, iterations, preemptions, recomputed
    tokens, leapt)."""
    pick, schedule_prefill, head_of_line = policy.pick, policy.schedule_prefill, policy.head_of_line
    prefill_first = policy.prefill_first
    inline = inline_fcfs(policy)
    emit = clients > 0 or log is not None  # an ending request releases its client's next one, or is logged
    last = len(arr_open) - 1  # stepped: the bound's entry
    n = len(arr)
    kv_c, pair_c, pair_f = cost.kv_token_s, cost.pair_s, cost.pair_flop_s
    pre_fix, dec_fix, over = cost.prefill_fixed_s, cost.decode_fixed_s, cost.overhead_s
    shared = cost.shared_fixed_s  # a mixed iteration's fixed kernels run once (`IterationCost`)
    per_tok, per_fin = cost.per_prefill_token_s, cost.per_finish_s
    short = cost.short_prefill_len  # SGLang's short DSA extend up to this longest sequence (`IterationCost`), or 0
    d_pair, key_x, kept, once = cost.short_extend_terms  # its decode rows' pairs, cached keys (hO64), rows (hC66)
    clean = cost.prefill_clean_s  # per masked prefill logit (DSA on vLLM: `IterationCost`), or 0.0
    longest = keys = 0  # the iteration's longest sequence and its prompts' keys, cached + chunk (`short`, `clean`)
    host, cap = cost.host_issue_s, cost.eager_prefill_above_tokens  # a prefill iteration's floor (`host_overhead`)
    # cached tokens a decode step appends to a sequence: T with drafts (`serving.speculative`), else the int 1
    adv = cost.decode_growth_tokens if cost.decode_growth_tokens != 1.0 else 1
    heappush, heappop, sqrt, ceil, skip_root = heapq.heappush, heapq.heappop, math.sqrt, math.ceil, SKIP_ROOT
    # the cost's tables; per batch size: a pure-decode iteration less its cached-token term, its tensor-core part
    # and a stretch's growth term; a prefill-only iteration's head and the decode rows' attention (hC65;
    # `loop_stepping.cost_tables`)
    body, head, body_flop, decode_s, decode_flop_s, decode_head, half_kv, _, _, head0, rows_s = cost_tables(cost,
                                                                                                          max_batch)
    gather = cost.short_prefix_fixed_s  # the short path's cached-key gathers (hC65)

    clock = busy = compute = 0.0
    t = f = leap_s = leap_f = 0.0  # the last iteration's and stretch's seconds and tensor-core s (`next_cut`)
    cut = cuts[0] if cuts else math.inf  # the next window cut (`serving.window_marks`; inf once all are passed)
    marks = [] if marks is None else marks
    it = leapt = nxt = 0  # iterations run one by one, and advanced in closed form; the next open arrival
    steps_done = 0  # decode iterations so far: a sequence's last token is due at a decode-iteration count
    waiting: deque[int] = deque()
    prefill: deque[list[int]] = deque()  # [request, tokens left, tokens done]
    heap: list[int] = [NEVER]  # finish keys (module docstring); NEVER stays at the bottom: no emptiness checks
    n_dec = running = done = 0
    sum_ctx: float = 0  # the decoding sequences' cached tokens (an int without drafts)
    free = kv_blocks
    res = policy.bind_reserve(todo, steps, adv, block_tokens, on_demand, cost.reserve_scale)  # SGLang's, or None
    bt = block_tokens
    grow = [0] * bt  # on demand: grow[s % bt], the blocks decode iteration s takes
    order: list[int] = []  # on demand: admissions, oldest first (lazily cleaned)
    # per request: its end, finish key, block residue, running / decoding flags (`serving.decode_book`)
    book = DecodeBook(todo, ctx0, steps, need, fin_blocks, first, bt, adv, on_demand)
    end_ctx, end_read, end_at, key, live, decoding = (book.end_ctx, book.end_read, book.end_at, book.key, book.live,
                                                      book.decoding)

    def release(j: int) -> None:  # closed loop: the client of j sends its next request now; stepped: log j
        if log is not None:
            log.append(j)
        elif j + clients < n:
            arr[j + clients] = clock
            waiting.append(j + clients)

    while done < n:
        while arr_open[nxt] <= clock:
            if nxt == last:  # stepped: the arrivals up to now are not all known yet
                yield TOP, clock
                cut = next_cut(marks, cuts, clock, busy + compute, t, f, leap_s, leap_f)  # cuts a driver added
                last = len(arr_open) - 1
                continue
            waiting.append(nxt)
            nxt += 1
        if res is not None and waiting and running < max_batch:
            res.open(steps_done, n_dec, heap, n)
        while waiting and running < max_batch:
            if inline and res is None:
                j = waiting[0]
                if need[j] > free:
                    break
                waiting.popleft()
            else:
                picked = pick(waiting, need, free)
                if picked is None:
                    break
                j = picked
            free -= need[j]
            running += 1
            if on_demand:
                live[j] = True
                order.append(j)
            if todo[j] > 0:
                prefill.append([j, todo[j], ctx0[j]])
            elif steps[j] > 0:  # decode-only: joins the decode batch now (`first`: its admission)
                first[j] = clock
                n_dec += 1
                sum_ctx += ctx0[j]
                book.join(j, ctx0[j], steps_done, heap, grow)
                if res is not None:
                    res.dec_end += end_at[j]
            else:  # nothing to compute or decode: done at admission
                first[j] = finish[j] = clock
                free += need[j]
                live[j] = False  # ended (on demand: never the newest running request to preempt, hL69)
                running -= 1
                done += 1
                if emit:
                    release(j)
        if jump and not prefill and n_dec:
            # pure decode (nothing more could start) until the next completion or the next arrival that could
            # start (any arrival, unless the policy keeps it behind a blocked queue): closed form
            k_max = heap[0] // n - steps_done - 1  # iterations before the completing one
            if k_max > 0:
                c_half = half_kv[n_dec]
                a_ctx = decode_s[n_dec] + kv_c * sum_ctx  # the first iteration of the stretch
                k_full, span = k_max, k_max * a_ctx + c_half * k_max * (k_max - 1)
                # the root only for an arrival that may cut the stretch (SKIP_ROOT: margin over its rounding)
                if (not waiting or not head_of_line) and arr_open[nxt] - clock <= span * skip_root:
                    if nxt == last:  # stepped: wait for the arrivals up to the stretch's end
                        yield LEAP, clock + span * skip_root
                        cut = next_cut(marks, cuts, clock, busy + compute, t, f, leap_s, leap_f)  # cuts a driver added
                        last = len(arr_open) - 1
                    if nxt < last:  # an arrival (stepped: none up to the stretch's end leaves the bound)
                        gap = arr_open[nxt] - clock
                        b = a_ctx - c_half
                        k_arr = (sqrt(b * b + 4.0 * c_half * gap) - b) / (2.0 * c_half) if c_half > 0 else gap / b
                        k_cap = ceil(k_arr) - 1
                        if k_cap < k_max:
                            k_max = k_cap if k_cap > 0 else 0
                if res is not None and waiting and running < max_batch and k_max > 0:  # the ratio may let it in
                    k_max = res.leap_cap(k_max, waiting[0], need[waiting[0]], steps_done, n_dec, free, grow, heap, n)
                if on_demand and k_max > 0:  # stop before the first iteration whose new blocks do not fit
                    k_max, taken = on_demand_stretch(grow, steps_done, free, n_dec, k_max)
                    free -= taken
                if k_max > 0:
                    if k_max != k_full:
                        span = k_max * a_ctx + c_half * k_max * (k_max - 1)
                    clock += span
                    busy += span
                    leap_s, leap_f = span, k_max * decode_flop_s[n_dec]
                    compute += leap_f
                    if clock >= cut:  # its work at the cut, pro rata
                        cut = pass_cuts(marks, cuts, clock, span, busy + compute, span + leap_f)
                    sum_ctx += n_dec * k_max * adv
                    leapt += k_max
                    steps_done += k_max
                    if res is not None:  # k decode batches: the ratio decays k times
                        res.decays += k_max
                    # the event iteration runs next (nothing starts before); arrivals behind a blocked queue join it
                    while arr_open[nxt] <= clock and nxt < last:
                        waiting.append(nxt)
                        nxt += 1
            # the event iteration (pure decode: nothing can start before it) is the general step below
        if running == 0:
            if res is not None:  # an idle SGLang scheduler resets its ratio (`output_reserve`)
                res.idle()
            if waiting:
                raise ValueError(f"request {waiting[0]} needs {need[waiting[0]]} KV blocks, the engine has {free}")
            if done == n:  # the last request ended as it was admitted (an empty one)
                break
            if nxt == last:  # stepped: the next arrival is not known yet
                yield IDLE, clock
                cut = next_cut(marks, cuts, clock, busy + compute, t, f, leap_s, leap_f)  # cuts a driver added
                last = len(arr_open) - 1
                continue
            clock = max(clock, arr[nxt])
            continue
        # one iteration: decode tokens first, the rest of the budget to prefill; a prefill-first policy runs a
        # pending prompt's chunk alone (the whole budget) and the decode batch waits
        d = 0 if prefill_first and prefill else n_dec  # sequences decoding this iteration
        if on_demand and d:  # the blocks this iteration's tokens start; preempt the newest until they fit
            if res is not None and not prefill:  # a decode batch: the ratio decays (reset below if one is preempted)
                res.decays += 1
            while grow[(steps_done + 1) % bt] > free:  # free the newest running request, requeue it first
                freed, left, dropped = book.preempt(order, prefill, heap, grow, res, steps_done, waiting)
                free, n_dec, sum_ctx, running = free + freed, n_dec - left, sum_ctx - dropped, running - 1
            free -= grow[(steps_done + 1) % bt]
            d = 0 if prefill_first and prefill else n_dec
        budget = token_budget - d * cost.budget_tokens  # 1 + drafts a sequence (`speculative`, hL76)
        finished_prefill: list[int] | tuple[int, ...] = ()
        part = 0  # a prompt chunk that does not finish: it samples a row too, thrown away (`IterationCost`, hC66)
        if not prefill or budget <= 0:
            p_tok, pairs = 0, 0.0
        elif inline and len(prefill) == 1 and prefill[0][1] <= budget:  # one prompt, whole: the loop below, unrolled
            j, p_tok, ctx = prefill.popleft()
            pairs = p_tok * (ctx + (p_tok + 1) / 2.0)
            finished_prefill = (j,)
            longest = keys = ctx + p_tok
        elif inline and not (short or clean):  # FcfsScheduler.schedule_prefill, inline (else the method, which
            # keeps the iteration's longest sequence and keys)
            p_tok, pairs, n_fin = 0, 0.0, 0
            for entry in prefill:
                c = entry[1]
                if c < budget:  # all it has left, with budget to spare: it finishes (and leaves, not updated)
                    pairs += c * (entry[2] + (c + 1) / 2.0)
                    p_tok, budget, n_fin = p_tok + c, budget - c, n_fin + 1
                    continue
                n_fin += c == budget
                part = c > budget
                pairs += budget * (entry[2] + (budget + 1) / 2.0)  # the rest of the budget
                p_tok += budget
                entry[1] -= budget
                entry[2] += budget
                break
            if n_fin:  # the finished prompts lead the queue (each took all it had left, in start order)
                finished_prefill = ((prefill.popleft()[0],) if n_fin == 1
                                    else [prefill.popleft()[0] for _ in range(n_fin)])
        else:
            p_tok, pairs, finished_prefill = schedule_prefill(prefill, budget)
            part = policy.prompts - len(finished_prefill)  # what `schedule_prefill` cut (`Scheduler`)
            if short or clean:
                longest, keys = policy.longest, policy.keys
        rows = d + len(finished_prefill) + part  # <= max_batch <= head_max / 2 (checked above)
        m = p_tok + d
        if (short and short_extend(short, p_tok, longest, keys, d, sum_ctx)
                and (not d or decode_within(heap, n, end_ctx, short - 1 - steps_done))):  # SGLang's short DSA
            # extend, a mixed one too (`IterationCost.time`, its sums; its decode rows: no indexer scores)
            fix, pair_d, tok_d = short_prefill_s(cost.short_prefill_terms, cost.prefill_row_s, rows)
            t = (body[m] + (head[rows] - (rows_s[rows] - rows_s[d] * kept)) + pre_fix + fix
                 + (dec_fix - shared + once if d else 0.0) + (gather if keys > p_tok or d else 0.0))
            t = ((host if m > cap and t < host else t) + pair_c * pairs + over + per_tok * p_tok
                 + (pair_d * pairs + tok_d * p_tok) + key_x * (keys - p_tok + (sum_ctx if d else 0))
                 + (d_pair * (sum_ctx + d) if d else 0.0))
            f = body_flop[m] + pair_f * pairs
        elif p_tok and d:  # the GPU part, floored at the host's launches when eager (`host_overhead`), + the rest
            t = body[m] + (head[rows] - (rows_s[rows] - rows_s[d])) + pre_fix + dec_fix - shared  # (finishing rows)
            t = ((host if m > cap and t < host else t) + kv_c * sum_ctx + pair_c * pairs + over
                 + per_tok * p_tok)
            f = body_flop[m] + pair_f * pairs
        elif p_tok or not d:  # (no decode row)
            t = body[m] + head0[rows] + (pre_fix if p_tok else 0.0) + (dec_fix if d else 0.0)
            t = ((host if m > cap and t < host else t) + (kv_c * sum_ctx if d else 0.0) + pair_c * pairs + over
                 + (per_tok * p_tok if p_tok else 0.0))
            f = body_flop[m] + pair_f * pairs
        else:  # pure decode (rows = m): the same sum without its zero prefill terms, eager ones floored (table)
            t = decode_head[m] + kv_c * sum_ctx + over + dec_fix
            f = body_flop[m]
        if clean and p_tok and keys:  # the prefill logits' masked part (`IterationCost.prefill_clean_s`)
            t += clean * (p_tok * keys - pairs)
        if d:
            steps_done += 1
            if per_fin and heap[0] < (steps_done + 1) * n:
                t += per_fin * sum(1 for key_at in heap if key_at < (steps_done + 1) * n)
        clock += t
        busy += t
        compute += f if f < t else t
        if clock >= cut:
            cut = pass_cuts(marks, cuts, clock, t, busy + compute, t + (f if f < t else t))
        sum_ctx += d * adv
        due = (steps_done + 1) * n
        while d and heap[0] < due:
            j = heappop(heap) % n
            finish[j] = clock
            free += fin_blocks[j]
            running -= 1
            n_dec -= 1
            sum_ctx -= end_read[j]
            if on_demand:
                live[j] = decoding[j] = False
                grow[key[j]] -= 1
                if res is not None:
                    res.dec_end -= end_at[j]
            done += 1
            if emit:
                release(j)
        for j in finished_prefill:
            first[j] = clock
            k = steps[j]
            if k > 0:
                ctx = ctx0[j] + todo[j]
                n_dec += 1
                sum_ctx += ctx
                end_ctx[j] = ctx + k  # book.join(j, ctx, steps_done, heap, grow), inline (the hot call)
                end_read[j] = ctx + k * adv
                end_at[j] = e = steps_done + k
                heappush(heap, e * n + j)
                if on_demand:
                    decoding[j] = True
                    fin_blocks[j] = -(-(ctx + k) // bt)
                    key[j] = r = (1 - (ctx - steps_done)) % bt
                    grow[r] += 1
            else:
                finish[j] = clock
                free += need[j]
                live[j] = False
                running -= 1
                done += 1
                if emit:
                    release(j)
        if res is not None and finished_prefill:
            res.joined(finished_prefill, end_at)
        it += 1
    while arr_open[-1] != math.inf:  # stepped, every request done, the bound held (`window_marks.ClosedCuts`): wait
        yield IDLE, clock  # until the driver lets it end, a window cut it gives in its last step (`next_cut`)
        cut = next_cut(marks, cuts, clock, busy + compute, t, f, leap_s, leap_f)
    book.restore_first()  # a recomputed prompt's end is not its first token
    return busy, compute, it + leapt, book.preemptions, book.recomputed, leapt
