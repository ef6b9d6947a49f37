"""Mutation wave hM20 (session 44) on `planning.spares`: whole servers for a part-used one, the refusals at their
edges, and `auto`'s least over the spare trays at every count (against each fixed count's own answer)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.errors import InputError
from infraplan.planning.spares import DEFAULT_REPAIR_S, poisson_quantile, spare_nodes, spare_servers


def _gb200(spare_trays: int | str):
    """16,384 GB200 of a training pool (the instance not known: the whole 18-tray domain) at p = 0.99."""
    return spare_nodes(16384, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72, spare_trays=spare_trays)


def test_a_part_used_server_is_a_whole_server() -> None:
    assert spare_nodes(10, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S).nodes == 2  # 10 GPUs on 8-GPU servers
    assert spare_nodes(16, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S).nodes == 2


def test_a_repair_time_of_zero_and_a_probability_of_zero_are_refused() -> None:
    with pytest.raises(InputError, match="repair time must be positive"):
        spare_nodes(64, 8, "h100-sxm", 0.99, 0.0)
    with pytest.raises(InputError, match=r"spare probability must be in \(0, 1\)"):
        poisson_quantile(2.0, 0.0)


def test_auto_is_the_least_over_the_trays_at_every_count() -> None:
    """`spare_servers` (the optimality bound's count) takes, at each count of servers, the fewest of every s in
    0 .. 17, not the s chosen at the pool's own count: at 180 servers s = 2 holds fewer than the chosen s."""
    auto = _gb200("auto")
    fixed = [_gb200(s) for s in range(18)]
    assert auto.tray_choices == tuple(range(18))
    assert auto.spare_nodes == min(f.spare_nodes for f in fixed)
    nodes = np.array([18, 180, 1000, 4096])
    each = np.array([spare_servers(nodes, f, 0.99) for f in fixed])
    np.testing.assert_array_equal(spare_servers(nodes, auto, 0.99), each.min(axis=0))
    chosen = next(f for f in fixed if f.spare_nodes == auto.spare_nodes)
    assert spare_servers(nodes, auto, 0.99)[1] < spare_servers(nodes, chosen, 0.99)[1]  # (the count matters)
    assert spare_servers(nodes, auto, 0.99)[-1] == auto.spare_nodes  # 4,096 servers: the pool itself


def test_auto_s_line_names_the_count_with_none_asked() -> None:
    auto, none = _gb200("auto"), _gb200(0)
    assert f"({auto.spare_nodes:,}; {none.spare_nodes:,} with none asked)" in auto.rate_basis


def test_auto_on_a_two_tray_domain_says_what_it_took() -> None:
    """8-GPU domains of two 4-GPU trays: s is 0 or 1, and the line says which auto took."""
    auto = spare_nodes(64, 4, "h100-sxm", 0.99, DEFAULT_REPAIR_S, domain_devices=8, spare_trays="auto")
    assert auto.tray_choices == (0, 1)
    assert f"spare_trays_per_domain auto: {auto.spare_trays_per_domain}, of 0 .. 1" in auto.rate_basis


def test_a_one_device_server_counts_each_device() -> None:
    """A server of one device (a PCIe card's own node): 10 devices are 10 servers, each its own spare unit."""
    one = spare_nodes(10, 1, "h100-sxm", 0.99, DEFAULT_REPAIR_S)
    assert (one.nodes, one.node_devices) == (10, 1)
    eight = spare_nodes(80, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S)
    assert one.node_failures_per_hour == pytest.approx(eight.node_failures_per_hour / 8.0, rel=1e-12)
