"""A spread send-recv's pairs priced by their share of an oversubscribed tier's uplinks as the flow model routes
them (hI, session 56; issue 12 item 6's principle, `fabric.uplink_occupancy`, the one helper).

The n/2 pairs of `collective send-recv` start a placement stride p apart (`Fabric.concurrent_spacing`), not
interleaved: a tier domain of D GPUs holds the min(n/2, ceil(D / p)) senders that fall in it, and where the tier is
split by rail (the leaves of a rail-optimised domain, spines built in rail planes: `Fabric.rail_tiers`) each sender
climbs in its destination's rail plane only (PXN, `routing.route`), so the busiest rail's share of its own GPUs
prices it. Before: all n/2 pairs taken as interleaved in one domain, so the Llama 3 RoCE cluster as shipped priced
1,024 GPUs spread at 6.68 ms (its 1:7 pods) where the flow model runs at the NIC (5.75 ms), and a DGX H100 SuperPOD
with 4:1 leaves 256 spread at 11.4 ms (flow 5.7; 22.2 ms with the leaves built unrailed, as at the base). The first
two tests and the hand count fail before the change (checked on the base); the spine test guards the rail planes (a
stride cap without them prices it at the NIC, 5.7 ms).
Training and serving price with the interleaved default (spacing 1): their numbers cannot move.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.network import fabric as fabric_module
from infraplan.network import pair_loads
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.fabric import uplink_occupancy
from infraplan.network.tier_bandwidth import busiest_rail_share

SIZE = 2.0**28


def _tier_at(system: str, tier: int, factor: float) -> Cluster:
    spec = load_system(system)
    tiers = list(spec.network.tiers)
    tiers[tier] = tiers[tier].model_copy(update={"oversubscription": tiers[tier].oversubscription * factor})
    return Cluster.resolve(spec.model_copy(update={"network": spec.network.model_copy(update={"tiers": tiers})}))


def _both(cluster: Cluster, gpus: int, flows: int | None = None) -> tuple[float, float]:
    analytical = estimate_collective("send-recv", cluster, gpus, SIZE, placement="spread")
    flow = estimate_collective("send-recv", cluster, gpus, SIZE, placement="spread", sim="flow", flows_per_pair=flows)
    return analytical.alpha_beta_time_s, flow.time_s


def test_the_shipped_roce_cluster_prices_1024_spread_gpus_at_the_nic_as_the_flow_model() -> None:
    # 128 senders a 3,072-GPU pod: 128 / 3,072 of its GPUs under 1:7 uplinks (439 NICs' worth): the NIC binds
    analytical, flow = _both(Cluster.resolve("meta-genai-roce-24k"), 1024)
    assert analytical == pytest.approx(flow, rel=0.01)
    assert estimate_collective("send-recv", Cluster.resolve("meta-genai-roce-24k"), 1024, SIZE,
                               placement="spread").bottleneck_tier == "nic"


def test_rail_leaves_at_4to1_carry_four_senders_of_one_rail_at_the_nic() -> None:
    # 256 of 16,384 spread: 4 senders a 256-GPU SU, all GPU 0 of their node (stride 64), so all on rail 0's leaf:
    # 4 of its 32 GPUs under 8 uplinks
    analytical, flow = _both(_tier_at("dgx-h100-superpod", 0, 4.0), 256)
    assert analytical == pytest.approx(flow, rel=0.01)


def test_a_spine_built_in_rail_planes_is_shared_by_one_rail() -> None:
    # spines at 2:1, 4,096 spread (stride 4): 512 senders a 2,048-GPU spine domain, on rails 0 and 4 only; each rail
    # plane's uplinks are 1/8 of the domain's, so 256 senders share 128 NICs' worth: half the NIC, as the flow model
    # with ECMP evened out (16 flows a pair) nearly finds (13.4 ms: ECMP's uneven draws, the analytical has none)
    cluster = _tier_at("dgx-h100-superpod", 1, 2.0)
    analytical, flow = _both(cluster, 4096, flows=16)
    nic = estimate_collective("send-recv", cluster, 16, SIZE, placement="spread").alpha_beta_time_s
    assert analytical == pytest.approx(2.0 * nic, rel=0.01)
    assert analytical <= flow <= 1.2 * analytical


def test_busiest_rail_share_by_hand() -> None:
    dgx = tuple(range(8))
    assert busiest_rail_share(dgx, 16, 16, 0, 256) == 16 / 32  # all on rail 0: 16 of its 32 GPUs
    assert busiest_rail_share(dgx, 10, 17, 0, 160) == 2 / 20  # stride 17 walks the rails: 2 on rails 0 and 1
    mi300x = (0, 0, 0, 0, 1, 1, 1, 1)  # 2 leaves of 4 rails (NICs 0-3 / 4-7)
    assert busiest_rail_share(mi300x, 4, 2, 0, 64) == 2 / 32  # GPUs 0, 2 on leaf 0; 4, 6 on leaf 1
    assert busiest_rail_share(mi300x, 4, 2, 4, 64) == 2 / 32  # destinations 4 on: the same counts, swapped


def test_interleaved_groups_keep_the_old_share_and_the_switch_restores_it(monkeypatch: pytest.MonkeyPatch) -> None:
    base = Cluster.resolve("dgx-h100-superpod").fabric
    assert base.rail_of_gpu == tuple(range(8)) and base.rail_tiers == 3 and base.concurrent_spacing == 1
    for groups in (None, 32):  # a training job's groups, send-recv packed: min(g k, D) / D
        fab = dataclasses.replace(base, concurrent_groups=groups)
        got = uplink_occupancy(fab, np.array([1.0, 4.0]), np.array([64.0, 8.0]), 256, 0)
        g = np.array([64.0, 8.0]) if groups is None else float(groups)
        assert got.tolist() == (np.minimum(g * np.array([1.0, 4.0]), 256.0) / 256.0).tolist()
    # one collective alone: hN70's RAIL_ALONE, over arrays too since hN2 (session 70): strides 64 and 8 put every
    # member on rail 0, 32 of the leaf domain's 256 GPUs: 1 / 32 and 4 / 32 (k / D = 1 / 256 and 4 / 256 without it)
    alone = dataclasses.replace(base, concurrent_groups=1)
    assert uplink_occupancy(alone, np.array([1.0, 4.0]), np.array([64.0, 8.0]), 256, 0).tolist() == [1 / 32, 4 / 32]
    monkeypatch.setattr(fabric_module, "RAIL_ALONE", False)
    assert uplink_occupancy(alone, np.array([1.0, 4.0]), np.array([64.0, 8.0]), 256, 0).tolist() == [1 / 256, 4 / 256]
    monkeypatch.setattr(fabric_module, "RAIL_ALONE", True)
    cluster = _tier_at("dgx-h100-superpod", 0, 4.0)
    counted = estimate_collective("send-recv", cluster, 256, SIZE, placement="spread").alpha_beta_time_s
    monkeypatch.setattr(pair_loads, "PAIR_LOADS", False)  # hF72: the command counts its pairs; the shares toggled
    on = estimate_collective("send-recv", cluster, 256, SIZE, placement="spread").alpha_beta_time_s
    assert on == pytest.approx(counted, rel=1e-9)  # the 128 pairs leave the SU: the share rule and the count agree
    monkeypatch.setattr(fabric_module, "SPACED_GROUP_SHARE", False)
    fabric_module._LINK_CACHE.clear()
    fabric_module.group_link_one.cache_clear()
    off = estimate_collective("send-recv", cluster, 256, SIZE, placement="spread").alpha_beta_time_s
    fabric_module._LINK_CACHE.clear()
    fabric_module.group_link_one.cache_clear()
    assert off == pytest.approx(2.0 * on, rel=1e-3)  # 128 pairs as interleaved in one SU: half its GPUs, 4:1 / 2
