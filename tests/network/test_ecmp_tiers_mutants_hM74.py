"""Mutation tests on hE74's `network.ecmp_tiers` (hM74): an all-to-all's hashed tier load.

An all-to-all rank sends one stream to each of its peers outside the tier's domain (n - k_tier of them, not n - 1),
and its arrivals hash again on the way down (twice the pools of a ring). The reference is the routed one:
`ecmp_collisions.collision_factor` hashes every flow of the step on the built fabric (`routing.route`), with no
analytical shortcut; hE74's ring test (test_ecmp_concurrent_hE74) checks the same for rings only.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.network.collectives import group_link
from infraplan.network.ecmp_collisions import collision_factor
from infraplan.network.flow_sim import FlowSet
from infraplan.network.routing import build_links
from infraplan.network.topology import build_topology


@pytest.mark.parametrize(("name", "n", "stride"), [("meta-genai-roce-24k", 32, 16), ("meta-genai-roce-24k", 32, 8),
                                                ("meta-genai-roce-24k", 64, 4)])
def test_all_to_all_groups_hash_as_their_routed_flows(name: str, n: int, stride: int) -> None:
    """`stride` interleaved all-to-alls of `n` ranks on meta-genai-roce-24k's 16-GPU racks (16 flows a pair): the
    priced bandwidth falls by the routed step's expected collision factor (1.098 at 32 x 16, 1.057 at 32 x 8, 1.031 at
    64 x 4), to 1e-6: one law, one count of balls and pools. Counting every peer as leaving the rack (n - 1 streams
    where k_tier = 2 or 4 members share it) or the arrivals' pools once gives another factor."""
    spec = load_system(name)
    topo = build_topology(spec)
    ranks = np.arange(n * stride).reshape(n, stride)  # row j: member j of every group
    src, dst = np.repeat(ranks, n, axis=0).ravel(), np.tile(ranks, (n, 1)).ravel()
    step = FlowSet.of(src[src != dst], dst[src != dst], 1.0)
    routed = collision_factor(topo, build_links(topo, 1e12, 1.0), step, spec.network.ecmp_flows_per_pair)
    fabric = Cluster.resolve(name).fabric
    hashed, _, _ = group_link(fabric, float(n), float(stride), True)
    even, _, _ = group_link(replace(fabric, ecmp_pools=()), float(n), float(stride), True)
    assert routed > 1.03
    assert float(even / hashed) == pytest.approx(routed, rel=1e-6)
