"""hM75 mutants of `ecmp_tiers.slowest_of_tiers` (hE75 / hE2 75): hand-counted laws of two balls on two bins.

Two balls thrown on two bins: the busiest holds 1 ball with probability 1/2 (one in each), else 2. One ball: 1,
certain. A tier of (balls, bins, seconds a ball, pools) takes its busiest bin's balls x seconds a ball.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network.ecmp_tiers import slowest_of_tiers
from infraplan.network.pair_loads import busiest_pair_link, rail_pools


def test_a_tier_that_cannot_pass_the_floor_leaves_one_live_tier_so_none() -> None:
    """A: one ball, 1.5 s certain; B: 1.0 or 2.0 s. The floor is 1.5 (A's least, the largest least); A never reaches
    above it, so one tier is live and the caller keeps the per-tier factors (None). Counting A live (high >= floor)
    or taking the floor as `known` alone would give E[max(1.5, B)] = (1.5 + 2.0) / 2 = 1.75."""
    assert slowest_of_tiers((((1, 2, 1.5, 1),), ((2, 2, 1.0, 1),)), 0.0) is None
    assert slowest_of_tiers((((1, 2, 1.5, 1),), ((2, 2, 1.0, 1),)), 1.0) is None
    # A's pools certain at 1.5 s and 0.2 s: its least is its busier pool's 1.5 (every draw is at least that), so the
    # floor stays 1.5 and A is not live (its lesser pool's 0.2 as the least: floor 1.0, A live, 1.75)
    assert slowest_of_tiers((((1, 2, 1.5, 1), (1, 2, 0.2, 1)), ((2, 2, 1.0, 1),)), 0.0) is None


def test_every_pool_of_a_tier_counts_not_its_first() -> None:
    """A: 1.0 or 2.0 s; B: a pool certain at 0.5 s beside one of 1.5 or 3.0 s (`pair_loads.rail_pools`: unequal
    pools of one tier). Floor = max(A's least 1.0, B's least 1.5) = 1.5; E[max(1.5, A, B)] over the four equally
    likely draws (1, 1.5) (1, 3) (2, 1.5) (2, 3) = (1.5 + 3 + 2 + 3) / 4 = 2.375 (B's first pool alone: 1.75)."""
    assert slowest_of_tiers((((2, 2, 1.0, 1),), ((1, 2, 0.5, 1), (2, 2, 1.5, 1))), 0.0) == pytest.approx(2.375)


def test_three_tiers_take_the_expected_largest_above_the_largest_least() -> None:
    """A certain 1.0 s, B 1.0 or 2.0 s, C 0.75 or 1.5 s: floor 1.0, B and C live; E[max(1, B, C)] =
    (1 + 1.5 + 2 + 2) / 4 = 1.625, above max(E B, E C, 1) = 1.5 (hE75: E[max] >= max E)."""
    assert slowest_of_tiers((((1, 2, 1.0, 1),), ((2, 2, 1.0, 1),), ((2, 2, 0.75, 1),)), 0.0) == pytest.approx(1.625)


def _fabric(bins: int, over: float = 1.0) -> SimpleNamespace:
    """One rail tier: pools of `bins` uplinks fed by 4 GPUs of one NIC each, 2 flows a pair, `over`:1, 1 GB/s NICs."""
    return SimpleNamespace(ecmp_pools=[(bins, 4.0)], rail_nics_per_gpu=1, ecmp_flows=2, tier_oversubscription=[over],
                           nic_bytes_per_s=1e9)


def test_rail_pools_by_hand() -> None:
    """A rail with 8 NICs in a domain fills 8 / 4 = 2 pools; 6 NIC entries climbing it carry 6 x 2 = 12 flows, 6 a
    pool; a ball (one flow's share) takes 1 x 4 bins / (2 flows x 4 GPUs x 1e9 B/s) = 5e-10 s a byte. A second,
    idle rail throws nothing (no pool of 0 balls); 6 NICs on a rail fill 1.5 pools, not whole ones (None:
    `pairs_thrown` prices it); a pool of one uplink hashes nothing (None)."""
    assert rail_pools(_fabric(4), 0, np.array([[6.0]]), np.array([8.0])) == ((6, 4, 5e-10, 2),)
    assert rail_pools(_fabric(4), 0, np.array([[6.0, 0.0]]), np.array([8.0, 8.0])) == ((6, 4, 5e-10, 2),)
    assert rail_pools(_fabric(4), 0, np.array([[6.0]]), np.array([6.0])) is None
    assert rail_pools(_fabric(1), 0, np.array([[6.0]]), np.array([8.0])) is None
    # 2:1 oversubscribed: each uplink carries twice a NIC's share, so a ball takes twice as long
    assert rail_pools(_fabric(4, 2.0), 0, np.array([[6.0]]), np.array([8.0])) == ((6, 4, 1e-9, 2),)


def test_a_nic_that_binds_stays_the_floor_under_two_hashed_tiers(tmp_path: Path) -> None:
    """RoCE ib-24k (hE75's two hashed tiers, leaf and spine): GPU 0 sending to 2 (then 4) GPUs in other 2,048-GPU
    spine domains puts 2 (4) streams on its one NIC, so a byte of each takes 2 (4) / 47 GB/s there; its two flows
    thrown on the leaf and spine pools can at worst stack on one uplink at the same rate, never above. The answer
    is the NIC's time exactly (the E[max] of the hashed tiers above the links no hash touches)."""
    (tmp_path / "roceish.yaml").write_text("extends: meta-genai-ib-24k\nnetwork: {kind: roce}\n")
    fabric = Cluster.resolve(str(tmp_path / "roceish.yaml")).fabric
    assert fabric.nic_bytes_per_s == 47e9 and len([b for b, _ in fabric.ecmp_pools if b > 1]) == 2
    for dst in ([4096, 8192], [4096, 8192, 12288, 16384]):
        seconds, name = busiest_pair_link(fabric, np.zeros(len(dst), dtype=np.int64), np.asarray(dst))
        assert name == "nic" and seconds * 47e9 == pytest.approx(len(dst), rel=1e-12)
