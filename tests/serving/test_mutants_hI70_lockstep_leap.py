"""`serving.lockstep_leap.leap_ranks` by hand (hI, session 70: mutants of session 69's split the suite let live).
Two lock-stepped ranks decode with shared routed experts under a host floor: each rank's first iteration is its
decode step plus its KV reads, less its own routed-expert GEMMs (`gap`) plus those at the ranks' mean count
(`shift`), held under its host floor, which waits on the same KV reads (module docstring); the replica's iteration is
the slowest rank's, the stretch the sum."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from infraplan.serving.lockstep_leap import Rank, leap_ranks, ranks_work


def _rank(n_dec: int, sum_ctx: float) -> Rank:
    r = Rank(SimpleNamespace(reserve=None), 1000, 16)
    r.n_dec, r.sum_ctx = n_dec, sum_ctx
    return r


def test_a_stretch_of_two_ranks_under_their_host_floors() -> None:
    a, b = _rank(1, 1000.0), _rank(2, 2000.0)  # 1 and 2 sequences decoding, 1,000 and 2,000 tokens cached
    kv_c = 1e-6  # s per cached token read
    decode_s, flop_s, growth_s = [0.0, 1e-3, 1.2e-3], [0.0, 0.4e-3, 0.5e-3], [0.0, 1e-6, 2e-6]
    routed = [0.0, 0.1e-3, 0.2e-3]  # routed-expert GEMMs at 0, 1, 2 tokens
    floors = [(0.0, 0.0), (0.2e-3, 2e-3), (0.3e-3, 2e-3)]  # (the rank's own expert time in decode_s, host floor)
    # mean count round(3 / 2) = 2: shift = routed[2] - routed[n] = 0.1 ms (a), 0 (b)
    # a: max(1 + 1 - 0.2 + 0.1, 2 + 1) = 3 ms; b: max(1.2 + 2 - 0.3 + 0, 2 + 2) = 4 ms (floors + KV reads)
    # iterations k = 0, 1, 2: max(3 ms + 1 us k, 4 ms + 2 us k) = b's: 4.000 + 4.002 + 4.004 = 12.006 ms
    span, iterations = leap_ranks([a, b], [a, b], 0.0, 2, kv_c, decode_s, flop_s, growth_s, 2.0, False, False,
                                  routed, 2, floors, 3)
    assert span == pytest.approx(12.006e-3, rel=1e-12)
    assert iterations == 6  # 3 iterations on each of 2 ranks
    assert (a.busy, b.busy) == (span, span)
    assert (a.compute, b.compute) == (pytest.approx(3 * 0.4e-3), pytest.approx(3 * 0.5e-3))
    assert (a.sum_ctx, b.sum_ctx) == (1000.0 + 1 * 3 * 2.0, 2000.0 + 2 * 3 * 2.0)  # n x k x T tokens a step (T 2)
    assert (a.steps_done, b.steps_done) == (3, 3)
    assert ranks_work([a, b]) == pytest.approx(2 * 12.006e-3 + 3 * 0.9e-3, rel=1e-12)


def test_without_a_host_floor_the_experts_shift_the_gpu_time() -> None:
    a, b = _rank(1, 1000.0), _rank(2, 2000.0)
    # no floor: a 1 + 1 + 0.1 = 2.1 ms, b 1.2 + 2 = 3.2 ms, flat: 2 iterations 6.4 ms
    span, _ = leap_ranks([a, b], [a, b], 0.0, 2, 1e-6, [0.0, 1e-3, 1.2e-3], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], 1.0,
                         False, False, [0.0, 0.1e-3, 0.2e-3], 2, [(0.0, 0.0)] * 3, 2)
    assert span == pytest.approx(6.4e-3, rel=1e-12)


def test_above_its_floor_a_rank_runs_its_experts_at_the_mean_count() -> None:
    """The same ranks under a 0.5 ms host floor: b's GPU time is above it (1.2 + 2 - 0.3 + 0 = 2.9 ms > 0.5 + 2),
    so its own routed-expert time comes out (the mutant that kept it read 3.2 ms); 2.900 + 2.902 = 5.802 ms."""
    a, b = _rank(1, 1000.0), _rank(2, 2000.0)
    span, _ = leap_ranks([a, b], [a, b], 0.0, 2, 1e-6, [0.0, 1e-3, 1.2e-3], [0.0, 0.0, 0.0], [0.0, 1e-6, 2e-6], 1.0,
                         False, False, [0.0, 0.1e-3, 0.2e-3], 2, [(0.0, 0.0), (0.2e-3, 0.5e-3), (0.3e-3, 0.5e-3)],
                         2)
    assert span == pytest.approx(5.802e-3, rel=1e-12)


def test_a_rank_that_grows_faster_overtakes_the_slowest() -> None:
    """a's first iteration is shorter (3 ms against b's 4 ms) but grows 1 ms an iteration, b's not at all: the
    replica's iterations are 4, 4 and then a's 5 ms, 13 ms in all (a rank with a shorter first iteration and a
    faster growth can be the slowest; the mutant that dropped it read 12 ms)."""
    a, b = _rank(1, 0.0), _rank(2, 0.0)
    span, iterations = leap_ranks([a, b], [a, b], 0.0, 2, 0.0, [0.0, 3e-3, 4e-3], [0.0, 0.0, 0.0], [0.0, 1e-3, 0.0],
                                  1.0, False, False, [], 2, [], 3)
    assert (span, iterations) == (pytest.approx(13e-3, rel=1e-12), 6)
