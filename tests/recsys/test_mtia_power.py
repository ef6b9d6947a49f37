"""MTIA v2 (and every recsys device) uses one accelerator power figure for the device and the platform."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.cluster.host_share import host_share
from infraplan.recsys.estimate import device_power_w, estimate_recsys


@pytest.mark.parametrize("accelerator", ["mtia-v2", "mtia-v1", "a100-80gb"])
def test_platform_power_is_the_device_draw_plus_the_host_share(accelerator):
    r = estimate_recsys("dlrm-medium", accelerator, latency_slo_s=0.02)
    host = host_share(accelerator).watts
    assert r.platform_power_w == pytest.approx(r.power_w + host)
    assert r.platform_qps_per_w == pytest.approx(r.qps / (r.power_w + host))


def test_mtia_v2_has_one_power_figure_the_blog_tdp():
    acc = load_accelerator("mtia-v2")
    assert acc.tdp_w == 90.0 and acc.typical_power_w in (None, acc.tdp_w)  # no second, typical figure
    assert device_power_w(acc, 1.0) == pytest.approx(acc.tdp_w)  # fully busy: the TDP, device and platform alike
    r = estimate_recsys("dlrm-high", "mtia-v2", batch=512)
    assert r.power_w == pytest.approx(device_power_w(acc, r.busy_fraction))


@pytest.mark.parametrize(("accelerator", "host_w"), [("b200", 6300 / 8), ("mi300x", 3500 / 8)])
def test_a_device_without_a_profile_carries_its_servers_host_share(accelerator, host_w):
    """B200 and MI300X had platform = device watts (no host) while H100 and MTIA carried theirs: platform QPS/W
    compared unlike bases. The host is the one of the node `plan` builds (DGX B200: 14.3 kW - 8 x 1 kW)."""
    r = estimate_recsys("dlrm-medium", accelerator, latency_slo_s=0.02)
    assert r.platform_power_w == pytest.approx(r.power_w + host_w)
