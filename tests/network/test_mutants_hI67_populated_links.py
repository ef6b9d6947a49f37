"""hI67 mutation wave on hB66 / hB2's `network.costs.populated_links`: by hand on generic GB200 fabrics.

The rule (its docstring, after the RA's balanced wiring): NIC links for the servers there; within one leaf domain of a
two-tier fabric a leaf's uplinks for its ports in use, rounded up to the same number to every spine; whole above that.
1,000 GB200 build 2 units (1,152 GPUs: 16 leaves in 2 leaf domains, 8 spines): 250 trays x 4 NICs = 1,000 NIC
links, and the 16 x 72 = 1,152 uplinks whole (the spines join both units). 200 GB200 in one unit's part (288 GPUs: 4
leaves, 2 spines): 50 trays x 4 = 200 NIC links, 50 a leaf, so 50 uplinks a leaf (25 to each spine): 200.
"""

from __future__ import annotations

from infraplan.catalog.loader import load_system
from infraplan.cluster.generic import generic_system
from infraplan.network.costs import populated_links
from infraplan.network.topology import build_topology


def test_two_units_cable_every_spine_link() -> None:
    topo = build_topology(generic_system("gb200", 1000))
    assert [t.switches for t in topo.tiers] == [16, 8] and topo.gpus == 1152
    assert populated_links(topo, 0, 1000) == 1000 and populated_links(topo, 1, 1000) == 16 * 72


def test_part_of_one_unit_cables_the_ports_in_use() -> None:
    topo = build_topology(generic_system("gb200", 200))
    assert [t.switches for t in topo.tiers] == [4, 2] and topo.gpus == 288
    assert populated_links(topo, 0, 200) == 200 and populated_links(topo, 1, 200) == 4 * 50


def test_an_oversubscribed_leaf_cables_its_share_of_uplinks() -> None:
    """dgx-b200's fabric (8 rail leaves of 32 down ports, radix 64) written with 2:1 leaves, as a user's system file
    may (no catalog two-tier system has one): 16 up ports a leaf, 2 spines. 128 of its 256 GPUs: 16 nodes x 8 NICs,
    16 links a leaf, so 16 / 2 = 8 uplinks a leaf (4 to each spine): 64."""
    system = load_system("dgx-b200")
    leaf = system.network.tiers[0].model_copy(update={"oversubscription": 2.0})
    tiers = [leaf, *system.network.tiers[1:]]
    topo = build_topology(system.model_copy(update={"network": system.network.model_copy(update={"tiers": tiers})}))
    assert [(t.switches, t.up_ports) for t in topo.tiers] == [(8, 16), (2, 0)]
    assert populated_links(topo, 0, 128) == 128 and populated_links(topo, 1, 128) == 8 * 8
