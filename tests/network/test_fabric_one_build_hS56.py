"""`Fabric.from_system` builds its system's fabric once (hS, session 56): the analytical tiers
(`tier_bandwidth.analytical_tiers`) and the rail planes (`tier_bandwidth.rail_planes`, hI56) read the one
`topology.build_topology`; before, each built it again (2 builds a fabric, ~20 us each on a DGX H100 SuperPOD)."""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.cluster import Cluster
from infraplan.network import clos_topology, tier_bandwidth, topology
from infraplan.network.collectives import Fabric
from infraplan.network.rail_leaves import with_fabric


@pytest.mark.parametrize("fabric", [None, "rail-only"])
def test_the_fabric_is_built_once(monkeypatch: pytest.MonkeyPatch, fabric: str | None) -> None:
    cluster = Cluster.resolve("dgx-h100-superpod")
    system = with_fabric(cluster.system, fabric)
    expected = Fabric.from_system(system, cluster.accelerator)
    builds: list[int] = []
    real = topology.build_topology

    def counted(*args: Any, **kwargs: Any) -> clos_topology.ClosTopology:
        builds.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(topology, "build_topology", counted)
    monkeypatch.setattr(tier_bandwidth, "build_topology", counted)
    built = Fabric.from_system(system, cluster.accelerator)
    assert len(builds) == 1
    assert built == expected  # the same fabric: its tiers and rails from that one build
    assert built.rail_of_gpu == (() if fabric else tuple(range(8)))  # a DGX H100 SuperPOD: NIC g on rail g
