"""Mutation wave 9 (hM9, session 38): `rank_kind_bubbles.interleaved_last_heaviest_few_s` by hand from its docstring.

c = plain / v, f = plain_fwd / v, share = f / c, f0 = f + d share, b0 = (c - f) + d (1 - share), t_l = t - (v - 1) c;
bubble = o - (m - 1)(v - 1) c + max((m - 1) f0 - (p - 1) f, 0) + max((m - 1) b0 - (p - 1)(c - f), 0), the model's
wave max(o - (m - 1)(1 - 1/v) t, o / v); their difference where t_l >= c + d, m < p, interleaved.
"""

from __future__ import annotations

from infraplan.training.enums import Schedule
from infraplan.training.rank_kind_bubbles import interleaved_last_heaviest_few_s

_I = int(Schedule.INTERLEAVED)


def test_both_first_chunk_maxima_bind() -> None:
    # p 3, v 2, m 2, t 4, o 5, plain 2 (c 1), plain fwd 1.5 (f 0.75), d 2: share 0.75, f0 2.25, b0 0.75, t_l 3 = c + d;
    # bubble 5 - 1 + (2.25 - 1.5) + (0.75 - 0.5) = 5, wave max(5 - 0.5 x 4, 2.5) = 3: +2
    assert interleaved_last_heaviest_few_s(_I, 3, 2, 2, 4.0, 5.0, 2.0, 1.5, 2.0) == 2.0


def test_the_last_chunk_equal_to_the_first_is_inside() -> None:
    # p 4, v 2, m 2, t 2.25, o 3, c 1, f 0.5, d 0.25: t_l 1.25 = c + d; bubble 3 - 1 + 0 + 0 = 2, wave 1.875
    assert interleaved_last_heaviest_few_s(_I, 4, 2, 2, 2.25, 3.0, 2.0, 1.0, 0.25) == 0.125


def test_from_p_micro_batches_on_nothing_is_added() -> None:
    assert interleaved_last_heaviest_few_s(_I, 3, 2, 3, 4.0, 5.0, 2.0, 1.5, 2.0) == 0.0
    assert interleaved_last_heaviest_few_s(_I, 3, 2, 2, 4.0, 5.0, -1.0, 1.5, 2.0) == 0.0  # the caller's mark
