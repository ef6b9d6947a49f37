"""The Leonardo-like 4-NIC A100 probe at sizes two radix-40 tiers do not build as the file states them (hF72).

* 4,480 GPUs (the DGX A100 SuperPOD's size the probe extends): a rail of 1,120 nodes is past two radix-40 tiers
  (40 leaves x 20 = 800 NIC links a rail plane). The file declares two tiers, and CINECA's Leonardo is neither a two-
  nor a three-tier Clos (a Dragonfly+ of cells, each a two-level fat tree, joined spine to spine: Turisini et al.,
  arXiv:2307.16885, RECALLED), so the builder builds what the file states and refuses, naming the radix and now the
  third tier of the same switches that builds the size (`topology._tier_above`): spine domains of 1,120 GPUs under a
  core, 704 switches; the file with that tier builds connected.
* 29 nodes (116 GPUs, prime): a rail's 29 NIC links need 2 leaves of 20 ports. `railed_leaf_count` took only leaf
  counts whose leaves a rail divide the nodes, so 116 one-port leaves (one a NIC, hF2-71); now 8 leaves, a rail's
  two taking 15 and 14 nodes (`rail_leaves.UNEVEN_RAIL_BLOCKS`, `clos_topology.leaf_index`).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from tests.network.test_rail_planes_hF2 import THREE_TIERS, _leonardo

from infraplan.catalog.loader import load_system
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network import rail_leaves
from infraplan.network.clos_topology import leaf_index
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.rail_leaves import railed_leaf_count
from infraplan.network.topology import build_topology
from infraplan.network.topology_graph import to_networkx

# hF2's three-tier file, its spine domains 1,120 GPUs (7 units) under a core of all 4,480
THIRD_TIER = THREE_TIERS.replace("1600", "1120").replace("3200", "4480")


def test_two_tiers_at_4480_are_refused_naming_the_third_tier_that_builds(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"need radix >= 56; or one more tier of the same switches above spine "
                                         r"domains of 1,120 GPUs: 704 switches in 3 tiers\)$"):
        build_topology(load_system(_leonardo(tmp_path, 4480)))
    topo = build_topology(load_system(_leonardo(tmp_path, 4480, THIRD_TIER)))
    assert topo.switches_total == 704 and [(t.name, t.switches) for t in topo.tiers] == [
        ("leaf", 224), ("spine", 320), ("core", 160)]
    assert nx.number_connected_components(to_networkx(topo)) == 1


def test_a_prime_node_count_takes_two_leaves_a_rail_not_one_a_nic(tmp_path: Path) -> None:
    assert railed_leaf_count(6, 4, 29) == 8  # 116 before
    assert railed_leaf_count(6, 4, 30) == 8 and railed_leaf_count(3, 4, 29) == 4  # even blocks; a divisor of the NICs
    topo = build_topology(load_system(_leonardo(tmp_path, 3200)), 116)
    leaf = topo.tiers[0]
    assert (topo.rail_optimized, topo.leaves_per_rail, leaf.switches, leaf.down_ports) == (True, 2, 8, 15)
    nodes = np.arange(29)
    for nic in range(4):  # rail r's leaves 2r and 2r + 1 take nodes 0-14 and 15-28
        leaves = leaf_index(topo, nodes, np.full(29, nic))
        assert np.bincount(leaves - 2 * nic).tolist() == [15, 14]
    assert nx.number_connected_components(to_networkx(topo)) == 1


def test_the_prime_count_prices_the_same_in_both_models(tmp_path: Path) -> None:
    cluster = Cluster.resolve(load_system(_leonardo(tmp_path, 116)))
    for op in ("all-reduce", "send-recv"):
        flow = estimate_collective(op, cluster, 116, 2**26, sim="flow", flows_per_pair=16)
        assert flow.time_s == pytest.approx(flow.analytical_time_s, rel=1e-6), op


def test_the_switch_off_restores_one_leaf_a_nic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rail_leaves, "UNEVEN_RAIL_BLOCKS", False)
    assert railed_leaf_count(6, 4, 29) == 116
