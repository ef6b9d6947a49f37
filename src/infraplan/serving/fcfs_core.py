"""The FCFS engine loop's passes over arrays, compiled (`serving.fcfs_loop`: the model, its driver and its modes).

`fcfs_run` is the loop of `fcfs_loop.fcfs_steps` (session 72: one implementation, compiled with numba where it is
installed and a process's runs pay for loading it, else run as written: `fcfs_state.numba_kernels`,
`fcfs_loop.loop_for`): the same passes, the same floating-point operations in the same order, so every time is
bit-identical to the Python loop it replaced; its state between calls and its heap, queue and window-cut helpers are
`serving.fcfs_state`'s. A stepped run returns where the Python generator yielded and resumes there: at the top of its
passes (TOP, IDLE) or inside the decode stretch it waited on (LEAP), whose terms it recomputes from the unchanged
state.
"""

from __future__ import annotations

import hashlib
import math
from functools import partial
from pathlib import Path
from typing import Any

from infraplan.serving.fcfs_state import (
    ADV,
    AT,
    BITS,
    BUSY,
    CAP,
    CLIENTS,
    CLOCK,
    COMPUTE,
    CUT,
    DEC_FIX,
    DONE,
    E_MIN,
    FIN,
    FREE,
    HEAD_1,
    HOST,
    HSIZE,
    KV_BINDS,
    KV_C,
    LAST,
    LEAP_F,
    LEAP_S,
    LEAPT,
    LOGGED,
    MAX_BATCH,
    N_DEC,
    N_LOG,
    NM,
    NXT,
    OVER,
    P_HEAD,
    P_TAIL,
    PAIR_C,
    PAIR_F,
    PER_FIN,
    PER_TOK,
    PHASE,
    PRE_FIX,
    PREFILL_ONLY,
    ROW_TOKENS,
    RUNNING,
    SHARED,
    SKIP,
    SOLO,
    STEPS_DONE,
    STOP_KV,
    SUM_CTX,
    TOKEN_BUDGET,
    TOO_BIG,
    W_HEAD,
    W_TAIL,
    F,
    T,
    close_iteration,
    compiled,
    cut_marks,
    due_count,
    end_due,
    join_decode,
    release_one,
    start_prompt,
)

# numba's on-disk cache knows this file's stamp only, not the helpers and slots compiled into `fcfs_run` from
# `fcfs_state`: that file's sha256 (first 16 hex digits), so that editing it means editing this line, which
# recompiles (tests/serving/test_fcfs_compiled_hS72.py checks it)
STATE_SHA256 = "0f87638d1bf7704b"


def state_is_current(source: bytes) -> bool:
    """Whether `fcfs_state`'s source is the one `STATE_SHA256` names. Where it is not (fcfs_state.py edited, this
    line not yet), `fcfs_run` compiles afresh rather than load a cached build that has the old helpers compiled in:
    a warm cache answered as before an edit of `end_due` until hV72."""
    return hashlib.sha256(source).hexdigest()[:16] == STATE_SHA256


try:
    CACHED = state_is_current(Path(__file__).with_name("fcfs_state.py").read_bytes())
except OSError:  # pragma: no cover - an install without sources: nothing to edit
    CACHED = True


