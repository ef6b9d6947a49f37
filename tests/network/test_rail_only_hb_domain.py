"""Rail-only rails per HB (scale-up) domain (Wang et al., arXiv:2307.12169): an NVL72 rack's 72 NICs are 72 rails,
each rail one NIC of every rack; a rail-only fabric's bisection is the rails' own (hand counts)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from flow_toy_fabric import pre_hn65_nvl72_9216

from infraplan.catalog import load_system
from infraplan.cli import main
from infraplan.network.clos_topology import leaf_index
from infraplan.network.rail_leaves import with_fabric
from infraplan.network.topology import build_topology


def _rail_only(system: str, gpus: int | None = None):  # type: ignore[no-untyped-def]
    return build_topology(with_fabric(load_system(system), "rail-only"), gpus)


def test_an_nvl72_rail_is_nic_k_of_every_rack():
    # GB200 NVL72 SuperPOD, 576 GPUs = 8 racks of 18 trays x 4 GPUs, one NIC per GPU: 72 rails of 8 NICs each,
    # 8 <= radix 72, so one switch per rail at the top, 8 ports used: 72 switches (the Clos: 16 + 9 = 25)
    topo = _rail_only("gb200-nvl72-superpod")
    assert topo.rails == 72 and len(topo.tiers) == 1
    assert topo.tiers[0].switches == 72 and topo.tiers[0].down_ports == 8
    # GPU g's NIC (node g // 4, NIC g % 4) plugs into rail g mod 72: NIC index k of its whole rack
    gpus = np.arange(576)
    assert np.array_equal(leaf_index(topo, gpus // 4, gpus % 4), gpus % 72)


def test_a_dgx_rail_is_still_nic_k_of_every_node():
    topo = _rail_only("dgx-h100-superpod", 512)  # 64 nodes: 8 rails of 64 NICs, one radix-64 switch each
    assert topo.rails == 8 and topo.switches_total == 8
    gpus = np.arange(512)
    assert np.array_equal(leaf_index(topo, gpus // 8, gpus % 8), gpus % 8)


def test_rail_only_bisection_is_per_rail():
    # NVL72, 576 GPUs: a rail's cut through the middle of the 8 racks is 4 NICs x 800 Gb/s = 400 GB/s; 72 rails
    topo = _rail_only("gb200-nvl72-superpod")
    assert topo.rail_bisection_bytes_per_s == 4 * 100e9
    assert topo.bisection_bytes_per_s == 72 * 4 * 100e9
    # one rack: every rail has one NIC, no network cut between halves of it (NVLink carries that traffic)
    assert _rail_only("gb200-nvl72-superpod", 72).bisection_bytes_per_s == 0.0
    # DGX H100, 16,384 GPUs: 2,048 NICs per rail, 1,024 x 50 GB/s across the middle, leaves 1:1 below the top
    dgx = _rail_only("dgx-h100-superpod")
    assert dgx.rail_bisection_bytes_per_s == 1024 * 50e9 and dgx.bisection_bytes_per_s == 8 * 1024 * 50e9


def test_the_network_command_reports_the_rails(capsys):
    assert main(["network", "gb200-nvl72-superpod", "--fabric", "rail-only", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rails_count"] == 72 and data["rail_bisection_bytes_per_s"] == 4e11
    assert main(["network", "gb200-nvl72-superpod", "--fabric", "rail-only"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    # 72 rail switches against the Clos's 8 rail leaves + 4 spines of the RA's SU (hN65; 47 more against 25 before)
    assert "rail-only: 60 more switches" in out and "72 rails" in out  # hU48: each term its own direction


def test_flows_between_racks_leave_on_the_destinations_rail(capsys):
    # PXN over the NVL72 domain: every flow leaves through its rack's NIC on the destination's rail; flow and
    # analytical all-to-all agree within 5 % (the flow model refuses a path between two rails' planes)
    times = {}
    for sim in ("analytical", "flow"):
        assert main(["collective", "all-to-all", "--system", "gb200-nvl72-superpod", "--gpus", "288", "--bytes",
                     "256MiB", "--fabric", "rail-only", "--sim", sim, "--json"]) == 0
        times[sim] = json.loads(capsys.readouterr().out)["time_s"]
    assert abs(times["flow"] / times["analytical"] - 1.0) < 0.05


@pytest.mark.parametrize(("gpus", "leaves", "down", "spines"), [(9216, 4, 32, 2), (6912, 3, 32, 2), (5760, 4, 20, 2)])
def test_a_rail_leaf_is_not_capped_at_the_systems_pod(gpus, leaves, down, spines, tmp_path):
    # Wang et al. (arXiv:2307.12169): a rail is a Clos of its own. GB200 NVL72, 9,216 GPUs = 128 racks: a rail is
    # NIC k of every rack, 128 NICs; a radix-72 leaf at 1:1 has 36 down ports, the largest divisor of 128 racks
    # within them is 32: 4 leaves of 32 down + 32 up; 4 x 32 = 128 up links on radix-64 spines: 2 spines.
    # 72 rails x (4 + 2) = 432 switches (the Clos's 688; capped at the 1,152-GPU pod it was 72 x (8 + 2) = 720).
    # 6,912 = 96 racks: 3 leaves of 32, 96 links on 2 spines (360, was 576); 5,760 = 80 racks: 4 of 20 (432, was 504)
    # (hN65: on the file's pre-hN65 radix-72 / 64 tiers; the catalog's radix-144 SU tiers put a rail on one switch)
    topo = _rail_only(pre_hn65_nvl72_9216(tmp_path), gpus)
    leaf, spine = topo.tiers
    assert topo.rails == 72 and leaf.domains == leaves and leaf.switches_per_domain == 72
    assert leaf.down_ports == leaf.up_ports == down and leaf.domain_gpus == down * 72
    assert spine.is_top and spine.planes == 72 and spine.switches == 72 * spines
    assert topo.switches_total == 72 * (leaves + spines)
    # half the rail's NICs (800 Gb/s each): its 1:1 leaves carry them up. 3 leaves: the cut through the middle one
    # crosses its half's 16 up links too (hN68: min cut of the built rail; 1 leaf's 32 links, 3.2 TB/s, before)
    assert topo.rail_bisection_bytes_per_s == gpus // 72 // 2 * 100e9


def test_a_job_of_no_whole_pods_keeps_the_pods_leaf_rule(capsys, tmp_path):
    # 5,328 GPUs = 74 racks: equal leaf domains would be 37 leaves of 2 racks; refused until hN55, now built as the
    # 5 whole 1,152-GPU pods it occupies (test_partial_pod_hN55.py), said in one note with both counts
    # (hN65: on the pre-hN65 tiers, whose pod is 1,152 GPUs)
    assert main(["network", pre_hn65_nvl72_9216(tmp_path), "--gpus", "5328", "--fabric", "rail-only", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["gpus"], d["fabric_gpus_count"]) == (5328, 5760)
    assert "5,328 GPUs end in a partial 1,152-GPU pod domain" in d["notes"][0]


def test_nvl72_9216_rail_only_saves_switches(capsys, tmp_path):
    # the catalog's RA tiers (hN65): 72 rails of 128 racks, one 144-port switch each, against 128 leaves + 72 spines
    assert main(["network", "gb200-nvl72", "--gpus", "9216", "--fabric", "rail-only"]) == 0
    assert "rail-only: 128 fewer switches" in " ".join(capsys.readouterr().out.split())  # hU48 wording
    # the pre-hN65 radix-72 / 64 tiers: 432 against 688
    assert main(["network", pre_hn65_nvl72_9216(tmp_path), "--gpus", "9216", "--fabric", "rail-only"]) == 0
    assert "rail-only: 256 fewer switches" in " ".join(capsys.readouterr().out.split())
