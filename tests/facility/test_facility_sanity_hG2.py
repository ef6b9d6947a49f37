"""Facility sanity against the published system and rack powers (hG2, session 37; validation/notes/
training_sets_tried.md): every catalog system's rack was checked against shared/reference/datacenter.md 2.1; the DGX
B300 node took "~14 kW (vendor [U])" where the reference has 14.5 kW (datacenter.md:108)."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.cluster import Cluster
from infraplan.cluster.host_share import host_share
from infraplan.cluster.power import server_power_w
from infraplan.facility.facility import size_facility

DGX_B300_W = 14_500.0  # DGX B300 system maximum, shared/reference/datacenter.md:108


def test_dgx_b300_server_power_is_the_published_system_maximum() -> None:
    """DGX B300 was 14.0 kW (5.2 kW of host, an assumption) against the published 14.5 kW; its host share per GPU
    follows as DGX B200's does (14.3 kW less 8 x 1 kW): (14.5 kW - 8 x 1.1 kW) / 8 = 712.5 W."""
    assert float(server_power_w(Cluster.resolve("dgx-b300").layout)) == pytest.approx(DGX_B300_W)
    assert host_share("b300").watts == pytest.approx((DGX_B300_W - 8 * load_accelerator("b300").tdp_w) / 8)


def test_an_air_cooled_dgx_b300_rack_holds_two_servers_at_the_published_power() -> None:
    """Two 14.5 kW DGX B300 under the 30 kW air rack (ORv3, cooling.yaml): 29.0 kW (was 28.0)."""
    report = size_facility(system="dgx-b300")
    assert report.cooling == "air" and report.accelerators_per_rack == 16
    assert report.rack_power_w == pytest.approx(2 * DGX_B300_W)
