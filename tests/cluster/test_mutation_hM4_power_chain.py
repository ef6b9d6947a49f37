"""Mutation wave 4 (hM4, session 35): the power chain's rack fit, the generic node and its non-blocking Clos.

Each test is a hand count from the rule the code states (cluster/power.py, cluster/generic.py docstrings), and
fails on a one-line mutant that the earlier tests let through (validation/notes/test_suite_cost_tried.md, hM4).
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.facility_loader import load_cooling
from infraplan.catalog.schemas import Node
from infraplan.cluster import Cluster
from infraplan.cluster.generic import clos_tiers, generic_node
from infraplan.cluster.power import ServerLayout, accelerator_power_w, rack_fit


def test_an_accelerator_without_an_idle_figure_idles_at_a_tenth_of_its_tdp() -> None:
    # cluster/power.py docstring: "idle_power_w, 10 % of TDP when unknown"; MI300X's file has no idle figure
    mi300x = load_accelerator("mi300x")
    assert mi300x.idle_power_w is None
    assert float(accelerator_power_w(mi300x, 0.0)) == pytest.approx(0.10 * 750.0)
    assert float(accelerator_power_w(mi300x, 0.5)) == pytest.approx(75.0 + 0.5 * (750.0 - 75.0))


def test_a_rack_power_equal_to_the_cooling_limit_is_accepted() -> None:
    # "--rack-power ... at most that": 30 kW is the air limit itself (cooling.yaml), so it is allowed
    layout = Cluster.resolve("dgx-h100-superpod").layout
    fit = rack_fit(layout, load_cooling("air"), "air", 30_000.0)
    assert fit.power_limit_source == "--rack-power" and fit.servers_per_rack == 2  # 2 x 10.2 kW <= 30 kW


def test_a_server_that_draws_exactly_the_rack_limit_fills_one_rack() -> None:
    # DGX H100: 8 x 700 W + 4.6 kW host = 10.2 kW; a 10.2 kW rack holds exactly one
    layout = Cluster.resolve("dgx-h100-superpod").layout
    fit = rack_fit(layout, load_cooling("air"), "air", 10_200.0)
    assert fit.servers_per_rack == 1 and fit.rack_power_w == pytest.approx(10_200.0)


def test_a_scale_up_domain_that_is_not_whole_servers_does_not_set_the_rack_unit() -> None:
    # power.py: the packing unit is the domain only "when it spans servers" (a multiple of the server)
    base = Cluster.resolve("dgx-h100-superpod").layout
    node = base.system.node.model_copy(update={"scale_up_domain": 12})
    layout = ServerLayout(base.accelerator, base.system.model_copy(update={"node": node}))
    assert layout.packing_unit_accelerators == 8
    node = base.system.node.model_copy(update={"scale_up_domain": 16})
    assert ServerLayout(base.accelerator, base.system.model_copy(update={"node": node})).packing_unit_accelerators == 16


def test_an_accelerator_without_a_system_gets_the_generic_node_of_eight() -> None:
    # generic.py: no reference system -> 8 accelerators per node with 8 NICs at the accelerator's scale-out rate
    mi325x = load_accelerator("mi325x")
    layout = Cluster.for_accelerator("mi325x", 64).layout
    assert (layout.accelerators_per_server, layout.nics_per_server) == (8, 8)
    assert layout.nic_bandwidth_bytes_per_s == mi325x.scale_out_bandwidth_bytes_per_s


NODE8 = Node(accelerators_per_node=8, scale_up_domain=8, nics_per_node=8, nic_bandwidth_bytes_per_s=50e9)


def test_a_leaf_holds_its_k_over_2_down_links_of_whole_nodes() -> None:
    # radix 64: 32 down ports = 4 nodes of 8 NICs = 32 accelerators under a leaf; 1,024 accelerators -> 2 tiers
    tiers, built = clos_tiers(1024, NODE8, 64)
    assert [t.group_size for t in tiers] == [32, 1024] and built == 1024


def test_the_domain_below_the_top_is_a_divisor_of_k_over_2_leaf_domains() -> None:
    # 2,976 accelerators = 93 leaves of 32: the least waste over m | 32 (balanced wiring) is m = 2 -> 47 x 64 =
    # 3,008; m = 3 or 31 (not divisors of 32) would build 2,976 exactly, and are not allowed
    tiers, built = clos_tiers(2976, NODE8, 64)
    assert built == 3008 and tiers[1].group_size == 64 and 32 % (tiers[1].group_size // 32) == 0


def test_a_what_if_with_faster_nics_gets_them_on_its_reference_node(tmp_path) -> None:
    # generic.py: a what-if's own NICs on its preset's reference node (node NIC rate x own / reference per GPU)
    ref = generic_node(load_accelerator("h100-sxm"))[0]
    f = tmp_path / "h100-fast.yaml"
    f.write_text("extends: h100-sxm\nscale_out_bandwidth_bytes_per_s: 800Gbps\n")
    node = generic_node(load_accelerator(str(f)))[0]
    per_gpu = ref.nics_per_node * ref.nic_bandwidth_bytes_per_s / ref.accelerators_per_node
    assert per_gpu == pytest.approx(50e9)
    assert node.nic_bandwidth_bytes_per_s == pytest.approx(ref.nic_bandwidth_bytes_per_s * 100e9 / 50e9)


def test_a_what_ifs_own_host_share_replaces_its_reference_nodes(tmp_path) -> None:
    # host_share.py precedence: the device's own figure first, then its reference system's node
    f = tmp_path / "h100-host.yaml"
    f.write_text("extends: h100-sxm\nhost_power_w: 300W\nhost_source: test figure\n")
    node = generic_node(load_accelerator(str(f)))[0]
    assert node.host_power_w == pytest.approx(300.0 * node.accelerators_per_node)
