"""hI67 mutation wave on hB66 / hB2's generic rail units (`cluster.generic.rail_unit`, `unit_part`): their stated
rules on nodes and radixes no catalog part has, where every guard decides alone.

Enumerated over the catalog: the eight parts with a unit (GB200 / GB300 / B300 576 GPUs at radix 144, H100 / H200 /
B200 256 at 64, MI300X / MI355X 64 at 64) pass every guard, and A100 (8 leaves under 20 up ports) and Gaudi 2 (6
leaves under 32) fail only `radix/2 % leaves`; so the guards on whole scale-up domains, one leaf, a leaf count that
divides the unit's and rails evenly split were not seen. The rules (the functions' docstrings, after NVIDIA's DGX
SuperPOD RA scalable unit: each leaf a rail or a group of rails of every node, whole units under a tier-1 switch,
whole racks): a unit is whole scale-up domains, its NIC links fill whole leaves of radix/2 down ports, at least two,
and its leaf count divides radix/2; a partial unit is the fewest of the unit's leaves that take the nodes' links, a
divisor of the unit's leaf count, each leaf a rail or a group of rails (count | NICs or NICs | count), whole racks.
"""

from __future__ import annotations

from infraplan.catalog import load_accelerator
from infraplan.catalog.schemas import Node
from infraplan.cluster.generic import generic_system, rail_unit, unit_part


def _node(gpus: int, nics: int, domain: int) -> Node:
    return Node(accelerators_per_node=gpus, scale_up_domain=domain, nics_per_node=nics,
                nic_bandwidth_bytes_per_s=50e9)


def test_a_unit_is_whole_scale_up_domains() -> None:
    gb200 = load_accelerator("gb200")  # its SuperPOD unit: 576 GPUs
    assert rail_unit(gb200, _node(4, 4, 72), 144) == 576
    assert rail_unit(gb200, _node(4, 4, 80), 144) is None  # 576 GPUs are not whole 80-GPU domains


def test_a_units_links_fill_whole_leaves_of_at_least_two() -> None:
    h100 = load_accelerator("h100-sxm")  # 256 GPUs: 32 nodes x 8 NICs = 256 links
    assert rail_unit(h100, _node(8, 8, 8), 64) == 256  # 8 leaves of 32
    assert rail_unit(h100, _node(8, 8, 8), 120) is None  # 256 links over leaves of 60: not whole (4 leaves + 16)
    mi300x = load_accelerator("mi300x")  # 64 GPUs: 64 links
    assert rail_unit(mi300x, _node(8, 8, 8), 64) == 64  # 2 leaves of 32
    assert rail_unit(mi300x, _node(8, 8, 8), 128) is None  # one leaf of 64 takes every link: no rails


def test_the_units_leaves_divide_half_the_radix() -> None:
    """Gaudi 2's catalog node (24 NICs) at radix 64: 192 links = 6 leaves, which do not divide 32 up ports."""
    assert rail_unit(load_accelerator("gaudi2"), _node(8, 24, 8), 64) is None
    assert not generic_system("gaudi2", 128).network.rail_optimized


def test_a_partial_unit_takes_a_divisor_of_the_units_leaves() -> None:
    # one NIC a node, 8 GPUs, leaves of 32 down ports, a unit of 8 leaves (2,048 GPUs): 70 nodes need 3 leaves,
    # 3 does not divide 8, so 4 leaves (4 x 32 nodes x 8 GPUs)
    assert unit_part(70, _node(8, 1, 8), 32, 2048, 8) == 1024


def test_a_partial_units_leaves_split_the_rails_evenly() -> None:
    # 8 NICs a node, leaves of 32, a unit of 12 leaves (384 GPUs): 10 nodes need 3 leaves, which divide 12 but not the
    # 8 rails (nor 8 them): 4 leaves, 2 rails each, 16 nodes
    assert unit_part(10, _node(8, 8, 8), 32, 384, 12) == 128


def test_a_partial_unit_is_whole_racks() -> None:
    # GB200-like trays (4 GPUs, 4 NICs) in 16-GPU racks, leaves of 72: 10 trays need 1 leaf (72 GPUs, 4.5 racks),
    # so 2 leaves (144 GPUs, 9 racks)
    assert unit_part(10, _node(4, 4, 16), 72, 576, 8) == 144


def test_one_switch_has_no_rails_and_three_tiers_join_whole_units() -> None:
    """144 GB200 (36 trays x 4 NICs) on one 144-port switch: no rails, in the System as in its topology. Beyond a
    two-tier zone (10,368) the middle tier joins whole units (576 GPUs), more than one: 12,000 GB200 build 12,096
    (21 units), 20,000 build 20,736 (36), never part of a unit under a tier-1 switch."""
    assert not generic_system("gb200", 144).network.rail_optimized
    for gpus in (12000, 20000):
        system = generic_system("gb200", gpus)
        middle = system.network.tiers[1].group_size
        assert system.total_accelerators % 576 == 0 and middle % 576 == 0 and middle > 576
