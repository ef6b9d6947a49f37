"""Mutation wave hM80 (session 50): `network.tree_crossings` rules no test held.

The busiest domain's crossings X are counted here edge by edge over NCCL's two trees (`nccl_trees.tree_parents`,
itself held to hand-drawn trees from src/graph/trees.cc in tests/network/test_tree_crossings_hand_hR72.py), channel
c of node j at rank position (j k + c) x stride (the module's placement), on leaves of L consecutive GPUs. X is the
busiest leaf's crossings one way per pass: (out + in) / 2 with the reduce and the broadcast running at once (hT80,
session 50), max(out, in) were they run one after the other; the checks hold X between the two readings. The
pricing relations below read X from the module itself (`tree_edges_crossing`) and check what surrounds it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from flow_toy_fabric import O4

from infraplan.cluster import Cluster
from infraplan.network.fabric import Fabric, group_link
from infraplan.network.nccl_trees import tree_parents
from infraplan.network.tree_crossings import tree_bottleneck, tree_edges_crossing, tree_link_kept


def _bracket(nodes: int, channels: int, stride: int, leaf: int) -> tuple[float, int]:
    """(the busiest leaf's (out + in) / 2, its larger count) over both trees of every channel."""
    out: dict[int, int] = {}
    into: dict[int, int] = {}
    for c in range(channels):
        for parents in tree_parents(nodes):
            for r, p in enumerate(parents.tolist()):
                a, b = (r * channels + c) * stride // leaf, (p * channels + c) * stride // leaf
                if p >= 0 and a != b:
                    out[a] = out.get(a, 0) + 1
                    into[b] = into.get(b, 0) + 1
    domains = set(out) | set(into)
    return (max((out.get(d, 0) + into.get(d, 0)) / 2 for d in domains),
            max(*out.values(), *into.values()))


def _leaves(gpus: int) -> Fabric:
    base = Cluster.resolve("dgx-h100-superpod").fabric
    assert base.scale_up_domain == 8
    return dataclasses.replace(base, tier_sizes=(gpus, *base.tier_sizes[1:]), leaf_domain_gpus=gpus)


@pytest.mark.parametrize(("leaf", "stride", "gpus"), [
    (24, 1, 40),  # 5 nodes on leaves of 3 nodes: the edges into rank 0 count (20 .. 24; without them 16)
    (12, 1, 56),  # 7 nodes on leaves of 1.5 nodes: a leaf takes more edges than any sends (24 .. 28 or 24; out 20)
    (20, 2, 24),  # 4 channels 2 apart: channel c at 8 j + 2 c, leaf edges cut inside a node (10; at 8 j + c: 12)
])
def test_busiest_leaf_crossings_against_nccls_trees(leaf: int, stride: int, gpus: int) -> None:
    channels = 8 // stride
    low, high = _bracket(gpus // channels, channels, stride, leaf)
    assert low <= tree_edges_crossing(_leaves(leaf), 0, float(gpus), float(stride)) <= high


def test_a_part_filled_node_still_takes_its_place_in_the_tree() -> None:
    """20 GPUs on leaves of 2 nodes: 3 nodes (the third half filled), so the group spans 2 leaves and its trees
    cross the leaf as 24 GPUs' do (the 3-node trees of tests/network/test_tree_crossings_hand_hR72.py)."""
    low, high = _bracket(3, 8, 1, 16)
    assert 0 < low <= tree_edges_crossing(_leaves(16), 0, 20.0, 1.0) <= high


def _o4(tmp_path: Path, **changes: object) -> Fabric:
    path = tmp_path / "o4.yaml"
    path.write_text(O4)
    return dataclasses.replace(Cluster.resolve(str(path)).fabric, **changes)  # type: ignore[arg-type]


def test_a_tier_at_1_to_1_is_not_priced_by_the_trees_crossings(tmp_path: Path) -> None:
    """o4 with its leaves at 1:1 and its spine at 1:2: 512 GPUs cross the leaves (not oversubscribed) and stay
    below the spine, so the tree gets the ring's bandwidth (`tree_link_one`: no oversubscribed tier crossed)."""
    fabric = _o4(tmp_path, tier_oversubscription=(1.0, 2.0), concurrent_groups=1)
    bw = float(group_link(fabric, 512.0, 1.0)[0])
    assert tree_link_kept(fabric, 512.0, 1.0, bw) == bw


def test_a_group_filling_its_leaves_gets_their_uplinks_whatever_else_runs(tmp_path: Path) -> None:
    """512 GPUs at stride 1 hold all 43 GPUs of each leaf: the leaf's uplinks are the group's whether 1 or 2 such
    groups run (`fabric.uplink_occupancy`: min(g x 43, 43) / 43 = 1 either way), so the tree's price is the same;
    it is C x 2 k / X with C the leaf's uplinks, 43 NICs / o, and k = 8 channels."""
    one, two = _o4(tmp_path, concurrent_groups=1), _o4(tmp_path, concurrent_groups=2)
    bws = [float(group_link(f, 512.0, 1.0)[0]) for f in (one, two)]
    got = [tree_link_kept(f, 512.0, 1.0, bw) for f, bw in zip((one, two), bws, strict=True)]
    assert got[0] == pytest.approx(got[1], rel=1e-12)
    crossing = tree_edges_crossing(one, 0, 512.0, 1.0)
    uplinks = 43 * one.nic_bytes_per_s / one.tier_oversubscription[0]
    assert got[0] == pytest.approx(uplinks * 2 * 8 / crossing, rel=1e-9)
    assert got[0] < bws[0]


def test_two_groups_half_a_leaf_each_share_its_uplinks(tmp_path: Path) -> None:
    """256 ranks at stride 2 (4 channels), 2 such groups: each holds 21 of a leaf's 43 GPUs, 42 busy, so each group
    gets 21 / 42 of the leaf's uplinks (43 NICs / o): C = 43 NICs / (2 o), the tree's C x 2 x 4 / X."""
    fabric = _o4(tmp_path, concurrent_groups=2)
    bw = float(group_link(fabric, 256.0, 2.0)[0])
    crossing = tree_edges_crossing(fabric, 0, 256.0, 2.0)
    share = 43 * fabric.nic_bytes_per_s / (2 * fabric.tier_oversubscription[0])
    assert share * 8 / crossing < 4 * fabric.nic_bytes_per_s  # below the 4 NICs: the leaf binds
    assert tree_link_kept(fabric, 256.0, 2.0, bw) == pytest.approx(share * 8 / crossing, rel=1e-9)
    assert tree_bottleneck(fabric, 256, 2, "ring's") == "leaf"


def test_a_barely_oversubscribed_leaf_leaves_the_nics_binding(tmp_path: Path) -> None:
    """o4's leaves at 1:1.01: the busiest leaf's 43 NICs / 1.01 of uplinks over its X crossings give the tree
    2 x 8 x 43 / 1.01 / X NICs, above the 8 NICs of a node while X < 85: the NICs bind, and `collective` names
    them (not the scale-up link, nor the ring's tier)."""
    fabric = _o4(tmp_path, tier_oversubscription=(1.01, 1.0), concurrent_groups=1)
    assert tree_edges_crossing(fabric, 0, 512.0, 1.0) < 2 * 43 / 1.01
    assert tree_bottleneck(fabric, 512, 1, "ring's") == "nic"
    bw = float(group_link(fabric, 512.0, 1.0)[0])
    assert tree_link_kept(fabric, 512.0, 1.0, bw) == pytest.approx(8 * fabric.nic_bytes_per_s, rel=1e-12)
