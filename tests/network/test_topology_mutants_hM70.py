"""A rail-only fabric's rail bisection where NICs and ports, or two tiers' ports, run at different speeds (hM70
mutation wave: pricing that cut at the NIC's own rate or at the leaf port's rate, not the link's, survived every
test). The rule (`clos_topology.nic_link_rate`, hN62 / hY64): a link runs at its slower end's rate, NIC-to-leaf and
leaf-to-spine alike; `ClosTopology.rail_bisection_bytes_per_s` is one rail's cut at those rates (the `network`
JSON's `rail_bisection_bytes_per_s`).

Hand counts (16 eight-GPU nodes, 8 NICs each, `--fabric rail-only`: 8 rails, each a NIC of all 16 HB domains):
- 800G NICs under 400G ports, one 64-port-class leaf per rail takes all 16 HB domains (the leaf is the top): a
  rail's cut is the NICs of half its HB domains, 8 x 400 Gb/s = 8 x 50 GB/s = 400 GB/s (not 8 x 100 GB/s).
- 400G NICs, 800G leaf ports at 2:1 under 400G spine ports, leaf domains of 32 GPUs (4 nodes): a rail's leaf in a
  domain takes 4 NIC links down and ceil(4 / 2) = 2 up, each leaf-spine link at the slower 50 GB/s; the leaf tier's
  cut is half of 4 domains x 1 leaf of this rail x 2 up x 50 GB/s = 200 GB/s, under the NICs' 400 GB/s: 200 GB/s a
  rail, 1.6 TB/s over 8 rails (at the leaf port's 100 GB/s it would read 400 GB/s, the NICs' cut).
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.network.rail_leaves import with_fabric
from infraplan.network.topology import build_topology

TOY = """
display_name: hM70 rail-only toy
source: test fixture
accelerator: b200
total_accelerators: 128
node: {{accelerators_per_node: 8, scale_up_domain: 8, nics_per_node: 8, nic_bandwidth_bytes_per_s: {nic}}}
network:
  kind: infiniband
  rail_optimized: true
  collective_efficiency: 0.94
  tiers:
    - {{name: leaf, group_size: {group}, oversubscription: {o}, hop_latency_s: 1.0e-6, switch_radix: {radix},
       port_bandwidth_bytes_per_s: {leaf}}}
    - {{name: spine, group_size: 128, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 400Gbps}}
"""


def _rail_only(tmp_path, **fields: object):
    path = tmp_path / "rail-only.yaml"
    path.write_text(TOY.format(**fields))
    return build_topology(with_fabric(load_system(str(path)), "rail-only"))


def test_a_rail_cut_counts_nics_at_their_links_rate(tmp_path):
    topo = _rail_only(tmp_path, nic="800Gbps", leaf="400Gbps", group=64, o=1, radix=16)
    assert topo.rail_only and topo.rails == 8 and len(topo.tiers) == 1  # the rails' leaves are the top
    assert topo.rail_bisection_bytes_per_s == pytest.approx(8 * 50e9, rel=1e-12)
    assert topo.bisection_bytes_per_s == pytest.approx(8 * 8 * 50e9, rel=1e-12)


def test_a_rail_cut_counts_leaf_uplinks_at_the_slower_ports_rate(tmp_path):
    topo = _rail_only(tmp_path, nic="400Gbps", leaf="800Gbps", group=32, o=2, radix=8)
    leaf = topo.tiers[0]
    assert (leaf.domains, leaf.switches_per_domain, leaf.up_ports, leaf.uplink_bytes_per_s) == (4, 8, 2, 50e9)
    assert topo.rail_bisection_bytes_per_s == pytest.approx(2 * 1 * 2 * 50e9, rel=1e-12)
    assert topo.bisection_bytes_per_s == pytest.approx(8 * 200e9, rel=1e-12)
