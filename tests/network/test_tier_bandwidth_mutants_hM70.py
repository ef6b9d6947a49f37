"""`tier_bandwidth.leaf_switch_gpus` held to the flow model's own routing and to hand counts where session 48's tests
left its branches free (hM70 mutation wave: dropping the rail-only case, the leaves-per-rail split or the GPUs per NIC
link survived every test).

The rule (its docstring, hF65): the analytical model's tier-0 domain is the GPUs whose traffic to one another never
leaves a leaf switch. The flow model says the same thing per pair: `routing.route`'s `reached` is the highest tier a
pair's path spans (-1 over NVLink, 0 a leaf's round trip), so counting GPU 0's peers with `reached <= 0` is an
independent reading of that size, from the links a byte actually takes (`clos_topology.leaf_index`), not from the
formula.

Hand counts for the toys (16 eight-GPU nodes, leaf domains of 64 GPUs at 1:1, `build_topology`'s arithmetic):
- 4 NICs per node, radix 16, no rails: a domain's 8 x 4 = 32 NIC links on ceil(32 / 8) = 4 leaves of 8 down ports;
  each NIC link carries 2 GPUs, so one leaf serves 8 x 2 = 16 GPUs (not its 8 ports).
- 8 NICs per node, radix 8, rail-optimised: 64 links on 16 leaves of 4 ports, 2 per rail; the 8 nodes of a domain
  split into 2 blocks of 4 (`leaf_index`: NIC k of a node in block j on leaf 2k + j), so a rail's leaf reaches
  4 x 8 = 32 GPUs (PXN keeps a byte on the destination's rail), half the domain.
- gb200-nvl72-superpod under `--fabric rail-only`: 72 rails (one per NIC of a 72-GPU NVLink domain), each rail's
  leaf takes every HB domain of its leaf domain, so a byte never leaves its rail's leaf below the top: all 576.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_system
from infraplan.network.clos_topology import ClosTopology
from infraplan.network.rail_leaves import with_fabric
from infraplan.network.routing import build_links, route
from infraplan.network.tier_bandwidth import analytical_tiers, leaf_switch_gpus, speed_mismatch_note
from infraplan.network.topology import build_topology

TOY = """
display_name: hM70 toy, 64-GPU leaf domains at 1:1
source: test fixture
accelerator: b200
total_accelerators: 128
node: {{accelerators_per_node: 8, scale_up_domain: 8, nics_per_node: {nics}, nic_bandwidth_bytes_per_s: 400Gbps}}
network:
  kind: infiniband
  rail_optimized: {rail}
  collective_efficiency: 0.94
  tiers:
    - {{name: leaf, group_size: 64, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: {radix},
       port_bandwidth_bytes_per_s: 400Gbps}}
    - {{name: spine, group_size: 128, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 400Gbps}}
