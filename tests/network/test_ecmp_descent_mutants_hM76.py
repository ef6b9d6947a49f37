"""hM76 mutation wave on hE76's redrawn descents: the pools a redrawing descent adds (`network.ecmp_tiers.tier_throws`:
those of the whole tier domains the groups reach, a part-filled one not counted), and the routed line's mirrored
bundles (`network.ecmp_collisions._mirrored`) against the priced line."""

from __future__ import annotations

import re

import numpy as np
import pytest

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.ecmp_collisions import collision_factor
from infraplan.network.ecmp_tiers import tier_throws
from infraplan.network.flow_schedules import flow_phases
from infraplan.network.routing import build_links
from infraplan.network.topology import build_topology

ONE = np.asarray(1.0)
SIZE = 64 * 2**20


def _pools(n: float, stride: float, redrawn: bool, all_to_all: bool = False) -> float:
    """Pools of 4 uplinks over 16 GPUs, tier domains of 32 GPUs, groups of n ranks `stride` apart."""
    out = tier_throws((4, 16.0), 1, 32, np.asarray(n), np.asarray(stride), ONE, ONE, 1.0, False, all_to_all, redrawn)
    assert out is not None
    return float(out[2].flat[0])


def test_a_part_filled_domain_adds_no_redrawn_pool() -> None:
    """3 ranks 16 apart span 48 GPUs: 2 domains of 32 reached (ceil 1.5), 4 pools of 16 GPUs climbing; the descents
    redraw the down pools of the 1 whole domain, 2 more (rint(1 x 32 / 16)): 6, not 8."""
    assert _pools(3, 16, False) == 4.0
    assert _pools(3, 16, True) == 6.0


def test_whole_domains_double_the_pools_and_an_all_to_all_keeps_its_own() -> None:
    """4 ranks 16 apart: 2 whole domains, 4 pools climbing and 4 redrawn (8); an all-to-all already counts its
    arrivals (x2) and adds none."""
    assert _pools(4, 16, True) == 8.0
    assert _pools(4, 16, True, all_to_all=True) == _pools(4, 16, False, all_to_all=True) == 8.0


@pytest.mark.parametrize(("gpus", "rel"), [(32, 0.005), (512, 0.005), (3072, 0.005), (6144, 0.002)])
def test_the_routed_descents_count_as_the_priced_ones(gpus: int, rel: float) -> None:
    """meta-genai-roce-24k (16-GPU racks, 3,072-GPU pods, no planes), `collective send-recv --gpus N` (rank i with
    i + N/2): the route-based factor (`ecmp_collisions.collision_factor`, its `_mirrored` down bundles counted once)
    and the priced one (`ecmp_tiers`, said in the basis: 1.307 / 1.489 / 1.587 / 1.126) are one law counted twice:
    within 0.5 % (pairs turning at a pod's spine, whose descent to the partner leaf is forced and the spine's own
    down bundle is not), 0.2 % for whole pods (hE76: priced = routed at 11.261 ms, the flow model 11.253). Taking
    the spine-to-leaf bundles as mirrors too gives 1.360 / 1.534 / 1.629, and the cluster turn's pod descent as the
    climb's 1.116 (hE75's)."""
    spec = load_system("meta-genai-roce-24k")
    topo = build_topology(spec)
    step = flow_phases("send-recv", "direct", np.arange(gpus), topo.scale_up_domain_gpus, SIZE)[0][0]
    routed = collision_factor(topo, build_links(topo, 1e12, 1.0), step, spec.network.ecmp_flows_per_pair)
    basis = estimate_collective("send-recv", Cluster.resolve("meta-genai-roce-24k"), gpus, SIZE).priced_basis
    priced = float(re.search(r"([0-9.]+)x the even spread", basis).group(1))  # type: ignore[union-attr]
    assert routed == pytest.approx(priced, rel=rel)
