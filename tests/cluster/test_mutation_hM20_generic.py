"""Mutation wave hM20 (session 44) on `cluster.generic.generic_node`: a catalog accelerator's node is its reference
system's as shipped; a what-if's own host figure and its own scale-out rate replace the node's, each by hand."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.cluster.generic import generic_node
from infraplan.cluster.host_share import reference_system


def test_a_catalog_accelerator_keeps_its_reference_node() -> None:
    acc = load_accelerator("h100-sxm")
    ref = reference_system(acc.catalog_name)
    assert ref is not None
    node, kind, efficiency = generic_node(acc)
    assert node == ref.node
    assert (kind, efficiency) == (ref.network.kind, ref.network.collective_efficiency)


def test_a_what_if_s_own_figures_replace_the_node_s() -> None:
    """A host figure of 500 W per device: 8 x 500 W a node; twice the scale-out rate: twice each NIC's."""
    acc = load_accelerator("h100-sxm")
    ref = reference_system(acc.catalog_name)
    assert ref is not None and ref.node.accelerators_per_node == 8
    what_if = acc.model_copy(update={"host_power_w": 500.0, "host_source": "ASSUMPTION for a test",
                                     "scale_out_bandwidth_bytes_per_s": 2.0 * acc.scale_out_bandwidth_bytes_per_s})
    node, _, _ = generic_node(what_if)
    assert node.host_power_w == pytest.approx(4000.0, rel=1e-12)
    assert node.nic_bandwidth_bytes_per_s == pytest.approx(2.0 * ref.node.nic_bandwidth_bytes_per_s, rel=1e-12)
    assert node.nics_per_node == ref.node.nics_per_node
