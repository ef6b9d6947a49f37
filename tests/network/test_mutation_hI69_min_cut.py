"""hI69's mutation wave on hN68's least-cut bisection (`network.min_cut.packed_cut`, `ClosTopology.bisection_of`).

The least cut by hand on a tree small enough to list every cut, and the max flow on the built graph (hN68's
`_max_flow`: networkx between the halves' NICs) on the fabrics hN68's cases did not reach: oversubscribed rail
leaves, unrailed leaves on a node of more NICs than GPUs (Gaudi 2's 24 RoCE ports to 8 HPUs), an odd count of
scale-up domains on a rail-only fabric, and one-GPU nodes at an odd count (half a GPU's link on each side).
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from tests.network.test_min_cut_bisection_hN68 import H100, _max_flow, _system, _tiers, _user_file

from infraplan.catalog import load_system
from infraplan.catalog.schemas import System
from infraplan.network.costs import whole_domain_topology
from infraplan.network.min_cut import Level, packed_cut
from infraplan.network.rail_leaves import with_fabric
from infraplan.network.topology import build_topology


def test_a_small_tree_by_hand() -> None:
    # 4 leaves of 4 endpoints (1 B/s links), 3 B/s of uplinks a leaf, one top: A = the first 8 endpoints (leaves 1,
    # 2), B = the next 5 (leaf 3 whole, 1 on leaf 4), 3 idle. Cuts: B's 5 links; A's 8 links; leaf 3's uplinks (3)
    # + leaf 4's one B link (1) = 4, the least; leaves 1 and 2's uplinks 6
    levels = [Level((), 3.0), Level(((4, Fraction(4)),), 0.0)]
    assert packed_cut(levels, 1.0, Fraction(8), Fraction(5)) == 4.0
    assert packed_cut(levels, 1.0, Fraction(5), Fraction(8)) == 4.0  # the sides' names do not matter
    # a pod level: pods of 2 such leaves (10 B/s up), 4 pods; A = pods 1, 2 (16), B = pod 3 (8) and 2 on pod 4: B's
    # pods cut off at their leaves' uplinks (2 x 3) and pod 4's 2 links, 8; A's pods 2 x 6 = 12
    pods = [Level((), 3.0), Level(((2, Fraction(4)),), 10.0), Level(((4, Fraction(8)),), 0.0)]
    assert packed_cut(pods, 1.0, Fraction(16), Fraction(10)) == 8.0
    # half an endpoint on each side of a leaf: 2.5 + 2.5 on one leaf of 8 cut 2.5 links
    assert packed_cut([Level((), 0.5), Level(((1, Fraction(8)),), 0.0)], 2.0, Fraction(5, 2), Fraction(5, 2)) == 5.0


def _gaudi(tiers: list[dict[str, object]], total: int) -> System:
    """A user's unrailed fabric of Gaudi 2 servers (8 HPUs, 24 x 100 GbE scale-out ports: gaudi2-cluster.yaml)."""
    return _system("h100-sxm", tiers, total).model_copy(update={"node": load_system("gaudi2-cluster").node})


CASES = [  # (system, GPUs, the leaves a domain)
    (_gaudi(_tiers((32, 64, 2), (128, 64, 1)), 128), 128, 3),  # 3 ToRs a 4-server rack, servers straddling two
    (_gaudi(_tiers((32, 64, 2), (128, 64, 1)), 128), 96, 3),
    (_gaudi(_tiers((48, 64, 3), (192, 64, 1)), 192), 144, 3),
    (_gaudi(_tiers((40, 64, 2), (160, 64, 1)), 160), 160, 3),  # 120 links on 3 x 40 ports
    (_gaudi(_tiers((56, 64, 2), (224, 64, 1)), 224), 224, 4),  # 168 links on 4 x 42: all four equal
    (_gaudi(_tiers((24, 32, 1), (96, 64, 1)), 96), 96, 5),  # 72 links on 5 x 15 ports: the last leaf takes 12
    (_gaudi(_tiers((48, 48, 2), (192, 64, 1)), 192), 192, 5),  # 144 on 5 x 29: the last 28
    (_system("h100-sxm", _tiers((64, 64, 2), (256, 64, 1)), 256, railed=True), 256, 2),  # 2:1 rail leaves
    (_system("h100-sxm", _tiers((64, 64, 2), (256, 64, 1)), 256, railed=True), 192, 2),
    (with_fabric(H100, "rail-only"), 776, 8),  # 97 DGX: 48 against 49
]


@pytest.mark.parametrize(("system", "gpus", "leaves"), CASES)
def test_the_least_cut_is_the_max_flow(system: System, gpus: int, leaves: int) -> None:
    """On a Clos an even count of nodes (an odd one's halves split a node's links, where the max flow's whole nodes
    are another split); rail-only halves whole scale-up domains, 48 against 49 as the max flow's."""
    topo, _ = whole_domain_topology(system, gpus)
    assert topo.tiers[0].switches_per_domain == leaves
    nodes = gpus // topo.gpus_per_node
    half = set(range(nodes // 2))
    assert topo.bisection_of(gpus) == pytest.approx(_max_flow(topo, gpus, half), rel=1e-9)


def test_one_gpu_nodes_at_an_odd_count_split_a_link() -> None:
    # a non-blocking 2-tier fabric of one-GPU servers (50 GB/s each): 7 GPUs on one leaf cut 3.5 links, 21 on two
    # leaves 10.5 (the leaves' 8 uplinks each carry it), 33 on three 16.5
    base = _system("h100-sxm", _tiers((16, 32, 1), (64, 32, 1)), 64)
    one = base.model_copy(update={"node": base.node.model_copy(update={"accelerators_per_node": 1,
                                                                        "nics_per_node": 1, "scale_up_domain": 1})})
    topo = build_topology(one)
    assert topo.gpu_bytes_per_s == 50e9
    assert [topo.bisection_of(g) / 50e9 for g in (7, 8, 21, 33)] == [3.5, 4.0, 10.5, 16.5]


def test_a_user_file_below_its_unit_says_its_own_count_unasked() -> None:
    # 17 DGX (136 GPUs) in a user's file on the SuperPOD's tiers: with no count asked the note is over its 136 GPUs,
    # 256 - 136 = 120 ports of the 8 leaves idle, as with --gpus 136
    notes = [whole_domain_topology(_user_file(136), gpus)[1] for gpus in (None, 136)]
    assert notes[0] == notes[1]
    assert notes[0] is not None and notes[0].startswith("136 GPUs fill part of a rail unit: built on the 8 leaves")
    assert "the fabric of 256 GPUs (120 GPU ports unused; NIC links and per-GPU figures over the 136)" in notes[0]
