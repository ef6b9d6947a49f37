"""hN (session 65): the NVL72 SuperPOD fabrics as NVIDIA's DGX SuperPOD reference architecture builds them.

The RA's scalable unit (SU): 8 NVL72 racks = 576 GPUs, 144 compute trays of 4 GPUs and 4 NICs, a rail-optimised
non-blocking two-tier fabric at 800 Gb/s a GPU (catalog/systems/gb200-nvl72-superpod.yaml's source); "8 leaf + 4
spine" per 576-GPU SU (the DGX B300 RA's count, reference network.md:24) on Quantum-X800 Q3400 switches (144 x
800G). By hand: 576 NIC links over leaves of 144 / 2 = 72 down ports = 8 leaves, 2 per rail (4 NICs a tray), each
with 72 up; 8 x 72 = 576 uplinks over spines of 144 down = 4 spines (balanced: 72 / 4 = 18 links from every leaf
to every spine). The leaves sit in their own network racks, so every link is optical: 2 x (576 + 576) = 2,304
transceivers. Until hN65 the files built 2 top-of-rack leaves of radix 72 per rack (no rails: copper DAC) under
radix-64 switches, no Quantum-X800 model, and said so in `costs.unrailed_note` (hJ65).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from infraplan.catalog.loader import load_system
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.network.clos_topology import leaf_index
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.topology import build_topology

GIB = 2.0**30


def _network(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["network", *args, "--json"]) == 0
    data: dict = json.loads(capsys.readouterr().out)
    return data


@pytest.mark.parametrize("name", ["gb200-nvl72-superpod", "gb300-nvl72-superpod"])
def test_superpod_su_is_the_reference_architecture_hand_count(capsys, name):
    report = _network(capsys, name)
    assert report["rail_optimized"] is True
    leaf, spine = report["tiers"]
    assert (leaf["switches"], leaf["radix"], leaf["down_ports_per_switch"], leaf["up_ports_per_switch"]) == (
        8,
        144,
        72,
        72,
    )
    assert (spine["switches"], spine["radix"], spine["down_ports_per_switch"]) == (4, 144, 144)
    assert (leaf["links_from_below"], spine["links_from_below"], report["links_total"]) == (576, 576, 1152)
    assert leaf["link_medium"] == spine["link_medium"] == "optical"
    assert report["transceivers_total"] == 2 * 1152
    # the per-port estimate of a 144 x 800G switch (switches.yaml: $500 and 14 W a 400G port) and links.yaml's
    # 800G optics ($1,500 and 16 W a transceiver, $120 of fibre a link)
    switch_usd, switch_w = 144 * 2 * 500, 144 * 2 * 14
    assert report["capex_usd"] == pytest.approx(12 * switch_usd + 2304 * 1500 + 1152 * 120)
    assert report["power_w"] == pytest.approx(12 * switch_w + 2304 * 16)
    assert not any("declares a rail-optimised fabric" in n for n in report["notes"])


def test_rails_take_nic_r_of_every_tray_in_four_racks():
    """Leaf 2r takes NIC r of the 72 trays of racks 0-3, leaf 2r + 1 of racks 4-7: the same NIC index on every
    node goes to the same leaves (network.md:12), and a rail's traffic within 4 racks stays on one leaf."""
    topo = build_topology(load_system("gb200-nvl72-superpod"))
    assert (topo.leaves_per_rail, topo.rails_per_leaf, topo.nodes_per_leaf_domain) == (2, 1, 144)
    trays, nics = np.meshgrid(np.arange(144), np.arange(4), indexing="ij")
    assert np.array_equal(leaf_index(topo, trays, nics), 2 * nics + trays // 72)


def test_nine_thousand_gpu_cluster_is_sixteen_sus_on_two_tiers():
    """16 SUs: 128 leaves of 72 up; balanced wiring takes the smallest divisor S of 72 with 128 x 72 / S <= 144, 72
    spines of 128 down (64 would hold the 9,216 links by port count, with uneven wiring; `network` notes it)."""
    topo = build_topology(load_system("gb200-nvl72"))
    leaf, spine = topo.tiers
    assert topo.rail_optimized and (leaf.switches, spine.switches, spine.down_ports) == (128, 72, 128)
    assert topo.links_total == 2 * 9216


@pytest.mark.parametrize("name", ["gb300-nvl72", "mtia-400-rack"])
def test_one_rack_files_declare_their_single_leaf_unrailed(capsys, name):
    report = _network(capsys, name)
    assert report["rail_optimized"] is False and report["switches_total"] == 1
    assert not any("declares a rail-optimised fabric" in n for n in report["notes"])
    assert load_system(name).network.rail_optimized is False


def test_gb300_rack_leaf_is_a_quantum_x800_radix():
    assert load_system("gb300-nvl72").network.tiers[0].switch_radix == 144


def test_rail_leaves_leave_no_ecmp_collision_to_explain():
    """On the ToR leaves the 576-GPU all-to-all's flows collided under ECMP on the superpod switches (flow > 1.05 x
    analytical, `test_flow_explain`); on rail leaves a NIC's flows to its rail in 4 racks stay on its leaf and the
    rest spread evenly over 4 spines: the flow model agrees with the analytical one."""
    f = estimate_collective("all-to-all", Cluster.resolve("gb200-nvl72-superpod"), 576, GIB, sim="flow")
    assert f.time_s == pytest.approx(f.analytical_time_s, rel=0.02)
