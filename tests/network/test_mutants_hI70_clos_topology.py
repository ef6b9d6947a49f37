"""Mutants of `network.clos_topology` (split out of `network.topology` in session 69) the suite let live (hI,
session 70): `bisection_of` / `rail_bisection_of` asked for more GPUs than the fabric is built for read past it. The
least cut between two halves of a fabric's GPUs cannot exceed its own: a count beyond the built fabric is the
fabric (DGX H100 SuperPOD at 512: 64 nodes x 8 NDR NICs, non-blocking, 256 x 50 GB/s = 12.8 TB/s a direction)."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.network.rail_leaves import with_fabric
from infraplan.network.topology import build_topology


def test_a_count_past_the_fabric_is_the_whole_fabric() -> None:
    topo = build_topology(load_system("dgx-h100-superpod"), 512)
    assert topo.bisection_bytes_per_s == pytest.approx(256 * 50e9, rel=1e-12)
    assert topo.bisection_of(2048) == topo.bisection_bytes_per_s


def test_a_rail_only_count_past_the_fabric_is_the_whole_fabric() -> None:
    topo = build_topology(with_fabric(load_system("dgx-h100-superpod"), "rail-only"), 512)
    assert topo.rail_only and topo.rails == 8
    assert topo.rail_bisection_of(2048) == topo.rail_bisection_bytes_per_s > 0
    assert topo.bisection_of(2048) == topo.bisection_bytes_per_s == 8 * topo.rail_bisection_bytes_per_s
