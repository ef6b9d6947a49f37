"""hI2 (session 68): `ClosTopology.bisection_of` (network/topology.py): a count above the fabric's is the fabric's;
part of the 24,576-GPU fabric (8 pods) has the bisection of the fabric built for it; `network` reports the rail cut
of the GPUs asked. (hI2's two tests of the occupied-domain rule left when hN68 made the bisection the least cut
between the GPUs' halves: tests/network/test_min_cut_bisection_hN68.py pins that.)
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.network.costs import describe_fabric
from infraplan.network.rail_leaves import with_fabric
from infraplan.network.topology import build_topology


def test_a_count_above_the_fabric_is_the_fabric() -> None:
    """256 GPUs of the (non-blocking) DGX H100 SuperPOD: 128 x 400 Gb/s = 51.2 Tb/s at 512 asked too (the NICs
    bind there, so 512 unclamped would be 102.4); the 1:7 pods' uplinks bind at any count above."""
    superpod = build_topology(load_system("dgx-h100-superpod"), 256)
    assert superpod.bisection_of(512) == superpod.bisection_bytes_per_s == pytest.approx(51.2e12 / 8)
    topo = build_topology(load_system("meta-genai-roce-24k"), 6144)
    assert topo.bisection_of(12288) == topo.bisection_bytes_per_s


@pytest.mark.parametrize("gpus", [3072, 6144, 9216, 12288])
def test_part_of_a_larger_fabric_is_the_fabric_built_for_it(gpus: int) -> None:
    """The 24,576-GPU fabric (8 pods) at `gpus`: the bisection of the fabric built for those GPUs (1,536, 440, 440,
    880 NICs' worth: 1 pod's NICs, then half the occupied pods' uplinks), not half of all 8 pods' uplinks (1,760)."""
    system = load_system("meta-genai-roce-24k")
    big = build_topology(system, 24576)
    assert big.bisection_of(gpus) == pytest.approx(build_topology(system, gpus).bisection_bytes_per_s, rel=1e-12)


def test_network_reports_the_rail_cut_of_the_gpus_asked() -> None:
    """`network` on a rail-only fabric built for more GPUs than asked reports the rail's cut of those asked: 3,000
    GPUs of meta-genai-ib-24k rail-only are built as 2 whole spine domains (4,096 GPUs), one rail's cut half of their
    375 HB domains' NICs, 187 x 400 Gb/s = 74.8 Tb/s (not the 4,096's 102.4), the fabric's the 8 rails', 598.4."""
    r = describe_fabric(with_fabric(load_system("meta-genai-ib-24k"), "rail-only"), 3000)
    assert r.fabric_gpus_count == 4096
    assert r.rail_bisection_bytes_per_s == pytest.approx(187 * 400e9 / 8)
    assert r.bisection_bytes_per_s == pytest.approx(8 * 187 * 400e9 / 8)
