"""The tree all-reduce's tier limit takes the rail rules, as the ring's does (hF71).

`tree_crossings._tree_limit` read a tier's occupancy without the tier's index, so a group alone on a rail-optimised
fabric (`fabric.RAIL_ALONE`: its bytes climb in its members' rail planes) was priced by its share of the whole
domain's uplinks in the tree and by its busiest rail's in the ring (`bottleneck_tier`, `_group_link`). Case: a
Gaudi 2 cluster with its leaves at 16:1 (what-if), an all-reduce of 1 GiB a rank over 32 HPUs spread (one HPU of
every 4th node, all on the first rail group): the tree was NIC-bound at 32.7 GB/s busbw (63.7 ms) where the flow
model at 64 flows a pair finds 109 ms on the leaf uplinks; with the rail rule the tree is leaf-bound at 21.8 GB/s
(95.5 ms).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective

SYSTEMS = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "systems"


def _gaudi2_leaf(tmp_path: Path, over: int) -> Cluster:
    lines = (SYSTEMS / "gaudi2-cluster.yaml").read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith("- {name:"))
    lines[first] = re.sub(r"oversubscription: [0-9.]+", f"oversubscription: {over}", lines[first])
    path = tmp_path / f"gaudi2-leaf{over}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return Cluster.resolve(str(path))


def test_a_spread_tree_on_oversubscribed_rail_leaves_is_leaf_bound(tmp_path: Path) -> None:
    cluster = _gaudi2_leaf(tmp_path, 16)
    assert cluster.fabric.rail_tiers >= 1 and cluster.fabric.tier_oversubscription[0] > 8
    tree = estimate_collective("all-reduce", cluster, 32, 2**30, placement="spread", algorithm="tree")
    nic = cluster.fabric.nic_bytes_per_s  # one member a scale-up domain: the NIC bound is one NIC
    assert tree.bottleneck_tier == "leaf"
    even = tree.busbw_bytes_per_s * tree.time_s / tree.alpha_beta_time_s  # the line's (the answer adds gaudi2's
    assert even == pytest.approx(21.78e9, rel=2e-3)  # expected ECMP collisions since hE73)
    assert even < 0.7 * nic
    flow = estimate_collective("all-reduce", cluster, 32, 2**30, placement="spread", algorithm="tree", sim="flow",
                               flows_per_pair=64, seed=0)
    assert flow.bottleneck_tier == "leaf"
    assert 1.0 < flow.time_s / tree.alpha_beta_time_s < 1.2  # was 1.72 without the rail rule


def test_a_packed_tree_is_unchanged_by_the_rail_rule(tmp_path: Path) -> None:
    """Packed, a group's members cover every rail evenly: its busiest rail's share is its share of the domain."""
    cluster = _gaudi2_leaf(tmp_path, 16)
    tree = estimate_collective("all-reduce", cluster, 512, 2**30, algorithm="tree")
    assert tree.bottleneck_tier == "leaf"
    even = tree.busbw_bytes_per_s * tree.time_s / tree.alpha_beta_time_s  # the line's (hE73: the answer adds the
    assert even == pytest.approx(89.457e9, rel=1e-4)  # as before hF71 (expected ECMP collisions)
