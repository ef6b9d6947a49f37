"""The busiest tier domain's tree crossings (`tree_crossings.tree_edges_crossing`) held to hand-drawn trees (hR72,
session 49 review): 8-GPU nodes (8 channels, one per GPU and its NIC), leaf blocks of 16 GPUs (2 nodes each).

NCCL's trees over m nodes, drawn by hand from src/graph/trees.cc (ncclGetBtree: rank r with lowest set bit b hangs
under (r ^ b) | 2b, or r ^ b past the end; ncclGetDtree: that tree mirrored (m - 1 - r) for even m, shifted by one
rank for odd m; hT80, session 50: hR72 drew them the other way round, which left the odd ranks leaves of both trees
for odd m), parents of ranks 0 .. m-1 (-1: root). The reduce and the broadcast run at once (NCCL's runTreeSplit),
so a leaf block's uplinks carry its out + in edges each way over both passes: (out + in) / 2 per pass.

* m = 3: tree 0 [-1, 2, 0], tree 1 [1, -1, 0]. Leaves {0, 1} {2}: leaf 0 sends 1->2 (1 out), takes 2->0 in both
  trees (2 in); leaf 1 the reverse: (1 + 2) / 2 = 1.5 per channel, 12 over 8 channels (one pass after the other,
  max(out, in) = 2: 16).
* m = 4: tree 0 [-1, 2, 0, 2], tree 1 [1, 3, 1, -1]. Leaves {0, 1} {2, 3}: 1->2 and 1->3 leave leaf 0, 2->0 and
  2->1 leave leaf 1: 2 out and 2 in each, 16 over 8 channels (the ring's 8 crossings x 2: the ring's tier limit).
* m = 5: tree 0 [-1, 2, 4, 2, 0], tree 1 [1, -1, 3, 0, 3]. Leaves {0, 1} {2, 3} {4}: leaf 1 sends 2->4 and 3->0,
  takes 1->2 and 4->3: (2 + 2) / 2 = 2 per channel, 16 over 8 channels (the shifted / mirrored swap gave 24).
"""

from __future__ import annotations

import dataclasses

import pytest

from infraplan.cluster import Cluster
from infraplan.network.nccl_trees import tree_parents
from infraplan.network.tree_crossings import tree_edges_crossing

HAND_TREES = {3: ([-1, 2, 0], [1, -1, 0]), 4: ([-1, 2, 0, 2], [1, 3, 1, -1]), 5: ([-1, 2, 4, 2, 0], [1, -1, 3, 0, 3])}


def _leaves_of_two_nodes():  # type: ignore[no-untyped-def]
    base = Cluster.resolve("dgx-h100-superpod").fabric
    assert base.scale_up_domain == 8
    return dataclasses.replace(base, tier_sizes=(16, *base.tier_sizes[1:]), leaf_domain_gpus=16)


@pytest.mark.parametrize("nodes", sorted(HAND_TREES))
def test_nccl_trees_as_drawn_by_hand(nodes: int) -> None:
    assert [parents.tolist() for parents in tree_parents(nodes)] == list(HAND_TREES[nodes])


@pytest.mark.parametrize(("gpus", "hand"), [(24, 12), (32, 16), (40, 16)])
def test_busiest_leaf_crossings_by_hand(gpus: int, hand: int) -> None:
    assert tree_edges_crossing(_leaves_of_two_nodes(), 0, float(gpus), 1.0) == hand


def test_a_group_inside_one_leaf_crosses_nothing() -> None:
    assert tree_edges_crossing(_leaves_of_two_nodes(), 0, 16.0, 1.0) == 0
