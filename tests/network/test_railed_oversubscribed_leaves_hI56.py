"""A rail-optimised leaf domain stays railed when its leaves are oversubscribed (hI, session 56).

`topology.build_topology` took ceil(NIC links / down ports) leaves per tier-0 domain: a DGX H100 SuperPOD scalable
unit (32 nodes x 8 NICs) at 2:1 leaves (42 down ports of 64) got 7 leaves for 8 rails, built unrailed, with 7 spine
planes nothing joined: `network` and `facility` priced 1,645 switches, the analytical model answered, the flow
model refused ("GPUs 48 and 32 sit on different planes ... no up-down path joins them"; hH, session 56). NVIDIA's
DGX SuperPOD reference architecture wires NIC r of every node of an SU to leaf r (8 leaves an SU); oversubscription
sets how many of a leaf's ports go up, not which NICs it takes, so the builder now raises the count to the fewest
rail-aligned leaves (`rail_leaves.railed_leaf_count`; `RAILED_OVERSUBSCRIBED_LEAVES` restores the old count).
Before the change every test here failed (7 leaves, unrailed; the flow model refused; 1,645 switches).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.network import rail_leaves
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.topology import build_topology

CATALOG = Path(rail_leaves.__file__).resolve().parents[1] / "catalog" / "systems"


def _leaf_at(system: str, factor: float) -> Cluster:
    spec = load_system(system)
    tiers = list(spec.network.tiers)
    tiers[0] = tiers[0].model_copy(update={"oversubscription": tiers[0].oversubscription * factor})
    return Cluster.resolve(spec.model_copy(update={"network": spec.network.model_copy(update={"tiers": tiers})}))


def test_railed_leaf_count_takes_the_fewest_rail_aligned_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    count = rail_leaves.railed_leaf_count
    assert count(7, 8, 32) == 8  # DGX SU at 2:1: one leaf per rail
    assert count(6, 8, 32) == 8  # 4:1
    assert count(3, 8, 16) == 4  # a leaf of two rails (rails_per_leaf 2)
    assert count(5, 24, 8) == 6  # Gaudi 2 at 2:1: its 6 leaves of 4 rails, as at 1:1
    assert count(8, 8, 32) == 8 and count(16, 8, 32) == 16  # already railed: kept
    assert count(9, 8, 32) == 16  # 2 leaves per rail (the SU's nodes in 2 blocks)
    # 3 nodes: only 3 leaves a rail (one a node) divide them; hF72: 2 a rail in blocks of 2 and 1 nodes (24 before)
    assert count(9, 8, 3) == 16 and count(9, 8, 6) == 16
    monkeypatch.setattr(rail_leaves, "UNEVEN_RAIL_BLOCKS", False)
    assert count(9, 8, 3) == 24
    monkeypatch.setattr(rail_leaves, "RAILED_OVERSUBSCRIBED_LEAVES", False)
    assert count(7, 8, 32) == 7


@pytest.mark.parametrize(("system", "factor", "leaves", "down", "up"),
                         [("dgx-h100-superpod", 2.0, 8, 32, 16), ("dgx-h100-superpod", 4.0, 8, 32, 8),
                          ("dgx-a100-superpod", 2.0, 8, 20, 10), ("gaudi2-cluster", 2.0, 6, 32, 16),
                          ("dgx-b300", 2.0, 8, 72, 36)])
def test_an_oversubscribed_rail_optimised_leaf_domain_keeps_its_rails(system: str, factor: float, leaves: int,
                                                                      down: int, up: int) -> None:
    topo = build_topology(_leaf_at(system, factor).system)
    leaf = topo.tiers[0]
    assert topo.rail_optimized
    assert (leaf.switches_per_domain, leaf.down_ports, leaf.up_ports) == (leaves, down, up)
    assert leaf.down_ports / leaf.up_ports == factor  # the configured ratio, in ports
    for tier in topo.tiers[1:]:  # one plane, or planes within the leaves' rails (split by spine index above): routable
        assert tier.planes == 1 or tier.planes % leaf.switches_per_domain == 0


@pytest.mark.parametrize("system", ["dgx-h100-superpod", "dgx-a100-superpod", "gaudi2-cluster", "meta-genai-ib-24k"])
def test_the_flow_model_routes_what_the_analytical_model_prices_over_2to1_leaves(system: str) -> None:
    cluster = _leaf_at(system, 2.0)
    analytical = estimate_collective("all-reduce", cluster, 64, 2.0**28, algorithm="ring")
    flow = estimate_collective("all-reduce", cluster, 64, 2.0**28, algorithm="ring", sim="flow")
    assert flow.time_s == pytest.approx(analytical.alpha_beta_time_s, rel=1e-9)  # 8 nodes: NIC-bound in both


def test_network_and_facility_price_the_railed_2to1_superpod_alike(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    text = (CATALOG / "dgx-h100-superpod.yaml").read_text()
    leaf = "{name: leaf, group_size: 256, oversubscription: 1,"
    assert leaf in text
    path = tmp_path / "pod-2to1.yaml"
    path.write_text(text.replace(leaf, "{name: leaf, group_size: 256, oversubscription: 2,"))
    net = cli_json(capsys, ["network", str(path)])
    fac = cli_json(capsys, ["facility", "--system", str(path)])
    # 64 SUs x 8 leaves; the spines and cores of the non-blocking SuperPOD (512 / 256) halved: 256 / 128
    assert net["switches_total"] == 512 + 256 + 128
    assert fac["network"]["switches"] == net["switches_total"]
    assert fac["power_breakdown_w"]["network"] == net["power_w"]
    assert fac["capex_usd"]["network"] == net["capex_usd"]
    flow = cli_json(capsys, ["collective", "all-reduce", "--system", str(path), "--gpus", "64", "--bytes", "256MiB",
                             "--sim", "flow"])
    assert flow["time_s"] > 0
