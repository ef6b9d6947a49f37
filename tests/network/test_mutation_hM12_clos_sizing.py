"""Mutation wave 12 (hM12): the folded-Clos builder's port split and rail groups (network/topology.py), by hand from
its module docstring: floor(k o / (1 + o)) ports down, ceil(down / o) up, and rail groups only where the tier above
splits into planes and a node has more NICs than its leaf domain has leaves; and network/placement.py's note."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_system
from infraplan.catalog.schemas import System
from infraplan.network.clos_topology import leaf_index
from infraplan.network.costs import bill_of_materials
from infraplan.network.placement import placement_notes
from infraplan.network.topology import _down_max, build_topology


def _with_leaf_oversubscription(name: str, o: float) -> System:
    system = load_system(name)
    tiers = [t.model_copy(update={"oversubscription": o}) if i == 0 else t
             for i, t in enumerate(system.network.tiers)]
    return system.model_copy(update={"network": system.network.model_copy(update={"tiers": tiers})})


@pytest.mark.parametrize(("o", "down"), [(1.0, 32), (2.0, 42), (3.0, 48), (5.0, 53), (7.0, 56)])
def test_a_radix_64_switch_keeps_down_and_up_ports_within_its_radix(o: float, down: int) -> None:
    """floor(64 o / (1 + o)) down: 32, 42 (42.67), 48, 53 (53.33), 56; with ceil(down / o) up they fit in 64 ports,
    one more down port would not (43 + 22 = 65 at 2:1, 54 + 11 = 65 at 5:1). The top tier uses all 64 down."""
    assert _down_max(64, o, False) == down
    assert down + np.ceil(down / o) <= 64 < (down + 1) + np.ceil((down + 1) / o)
    assert _down_max(64, o, True) == 64


def test_leaf_up_ports_are_rounded_up_so_the_oversubscription_stays_within_the_configured() -> None:
    """Gaudi 2 leaves at 5:1: 53 down ports at most, 192 NIC links of an 8-server leaf domain need 4 leaves of 48;
    each takes ceil(48 / 5) = 10 up ports (4.8:1), not 9 (5.33:1, above what was configured)."""
    topo = build_topology(_with_leaf_oversubscription("gaudi2-cluster", 5.0))
    leaf = topo.tiers[0]
    assert (leaf.switches_per_domain, leaf.down_ports, leaf.up_ports) == (4, 48, 10)
    assert leaf.effective_oversubscription == pytest.approx(4.8) and leaf.effective_oversubscription <= 5.0
    assert topo.links_between(1) == leaf.switches * 10


def test_gaudi2_rail_groups_where_the_spines_split_into_planes() -> None:
    """1,024 Gaudi 2: 6 leaves per 8-server domain, 24 NICs per node, spines in 6 planes: each leaf takes a group of
    24 / 6 = 4 rails of every node (NIC r to leaf r // 4), rail-optimised, so the NIC links are optical."""
    topo = build_topology(load_system("gaudi2-cluster"))
    assert topo.tiers[1].planes == 6
    assert (topo.rail_optimized, topo.rails_per_leaf, topo.leaves_per_rail) == (True, 4, 1)
    assert list(leaf_index(topo, np.array([0, 0, 0, 1]), np.array([0, 3, 4, 23]))) == [0, 0, 1, 5]
    assert bill_of_materials(topo)["tiers"][0]["link_medium"] == "optical"


def test_gaudi2_without_planes_above_keeps_its_rail_groups() -> None:
    """64 Gaudi 2 (one leaf domain): the 4 spines of the top tier reach all 6 leaves in one plane, and the
    catalog's rail-group wiring (group r of every server's 24 ports to leaf r) is built all the same (hN70: rail
    groups had been built only under planes): NIC r on leaf r // 4, optical as every rail-optimised leaf; the
    same fabric marked not rail-optimised fills the leaves in order, (node x 24 + NIC) // 32, over copper DAC."""
    system = load_system("gaudi2-cluster")
    topo = build_topology(system, 64)
    assert topo.tiers[1].planes == 1
    assert (topo.rail_optimized, topo.rails_per_leaf) == (True, 4)
    assert list(leaf_index(topo, np.array([0, 0, 0, 1]), np.array([0, 3, 4, 23]))) == [0, 0, 1, 5]
    assert bill_of_materials(topo)["tiers"][0]["link_medium"] == "optical"
    plain = system.model_copy(update={"network": system.network.model_copy(update={"rail_optimized": False})})
    topo = build_topology(plain, 64)
    assert (topo.rail_optimized, topo.rails_per_leaf) == (False, 1)
    assert list(leaf_index(topo, np.array([0, 0, 0, 1]), np.array([0, 3, 4, 23]))) == [0, 0, 0, 1]
    assert bill_of_materials(topo)["tiers"][0]["link_medium"] == "copper DAC"


def test_only_a_stated_launcher_placement_gets_its_note() -> None:
    """`placement_notes`: a line only for a job beyond one domain on a system whose launcher places ranks
    (GB200's Slurm segments: 256 GPUs are 64 nodes, segments of 16 nodes, 64 GPUs per rack); none for a DGX H100
    job beyond its 8-GPU node (`fill`) nor for a GB200 job inside one rack."""
    gb200, dgx = load_system("gb200-nvl72-superpod").node, load_system("dgx-h100-superpod").node
    (line,) = placement_notes(gb200, 256)
    assert "ranks placed 64 GPUs per 72-GPU NVLink domain" in line and "--segment 16 nodes" in line
    assert placement_notes(gb200, 72) == []
    assert dgx.placement != "slurm_segment" and placement_notes(dgx, 64) == []
