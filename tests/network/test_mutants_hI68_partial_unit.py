"""hI68: hB67's partial rail unit (`network.rail_leaves.partial_unit_gpus`, `costs.whole_domain_topology`) at the
edges of its stated rule: the counts it leaves to the builder (a partial node, a rail-only fabric, NIC links that fit
one leaf switch, a unit that is not whole nodes; a system smaller than its unit, built by the rule since hN68) and a
user file whose unit's NIC links do not fill whole leaves. Each expected figure is worked by hand from the rule in
the docstrings:

* a partial unit is built on the fewest of the unit's leaves that take its NIC links (a divisor of the unit's leaves,
  each a rail or a group of rails), each leaf whole (`unit_part`); a leaf's down ports are the unit's links over its
  leaves, never more than radix x r / (1 + r) at r:1 (`leaf_down_ports`);
* `gpus` itself where the system is rail-only, where its NIC links fit one leaf switch, or where the unit is not
  whole nodes; a partial node keeps the builder's refusal.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.catalog.schemas import System
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.network.costs import describe_fabric
from infraplan.network.rail_leaves import with_fabric

H100 = load_system("dgx-h100-superpod")  # 8 GPUs and 8 NICs a DGX, QM9700 radix 64 at 1:1: 32 down ports a leaf


def _file(name: str, groups: list[int], total: int) -> System:
    """A user's file: the DGX H100 SuperPOD with other tier domains (validated as a file is)."""
    data = H100.model_dump()
    tiers = [dict(t, group_size=g) for t, g in zip(data["network"]["tiers"], groups, strict=False)]
    return System.model_validate({**data, "name": name, "total_accelerators": total,
                                  "network": {**data["network"], "tiers": tiers}})


def test_a_partial_node_inside_a_rail_unit_keeps_the_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match="not a multiple of the 8-GPU node"):
        describe_fabric(H100, 138)  # 17.25 DGX: not built as 17's fabric
    assert main(["network", "dgx-h100-superpod", "--gpus", "138"]) == 2
    err = capsys.readouterr().err
    assert "not a multiple of the 8-GPU node" in err and len(err.splitlines()) == 1


def test_a_rail_only_fabric_is_built_for_the_gpus_asked() -> None:
    """Rail-only (no spines to share): 9 DGX are 8 rail switches of 9 NICs each, built for the 72 GPUs; only the
    compared Clos takes the partial unit's whole leaves."""
    r = describe_fabric(with_fabric(H100, "rail-only"), 72)
    assert r.rail_only and r.fabric_gpus_count == 72 and [t.switches for t in r.tiers] == [8]
    assert not any(n.startswith("72 GPUs fill part of a rail unit") for n in r.notes)
    assert any(n.startswith("the Clos compared (clos_*): 72 GPUs fill part of a rail unit") for n in r.notes)


def test_the_note_counts_the_unused_ports() -> None:
    r = describe_fabric(H100, 136)  # 17 DGX on the 8 whole leaves of a 256-GPU unit: 256 - 136 = 120 ports idle
    assert any("the fabric of 256 GPUs (120 GPU ports unused" in n for n in r.notes)


def test_nic_links_that_fill_one_switch_take_one_switch() -> None:
    """A 200-GPU unit (25 DGX: 200 links over 8 rail leaves of 25 down ports): 8 DGX's 64 NIC links are one radix-64
    switch's ports, so one switch, not the unit's leaves and spines."""
    r = describe_fabric(_file("u200", [200, 2000, 16000], 16000), 64)
    assert r.switches_total == 1 and r.fabric_gpus_count == 64


def test_leaves_never_take_more_links_than_their_down_ports() -> None:
    """A 264-GPU unit (33 DGX): 264 links need ceil(264 / 32) = 9 leaves, railed to 24 (3 a rail, 33 % 3 == 0), 11
    down ports each (8 leaves would take 33 > 32). 9 DGX's 72 links: ceil(72 / 11) = 7, the fewest dividing 24 with
    whole rails is 8 leaves, 88 links: 11 DGX, 88 GPUs."""
    r = describe_fabric(_file("u264", [264, 2112], 2112), 72)
    assert r.fabric_gpus_count == 88


def test_a_system_smaller_than_its_unit_answers_its_own_count() -> None:
    """17 DGX in a user's file on SuperPOD tiers (a 256-GPU unit): built by the catalog's rule (hN68; the builder's
    own 136-GPU fabric, 17 spines, before), the unit's 8 leaves for its 136 GPUs, not a refusal of 256 GPUs."""
    r = describe_fabric(_file("t136", [256, 2048, 16384], 136), 136)
    assert r.gpus == 136 and r.fabric_gpus_count == 256 and r.switches_total == 12


def test_a_unit_of_part_nodes_is_left_to_the_builder() -> None:
    r = describe_fabric(_file("u100", [100, 1000], 1000), 72)  # 100 GPUs a leaf domain: not whole 8-GPU nodes
    assert r.gpus == 72 and r.fabric_gpus_count == 72


def test_one_rail_tier_refuses_by_the_asked_links() -> None:
    data = H100.model_dump()
    one = System.model_validate({**data, "name": "one", "total_accelerators": 256,
                                 "network": {**data["network"], "tiers": data["network"]["tiers"][:1]}})
    with pytest.raises(InputError, match="^72 NIC links need 2 switches"):
        describe_fabric(one, 72)


def test_a_generic_pod_tie_in_switches_goes_to_the_least_waste() -> None:
    """hB67's `clos_tiers`: the pod of the fewest switches, ties to the least waste. 2,884 MTIA 400 (36 a leaf of
    radix 72): 9 pods of 324 and 7 of 432 both take 216 switches; 324's build 2,916 (32 ports idle), 432's 3,024."""
    from infraplan.cluster.generic import generic_system

    system = generic_system("mtia-400", 2884)
    assert system.total_accelerators == 2916 and system.network.tiers[-1].group_size == 2916
    assert describe_fabric(system, 2884).switches_total == 216
