"""Message-size efficiency of collectives (SimAI NCCL tables) and NCCL's network step latency."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.network import nvlink_latency
from infraplan.network.collectives import (
    NCCL_NET_STEP_LATENCY_S,
    Fabric,
    all_reduce_time,
    collective_time,
    message_efficiency,
    reduce_scatter_time,
)


def fabric(name: str = "dgx-h100-superpod") -> Fabric:
    system = load_system(name)
    return Fabric.from_system(system, load_accelerator(system.accelerator))


def test_efficiency_rises_with_size_and_falls_with_nodes():
    f = fabric()
    sizes = 2.0 ** np.arange(20, 35)
    # an accelerator without a measured in-domain table (`network.nvlink_collectives`) reads the SimAI column
    inside = message_efficiency(fabric("dgx-a100-superpod"), sizes, 8, 1)
    assert np.all(np.diff(inside) >= 0) and inside[-1] == pytest.approx(1.0, abs=0.02)
    assert inside[4] < 0.6  # 16 MiB on NVLink: 0.45 of peak vs 0.81 at 16 GiB (SimAI table)
    two_nodes = message_efficiency(f, 2.0**27, 16, 1)
    many_nodes = message_efficiency(f, 2.0**27, 512, 1)
    assert many_nodes < two_nodes


def test_spread_groups_use_the_nodes_they_occupy_not_their_extent():
    f = fabric()
    assert message_efficiency(f, 8 * 2.0**30, 16, 256) == pytest.approx(message_efficiency(f, 8 * 2.0**30, 16, 8))


def test_sized_collectives_are_slower_for_mid_messages_and_monotone(monkeypatch: pytest.MonkeyPatch):
    f = fabric()
    sizes = 2.0 ** np.arange(10, 35)
    for n, stride in ((8, 1), (16, 8), (128, 8), (64, 1)):
        sized = all_reduce_time(f, sizes, n, stride, sized=True)
        plain = all_reduce_time(f, sizes, n, stride)
        if n * stride <= 8:  # in one domain NCCL's measured LL ring line, not the 3 us alpha-beta steps (hK60)
            assert np.all(sized >= 16.38e-6) and sized[0] < plain[0]
            with monkeypatch.context() as m:
                m.setattr(nvlink_latency, "IN_DOMAIN_LL_LATENCY", False)
                assert np.all(all_reduce_time(f, sizes, n, stride, sized=True) >= plain * (1 - 1e-12))
        else:
            assert np.all(sized >= plain * (1 - 1e-12))
        assert np.all(np.diff(sized) > 0), (n, stride)  # NVLS joins auto at its own latency: no step down
    mid = 32 * 2.0**20
    assert all_reduce_time(f, mid, 8, 1, sized=True) > 1.1 * all_reduce_time(f, mid, 8, 1)


def test_inter_node_rings_pay_nccl_step_latency():
    f = fabric()
    tiny = 1024.0
    t = reduce_scatter_time(f, tiny, 64, 8, sized=True)
    assert t >= 63 * NCCL_NET_STEP_LATENCY_S
    assert collective_time(f, "reduce_scatter", tiny, 64, 8) == pytest.approx(t)
