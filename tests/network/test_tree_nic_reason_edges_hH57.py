"""Edges of hB57's network leftovers its own tests did not pin (hH57's hand mutants):

* `tree_nic_reason` names the tree's own NIC load only where its edges leave the busiest scale-up domain fewer times
  than a ring's 2 k channel loads (2-3 domains); from 4 domains on X = 2 k (every domain inner in one tree and a leaf
  of the other) and the analytical tree's NIC bound is the flow tree's: no reason. (Mutant: `edges <= 2 k`.)
* `paired_halves_busy` is at least 1 (a tier domain holding every pair, 2 g <= D, is not crossed; its occupancy
  must not be 0, the divisor of the tier's share of a NIC). (Mutant: clipped at 0.)
"""

from __future__ import annotations

import numpy as np

from infraplan.cluster import Cluster
from infraplan.network import tier_bandwidth
from infraplan.network.tree_crossings import domain_edges_crossing, tree_nic_reason


def test_the_reason_is_said_over_two_or_three_domains_only() -> None:
    fab = Cluster.resolve("dgx-h100-superpod").fabric
    k = 8.0  # channels: ranks a domain, one NIC each
    assert domain_edges_crossing(fab, 32.0, 1.0) == 2.0 * k
    assert tree_nic_reason(fab, 32, 1) == "" and tree_nic_reason(fab, 64, 1) == ""
    assert "0.5x a ring's channel loads" in tree_nic_reason(fab, 16, 1)
    assert "0.75x a ring's channel loads" in tree_nic_reason(fab, 24, 1)
    assert tree_nic_reason(fab, 8, 1) == ""  # one domain: no NIC crossed


def test_a_tier_holding_every_pair_keeps_one_busy_gpu() -> None:
    assert float(tier_bandwidth.paired_halves_busy(np.array(64.0), 160)) == 1.0  # 2 g = 128 <= 160
    assert float(tier_bandwidth.paired_halves_busy(np.array(80.0), 160)) == 1.0  # 2 g = D: none leaves
    assert float(tier_bandwidth.paired_halves_busy(np.array(81.0), 160)) == 2.0
