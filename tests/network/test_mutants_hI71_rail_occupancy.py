"""Mutation wave on the rail rules over arrays (hI, session 71): `fabric.uplink_occupancy` (`RAIL_ALONE`, the spaced
groups' rail planes) and `tier_bandwidth.busiest_rail_shares`. Hand counts on small rail maps (a rail holds the share
of a domain that its NICs are of a node's; PXN: a byte climbs in its destination GPU's rail plane; a GPU with several
NICs stripes over them: `tier_bandwidth.busiest_rail_share`'s docstring). The mutant ids are hI71's NOTE's."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from tests.network.test_radix_planes_hL70 import SYSTEMS

from infraplan.catalog.loader import load_system
from infraplan.cluster import Cluster
from infraplan.network.fabric import uplink_occupancy
from infraplan.network.rail_leaves import with_fabric
from infraplan.network.tier_bandwidth import busiest_rail_share, busiest_rail_shares
from infraplan.network.topology import build_topology

H100 = Cluster.resolve("dgx-h100-superpod").fabric  # 8 GPUs a node, one rail each


def test_a_group_alone_loads_one_rail_only_on_the_rail_tiers() -> None:
    """hI71 NF2: 8 GPUs one a node (stride 8) all sit on rail 0: on a rail-split tier they fill that rail's 8 of a
    64-GPU domain's uplinks (occupancy 1); on the first tier above the rail tiers their bytes spread over every
    uplink: 8 / 64."""
    alone = replace(H100, rail_tiers=1, concurrent_groups=1)
    assert float(uplink_occupancy(alone, 8.0, 8.0, 64, 0)) == 1.0
    assert float(uplink_occupancy(alone, 8.0, 8.0, 64, 1)) == pytest.approx(8 / 64)


def test_spaced_groups_climb_in_their_destinations_rail() -> None:
    """hI71 NF6 / NF7: spaced groups (a spread send-recv's pairs) on a rail tier. 4 groups 16 ranks apart in a
    128-GPU domain, each partner on GPU 0's rail: 4 of rail 0's 16 GPUs, 0.25 of the domain's rail-0 share at one
    member a group, twice that at two. A node of 4 GPUs whose first three share rail 0 and the fourth has rail 1
    alone: one sender to the GPU 3 ranks on climbs in rail 1 (1 of its 16 GPUs in a 64-GPU domain: 1 / 16), to the
    GPU 4 ranks on in rail 0 (1 of 48: 1 / 48)."""
    spaced = replace(H100, rail_tiers=1, concurrent_groups=4, concurrent_spacing=16)
    assert float(uplink_occupancy(spaced, 1.0, 16.0, 128, 0)) == pytest.approx(0.25)
    assert float(uplink_occupancy(spaced, 2.0, 16.0, 128, 0)) == pytest.approx(0.5)
    uneven = replace(H100, rail_of_gpu=(0, 0, 0, 1), rail_tiers=1, concurrent_groups=1, concurrent_spacing=4)
    assert float(uplink_occupancy(uneven, 1.0, 3.0, 64, 0)) == pytest.approx(1 / 16)
    assert float(uplink_occupancy(uneven, 1.0, 4.0, 64, 0)) == pytest.approx(1 / 48)


def test_the_array_rule_is_the_scalar_rule_element_wise() -> None:
    """hI71 NF9 / NF10: `busiest_rail_shares` is `busiest_rail_share` per element, shift and NICs a GPU included.
    Rails (0, 0, 0, 1): a sender on GPU 0 is 1 of rail 0's 3 (1 / 3 in a 4-GPU domain), shifted 3 ranks on, rail 1's
    only GPU (1). Two GPUs with a NIC on each of rails 0 and 1: one GPU stripes half its bytes on each, half of each
    rail's one GPU in a 2-GPU domain (0.5)."""
    shares = busiest_rail_shares((0, 0, 0, 1), np.array([1, 1]), np.array([1, 1]), np.array([0, 3]), 4)
    assert shares.tolist() == pytest.approx([1 / 3, 1.0])
    striped = busiest_rail_shares((0, 1, 0, 1), np.array([1, 2]), np.array([1, 1]), np.array([0, 0]), 2, 2)
    assert striped.tolist() == pytest.approx([0.5, 1.0])
    assert striped.tolist() == [busiest_rail_share((0, 1, 0, 1), g, 1, 0, 2, 2) for g in (1, 2)]


def test_a_group_alone_stripes_over_its_gpus_nics() -> None:
    """hI71 NF11: one GPU alone with a NIC on each of two rails (2 GPUs a node) loads half of each rail: 0.5 of a
    2-GPU domain (one node), 1 / 16 of a 16-GPU one (k / domain), not a whole rail's GPU."""
    two_nics = replace(H100, rail_of_gpu=(0, 1, 0, 1), rail_nics_per_gpu=2, rail_tiers=1, concurrent_groups=1)
    assert float(uplink_occupancy(two_nics, 1.0, 1.0, 2, 0)) == pytest.approx(0.5)
    assert float(uplink_occupancy(two_nics, 1.0, 1.0, 16, 0)) == pytest.approx(1 / 16)


def test_rail_only_leaves_beyond_a_nodes_nics_still_build(tmp_path: Path) -> None:
    """hI71 RP3: the leaves-beyond-NICs refusal (`rail_leaves.unreached_planes`) is for a rail-optimised Clos whose
    spine is split into planes by leaf index, which a node reaches through its own NICs only; a rail-only fabric
    keeps each plane within a rail, reached over the scale-up domain (a GPU forwards to the domain's GPU on the
    destination's rail). GB200 NVL72 rail-only at leaf radix 64: 72 rails (18 trays x 4 NICs) of leaves, a spine
    in 72 planes, more leaves than a tray's 4 NICs: built."""
    text = (SYSTEMS / "gb200-nvl72.yaml").read_text()
    old = "{name: leaf, group_size: 576, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 144"
    assert old in text
    path = tmp_path / "nvl72-r64.yaml"
    path.write_text(text.replace(old, old.replace("switch_radix: 144", "switch_radix: 64")))
    system = load_system(str(path))
    built = build_topology(with_fabric(system, "rail-only"))
    assert [(t.name, t.planes, t.switches_per_domain) for t in built.tiers] == [("leaf", 1, 72), ("spine", 72, 72)]
    assert system.node.nics_per_node == 4
