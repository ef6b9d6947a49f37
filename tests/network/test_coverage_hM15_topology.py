"""Coverage wave hM15 (session 42): `network.topology` and `cluster.power` branches no test reached.

Each expectation is derived by hand from the folded-Clos rules in `network.topology`'s module docstring (a switch at
oversubscription o uses floor(k o / (1 + o)) ports down; a fabric of one tier cannot join two leaf switches) and
from what a rail-only cut means (no rail cut exists on a Clos)."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.catalog.schemas import Accelerator, System
from infraplan.cluster import Cluster
from infraplan.cluster.power import ServerLayout, fabric_ports
from infraplan.errors import InputError
from infraplan.network.topology import build_topology

SUPERPOD = load_system("dgx-h100-superpod")


def _with(system: System, node: dict | None = None, tiers: list | None = None, **network: object) -> System:
    net = system.network.model_copy(update={**network, **({"tiers": tiers} if tiers is not None else {})})
    update: dict[str, object] = {"network": net}
    if node is not None:
        update["node"] = system.node.model_copy(update=node)
    return system.model_copy(update=update)


def test_a_clos_has_no_rail_cut_and_its_bisection_is_half_its_nics() -> None:
    """A (rail-optimised, not rail-only) Clos: no rails and no rail bisection; 1,024 non-blocking GPUs at 400 Gb/s
    (50 GB/s) each: half of them across the middle, 512 x 50 GB/s."""
    topo = build_topology(SUPERPOD, 1024)
    assert not topo.rail_only
    assert topo.rails == 0
    assert topo.rail_bisection_bytes_per_s == 0.0
    assert topo.bisection_bytes_per_s == pytest.approx(512 * 50e9)


@pytest.mark.parametrize("gpus", [0, -8])
def test_no_gpus_is_refused(gpus: int) -> None:
    with pytest.raises(InputError, match=f"--gpus must be positive, got {gpus}"):
        build_topology(SUPERPOD, gpus)


def test_a_node_without_nics_has_no_fabric_and_no_switch_ports() -> None:
    """No NICs: nothing to build (the builder refuses); the power chain counts 0 switch ports and 0 tiers for it and
    keeps the accelerators asked for."""
    bare = _with(SUPERPOD, node={"nics_per_node": 0})
    with pytest.raises(InputError, match="has no NICs: no scale-out fabric to build"):
        build_topology(bare, 64)
    layout = ServerLayout(_accelerator(), bare)
    assert fabric_ports(layout, 64) == (0, 0, 0, 64)


def _accelerator() -> Accelerator:
    return Cluster.resolve("dgx-h100-superpod").accelerator


def test_fabric_ports_count_every_used_port_of_every_switch() -> None:
    """512 GPUs of the SuperPOD: 16 leaves and 8 spines of 64 ports, the leaves 32 down / 32 up (1:1), the spines
    all 64 down (the top): 16 x 64 + 8 x 64 = 1,536 ports over 2 tiers and 24 switches."""
    layout = ServerLayout(_accelerator(), SUPERPOD)
    assert fabric_ports(layout, 512) == (16 * 64 + 8 * 64, 2, 24, 512)


def test_a_radix_leaving_no_down_port_is_refused() -> None:
    """Radix 1 at 1:1: floor(1 x 1 / 2) = 0 ports down."""
    tiers = [t.model_copy(update={"switch_radix": 1}) if i == 0 else t for i, t in enumerate(SUPERPOD.network.tiers)]
    with pytest.raises(InputError, match="radix 1 at 1:1 leaves no down port"):
        build_topology(_with(SUPERPOD, tiers=tiers), 512)


def test_a_tier_without_a_radix_is_refused() -> None:
    tiers = [t.model_copy(update={"switch_radix": None}) if i == 1 else t for i, t in enumerate(SUPERPOD.network.tiers)]
    with pytest.raises(InputError, match="tier spine of dgx-h100-superpod has no switch_radix"):
        build_topology(_with(SUPERPOD, tiers=tiers), 512)


@pytest.mark.parametrize(("gpus", "switches"), [(128, 2), (256, 4)])
def test_one_tier_cannot_join_two_leaf_switches(gpus: int, switches: int) -> None:
    """A single tier of 64-port switches: 64 GPUs (8 nodes x 8 NICs, 64 links) fit one switch, the whole fabric;
    128 or 256 GPUs need 2 or 4 switches (64 links each) and no tier above joins them: refused with that
    arithmetic."""
    alone = _with(SUPERPOD, tiers=[SUPERPOD.network.tiers[0]])
    one = build_topology(alone, 64)
    assert [t.switches for t in one.tiers] == [1] and one.tiers[0].is_top
    with pytest.raises(InputError, match=f"{gpus} NIC links need {switches} switches of radix 64 but .* has only "
                                         "the leaf tier"):
        build_topology(alone, gpus)
