"""The serving engine's event loop for its common case, specialised: FCFS, mixed iterations, KV reserved up front.

`serving_engine.simulate_engine` runs here when the policy is the built-in "fcfs" (its pick and chunk cut inline),
the KV admission is "reserve_full" (no preemption) and decode stretches are leapt (`jump`): the scheduler of
TensorRT-LLM (GUARANTEED_NO_EVICT) and of every mixed-batch stack, and so of most serving runs and of the capacity
search. It is the same model as the general loop (`engine_loop`'s docstring: Orca continuous batching, Sarathi-Serve
chunked prefill, closed-form decode leaps), the same floating-point sums in the same order, so the times are
bit-identical (tests/serving/test_serving_engine_fcfs_loop.py); only the bookkeeping is leaner (every request costs
about two passes of the loop, whose Python work is the simulator's whole cost: issue 18, "1 M requests <= 3 s
online"): how, and what it reads once per run, is `serving.fcfs_setup`'s. Like the general loop it is a generator
(`loop_stepping`): given every arrival it runs to the end without yielding; stepped, it yields where it would read an
arrival not yet known (a check per arrival read, none per iteration), so a disaggregated closed loop runs its engines
together (`serving.pair_loop`). Where it adds an iteration's seconds it records its work at the arrival window's cuts
(`serving.window_marks`).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import MutableSequence, Sequence
from typing import Any

from infraplan.serving.fcfs_setup import KvBinds, fcfs_constants, releaser
from infraplan.serving.llm_iteration import IterationCost
from infraplan.serving.loop_stepping import IDLE, LEAP, NEVER, SKIP_ROOT, TOP, Steps
from infraplan.serving.window_marks import next_cut, pass_cuts


def fcfs_steps(cost: IterationCost, arr: list[float], arr_open: list[float], todo: list[int], ctx0: list[float],
               steps: list[int], need: list[float], end_ctx: list[Any], whole_pairs: list[float], max_batch: int,
               token_budget: int, kv_blocks: int, clients: int, first: MutableSequence[float],
               finish: MutableSequence[float],
               log: list[int] | None, stop_if_kv_binds: bool = False, cuts: Sequence[float] = (),
               marks: list[float] | None = None) -> Steps:
    """Run the engine (arguments as `simulate_engine`'s, as lists; `end_ctx`: cached + prompt + decode tokens, a
    sequence's tokens after its last step as counted (T a step with drafts: `loop_stepping.request_tokens`);
    `whole_pairs`: the query-key pairs of a prompt prefilled in one chunk, todo x (cached + (todo + 1) / 2) as the
    loop sums them; `arr` is updated in closed loop with the send times;
    `arr_open`: the arrival times given up front, then inf), writing `first` and `finish`; returns (busy s,
    tensor-core s, iterations one by one, iterations leapt).

    Stepped (`loop_stepping`, `log` a list): the last entry of `arr_open` is not an arrival but the time
    up to which the arrivals are known; the loop yields what it waits for (`Need`) when it would read past it, the
    driver appends the arrivals it knows by then (and a new bound, inf after the last) and sends the loop on;
    every request that ends is appended to `log`. Given every arrival up front it never yields.

    `stop_if_kv_binds`: raise KvBinds at the first admission that finds too few free KV blocks (the batch not
    full, no queue ahead; `fcfs_setup.KvBinds`: what a run that never does stands for).

    `cuts` (`serving.window_marks`): times at which `marks` gets the engine's work (busy + tensor-core s) so far, the
    step that straddles one split pro rata; a cut after the last step is left for the caller (`close_marks`)."""
    n = len(arr)
    closed = clients > 0
    emit = closed or log is not None  # an ending request releases its client's next one, or is logged
    last = len(arr_open) - 1  # stepped: the bound's entry
    # the cost's figures and per-batch-size tables, counts as floats (`fcfs_setup.FcfsConstants`: what each is)
    (kv_c, pair_c, pair_f, pre_fix, dec_fix, shared, over, per_tok, per_fin, fin, host, cap, adv, grow, wholes, body,
     head, body_flop, decode_s, decode_flop_s, decode_head_s, half_kv, twice_half_kv, four_half_kv, head0, rows_s,
     head1, head_1) = fcfs_constants(cost, max_batch, token_budget)
    heappush, heappop, sqrt, ceil, skip_root = heapq.heappush, heapq.heappop, math.sqrt, math.ceil, SKIP_ROOT

    clock = busy = compute = 0.0
    t = f = leap_s = leap_f = 0.0  # the last iteration's and stretch's seconds and tensor-core s (`next_cut`)
    cut = cuts[0] if cuts else math.inf  # the next window cut (inf once all are passed)
    marks = [] if marks is None else marks
    leapt = steps_done = nxt = n_dec = running = 0
    # the decoding sequences' cached tokens, a float (whole numbers without drafts, exact below 2^53: the same
    # products as an int's), so that its products and sums are float-float, the interpreter's fast path
    sum_ctx = 0.0
    prefill_only = 0  # iterations with no decoding sequence (with steps_done and leapt: the iteration count)
    t_next = arr_open[0]  # the next open arrival
    waiting: deque[int] = deque()

    release = releaser(log, arr, clients, n, waiting)  # an ending request: logged, or its client's next sent
    # a started prompt with all its tokens to go and no other prompt pending (no queue entry), or None (tested by
    # identity: an int compare jumping far, past its block, is not specialised in CPython 3.11)
    solo: int | None = None
    prefill: deque[list[Any]] = deque()  # [request, tokens left, tokens done], the started prompts after `solo`
    # finish keys: decode-iteration count << bits | request, ordered as (count, request) (as count x n + request was;
    # a shift and a mask cost less than a multi-digit int's multiply, modulo and floor division)
    bits = max(n - 1, 0).bit_length()
    low = (1 << bits) - 1
    heap: list[int] = [NEVER]
    e_min = NEVER >> bits  # heap[0] >> bits: the decode-iteration count of the next completion
    free = float(kv_blocks)  # whole blocks as a float (and `need`'s): float-float sums, exact below 2^53
    while True:  # ends idle with no arrival to come (all done)
        while True:  # arrivals: straight in while nobody waits ahead and they fit
            if not t_next <= clock:  # (a short jump: the float compare is specialised, a while's far one is not)
                break
            j = nxt
            if j == last:  # stepped: the arrivals up to now are not all known yet
                yield TOP, clock
                cut = next_cut(marks, cuts, clock, busy + compute, t, f, leap_s, leap_f)  # cuts a driver added
                last = len(arr_open) - 1
                t_next = arr_open[nxt]
                continue
            nxt += 1
            t_next = arr_open[nxt]
            if waiting or running >= max_batch or need[j] > free:
                if stop_if_kv_binds and not waiting and running < max_batch:
                    raise KvBinds
                waiting.append(j)
                while t_next <= clock and nxt < last:  # the rest up to now queue behind it (as the test above would)
                    waiting.append(nxt)
                    nxt += 1
                    t_next = arr_open[nxt]
            elif todo[j] > 0:
                free -= need[j]
                running += 1
                if solo is None and not prefill:
                    solo = j
                else:
                    if solo is not None:
                        prefill.append([solo, todo[solo], ctx0[solo]])
                        solo = None
                    prefill.append([j, todo[j], ctx0[j]])
            elif steps[j] > 0:  # decode-only: joins the decode batch now (`first`: its admission)
                first[j] = clock
                free -= need[j]
                running += 1
                n_dec += 1
                sum_ctx += ctx0[j]
                k = steps_done + steps[j]
                heappush(heap, k << bits | j)
                if k < e_min:
                    e_min = k
            else:  # an empty request ends at once: through the queue, where its closed-loop successor queues
                waiting.append(j)
        while waiting and running < max_batch:  # the queue, in order, while the head fits
            j = waiting[0]
            if need[j] > free:
                if stop_if_kv_binds:
                    raise KvBinds
                break
            waiting.popleft()
            free -= need[j]
            running += 1
            if todo[j] > 0:
                if solo is None and not prefill:
                    solo = j
                else:
                    if solo is not None:
                        prefill.append([solo, todo[solo], ctx0[solo]])
                        solo = None
                    prefill.append([j, todo[j], ctx0[j]])
            elif steps[j] > 0:  # decode-only (`first`: its admission)
                first[j] = clock
                n_dec += 1
                sum_ctx += ctx0[j]
                k = steps_done + steps[j]
                heappush(heap, k << bits | j)
                if k < e_min:
                    e_min = k
            else:
                first[j] = finish[j] = clock
                free += need[j]
                running -= 1
                if emit:
                    release(j, clock)
        if solo is not None:
            j = solo
            p_tok = todo[j]
            m = p_tok + n_dec
            if m > token_budget:  # chunked: through the queue
                prefill.append([j, p_tok, ctx0[j]])
                solo = None
            else:  # one prompt, whole, with the decode batch: the general sums below
                solo = None
                pairs = whole_pairs[j]
                if n_dec:
                    t = body[m] + head1[n_dec] + pre_fix + dec_fix - shared
                    t = ((host if m > cap and t < host else t) + kv_c * sum_ctx + pair_c * pairs + over
                         + per_tok * wholes[p_tok])
                    steps_done += 1
                    if fin and e_min <= steps_done:
                        due = (steps_done + 1) << bits
                        t += per_fin * sum(1 for key_at in heap if key_at < due)
                    sum_ctx += grow[n_dec]
                else:
                    t = body[m] + head_1 + pre_fix  # (the general sums' + 0.0 terms: x + 0.0 is x for x > 0)
                    t = (host if m > cap and t < host else t) + pair_c * pairs + over + per_tok * wholes[p_tok]
                    prefill_only += 1
                f = body_flop[m] + pair_f * pairs
                clock += t
                busy += t
                compute += f if f < t else t
                if clock >= cut:  # a window cut passed (`window_marks`): the work there
                    cut = pass_cuts(marks, cuts, clock, t, busy + compute, t + (f if f < t else t))
                while e_min <= steps_done:  # the sequences whose last token this was (no decode batch: never)
                    i = heappop(heap) & low
                    finish[i] = clock
                    free += need[i]
                    running -= 1
                    n_dec -= 1
                    sum_ctx -= end_ctx[i]
                    if emit:
                        release(i, clock)
                    e_min = heap[0] >> bits
                first[j] = clock
                k = steps[j]
                if k > 0:  # joins the decode batch with its prompt in the cache
                    n_dec += 1
                    sum_ctx += ctx0[j] + wholes[p_tok]  # (ctx0: floats)
                    k += steps_done
                    heappush(heap, k << bits | j)
                    if k < e_min:
                        e_min = k
                else:
                    finish[j] = clock
                    free += need[j]
                    running -= 1
                    if emit:
                        release(j, clock)
                if t_next <= clock or waiting:  # else straight on to the decode stretch below
                    continue
        if not prefill:
            if not n_dec:  # idle (nothing admitted can run)
                if waiting:
                    raise ValueError(f"request {waiting[0]} needs {int(need[waiting[0]])} KV blocks, the engine has "
                                     f"{int(free)}")
                if t_next == math.inf:
                    break
                if nxt == last:  # stepped: the next arrival is not known yet
                    yield IDLE, clock
                    cut = next_cut(marks, cuts, clock, busy + compute, t, f, leap_s, leap_f)  # cuts a driver added
                    last = len(arr_open) - 1
                    t_next = arr_open[nxt]
                    continue
                clock = t_next  # (= arr[nxt], after the clock: the arrivals above stopped before it)
                continue
            while True:  # stretches and their event iterations until something else has to run
                # pure decode until the next completion or the next arrival that could start: closed form
                k_max = e_min - steps_done - 1  # iterations before the completing one
                if k_max:  # (>= 0: e_min > steps_done between iterations; a truth test, not a far-jumping compare)
                    try:
                        kf = wholes[k_max]  # k_max as a float
                    except IndexError:
                        kf = float(k_max)
                    c_half = half_kv[n_dec]
                    a_ctx = decode_s[n_dec] + kv_c * sum_ctx  # the first iteration of the stretch
                    span = kf * a_ctx + c_half * kf * (kf - 1.0)
                    if t_next - clock <= span * skip_root and not waiting:  # an arrival may cut the stretch
                        if nxt == last:  # stepped: wait for the arrivals up to the stretch's end
                            yield LEAP, clock + span * skip_root
                            cut = next_cut(marks, cuts, clock, busy + compute, t, f, leap_s, leap_f)
                            last = len(arr_open) - 1
                            t_next = arr_open[nxt]
                        if nxt < last:  # an arrival (stepped: none up to the stretch's end leaves the bound)
                            b = a_ctx - c_half
                            k_arr = ((sqrt(b * b + four_half_kv[n_dec] * (t_next - clock)) - b)
                                     / twice_half_kv[n_dec] if c_half > 0.0 else (t_next - clock) / b)
                            k_cap = ceil(k_arr) - 1
                            if k_cap < k_max:
                                k_max = k_cap
                                try:
                                    kf = wholes[k_cap]  # (k_cap -1, rounding: any float, no leap below)
                                except IndexError:
                                    kf = float(k_cap)
                                span = kf * a_ctx + c_half * kf * (kf - 1.0)
                    if k_max > 0:
                        clock += span
                        busy += span
                        leap_s, leap_f = span, kf * decode_flop_s[n_dec]
                        compute += leap_f
                        if clock >= cut:
                            cut = pass_cuts(marks, cuts, clock, span, busy + compute, span + leap_f)
                        sum_ctx += wholes[n_dec] * kf * adv  # (n_dec x k_max, exact, x T)
                        leapt += k_max
                        steps_done += k_max
                        # arrivals now queue after the event iteration's (none in open loop, so they wait for the
                        # top of the loop); in closed loop its releases queue after them
                        while closed and t_next <= clock:
                            waiting.append(nxt)
                            nxt += 1
                            t_next = arr_open[nxt]
                # the event iteration, pure decode
                t = decode_head_s[n_dec] + kv_c * sum_ctx + over + dec_fix
                f = body_flop[n_dec]
                steps_done += 1
                if fin and e_min <= steps_done:  # the ending sequences' cost, counted as the other paths do
                    due = (steps_done + 1) << bits
                    t += per_fin * sum(1 for key_at in heap if key_at < due)
                clock += t
                busy += t
                compute += f if f < t else t
                if clock >= cut:  # a window cut passed (`window_marks`): the work there
                    cut = pass_cuts(marks, cuts, clock, t, busy + compute, t + (f if f < t else t))
                sum_ctx += grow[n_dec]
                while e_min <= steps_done:  # the sequences whose last token this was (popped in key order), if any
                    j = heappop(heap) & low
                    finish[j] = clock
                    free += need[j]
                    running -= 1
                    n_dec -= 1
                    sum_ctx -= end_ctx[j]
                    if emit:  # release(j, clock), inline
                        if log is not None:
                            log.append(j)
                        elif j + clients < n:
                            arr[j + clients] = clock
                            waiting.append(j + clients)
                    e_min = heap[0] >> bits
                if t_next <= clock or waiting or not n_dec:  # an arrival, a queue to admit from, or idle
                    break
            continue
        # a mixed iteration over several prompts: decode tokens first, the rest of the budget in start order
        d = n_dec
        budget = token_budget - d
        p_tok, pairs, n_fin, part = 0, 0.0, 0, 0
        if budget > 0:
            for entry in prefill:
                c = entry[1]
                if c < budget:  # all it has left, and budget remains: it finishes (and leaves; no update)
                    pairs += c * (entry[2] + (c + 1) / 2.0)
                    p_tok += c
                    budget -= c
                    n_fin += 1
                    continue
                if c == budget:
                    n_fin += 1
                else:  # a chunk that does not finish samples a row too, thrown away (`IterationCost`, hC66)
                    part = 1
                c = budget  # the rest of the budget
                pairs += c * (entry[2] + (c + 1) / 2.0)
                p_tok += c
                entry[1] -= c
                entry[2] += c
                break
        rows = d + n_fin + part  # the finished prompts lead the queue (each took all it had left, in start order)
        m = p_tok + d
        if p_tok and d:  # the GPU part, floored at the host's launches when eager (`host_overhead`), + the rest
            t = body[m] + (head[rows] - (rows_s[rows] - rows_s[d])) + pre_fix + dec_fix - shared  # (finishing rows)
            t = ((host if m > cap and t < host else t) + kv_c * sum_ctx + pair_c * pairs + over
                 + per_tok * wholes[p_tok])
            f = body_flop[m] + pair_f * pairs
        elif p_tok or not d:  # (no decode row)
            t = body[m] + head0[rows] + (pre_fix if p_tok else 0.0) + (dec_fix if d else 0.0)
            t = ((host if m > cap and t < host else t) + (kv_c * sum_ctx if d else 0.0) + pair_c * pairs + over
                 + (per_tok * p_tok if p_tok else 0.0))
            f = body_flop[m] + pair_f * pairs
        else:  # pure decode (rows = m): the floored table
            t = decode_head_s[m] + kv_c * sum_ctx + over + dec_fix
            f = body_flop[m]
        if d:
            steps_done += 1
            if fin and e_min <= steps_done:
                due = (steps_done + 1) << bits
                t += per_fin * sum(1 for key_at in heap if key_at < due)
        else:
            prefill_only += 1
        clock += t
        busy += t
        compute += f if f < t else t
        if clock >= cut:
            cut = pass_cuts(marks, cuts, clock, t, busy + compute, t + (f if f < t else t))
        sum_ctx += grow[d]
        while e_min <= steps_done:  # the sequences whose last token this was (no decode batch: never)
            j = heappop(heap) & low
            finish[j] = clock
            free += need[j]
            running -= 1
            n_dec -= 1
            sum_ctx -= end_ctx[j]
            if emit:
                release(j, clock)
            e_min = heap[0] >> bits
        for _ in range(n_fin):  # the finished prompts, in start order, leave the queue
            j = prefill.popleft()[0]
            first[j] = clock
            if steps[j] > 0:
                ctx = ctx0[j] + todo[j]
                n_dec += 1
                sum_ctx += ctx
                e = steps_done + steps[j]
                heappush(heap, e << bits | j)
                if e < e_min:
                    e_min = e
            else:
                finish[j] = clock
                free += need[j]
                running -= 1
                if emit:
                    release(j, clock)
    return busy, compute, steps_done - leapt + prefill_only, leapt
