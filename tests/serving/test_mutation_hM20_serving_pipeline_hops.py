"""Mutation wave hM20 (session 44) on `serving.pipeline_hops`: a crossing hop pays the latency of the switch tier its
pair's extent 2 s crosses (module docstring's ASSUMPTION), read on an empty hop where the latency is all there is."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.network.collectives import Fabric
from infraplan.serving.pipeline_hops import pipeline_hops_time

H100 = load_system("dgx-h100-superpod")  # leaf 256 GPUs (2 us round trip), spine 2,048 (4 us)
FABRIC = Fabric.from_system(H100, load_accelerator(H100.accelerator))


@pytest.mark.parametrize(("stage_ranks", "tier"), [(8, 0), (128, 0), (256, 1)])
def test_a_crossing_hop_pays_the_tier_of_its_pair_extent(stage_ranks: int, tier: int) -> None:
    """PP2 with stages of s ranks: the one hop crosses the 8-GPU edge; its pair spans 2 s ranks, inside the 256-GPU
    leaf for s <= 128, across the spine for s = 256."""
    assert [g.group_size for g in H100.network.tiers][:2] == [256, 2048]
    got = pipeline_hops_time(FABRIC, np.array([0.0, 1e8]), stage_ranks, 2)
    expected = np.array([0.0, 1e8]) / FABRIC.nic_bytes_per_s + FABRIC.tier_round_trip_latency_s[tier]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