"""


def _toy(tmp_path, nics: int, rail: bool, radix: int) -> str:
    path = tmp_path / f"toy-{nics}-{rail}-{radix}.yaml"
    path.write_text(TOY.format(nics=nics, rail=str(rail).lower(), radix=radix))
    return str(path)


def _flow_leaf_peers(topo: ClosTopology) -> int:
    """GPU 0 and the peers its flow-model paths reach without climbing above a leaf (`route`'s reached <= 0)."""
    links = build_links(topo, 1e12, 0.9)
    n = topo.gpus
    _, reached, _ = route(topo, links, np.zeros(n, dtype=np.int64), np.arange(n, dtype=np.int64),
                          np.ones(n, dtype=np.int64), np.random.default_rng(0))
    return int(np.count_nonzero(reached <= 0))


@pytest.mark.parametrize(("nics", "rail", "radix", "hand"), [(4, False, 16, 16), (8, True, 8, 32)])
def test_toy_leaf_spans_by_hand_and_by_the_flow_models_routes(tmp_path, nics, rail, radix, hand):
    path = _toy(tmp_path, nics, rail, radix)
    system = load_system(path)
    topo = build_topology(system)
    leaf = topo.tiers[0]
    if rail:  # 16 leaves of 4 ports, 2 per rail
        assert (leaf.switches_per_domain, leaf.down_ports, topo.rail_optimized, topo.leaves_per_rail) == (
            16, 4, True, 2)
    else:  # 4 leaves of 8 ports, each NIC link carrying 2 GPUs
        assert (leaf.switches_per_domain, leaf.down_ports, topo.rail_optimized) == (4, 8, False)
    assert leaf_switch_gpus(topo) == hand
    assert _flow_leaf_peers(topo) == hand
    assert analytical_tiers(system)[0] == (hand, 128)  # the analytical model prices tier 0 at that size


def test_rail_only_leaf_span_is_the_whole_leaf_domain():
    """Under rail-only the rails' leaves (72 of them, 18 per NIC index of a tray) are not a rail-optimised split of
    the nodes: every pair meets under its rail's leaf (PXN over NVLink first), as the flow model routes it."""
    topo = build_topology(with_fabric(load_system("gb200-nvl72-superpod"), "rail-only"))
    assert topo.rail_only and topo.leaves_per_rail > 1  # the rail-optimised branch would split the domain
    assert leaf_switch_gpus(topo) == topo.tiers[0].domain_gpus == 576
    assert _flow_leaf_peers(topo) == 576


@pytest.mark.parametrize("name", ["dgx-h100-superpod", "gb200-nvl72-superpod", "mi300x-cluster"])
def test_catalog_leaf_spans_agree_with_the_flow_models_routes(name):
    """The shipped Clos fabrics: rail-optimised SuperPOD units, NVL72 racks on 2 unrailed leaves, MI300X's 2
    unrailed leaves of 32 ports: the analytical tier-0 size is what the flow model keeps under one leaf."""
    topo = build_topology(load_system(name))
    assert leaf_switch_gpus(topo) == _flow_leaf_peers(topo)


THREE_TIERS = """
display_name: hM70 toy, three tiers configured, 16 GPUs under one leaf
source: test fixture
accelerator: b200
total_accelerators: 16
node: {accelerators_per_node: 8, scale_up_domain: 8, nics_per_node: 8, nic_bandwidth_bytes_per_s: 400Gbps}
network:
  kind: infiniband
  collective_efficiency: 0.94
  tiers:
    - {name: leaf, group_size: 64, oversubscription: 2, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 400Gbps}
    - {name: spine, group_size: 512, oversubscription: 2, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 400Gbps}
    - {name: core, group_size: 4096, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 400Gbps}
"""


def test_tiers_above_the_built_top_keep_their_configured_ratio(tmp_path):
    """16 GPUs' 16 NIC links fit one 64-port leaf, so the fabric builds the leaf alone (the top: 1.0); the spine
    above it, never crossed, keeps its configured bandwidth ratio without whole-port rounding (`port_ratios`): the
    2:1 leaf under the 2:1 spine leaves 1 / 4 of the NIC bandwidth above the spine, 4:1 by hand; the last tier 1.0."""
    path = tmp_path / "three.yaml"
    path.write_text(THREE_TIERS)
    system = load_system(str(path))
    topo = build_topology(system)
    assert len(topo.tiers) == 1 and topo.tiers[0].is_top
    assert analytical_tiers(system)[1] == (1.0, 4.0, 1.0)


def test_the_slower_nic_note_names_the_oversubscribed_tiers_not_the_top(tmp_path):
    """400G NICs (4 a node, 2 GPUs each) under 800G ports: a 64-GPU leaf domain's 32 NICs bring 32 x 50 GB/s =
    1.6 TB/s and its 4 leaves x 8 up ports x 100 GB/s carry 3.2 TB/s: 0.5:1 (1:1 in ports). The spine is the top
    (no uplinks): nothing to say of it."""
    path = tmp_path / "slow-nics.yaml"
    path.write_text(TOY.format(nics=4, rail="false", radix=16).replace("port_bandwidth_bytes_per_s: 400Gbps",
                                                                       "port_bandwidth_bytes_per_s: 800Gbps"))
    note = speed_mismatch_note(build_topology(load_system(str(path))))
    assert note is not None and note.startswith("NICs at 400 Gb/s under leaf ports at 800 Gb/s")
    assert note.endswith(": leaf 0.5:1 (1:1 in ports), as the analytical and flow models both price it")
    assert "spine" not in note


def test_a_tier_without_a_port_speed_runs_at_the_nics(tmp_path):
    """`NetworkTier.port_bandwidth_bytes_per_s` omitted: the tier's ports run at the NIC's speed (`build_topology`),
    so a fabric whose other ports match the NICs has one speed: no note for a job crossing it (a `train` or
    `collective` over 128 GPUs), and its ratios are the port ratios (1:1 here)."""
    from infraplan.network.tier_bandwidth import job_crossing_notes, tier_bandwidth_ratios

    path = tmp_path / "no-spine-port.yaml"
    text = TOY.format(nics=8, rail="true", radix=8)
    head, spine = text.split("    - {name: spine")
    path.write_text(head + "    - {name: spine" + spine.replace(",\n       port_bandwidth_bytes_per_s: 400Gbps}", "}"))
    system = load_system(str(path))
    assert system.network.tiers[1].port_bandwidth_bytes_per_s is None
    assert job_crossing_notes(system, 128) == []
    assert tier_bandwidth_ratios(system) == (1.0, 1.0)


def test_the_nic_note_comes_before_the_tier_note(tmp_path):
    """`fabric_speed_notes`' order (its docstring): the NICs against the leaf ports, then adjacent tiers' ports. 400G
    NICs under 800G leaf ports under 400G spine ports: both lines, in that order."""
    from infraplan.network.tier_bandwidth import fabric_speed_notes

    path = tmp_path / "two-mismatches.yaml"
    text = TOY.format(nics=8, rail="true", radix=8)
    head, spine = text.split("    - {name: spine")
    leaf = head.replace("port_bandwidth_bytes_per_s: 400Gbps}", "port_bandwidth_bytes_per_s: 800Gbps}")
    path.write_text(leaf + "    - {name: spine" + spine)
    notes = fabric_speed_notes(build_topology(load_system(str(path))))
    assert [n.split(" ")[0] for n in notes] == ["NICs", "spine"], notes
    assert notes[0].startswith("NICs at 400 Gb/s under leaf ports at 800 Gb/s")
    assert notes[1].startswith("spine ports at 400 Gb/s above leaf ports at 800 Gb/s")
