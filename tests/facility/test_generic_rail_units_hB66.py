"""hB (session 66): a plain accelerator count (`campus`, `facility --accelerator`, plan pools, `train --system gb200`)
builds the leaf unit its part's catalog SuperPOD builds, and its zones at the radix its fabric is built of.

By hand, GB200 (gb200-nvl72-superpod.yaml, NVIDIA's DGX SuperPOD RA scalable unit): 8 NVL72 racks = 144 trays x 4
NICs = 576 NIC links over leaves of 144 / 2 = 72 down ports = 8 leaves, 2 per rail; 576 uplinks over 4 spines of 144.
The leaves sit in their own racks, so every link is optical: 2 x (576 + 576) = 2,304 transceivers. A zone is the
two-tier limit of radix 144, 144^2 / 2 = 10,368 NIC links = 144 racks = 18 units: 144 leaves + 72 spines, 4 x 10,368
= 41,472 transceivers. H100 (dgx-h100-superpod.yaml): 32 DGX x 8 NICs = 256 links on 8 QM9700-class leaves of 32
down, one per rail, 4 spines; 2 x (256 + 256) = 1,024 transceivers. Until hB66 the generic layouts put one
top-of-rack leaf on every 72 GB200 (copper DAC, no rails) and every 32 H100 (a leaf over two 16-GPU air racks), and
sized zones at the default radix 64 (2,016 GB200) while their fabric took 144.
"""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog.loader import load_system
from infraplan.cluster import Cluster
from infraplan.cluster.generic import generic_system
from infraplan.facility.campus_fabric import zone_accelerators
from infraplan.network.costs import bill_of_materials
from infraplan.network.topology import build_topology


def test_one_gb200_unit_is_the_catalog_superpod_by_hand() -> None:
    topo = build_topology(generic_system("gb200", 576))
    leaf, spine = topo.tiers
    assert topo.rail_optimized and topo.leaves_per_rail == 2
    assert (leaf.switches, leaf.down_ports, leaf.up_ports, spine.switches, spine.down_ports) == (8, 72, 72, 4, 144)
    bom = bill_of_materials(topo)
    assert bom["transceivers_total"] == 2 * (576 + 576)
    assert [row["link_medium"] for row in bom["tiers"]] == ["optical", "optical"]
    superpod = bill_of_materials(build_topology(load_system("gb200-nvl72-superpod")))
    assert bom["capex_usd"] == pytest.approx(superpod["capex_usd"], rel=1e-12)
    assert bom["power_w"] == pytest.approx(superpod["power_w"], rel=1e-12)


def test_a_gb200_zone_is_radix_144s_two_tier_limit_of_whole_units() -> None:
    layout = Cluster.for_accelerator("gb200", 72).layout
    assert zone_accelerators(layout) == 144 * 144 // 2 == 10368
    topo = build_topology(generic_system("gb200", 10368))
    assert [t.switches for t in topo.tiers] == [144, 72] and topo.rail_optimized
    assert bill_of_materials(topo)["transceivers_total"] == 4 * 10368
    # the catalog's 9,216-GPU gb200-nvl72 (16 units on one two-tier fabric) is the same fabric
    generic = bill_of_materials(build_topology(generic_system("gb200", 9216)))
    catalog = bill_of_materials(build_topology(load_system("gb200-nvl72")))
    assert generic["capex_usd"] == pytest.approx(catalog["capex_usd"], rel=1e-12)


def test_below_one_unit_the_racks_asked_for_are_built_and_one_switch_has_no_rails() -> None:
    topo = build_topology(generic_system("gb200", 288))  # 4 racks: 4 leaves, one a rail, under 2 spines
    assert [t.switches for t in topo.tiers] == [4, 2] and topo.rail_optimized and topo.gpus == 288
    one = build_topology(generic_system("gb200", 144))  # 144 NIC links on one 144-port switch
    assert [t.switches for t in one.tiers] == [1] and not one.rail_optimized


def test_an_h100_unit_is_the_dgx_superpod_su_and_no_leaf_spans_an_air_rack(
        capsys: pytest.CaptureFixture[str]) -> None:
    topo = build_topology(generic_system("h100-sxm", 256))
    leaf, spine = topo.tiers
    assert topo.rail_optimized and topo.leaves_per_rail == 1 and topo.rails_per_leaf == 1
    assert (leaf.switches, leaf.down_ports, spine.switches) == (8, 32, 4)
    assert bill_of_materials(topo)["transceivers_total"] == 1024
    report = cli_json(capsys, "facility --accelerator h100-sxm --count 24576")
    assert report["accelerators_per_rack"] == 16 and report["rack_fabric_note"] is None


@pytest.mark.parametrize(("accelerator", "gpus", "batch"), [("gb200", 4608, 1152), ("h100-sxm", 2048, 1024)])
def test_within_one_zone_train_and_facility_give_one_price(accelerator: str, gpus: int, batch: int,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """`train --system gb200 --gpus 4608` priced one two-tier Clos at radix 144 while `facility` built 1:7 zones of
    2,016 at the default radix 64: $1.425 vs $1.449 a GPU-hour at c65ddb0c. Now one zone, one fabric, one price."""
    run = cli_json(capsys, f"train llama3-70b --system {accelerator} --gpus {gpus} --tp 8 --pp 4 --seq-len 8192 "
                           f"--global-batch {batch} --tokens 3.3e11")
    facility = cli_json(capsys, f"facility --accelerator {accelerator} --count {gpus}")
    assert run["usd_per_gpu_hour"] == pytest.approx(facility["usd_per_gpu_hour"], rel=1e-12)
    # (hB74's note on the generic fabric's balancing names its idealised Clos: not a second fabric)
    assert not any("non-blocking Clos" in n and "load_balancing" not in n for n in run["notes"])
