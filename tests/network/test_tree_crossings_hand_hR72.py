"""The busiest tier domain's tree crossings (`tree_crossings.tree_edges_crossing`) held to hand-drawn trees (hR72,
session 49 review): 8-GPU nodes (8 channels, one per GPU and its NIC), leaf blocks of 16 GPUs (2 nodes each).

NCCL's trees over m nodes, drawn by hand from src/graph/trees.cc (ncclGetBtree: rank r with lowest set bit b hangs
under (r ^ b) | 2b, or r ^ b past the end; ncclGetDtree: that tree shifted by one rank for even m, mirrored
(m - 1 - r) for odd m), parents of ranks 0 .. m-1 (-1: root):

* m = 3: tree 0 [-1, 2, 0], tree 1 [2, 0, -1]. Leaves {0, 1} {2}: leaf 0 sends 1->2 and 0->2 (2 out), takes
  2->0 (1 in); leaf 1 sends 1, takes 2: busiest 2 edges per channel, 16 over 8 channels.
* m = 4: tree 0 [-1, 2, 0, 2], tree 1 [3, -1, 3, 1]. Leaves {0, 1} {2, 3}: 1->2 and 0->3 leave leaf 0, 2->0 and
  3->1 leave leaf 1: 2 out and 2 in each, 16 over 8 channels (the ring's 8 crossings x 2: the ring's tier limit).
* m = 5: tree 0 [-1, 2, 4, 2, 0], tree 1 [4, 2, 0, 2, -1]. Leaves {0, 1} {2, 3} {4}: leaf 0 sends 1->2 (tree 0),
  0->4 and 1->2 (tree 1): 3 out; 24 over 8 channels.
"""

from __future__ import annotations

import dataclasses

import pytest

from infraplan.cluster import Cluster
from infraplan.network.nccl_trees import tree_parents
from infraplan.network.tree_crossings import tree_edges_crossing

HAND_TREES = {3: ([-1, 2, 0], [2, 0, -1]), 4: ([-1, 2, 0, 2], [3, -1, 3, 1]), 5: ([-1, 2, 4, 2, 0], [4, 2, 0, 2, -1])}


def _leaves_of_two_nodes():  # type: ignore[no-untyped-def]
    base = Cluster.resolve("dgx-h100-superpod").fabric
    assert base.scale_up_domain == 8
    return dataclasses.replace(base, tier_sizes=(16, *base.tier_sizes[1:]), leaf_domain_gpus=16)


@pytest.mark.parametrize("nodes", sorted(HAND_TREES))
def test_nccl_trees_as_drawn_by_hand(nodes: int) -> None:
    assert [parents.tolist() for parents in tree_parents(nodes)] == list(HAND_TREES[nodes])


@pytest.mark.parametrize(("gpus", "hand"), [(24, 16), (32, 16), (40, 24)])
def test_busiest_leaf_crossings_by_hand(gpus: int, hand: int) -> None:
    assert tree_edges_crossing(_leaves_of_two_nodes(), 0, float(gpus), 1.0) == hand


def test_a_group_inside_one_leaf_crosses_nothing() -> None:
    assert tree_edges_crossing(_leaves_of_two_nodes(), 0, 16.0, 1.0) == 0
