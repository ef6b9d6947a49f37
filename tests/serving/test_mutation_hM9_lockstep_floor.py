"""Mutation wave 9 (hM9, session 38): the lock-step loop's host floor (`serving/lockstep_loop.py`, hX2; the two
functions in `serving.loop_stepping` since hE62).

Hand arithmetic from `iteration_seconds`' and `decode_floor`'s docstrings: a decode step of k sequences lasts at least
max(the eager launches where k is above the graph cap, k x the per-sequence host work) + the iteration overhead,
its floor with the KV reads added; a mixed iteration above the eager cap at least its host issue time + the rest.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from infraplan.serving.loop_stepping import decode_floor, iteration_seconds

# dyadic seconds so every sum below is exact
_COST: Any = SimpleNamespace(kv_token_s=0.5, pair_s=0.0, pair_flop_s=0.0, overhead_s=0.25, prefill_fixed_s=0.0,
                             decode_fixed_s=0.0, shared_fixed_s=0.0, per_prefill_token_s=0.0, host_issue_s=10.0,
                             eager_prefill_above_tokens=4, eager_above_tokens=4, host_per_sequence_s=0.125,
                             prefill_clean_s=0.0, short_prefill_len=0,  # (DSA's terms, hC64: none)
                             head_s=np.array([k / 16 for k in range(8)]))  # (`decode_floor` reads it, hC65)
_N = 8
# body, head, body FLOPs, (unused), (unused), decode head: 1/16 s per token row, decode head = body + head; (unused
# x 3), a prefill-only iteration's head (the same: no decode-row attention), the decode rows' part (none; hC65)
_TABLES = ([k / 16 for k in range(_N)], [k / 16 for k in range(_N)], [0.0] * _N, None, None,
           [k / 8 for k in range(_N)], None, None, None, [k / 16 for k in range(_N)], [0.0] * _N)


def test_decode_floor_at_the_graph_cap_is_the_sequences_host_work_plus_the_overhead() -> None:
    # k = 4 is not above the eager cap 4 (CUDA graphs up to it): max(0, 4 x 0.125) + 0.25 = 0.75 s
    gap, floor = decode_floor(_TABLES, _COST, 4)
    assert gap == 0.0
    assert floor == 0.75
    # k = 5 above it: the eager launches 10 s bind, + 0.25
    assert decode_floor(_TABLES, _COST, 5)[1] == 10.25


def test_a_decode_iteration_floor_adds_its_kv_reads() -> None:
    # 3 sequences, 4 context tokens: floor max(0, 3 x 0.125) + 0.25 = 0.625, + 0.5 x 4 KV = 2.625
    t, _, _, floor = iteration_seconds(_TABLES, _COST, 0, 3, 3, 0.0, 4.0)
    assert floor == 2.625
    assert t == 3 / 8 + 0.5 * 4 + 0.25


def test_a_mixed_iteration_floors_only_above_the_eager_cap() -> None:
    # 3 prompt tokens + 1 decode = 4 tokens, not above the cap 4: no floor, no gap
    _, _, gap, floor = iteration_seconds(_TABLES, _COST, 3, 1, 1, 0.0, 2.0)
    assert (gap, floor) == (0.0, 0.0)
    # 4 + 1 = 5 above it: the host's 10 s + the rest (KV 0.5 x 2 + overhead 0.25) = 11.25; the GPU's 5/16 + 1/16
    t, _, gap, floor = iteration_seconds(_TABLES, _COST, 4, 1, 1, 0.0, 2.0)
    assert floor == 11.25 == t
    assert gap == 10.0 - 6 / 16
