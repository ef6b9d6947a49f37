"""Mutation spot-checks (hH2, session 33): oversubscribed uplinks shared by the groups that use them."""

from __future__ import annotations

import pytest

from infraplan.network.fabric import Fabric, group_link_one, uplink_occupancy

NIC = 50e9
FABRIC = Fabric(scale_up_domain=8, scale_up_bytes_per_s=450e9, nic_bytes_per_s=NIC, tier_names=("leaf", "spine"),
                tier_sizes=(32, 1024), tier_oversubscription=(4.0, 1.0), tier_round_trip_latency_s=(2e-6, 4e-6))


def test_a_tier_domain_is_never_more_than_fully_busy() -> None:
    """`uplink_occupancy` is the share of a tier domain's GPUs busy with groups: min(g k, D) / D. 16 groups of 8
    members in a 32-GPU domain busy all 32 GPUs (occupancy 1, not 4); 2 groups of 8 busy half."""
    assert float(uplink_occupancy(FABRIC, 8, 16, 32)) == pytest.approx(1.0)
    assert float(uplink_occupancy(FABRIC, 8, 2, 32)) == pytest.approx(0.5)


def test_all_to_all_across_an_oversubscribed_leaf_by_hand() -> None:
    """64 ranks, stride 1, 8-GPU NVLink domains, 32-GPU leaves at 4:1. Of a rank's n = 64 equal chunks, 7 peers
    share its NVLink domain, 56 cross its NIC and 32 of those leave its leaf, through uplinks giving each GPU
    NIC / 4 (hF65: 32 of the 56 NIC chunks, not half of them: the old count took 1 - k / n of the NIC's chunks,
    28). Time per chunk c: max(7 c / 450e9, 56 c / NIC, 32 c / (NIC / 4)) = 32 c / 12.5e9, so the bandwidth over
    the peers' share = 63 / 32 x NIC / 4."""
    bw, _ = group_link_one(FABRIC, 64.0, 1.0, True)
    assert bw == pytest.approx(63 / 32 * NIC / 4, rel=1e-9)
