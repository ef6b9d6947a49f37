"""A leaf domain with more leaves than a node has NICs: the spine above is split by rail, not by leaf (hF2, s71).

The Leonardo-like probe (validation/notes/out_of_sample_s56/leonardo-booster.yaml: 4-NIC A100 nodes under the DGX
A100 SuperPOD's 160-GPU units of 8 radix-40 leaves, 2 a rail) needs spine planes past 5 units. Split by leaf index,
a node on leaves 0, 2, 4, 6 shared no switch with one on 1, 3, 5, 7, and hF71 refused the file; one plane a rail
(the DGX SuperPOD RA's spine groups, `topology._rail_planes`) joins both of a rail's leaves of every unit, so every
node reaches every plane. A rail of 1,120 nodes (4,480 GPUs) is past what a two-tier radix-40 rail joins (40
leaves x 20 = 800 NIC links, Al-Fares et al. k^2/2): refused with the spine radix that builds it.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from infraplan.catalog.loader import load_system
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.topology import build_topology
from infraplan.network.topology_graph import to_networkx

LEONARDO = Path(__file__).resolve().parents[2] / "validation" / "notes" / "out_of_sample_s56" / "leonardo-booster.yaml"
THREE_TIERS = """network:
  kind: infiniband
  rail_optimized: true
  collective_efficiency: 0.96
  tiers:
    - {name: leaf, group_size: 160, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 40}
    - {name: spine, group_size: 1600, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 40}
    - {name: core, group_size: 3200, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 40}
"""


def _leonardo(tmp_path: Path, gpus: int, extra: str = "") -> str:
    path = tmp_path / f"leonardo-{gpus}.yaml"
    path.write_text(f"extends: {LEONARDO}\ntotal_accelerators: {gpus}\n{extra}")
    return str(path)


def test_rail_planes_join_every_node_at_3200(tmp_path: Path) -> None:
    """20 units: 160 leaves of 20 down + 20 up; the spine is 4 planes (one a rail) of 20 switches, each joining its
    rail's 40 leaves by one link; 80 spines, as the 8 planes by leaf index had (20 leaves x 2 links, 10 a plane)."""
    topo = build_topology(load_system(_leonardo(tmp_path, 3200)))
    leaf, spine = topo.tiers
    assert (topo.rail_optimized, topo.leaves_per_rail, leaf.switches) == (True, 2, 160)
    assert (spine.planes, spine.lowers_per_plane, spine.switches_per_plane, spine.switches) == (4, 2, 20, 80)
    assert (spine.down_ports, spine.links_per_lower) == (40, 1)
    assert nx.number_connected_components(to_networkx(topo)) == 1


def test_a_rail_past_the_two_tier_limit_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """4,480 GPUs: 28 units, 56 leaves a rail, each rail plane needs 56 down ports a spine (radix 40 gives 40)."""
    path = _leonardo(tmp_path, 4480)
    with pytest.raises(InputError, match=r"56 leaf switches per plane \(one plane a rail: 28 domains x 2 leaves a "
                                         r"rail\).*need radix >= 56"):
        build_topology(load_system(path))
    assert main(["network", path]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_three_tiers_above_rail_planes(tmp_path: Path) -> None:
    """A core tier over rail-planed spines (planes by spine index, as a k-ary fat tree's cores) stays connected."""
    topo = build_topology(load_system(_leonardo(tmp_path, 3200, THREE_TIERS)))
    assert [(t.planes, t.lowers_per_plane) for t in topo.tiers] == [(1, 1), (4, 2), (80, 1)]
    assert nx.number_connected_components(to_networkx(topo)) == 1


@pytest.mark.parametrize(("op", "gpus", "placement", "extra"),
                         [("all-gather", 640, "spread", ""), ("all-reduce", 1280, "spread", ""),
                          ("all-reduce", 640, "spread", THREE_TIERS)])
def test_flow_routes_the_rail_planes_as_the_analytical_model_prices_them(tmp_path: Path, op: str, gpus: int,
                                                                        placement: str, extra: str) -> None:
    """Flows between the two leaves of a rail in different units climb into the rail's plane (routing.route: the
    plane is the leaf's rail, `TierLayout.plane_of`); flow and analytical times agree as on the catalog fabrics."""
    cluster = Cluster.resolve(_leonardo(tmp_path, 3200, extra))
    analytical = estimate_collective(op, cluster, gpus, 1 << 28, placement=placement)
    flow = estimate_collective(op, cluster, gpus, 1 << 28, placement=placement, sim="flow")
    assert flow.time_s == pytest.approx(analytical.alpha_beta_time_s, rel=1e-3)
