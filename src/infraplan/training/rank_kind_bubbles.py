"""Exact pipeline bubbles where the ranks are not all alike: the embedding's rank 0, the middle ranks and the last
rank with the LM head + loss (three rank kinds; chunk kinds when interleaved), on top of `pipeline_bubble`'s o
(1F1B / ZB-H1) or o / v (interleaved), which is exact only where the last rank is the heaviest.

Each form is the longest path through the framework's order (torch's transcribed orders in
tests/training/test_torch_schedule_orders.py; Megatron's 1F1B below p micro-batches) on the kinds' pass times,
found as the vertices of the paths' pass counts by linear programming and checked with exact fractions against
list schedules (hZ2, hZ3 session 35; hB, hB2 session 36; hB3, hB4 session 37; hB5 session 38). `step_assembly`
decides which form a plan's kinds need; every function is array-first, with one plan's floats giving the same bits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infraplan.scalar_path import is_plain, larger, pick, smaller, to_float
from infraplan.training.enums import Schedule
from infraplan.training.schedule_models import ZB_SPLIT, Array, ArrayLike, round_size

_FLOAT_ONLY = frozenset((float,))  # the types of one plan's values after `to_float`

_ONE_F_ONE_B, _ZB_H1 = int(Schedule.ONE_F_ONE_B), int(Schedule.ZB_H1)


def interleaved_first_chunk_s(schedule: NDArray[np.int64] | int, pp: ArrayLike, vpp: ArrayLike,
                              micro_batches: ArrayLike, first_excess_s: ArrayLike) -> Array:
    """Bubble seconds per step the interleaved order adds to `pipeline_bubble`'s o / v for the first chunk's excess
    d over a plain chunk (seconds per micro-batch: the embedding, less a layer where the split counts it as one),
    on plans whose heaviest rank is the last (the caller passes d = 0 elsewhere); 0 for other schedules and below
    p micro-batches.

    torch's ScheduleInterleaved1F1B (the transcription in tests/training/test_torch_schedule_orders.py) runs chunk 0
    for a round of g micro-batches (`round_size`, p where m is a multiple of p) before its chunk p can start, and
    its backwards for the last round after the last rank's work: list-scheduled with the LM head + loss on the last
    chunk (the heaviest rank the last, every other chunk equal, F : B = 1 : 2 of each chunk), the bubble is
    (p - 1) c + g d for d >= 0 (c a plain chunk's F + B; the model's o / v counts d / v) and (p - 1) c + d for
    d < 0 (a lighter first chunk gains once), at every m >= p torch accepts, p 2-8, v 2-4
    (tests/training/test_end_chunk_bubble.py; hZ2, session 35). So the excess over o / v is (g - 1/v) d, or
    (1 - 1/v) d."""
    v, m, d = to_float(vpp), to_float(micro_batches), to_float(first_excess_s)
    if type(d) is float and not d > 0.0:  # one plan's excess at most 0 (or NaN): `pick`'s second term, g unread
        extra = (1.0 - 1.0 / v) * d
    else:
        g = round_size(pp, micro_batches)
        extra = pick(d > 0.0, (g - 1.0 / v) * d, (1.0 - 1.0 / v) * d)
    runs = (schedule == int(Schedule.INTERLEAVED)) & (m >= to_float(pp))
    return pick(runs, extra, 0.0)  # type: ignore[no-any-return]


def interleaved_last_heaviest_few_s(schedule: NDArray[np.int64] | int, pp: ArrayLike, vpp: ArrayLike,
                                    micro_batches: ArrayLike, stage_s: ArrayLike, others_s: ArrayLike,
                                    plain_s: ArrayLike, plain_fwd_s: ArrayLike, first_excess_s: ArrayLike) -> Array:
    """Seconds per step to add to `pipeline_bubble`'s interleaved wave below p micro-batches (o = `others_s`, the
    other ranks' seconds per micro-batch) where the heaviest rank is the last (`stage_s`): v chunks per rank,
    c = `plain_s` / v each (a plain rank's time, forward `plain_fwd_s`) but rank 0's first, c + d (d =
    `first_excess_s`: the embedding, less a layer where the split counts it as one; its passes split as a plain
    one's), and the last rank's last, t_l = `stage_s` - (v - 1) c (the LM head + loss), the heaviest chunk (t_l
    >= c + d, t_l >= c); 0 where plain_s < 0 (the caller's mark: not this case), outside that region, from p
    micro-batches on and for other schedules.

    torch's ScheduleInterleaved1F1B runs m < p in one round of m micro-batches (`round_size`; Megatron refuses
    it). The longest path through that order (the transcription in tests/training/test_torch_schedule_orders.py)
    on the three chunk kinds has four pass-count shapes (the vertices of the paths' pass counts by linear
    programming, p 3-7, v 2-4, m 2..p - 1): every chunk of one micro-batch and the last chunk m - 1 more times,
    plus rank 0's first chunk m - 1 more times in a pass where that beats p - 1 plain ones of it, so with f, b a
    plain chunk's passes and f_0, b_0 the first's, step = o + t + (m - 1) t_l + max((m - 1) f_0 - (p - 1) f, 0) +
    max((m - 1) b_0 - (p - 1) b, 0) and the bubble o - (m - 1)(v - 1) c + the two maxima; the model's wave,
    o - (m - 1)(1 - 1/v) t, counts the last rank's average chunk in place of its last one (under by (m - 1)
    (1 - 1/v)(t_l - c)). Checked with exact fractions against the list: 0 misses in 3,000 cases (p 2-8, v 2-4,
    every m < p, any pass times >= 0 with the last chunk the heaviest) and 300 at p 9-16 (hB5, session 38;
    tests/training/test_interleaved_rounds_hB5.py)."""
    values = (pp, vpp, micro_batches, stage_s, others_s, plain_s, plain_fwd_s, first_excess_s)
    holds = (micro_batches < pp) & (plain_s >= 0.0) & (schedule == int(Schedule.INTERLEAVED))
    return where_it_holds(holds, values, _last_chunk_few)


def _last_chunk_few(p: Any, v: Any, m: Any, th: Any, o: Any, plain: Any, fplain: Any, d: Any) -> Any:
    """`interleaved_last_heaviest_few_s` of plans it applies to (floats or arrays of one shape); 0 outside the
    region (a last chunk lighter than the first or a plain one)."""
    c, f = plain / v, fplain / v
    share = f / larger(c, 1e-30)
    f0, b0 = f + d * share, (c - f) + d * (1.0 - share)
    last = th - (v - 1.0) * c
    inside = (last >= c + d) & (last >= c)
    k = m - 1.0
    bubble = o - k * (v - 1.0) * c + larger(k * f0 - (p - 1.0) * f, 0.0) + larger(k * b0 - (p - 1.0) * (c - f), 0.0)
    wave = larger(o - k * (1.0 - 1.0 / v) * th, o / v)  # the model's (`schedule_models._interleaved_bubble`)
    return pick(inside, bubble - wave, 0.0)


def interleaved_middle_heaviest_s(schedule: NDArray[np.int64] | int, pp: ArrayLike, vpp: ArrayLike,
                                  micro_batches: ArrayLike, stage_s: ArrayLike, others_s: ArrayLike,
                                  first_s: ArrayLike, middle_fwd_s: ArrayLike, last_s: ArrayLike) -> Array:
    """Seconds per step to add to `pipeline_bubble`'s o / v (`others_s`: the other ranks' seconds per micro-batch)
    of the interleaved schedule whose heaviest rank is a middle one (`stage_s`, its forward `middle_fwd_s`), each of
    its v chunks c = `stage_s` / v, the first chunk of rank 0 and the last of rank p - 1 lighter than c in both
    passes: rank 0 `first_s` = (v - 1) c + its first chunk (the embedding), the last rank `last_s` (its last chunk:
    the LM head + loss); 0 where last_s < 0 (the caller's mark: not this case), below p micro-batches and for other
    schedules.

    The longest path through torch's ScheduleInterleaved1F1B order (Megatron's at m a multiple of p; the
    transcription in tests/training/test_torch_schedule_orders.py) on the three chunk kinds, with d = `first_s` -
    `stage_s`, h = `last_s` - `stage_s` (<= 0) and f, b a plain chunk's forward and backward, is
    m v c + max((p - 2) c + d, (p - 2) c + |f - b| + d + h, (p - 1) c + d + m h): the first chunk's passes once
    (a lighter embedding chunk gains once, as hZ2's d < 0), the last chunk's once where the order's middle ranks
    wait on one of its passes, m times where the last rank's run is the longest. Found as the vertices of the
    paths' pass counts (longest paths under random pass times, p 3-6, v 2-3, m p..3p; /tmp/hB2/mverts.py) and
    checked with exact fractions against the list: 0 misses in 3,000 cases (p 3-6, v 2-4, m p, 2p, 3p, each end
    pass 0-1 of a plain one's, F : B at random) and 400 at every m >= p torch accepts (hB2, session 36;
    tests/training/test_interleaved_chunk_kinds.py). Where an end chunk's forward or backward alone exceeds a
    plain chunk's (not this case: the ends split as a layer, an assumption) the paths differ: not covered."""
    values = (pp, vpp, micro_batches, stage_s, others_s, first_s, middle_fwd_s, last_s)
    holds = (micro_batches >= pp) & (last_s >= 0.0) & (schedule == int(Schedule.INTERLEAVED))
    return where_it_holds(holds, values, _middle_chunks)


def _middle_chunks(p: Any, v: Any, m: Any, th: Any, o: Any, t0: Any, fm: Any, tl: Any) -> Any:
    """`interleaved_middle_heaviest_s` of plans it applies to (floats or arrays of one shape)."""
    c, f = th / v, fm / v
    d, h = t0 - th, tl - th
    base = (p - 2.0) * c + d
    bubble = larger(larger(base, base + abs(f - (c - f)) + h), base + c + m * h)
    return larger(bubble, 0.0) - o / v


def interleaved_first_heaviest_s(schedule: NDArray[np.int64] | int, pp: ArrayLike, vpp: ArrayLike,
                                 micro_batches: ArrayLike, stage_s: ArrayLike, others_s: ArrayLike,
                                 first_fwd_s: ArrayLike, plain_s: ArrayLike, plain_fwd_s: ArrayLike,
                                 last_s: ArrayLike) -> Array:
    """Seconds per step to add to `pipeline_bubble`'s o / v (`others_s`: the other ranks' seconds per micro-batch)
    of the interleaved schedule whose heaviest rank is rank 0 (`stage_s`, its forward `first_fwd_s`): v chunks,
    c = `plain_s` / v each (a plain rank's time, forward `plain_fwd_s`) but the first, heavier than c in both
    passes (the embedding), and the last rank `last_s` = (v - 1) c + its last chunk (the LM head + loss), that
    chunk lighter or heavier than c but not more than rank 0 over a plain rank; 0 where last_s < 0 (the caller's
    mark: not this case), outside that region, unless m is a multiple of p (Megatron's rule; torch's order is
    Megatron's there), and for other schedules.

    The longest path through torch's ScheduleInterleaved1F1B order (Megatron's at m a multiple of p; the
    transcription in tests/training/test_torch_schedule_orders.py) on the three chunk kinds is a max of linear forms
    in the pass counts; with f, b a plain chunk's passes, x = f_0 - f, y = b_0 - b (the first chunk's excess) and
    e = t_last - c (the last chunk's F and B run equally often on every such path: only its total matters), the
    bubble (the step less m `stage_s`) is p c + the max of the forms dF f + dB b + j x + k y + n e (`_first_chunks`):
    e <= 0 (the last chunk lighter), 27 (11 pairs mirrored F <-> B and 5 symmetric; j, k in {0, -(p - 1), -p,
    p - m}, n in {0, 1, p, p + 1, 2p, m}; two more at p = m = 2, where rank 0 runs every forward first); e >= 0
    (heavier, x + y >= e: rank 0 still the heaviest), 13 (5 pairs, 3 symmetric: the last chunk's passes p, 1, 2p,
    p + 1 or m times). Found as the vertices of the paths' pass counts (argmax paths of the order's DAG under
    30,000-120,000 random pass times per region, p 2-8, v 2-4, m p..4p; e <= 0: 4 at m = p, 13-21 at 2p, 27 from
    3p at p >= 6; e >= 0: 1 at m = p, 10 at 2p, 13 from 3p) and checked with exact fractions against the list:
    0 misses in 3,000 cases per region (p 2-6, v 2-4, m p, 2p, 3p) and 400 at p 7-8, m up to 4p (hB4, session 37;
    tests/training/test_interleaved_first_heaviest.py). The model's o / v is under by up to 28 % there (e >= 0)."""
    values = (pp, vpp, micro_batches, stage_s, others_s, first_fwd_s, plain_s, plain_fwd_s, last_s)
    m, p = to_float(micro_batches), to_float(pp)
    holds = (m >= p) & (m % p == 0.0) & (last_s >= 0.0) & (schedule == int(Schedule.INTERLEAVED))
    return where_it_holds(holds, values, _first_chunks)


def _first_chunks(p: Any, v: Any, m: Any, th: Any, o: Any, f0r: Any, plain: Any, fplain: Any, tl: Any) -> Any:
    """`interleaved_first_heaviest_s` of plans it applies to (floats or arrays of one shape); 0 outside the
    region (a first chunk lighter than a plain one in a pass, a negative last chunk, one heavier than rank 0's
    excess)."""
    f = fplain / v
    b = (plain - fplain) / v
    x, y = f0r - v * f, (th - f0r) - v * b
    e = tl - plain
    lighter = e <= 0.0
    inside = (x >= 0.0) & (y >= 0.0) & pick(lighter, tl - plain + plain / v >= 0.0, x + y >= e)
    pf, pb = p * f, p * b
    q = p - 1.0
    s = p - m  # (p - m)(x + y): rank 0's first round, then the others
    both = -p * (x + y)
    top = -(pf + pb)  # the ranks' forwards, then their backwards, in turn
    def light_top() -> Any:  # the last chunk lighter (e <= 0): 27 forms, grouped
        ef, eb = larger(e - f, -b), larger(e - b, -f)  # the last chunk once, or one more plain pass
        special = (p == 2.0) & (m == 2.0)  # p = m = 2: rank 0's forwards all first
        ef2, eb2 = larger(e - pick(special, 0.0, f), -b), larger(e - pick(special, 0.0, b), -f)
        forms = (
            ef + larger(larger(-q * x - b + larger(-2.0 * q * f, -(p + 2.0) * f - p * y), -p * x - pf - 3.0 * b),
                        both - 4.0 * f - 3.0 * b),
            eb + larger(larger(-q * y - f + larger(-2.0 * q * b, -(p + 2.0) * b - p * x), -p * y - pb - 3.0 * f),
                        both - 4.0 * b - 3.0 * f),
            s * (x + y) + larger(ef2 - 2.0 * f - b, eb2 - f - 2.0 * b),
            -q * x - p * y - pf - f - b + (p + 1.0) * e,
            -q * y - p * x - pb - b - f + (p + 1.0) * e,
            larger(-p * x - pf - 2.0 * b, -p * y - pb - 2.0 * f) + p * e,
            both + larger(-4.0 * f - 2.0 * b, -4.0 * b - 2.0 * f) + p * e,
            both - 2.0 * (f + b) + 2.0 * p * e,
        )
        out = top
        for form in forms:
            out = larger(out, form)
        return out

    def heavy_top() -> Any:  # the last chunk heavier (e >= 0): 13 forms, grouped (its passes p or 1 times against x)
        gx, gy = larger(q * e - x, 0.0), larger(q * e - y, 0.0)
        forms = (
            gx + e - q * x - b - (p + 1.0) * f + larger(-(p - 2.0) * f, p * (e - y)),
            gy + e - q * y - f - (p + 1.0) * b + larger(-(p - 2.0) * b, p * (e - x)),
            p * e - 2.0 * (f + b) + larger(-(p - 2.0) * f - p * x, -(p - 2.0) * b - p * y),
            both - 2.0 * (f + b) + 2.0 * p * e,
        )
        out = top
        for form in forms:
            out = larger(out, form)
        return out

    # (each region's forms only where some plan is in it: element for element the same values)
    if is_plain(lighter) or np.all(lighter) or not np.any(lighter):
        kind = light_top() if (lighter if is_plain(lighter) else np.all(lighter)) else heavy_top()
    else:
        kind = pick(lighter, light_top(), heavy_top())
    last_run = s * (x + y) - (f + b) + m * e  # (both regions: the last rank's run)
    bubble = pf + pb + larger(kind, last_run)
    return pick(inside, bubble - o / v, 0.0)


def three_rank_kinds_s(schedule: NDArray[np.int64] | int, pp: ArrayLike, micro_batches: ArrayLike,
                       stage_s: ArrayLike, others_s: ArrayLike, first_s: ArrayLike, first_fwd_s: ArrayLike,
                       middle_s: ArrayLike, middle_fwd_s: ArrayLike, last_s: ArrayLike) -> Array:
    """Seconds per step to add to `pipeline_bubble` of 1F1B and ZB-H1 (its o, `others_s`, the other ranks' seconds
    per micro-batch) for the bubble of torch's order on three rank kinds: rank 0 (`first_s` per micro-batch, its
    forward `first_fwd_s`), p - 2 equal middle ranks (`middle_s`, forward `middle_fwd_s`; 0 at p = 2) and the last
    (`last_s`, LM head + loss), the heaviest of them `stage_s`; 0 where last_s < 0 (the caller's mark: not known)
    and for other schedules.

    m >= p: the longest path through the order's DAG (Schedule1F1B, and ScheduleInterleavedZeroBubble at one stage
    per rank = ZB-H1; the transcriptions in tests/training/test_torch_schedule_orders.py) is a staircase; its hull
    over the pass counts (every path's pass counts by kind, the vertices found by linear programming at p 3-6, m
    p..3p) is six shapes. 1F1B, with q = p - 2, K = m - p + 1, t = f + b per kind, P = max(f_0, f_m, t_l) +
    max(b_0, b_m, t_l):
    step = max(t_0 + q t_m + m t_l (the last rank's run), t_0 + (m + p - 4) t_m + P (a middle rank's, a pass of
    a neighbour's queue), K t_0 + 2 q t_m + P (rank 0's warm-up and cool-down waits), K t_0 + (p - 1) b_0 + q t_m
    + max(f_0, f_m, t_l), K t_0 + (p - 1) f_0 + q t_m + max(b_0, b_m, t_l), m t_0). ZB-H1, F = I = W = t / 3 of
    each kind (`ZB_SPLIT`), u = t / 3: max(u_0 + q u_m + 3 m u_l, u_0 + (3m + q - 2) u_m + max(2 u_l, u_m),
    (3m - p + 1) u_0 + 2 q u_m + max(2 u_l, u_0), m t_0). m < p: `_few_kinds_span`. The bubble is step - m
    `stage_s`, added less the model's. Where the even split's ceil gives the kinds more layers than the model has
    (L' not a multiple of p, which Megatron refuses), the other ranks are made to add up to `others_s` (the model's
    layers): the difference comes off the middle ranks where they are not the heaviest (hZ3's form unchanged on its
    cases), else off the last rank; the bubble kept >= 0. Exact, with fractions,
    on every list-scheduled case tried (1F1B 26,000: p 2-8, m p..3p + 2, random per-kind F and B with F : B 1:1 to
    1:3 and 6,000 with any F, B >= 0; ZB-H1 6,000 at every m torch accepts; every order of the three kinds); with
    the heaviest rank the last it is o (exactly the model's), with the first or a middle one the model's o
    is over by up to 100 % of it and, with unequal F shares, under by up to 8 % (hB, session 36;
    tests/training/test_one_f_one_b_three_kinds.py). hZ3's first-rank form (session 35) is its case t_0 >= t_l
    >= t_m. Below p micro-batches 1F1B with the last rank the heaviest is o exactly too, ZB-H1 is not (the caller
    passes the kinds there; tests/training/test_pipeline_few_microbatches.py)."""
    if type(schedule) is int and schedule != _ONE_F_ONE_B and schedule != _ZB_H1:
        return 0.0  # type: ignore[return-value]  # one plan of another schedule: both paths' 0.0, nothing priced
    p, m, th, o = to_float(pp), to_float(micro_batches), to_float(stage_s), to_float(others_s)
    kinds = tuple(to_float(x) for x in (first_s, first_fwd_s, middle_s, middle_fwd_s, last_s))
    # (1F1B with one micro-batch: the ranks in turn, the model's o exactly; other schedules: nothing)
    # one plan's floats (under one schedule or several): `to_float` gives a plain number as a float, anything
    # else as an array, so every value is plain exactly when every one's type is float (no `is_plain` per value)
    if set(map(type, (p, m, th, o, *kinds))) == _FLOAT_ONLY:
        def one(code: Any) -> float:
            zb = code == _ZB_H1
            holds = kinds[-1] >= 0.0 and (zb or (code == _ONE_F_ONE_B and m > 1.0))
            return _three_kinds(zb, p, m, th, o, *kinds) if holds else 0.0

        if is_plain(schedule):
            return one(schedule)  # type: ignore[return-value]
        return np.where(schedule == _ONE_F_ONE_B, one(_ONE_F_ONE_B), np.where(schedule == _ZB_H1, one(_ZB_H1), 0.0))
    # the kinds' values have no schedule axis (a search grid's (vpp, schedule) axes): each schedule's bubble on them,
    # only the plans it applies to, element for element as one plan's floats, each group of m >= p or not on its
    # own form; then picked by each plan's schedule
    values = (p, m, th, o, *kinds)
    shape = np.broadcast_shapes(*(np.shape(x) for x in values))
    known = np.asarray(kinds[-1]) >= 0.0
    out: Any = 0.0
    for code, zb in ((_ONE_F_ONE_B, False), (_ZB_H1, True)):
        runs = schedule == code
        at = np.nonzero(np.broadcast_to(known if zb else known & (m > 1.0), shape)) if np.any(runs) else ((),)
        if not len(at[0]):  # (no plan it applies to: nothing computed)
            continue
        held = [np.broadcast_to(np.asarray(x), shape)[at] for x in values]
        many, kept = held[1] >= held[0], np.zeros(len(at[0]))
        for group in (many, ~many):
            if group.all():
                kept = _three_kinds(zb, *held)
                break
            if group.any():
                kept[group] = _three_kinds(zb, *(x[group] for x in held))
        bubble = np.zeros(shape)
        bubble[at] = kept
        out = np.where(runs, bubble, out)
    return out  # type: ignore[no-any-return]


def _three_kinds(zb: bool, p: Any, m: Any, th: Any, o: Any, t0: Any, f0: Any, tm: Any, fm: Any, tl: Any) -> Any:
    """`three_rank_kinds_s` of plans it applies to, all 1F1B or all ZB-H1 (`zb`) and all at m >= p or all below
    (floats or arrays of one shape)."""
    q = p - 2.0
    # the kinds' o made `others_s`: the layers the split's ceil adds to the kinds are taken off the middle ranks
    # where they are not the heaviest, else off the last rank (each keeps its forward share)
    gap = o - (t0 + q * tm + tl - th)
    off_middle = (q > 0.0) & (tm < th)
    scale = larger(tm + gap / larger(q, 1.0), 0.0) / larger(tm, 1e-30)
    tm, fm = pick(off_middle, tm * scale, tm), pick(off_middle, fm * scale, fm)
    tl = pick(off_middle, tl, larger(tl + gap, 0.0))
    many = bool(m >= p) if is_plain(m) else bool(m[0] >= p[0])
    span = (_many_kinds_span if many else _few_kinds_span)(zb, p, m, t0, f0, tm, fm, tl)
    if not zb:
        return larger(span - m * th, 0.0) - o
    f, b, w = ZB_SPLIT
    # less the model's ZB-H1 bubble: at m >= p the W passes filled, below p m - 1 of them (`_zb_h1_bubble`)
    filled = 1.0 if many else smaller(m - 1.0, p - 1.0) / larger(p - 1.0, 1.0)
    return larger(span - m * th, 0.0) - o * (f + b - w * filled)


def _many_kinds_span(zb: bool, p: Any, m: Any, t0: Any, f0: Any, tm: Any, fm: Any, tl: Any) -> Any:
    """Step of 1F1B (`zb` False) or ZB-H1 of torch's orders on the three rank kinds at m >= p
    (`three_rank_kinds_s`)."""
    q, k = p - 2.0, m - p + 1.0
    if zb:
        f = ZB_SPLIT[0]  # one pass of each kind: t / 3 (equal shares, as the form was derived)
        u0, um, ul = t0 * f, tm * f, tl * f
        return larger(larger(u0 + q * um + 3.0 * m * ul, u0 + (3.0 * m + q - 2.0) * um + larger(2.0 * ul, um)),
                      larger((3.0 * m - p + 1.0) * u0 + 2.0 * q * um + larger(2.0 * ul, u0), m * t0))
    b0, bm = t0 - f0, tm - fm
    both = larger(larger(f0, fm), tl) + larger(larger(b0, bm), tl)
    span = larger(larger(t0 + q * tm + m * tl, t0 + (m + p - 4.0) * tm + both),
                  larger(k * t0 + 2.0 * q * tm + both, m * t0))
    return larger(span, k * t0 + q * tm + larger((p - 1.0) * b0 + larger(larger(f0, fm), tl),
                                                 (p - 1.0) * f0 + larger(larger(b0, bm), tl)))


def _few_kinds_span(zb: bool, p: Any, m: Any, t0: Any, f0: Any, tm: Any, fm: Any, tl: Any) -> Any:
    """Step of 1F1B (`zb` False) or ZB-H1 on the three rank kinds below p micro-batches (m < p;
    `three_rank_kinds_s`).

    1F1B: Megatron's order, which runs m < p (megatron-core 0.16.1 pipeline_parallel/schedules.py:2093-2097,
    `forward_backward_pipelining_without_interleaving`: min(p - rank - 1, m) warm-up forwards, then a forward and a
    backward alternately, then the cool-down backwards; torch's Schedule1F1B is the same order and refuses m < p).
    The ranks 0..p - m run every forward before their first backward. The hull of the DAG's paths' pass counts
    (vertices by linear programming at p 3-8, m 1..p - 1) is five shapes, with q = p - 2, P as at m >= p:
    step = max(t_0 + q t_m + m t_l (the last rank's run), t_0 + (q + m - 2) t_m + P (a middle rank's),
    m t_0 + (p - m) t_m (rank 0's forwards, the last micro-batch down to rank p - m and back, rank 0's backwards),
    m f_0 + b_0 + q t_m + max(b_0, b_m, t_l), f_0 + m b_0 + q t_m + max(f_0, f_m, t_l)) for m >= 2; at m = 1 the
    sum of the ranks (the model's, unchanged). ZB-H1: torch's ScheduleInterleavedZeroBubble at one stage per rank
    runs m < p (rounds of m; warm-up min(p - 1 - rank, m) forwards, each W after its I from the rank-th on), F = I
    = W = t / 3 of each kind, u = t / 3 (eight shapes at m >= 3, seven at m = 2, three at m = 1):
    m >= 2: max(u_0 + q u_m + 3 m u_l, u_0 + (2q + 2) u_m + 2 m u_l, u_0 + (2q + 2m) u_m + c, 3 u_0 + 2 q u_m +
    2 m u_l, (2m + 1) u_0 + 2 q u_m + max(2 u_l, u_0, g), 3 m u_0 + 2 (p - m) u_m), c = max(2 u_l, u_m) from m = 3
    (0 at m = 2), g = u_m at m = 2 (0 from m = 3); m = 1: max(u_0 + q u_m + 3 u_l, u_0 + (2q + 1) u_m + 2 u_l,
    3 u_0 + 2 q u_m + 2 u_l). Exact against list schedules of the transcribed orders with exact fractions: 0 misses
    in 6,000 1F1B cases (p 2-8, m 1..p - 1, random kinds, F : B 1:1..1:3 and any) and 3,000 ZB-H1 (hB3, session
    37; tests/training/test_pipeline_few_microbatches.py)."""
    q = p - 2.0
    if zb:
        f = ZB_SPLIT[0]
        u0, um, ul = t0 * f, tm * f, tl * f
        c = pick(m >= 3.0, larger(2.0 * ul, um), 0.0)
        g = larger(larger(2.0 * ul, u0), pick(m == 2.0, um, 0.0))
        span = larger(larger(larger(u0 + q * um + 3.0 * m * ul, u0 + (2.0 * q + 2.0) * um + 2.0 * m * ul),
                             larger(u0 + (2.0 * q + 2.0 * m) * um + c, 3.0 * u0 + 2.0 * q * um + 2.0 * m * ul)),
                      larger((2.0 * m + 1.0) * u0 + 2.0 * q * um + g, 3.0 * m * u0 + 2.0 * (p - m) * um))
        one = larger(larger(u0 + q * um + 3.0 * ul, u0 + (2.0 * q + 1.0) * um + 2.0 * ul),
                     3.0 * u0 + 2.0 * q * um + 2.0 * ul)
        return pick(m == 1.0, one, span)
    b0, bm = t0 - f0, tm - fm
    both = larger(larger(f0, fm), tl) + larger(larger(b0, bm), tl)
    return larger(larger(t0 + q * tm + m * tl, t0 + (q + m - 2.0) * tm + both),
                  larger(m * t0 + (p - m) * tm,
                         q * tm + larger(m * f0 + b0 + larger(larger(b0, bm), tl),
                                         f0 + m * b0 + larger(larger(f0, fm), tl))))


def where_it_holds(holds: Any, values: tuple[ArrayLike, ...], form: Callable[..., Any]) -> Array:
    """`form` of the plans where `holds`, 0 elsewhere: one plan's floats, or on arrays only the plans it applies to
    (a search grid's few), element for element as one plan's floats, scattered back."""
    if is_plain(holds):  # one plan's floats
        return form(*map(to_float, values)) if holds else 0.0  # type: ignore[return-value]
    if not np.any(holds):  # (no plan it applies to: nothing computed)
        return 0.0  # type: ignore[return-value]
    shape = np.broadcast_shapes(np.shape(holds), *(np.shape(x) for x in values))
    at = np.nonzero(np.broadcast_to(holds, shape))
    out = np.zeros(shape)
    out[at] = form(*(to_float(np.broadcast_to(np.asarray(x), shape)[at]) for x in values))
    return out
