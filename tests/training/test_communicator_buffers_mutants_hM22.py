"""Mutation wave hM22 (session 45): `training.communicator_buffers`'s groups under CP and hybrid sharding, and the
margin.

Hand counts of the communicators a rank joins (the module docstring's groups): a ring for each group of more than
one rank (TP, the dense DP x CP group or, under hybrid sharding, its ZeRO shard, and the replica group across the
shards), a point-to-point peer for each CP neighbour (one at CP 2, two beyond). The margin's default is the README's
("less than 5 % of the memory left"), and a headroom equal to the margin is not below it.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.errors import InputError
from infraplan.training.communicator_buffers import (
    MEMORY_MARGIN_FRACTION,
    check_memory_margin,
    communicator_counts,
    memory_headroom_flag,
)
from infraplan.training.plan import PlanArrays

_REST = dict(pp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=64, seq_len=4096, recompute=0, zero=1,
             dtype=0, attention=0, order=0, sequence_parallel=1)


def test_cp_and_hybrid_sharding_groups_by_hand() -> None:
    """Five dense plans, (TP, DP, CP, ZeRO shard) -> (rings, peers):
    (1, 8, 2, whole): DP x CP = 16 ranks, one ring; one CP neighbour.
    (1, 4, 1, 2): a shard of 2 ranks and 4 / 2 = 2 replicas: two rings.
    (1, 4, 1, 1): ZeRO over 1 rank (nothing to shard) and a replica group of all 4: one ring.
    (1, 4, 4, 4): a shard of 4 of the DP x CP = 16 ranks and a replica group of 16 / 4 = 4: two rings; CP 4: two
    neighbours.
    (2, 4, 1, whole): TP's ring and DP's: two rings, no peer."""
    plan = PlanArrays.build(tp=np.array([1, 1, 1, 1, 2]), dp=np.array([8, 4, 4, 4, 4]), cp=np.array([2, 1, 1, 4, 1]),
                            zero_shard=np.array([0, 2, 1, 4, 0]), **_REST)
    rings, peers = communicator_counts(plan, False)
    assert np.asarray(rings).tolist() == [1.0, 2.0, 1.0, 2.0, 2.0]
    assert np.asarray(peers).tolist() == [1.0, 0.0, 0.0, 2.0, 0.0]


def test_the_default_margin_is_the_readme_s_five_percent() -> None:
    """README: `low_memory_headroom` is less than 5 % of the memory left. 94.6 of 100 GiB priced leaves 5.4 %: kept;
    95.1 leaves 4.9 %: flagged. The margin in bytes is 5 % of the capacity, not of the priced memory; asking no
    margin (None) is asking the default."""
    gib = 2.0**30
    assert check_memory_margin(None) == MEMORY_MARGIN_FRACTION == 0.05
    kept = memory_headroom_flag(94.6 * gib, 100.0 * gib)
    assert kept["low_memory_headroom"] is False
    assert kept["memory_margin_bytes"] == pytest.approx(5.0 * gib)
    assert kept == memory_headroom_flag(94.6 * gib, 100.0 * gib, 0.05)
    assert memory_headroom_flag(95.1 * gib, 100.0 * gib)["low_memory_headroom"] is True


def test_a_headroom_equal_to_the_margin_is_not_below_it() -> None:
    """75 of 100 priced at a margin of 0.25 (exact in binary): headroom 25 = the margin, not below it."""
    assert memory_headroom_flag(75.0, 100.0, 0.25)["low_memory_headroom"] is False
    assert memory_headroom_flag(75.5, 100.0, 0.25)["low_memory_headroom"] is True


def test_a_margin_of_the_whole_memory_is_refused() -> None:
    """[0, 1): a margin of 1 would flag every plan; 0 (no margin) is taken."""
    with pytest.raises(InputError, match="--memory-margin"):
        check_memory_margin(1.0)
    assert check_memory_margin(0.0) == 0.0