@partial(compiled, cache=CACHED)
def fcfs_run(fs: Any, st: Any, sc: Any, ci: Any, arr: Any, arr_open: Any, todo: Any, ctx0: Any, steps: Any, need: Any,
             end_ctx: Any, whole_pairs: Any, first: Any, finish: Any, waiting: Any, p_req: Any, p_left: Any,
             p_done: Any, heap: Any, log: Any, cuts: Any, marks: Any, body: Any, head: Any, body_flop: Any,
             decode_s: Any, decode_flop_s: Any, decode_head_s: Any, half_kv: Any, twice_half_kv: Any,
             four_half_kv: Any, head0: Any, rows_s: Any, head1: Any) -> int:
    """`fcfs_loop.fcfs_steps`' passes from the state in `fs`, `st` (module docstring) until the run ends (DONE),
    waits for arrivals past arr_open[st[LAST]] (TOP / LEAP / IDLE, the time in fs[AT]: `loop_stepping`) or stops
    (KV_BINDS, TOO_BIG); the state saved."""
    kv_c, pair_c, pair_f, pre_fix = sc[KV_C], sc[PAIR_C], sc[PAIR_F], sc[PRE_FIX]
    dec_fix, shared = sc[DEC_FIX], sc[SHARED]
    over, per_tok, per_fin, host, adv, head_1, skip_root = (sc[OVER], sc[PER_TOK], sc[PER_FIN], sc[HOST], sc[ADV],
                                                            sc[HEAD_1], sc[SKIP])
    cap, fin, max_batch, token_budget, stop_kv = ci[CAP], ci[FIN], ci[MAX_BATCH], ci[TOKEN_BUDGET], ci[STOP_KV]
    row_tokens = ci[ROW_TOKENS]  # a decoding sequence's tokens of the budget: 1 + drafts (`speculative`, hL76)
    emit = ci[CLIENTS] > 0 or ci[LOGGED] != 0
    clock, busy, compute, t, f, leap_s, leap_f, cut = fs[CLOCK], fs[BUSY], fs[COMPUTE], fs[T], fs[F], fs[LEAP_S], \
        fs[LEAP_F], fs[CUT]
    sum_ctx, free = fs[SUM_CTX], fs[FREE]
    leapt, steps_done, nxt, n_dec, running, prefill_only = (st[LEAPT], st[STEPS_DONE], st[NXT], st[N_DEC],
                                                            st[RUNNING], st[PREFILL_ONLY])
    solo, w_head, w_tail, p_head, p_tail, hsize = st[SOLO], st[W_HEAD], st[W_TAIL], st[P_HEAD], st[P_TAIL], st[HSIZE]
    e_min, nm, n_log, last, bits = st[E_MIN], st[NM], st[N_LOG], st[LAST], st[BITS]
    t_next = arr_open[nxt]
    resume_leap = st[PHASE] == 1
    code, at = DONE, 0.0
    while True:  # ends idle with no arrival to come (all done)
        if not resume_leap:
            while t_next <= clock:  # arrivals: straight in while nobody waits ahead and they fit
                j = nxt
                if j == last:  # stepped: the arrivals up to now are not all known yet
                    code, at = 0, clock  # (TOP)
                    break
                nxt += 1
                t_next = arr_open[nxt]
                if w_tail > w_head or running >= max_batch or need[j] > free:
                    if stop_kv and w_tail == w_head and running < max_batch:
                        code = KV_BINDS
                        break
                    waiting[w_tail] = j
                    w_tail += 1
                    while t_next <= clock and nxt < last:  # the rest up to now queue behind it
                        waiting[w_tail] = nxt
                        w_tail += 1
                        nxt += 1
                        t_next = arr_open[nxt]
                elif todo[j] > 0:
                    free -= need[j]
                    running += 1
                    solo, p_tail = start_prompt(j, solo, p_head, p_tail, todo, ctx0, p_req, p_left, p_done)
                elif steps[j] > 0:  # decode-only: joins the decode batch now (`first`: its admission)
                    first[j] = clock
                    free -= need[j]
                    running += 1
                    n_dec += 1
                    sum_ctx += ctx0[j]
                    hsize, e_min = join_decode(heap, hsize, e_min, steps_done + steps[j], bits, j)
                else:  # an empty request ends at once: through the queue
                    waiting[w_tail] = j
                    w_tail += 1
            if code != DONE:
                break
            while w_tail > w_head and running < max_batch:  # the queue, in order, while the head fits
                j = waiting[w_head]
                if need[j] > free:
                    if stop_kv:
                        code = KV_BINDS
                    break
                w_head += 1
                free -= need[j]
                running += 1
                if todo[j] > 0:
                    solo, p_tail = start_prompt(j, solo, p_head, p_tail, todo, ctx0, p_req, p_left, p_done)
                elif steps[j] > 0:  # decode-only (`first`: its admission)
                    first[j] = clock
                    n_dec += 1
                    sum_ctx += ctx0[j]
                    hsize, e_min = join_decode(heap, hsize, e_min, steps_done + steps[j], bits, j)
                else:
                    first[j] = clock
                    finish[j] = clock
                    free += need[j]
                    running -= 1
                    if emit:
                        w_tail, n_log = release_one(j, clock, ci, arr, waiting, w_tail, log, n_log)
            if code != DONE:
                break
            if solo >= 0:
                j = solo
                p_tok = todo[j]
                m = p_tok + n_dec
                solo = -1
                if p_tok + n_dec * row_tokens > token_budget:  # chunked: through the queue
                    p_req[p_tail], p_left[p_tail], p_done[p_tail] = j, p_tok, ctx0[j]
                    p_tail += 1
                else:  # one prompt, whole, with the decode batch
                    pairs = whole_pairs[j]
                    if n_dec:
                        t = body[m] + head1[n_dec] + pre_fix + dec_fix - shared
                        t = ((host if m > cap and t < host else t) + kv_c * sum_ctx + pair_c * pairs + over
                             + per_tok * float(p_tok))
                        steps_done += 1
                        if fin and e_min <= steps_done:
                            t += per_fin * due_count(heap, hsize, (steps_done + 1) << bits)
                        sum_ctx += adv * n_dec
                    else:
                        t = body[m] + head_1 + pre_fix
                        t = (host if m > cap and t < host else t) + pair_c * pairs + over + per_tok * float(p_tok)
                        prefill_only += 1
                    f = body_flop[m] + pair_f * pairs
                    clock, busy, compute, cut, nm = close_iteration(marks, nm, cuts, cut, clock, busy, compute, t, f)
                    if e_min <= steps_done:  # the sequences whose last token this was (`end_due`)
                        hsize, e_min, free, running, n_dec, sum_ctx, w_tail, n_log = end_due(
                            heap, hsize, e_min, steps_done, bits, clock, need, end_ctx, finish, free, running, n_dec,
                            sum_ctx, ci, arr, waiting, w_tail, log, n_log)
                    first[j] = clock
                    k = steps[j]
                    if k > 0:  # joins the decode batch with its prompt in the cache
                        n_dec += 1
                        sum_ctx += ctx0[j] + float(p_tok)
                        hsize, e_min = join_decode(heap, hsize, e_min, k + steps_done, bits, j)
                    else:
                        finish[j] = clock
                        free += need[j]
                        running -= 1
                        if emit:
                            w_tail, n_log = release_one(j, clock, ci, arr, waiting, w_tail, log, n_log)
                    if t_next <= clock or w_tail > w_head:
                        continue
        if resume_leap or p_tail == p_head:
            if not resume_leap and not n_dec:  # idle (nothing admitted can run)
                if w_tail > w_head:
                    code = TOO_BIG
                    break
                if t_next == math.inf:
                    break
                if nxt == last:  # stepped: the next arrival is not known yet
                    code, at = 2, clock  # (IDLE)
                    break
                clock = t_next
                continue
            while True:  # stretches and their event iterations until something else has to run
                k_max = e_min - steps_done - 1  # iterations before the completing one
                if k_max:
                    kf = float(k_max)
                    c_half = half_kv[n_dec]
                    a_ctx = decode_s[n_dec] + kv_c * sum_ctx  # the first iteration of the stretch
                    span = kf * a_ctx + c_half * kf * (kf - 1.0)
                    if resume_leap or (t_next - clock <= span * skip_root and w_tail == w_head):
                        if resume_leap:  # resumed after the LEAP below
                            resume_leap = False
                        elif nxt == last:  # stepped: wait for the arrivals up to the stretch's end
                            code, at = 1, clock + span * skip_root  # (LEAP)
                            break
                        if nxt < last:  # an arrival may cut the stretch
                            b = a_ctx - c_half
                            k_arr = ((math.sqrt(b * b + four_half_kv[n_dec] * (t_next - clock)) - b)
                                     / twice_half_kv[n_dec] if c_half > 0.0 else (t_next - clock) / b)
                            k_cap = int(math.ceil(k_arr)) - 1 if k_arr < 9.0e18 else k_max
                            if k_cap < k_max:
                                k_max = k_cap
                                kf = float(k_cap)
                                span = kf * a_ctx + c_half * kf * (kf - 1.0)
                    if k_max > 0:
                        clock += span
                        busy += span
                        leap_s, leap_f = span, kf * decode_flop_s[n_dec]
                        compute += leap_f
                        if clock >= cut:
                            cut, nm = cut_marks(marks, nm, cuts, clock, span, busy + compute, span + leap_f)
                        sum_ctx += float(n_dec) * kf * adv
                        leapt += k_max
                        steps_done += k_max
                        while ci[CLIENTS] > 0 and t_next <= clock:  # closed loop: they queue before its releases
                            waiting[w_tail] = nxt
                            w_tail += 1
                            nxt += 1
                            t_next = arr_open[nxt]
                # the event iteration, pure decode
                t = decode_head_s[n_dec] + kv_c * sum_ctx + over + dec_fix
                f = body_flop[n_dec]
                steps_done += 1
                if fin and e_min <= steps_done:  # the ending sequences' cost
                    t += per_fin * due_count(heap, hsize, (steps_done + 1) << bits)
                clock, busy, compute, cut, nm = close_iteration(marks, nm, cuts, cut, clock, busy, compute, t, f)
                sum_ctx += adv * n_dec
                if e_min <= steps_done:  # the sequences whose last token this was (`end_due`)
                    hsize, e_min, free, running, n_dec, sum_ctx, w_tail, n_log = end_due(
                        heap, hsize, e_min, steps_done, bits, clock, need, end_ctx, finish, free, running, n_dec,
                        sum_ctx, ci, arr, waiting, w_tail, log, n_log)
                if t_next <= clock or w_tail > w_head or not n_dec:  # an arrival, a queue or idle
                    break
            if code != DONE:
                break
            continue
        # a mixed iteration over several prompts: decode tokens first, the rest of the budget in start order
        d = n_dec
        budget = token_budget - d * row_tokens
        p_tok, pairs, n_fin, part = 0, 0.0, 0, 0
        if budget > 0:
            for e in range(p_head, p_tail):
                c = p_left[e]
                if c < budget:  # all it has left, and budget remains: it finishes
                    pairs += c * (p_done[e] + (c + 1) / 2.0)
                    p_tok += c
                    budget -= c
                    n_fin += 1
                    continue
                if c == budget:
                    n_fin += 1
                else:  # a chunk that does not finish samples a row too, thrown away
                    part = 1
                c = budget
                pairs += c * (p_done[e] + (c + 1) / 2.0)
                p_tok += c
                p_left[e] -= c
                p_done[e] += c
                break
        rows = d + n_fin + part
        m = p_tok + d
        if p_tok and d:
            t = body[m] + (head[rows] - (rows_s[rows] - rows_s[d])) + pre_fix + dec_fix - shared
            t = ((host if m > cap and t < host else t) + kv_c * sum_ctx + pair_c * pairs + over
                 + per_tok * float(p_tok))
            f = body_flop[m] + pair_f * pairs
        elif p_tok or not d:
            t = body[m] + head0[rows] + (pre_fix if p_tok else 0.0) + (dec_fix if d else 0.0)
            t = ((host if m > cap and t < host else t) + (kv_c * sum_ctx if d else 0.0) + pair_c * pairs + over
                 + (per_tok * p_tok if p_tok else 0.0))
            f = body_flop[m] + pair_f * pairs
        else:  # pure decode (rows = m)
            t = decode_head_s[m] + kv_c * sum_ctx + over + dec_fix
            f = body_flop[m]
        if d:
            steps_done += 1
            if fin and e_min <= steps_done:
                t += per_fin * due_count(heap, hsize, (steps_done + 1) << bits)
        else:
            prefill_only += 1
        clock, busy, compute, cut, nm = close_iteration(marks, nm, cuts, cut, clock, busy, compute, t, f)
        sum_ctx += adv * d
        if e_min <= steps_done:  # the sequences whose last token this was (`end_due`)
            hsize, e_min, free, running, n_dec, sum_ctx, w_tail, n_log = end_due(
                heap, hsize, e_min, steps_done, bits, clock, need, end_ctx, finish, free, running, n_dec,
                sum_ctx, ci, arr, waiting, w_tail, log, n_log)
        for _ in range(n_fin):  # the finished prompts, in start order, leave the queue
            j = p_req[p_head]
            p_head += 1
            first[j] = clock
            if steps[j] > 0:
                n_dec += 1
                sum_ctx += ctx0[j] + float(todo[j])
                hsize, e_min = join_decode(heap, hsize, e_min, steps_done + steps[j], bits, j)
            else:
                finish[j] = clock
                free += need[j]
                running -= 1
                if emit:
                    w_tail, n_log = release_one(j, clock, ci, arr, waiting, w_tail, log, n_log)
    fs[CLOCK], fs[BUSY], fs[COMPUTE], fs[T], fs[F], fs[LEAP_S], fs[LEAP_F], fs[CUT] = (clock, busy, compute, t, f,
                                                                                       leap_s, leap_f, cut)
    fs[SUM_CTX], fs[FREE], fs[AT] = sum_ctx, free, at
    st[LEAPT], st[STEPS_DONE], st[NXT], st[N_DEC], st[RUNNING], st[PREFILL_ONLY] = (leapt, steps_done, nxt, n_dec,
                                                                                    running, prefill_only)
    st[SOLO], st[W_HEAD], st[W_TAIL], st[P_HEAD], st[P_TAIL], st[HSIZE] = solo, w_head, w_tail, p_head, p_tail, hsize
    st[E_MIN], st[NM], st[N_LOG], st[PHASE] = e_min, nm, n_log, 1 if code == 1 else 0
    return code
