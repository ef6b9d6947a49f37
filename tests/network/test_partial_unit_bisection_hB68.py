"""hB (session 68): the bisection `network` reports at part of a rail unit is that of the GPUs there, the same
count the fabric's price and its collectives are of.

Session 67 built 136 H100 (17 DGX) on the 8 rail leaves they need, each whole (32 down, 32 up), under 4 spines:
the fabric of 256 GPUs, priced for 136 NIC links and 160 uplinks. `network` reported the built fabric's bisection,
256 / 2 x 400 Gb/s = 51.2 Tb/s, twice what 128 GPUs had (25.6) and more than 136 NICs can send across any cut:
half of them, 68 x 400 Gb/s = 27.2 Tb/s. By hand (ClosTopology.bisection_of): one leaf domain, so no tier below the
top bounds the cut, and the NICs of half the GPUs asked do. `collective` and `train` already priced the GPUs asked
(the group on the fabric; flow and analytical one answer on it, checked below), so only the reported figure moved.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.cluster.generic import generic_system
from infraplan.network.costs import describe_fabric
from infraplan.network.topology import build_topology
from infraplan.sweep.callables import collective

TBPS = 1e12 / 8  # bytes per second in one Tb/s


@pytest.mark.parametrize(("gpus", "tbps"), [(128, 25.6), (136, 27.2), (144, 28.8), (256, 51.2)])
def test_superpod_bisection_is_the_gpus_asked(gpus: int, tbps: float) -> None:
    r = describe_fabric(load_system("dgx-h100-superpod"), gpus)
    assert r.bisection_bytes_per_s == pytest.approx(tbps * TBPS)  # 51.2 at 136 and 144 before


def test_generic_partial_unit_bisection_is_the_gpus_asked() -> None:
    r = describe_fabric(generic_system("h100-sxm", 136), 136, None, whole=True)
    assert r.fabric_gpus_count == 256 and r.bisection_bytes_per_s == pytest.approx(27.2 * TBPS)


def test_bisection_never_falls_as_gpus_are_added() -> None:
    """Over 8..2,048 GPUs of the SuperPOD the reported bisection grows with the count and is never more than half
    the asked GPUs' NICs send (it jumped 25.6 -> 51.2 Tb/s at 128 -> 136 and stayed there to 256 before)."""
    system = load_system("dgx-h100-superpod")
    counts = range(8, 2049, 8)
    cuts = [describe_fabric(system, n).bisection_bytes_per_s for n in counts]
    assert all(b >= a - 1e-6 for a, b in zip(cuts, cuts[1:], strict=False))
    assert all(cut <= n / 2 * 400e9 / 8 * (1 + 1e-12) for n, cut in zip(counts, cuts, strict=True))
    assert max(cuts) == pytest.approx(2048 / 2 * 400e9 / 8)


def test_whole_fabric_bisection_unchanged() -> None:
    """At the fabric's own count `bisection_of` is the old property (tier cuts over every domain)."""
    topo = build_topology(load_system("meta-genai-roce-24k"), 6144)  # 2 pods of 3,072 at 1:7 above
    assert topo.bisection_of(6144) == topo.bisection_bytes_per_s
    assert topo.bisection_of(3072) == pytest.approx(3072 / 2 * topo.gpu_bytes_per_s)  # one pod: no pod cut
    assert topo.bisection_of(6144) < 3072 * topo.gpu_bytes_per_s  # the pods' uplinks bound it


@pytest.mark.parametrize("op", ["all-reduce", "all-to-all"])
def test_partial_unit_collective_flow_and_analytical_agree(op: str) -> None:
    """The 136 GPUs' collective on the unit's fabric: every leaf's 17 NICs have >= 17 uplinks cabled (1:1 leaves,
    rounded up to 5 per spine), so the fabric as priced carries what the flow model's built one does."""
    a, f = (collective(op, "h100-sxm", 136, "256MiB", placement="spread", sim=sim) for sim in ("analytical", "flow"))
    assert a.system == f.system == "h100-sxm-generic-256"  # type: ignore[attr-defined]
    assert f.alpha_beta_time_s == pytest.approx(a.alpha_beta_time_s, rel=1e-9)  # type: ignore[attr-defined]
    assert a.bottleneck_tier == "nic"  # type: ignore[attr-defined]
