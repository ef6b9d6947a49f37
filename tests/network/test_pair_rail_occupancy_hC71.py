"""A spaced send-recv pair with both members in one tier domain, on a tier split by rail (hC71; hI71's NF1).

`fabric.uplink_occupancy`'s spaced branch charged k x the partner's rail: two members of a pair on different rails
(the partner 4 ranks on, 8 GPUs a node, one rail each) loaded the partner's rail twice, where the rail-alone rule
(`RAIL_ALONE`) charges each member's rail once. Now `tier_bandwidth.member_rail_shares`: one member in the domain
sends in its partner's rail (PXN); two, each lands on the other, so each member's own rail carries one member's bytes.
Where the partner shares the rail (stride a multiple of the node, every catalog spread placement) the two rules agree.
In `group_link` a pair crosses a tier only when one member a domain is in it (extent 2 x stride > domain means
floor(domain / stride) < 2), so no priced answer moves (checked: `collective send-recv` analytical and flow).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network.fabric import uplink_occupancy
from infraplan.network.tier_bandwidth import member_rail_shares

H100 = Cluster.resolve("dgx-h100-superpod").fabric  # 8 GPUs a node, rails 0..7 one a GPU
RAILS = tuple(range(8))


def test_two_members_on_two_rails_load_each_rail_once() -> None:
    """4 pairs 16 ranks apart in a 128-GPU domain (16 GPUs a rail), partners 4 ranks on: first members on GPU 0
    (rail 0), partners on GPU 4 (rail 4). Both members in the domain: rail 0 carries 4, rail 4 carries 4: 4 / 16 =
    0.25 (before: 2 x rail 4's 4 / 16 = 0.5). One member in the domain: its bytes in rail 4, 4 / 16."""
    spaced = replace(H100, rail_tiers=1, concurrent_groups=4, concurrent_spacing=16)
    assert float(uplink_occupancy(spaced, 2.0, 4.0, 128, 0)) == pytest.approx(0.25)
    assert float(uplink_occupancy(spaced, 1.0, 4.0, 128, 0)) == pytest.approx(0.25)
    # partner on the same rail (stride 16 = 2 nodes): both members on rail 0: 8 / 16, as before
    assert float(uplink_occupancy(spaced, 2.0, 16.0, 128, 0)) == pytest.approx(0.5)


def test_member_shares_by_hand_element_wise() -> None:
    """Rails (0, 0, 0, 1) (GPU 3 alone on rail 1, 16 of a 64-GPU domain; rail 0 48): 2 pairs 4 ranks apart, partners
    3 on: one member each: both partners on GPU 3, rail 1: 2 / 16; both members: GPU 0 (rail 0) x 2 = 2 / 48 and
    GPU 3 x 2 = 2 / 16: the busiest 2 / 16. Partners 1 on, both members: GPUs 0 and 1 both rail 0: 4 / 48."""
    shares = member_rail_shares((0, 0, 0, 1), np.array([2, 2, 2]), 4.0, np.array([3, 3, 1]), np.array([1, 2, 2]), 64)
    assert shares.tolist() == pytest.approx([2 / 16, 2 / 16, 4 / 48])
    assert member_rail_shares(RAILS, 4, 16.0, 4.0, 2, 128).tolist() == pytest.approx(0.25)
