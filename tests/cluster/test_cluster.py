"""The Cluster: resolved once, everything derived from it; a what-if flows into training, serving and facility."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.facility.facility import size_facility
from infraplan.serving.serving_api import estimate_serving
from infraplan.training.estimate import estimate_training

SYSTEM = "meta-genai-roce-24k"


@pytest.fixture(scope="module")
def clusters() -> tuple[Cluster, Cluster]:
    base = Cluster.resolve(SYSTEM)
    return base, base.scaled(scale_out=2)


def test_resolve_accepts_names_systems_accelerators_and_clusters():
    base = Cluster.resolve(SYSTEM)
    assert base.accelerator.name == base.system.accelerator == "h100-sxm"
    assert Cluster.resolve(base) is base
    assert Cluster.resolve(load_system(SYSTEM)).system == base.system
    node = Cluster.resolve("h100-sxm")  # an accelerator preset: the generic node of 8
    assert node.generic and node.total_accelerators == 8 and node.layout.system_name is None
    assert node.system.node == load_system("dgx-h100-superpod").node  # the reference system's node
    with pytest.raises(InputError):
        Cluster.resolve("no-such-system")


def test_fabric_and_topology_are_derived_once(clusters):
    base, _ = clusters
    assert base.fabric is base.fabric
    assert base.topology is base.topology
    assert base.topology.gpus == base.total_accelerators
    assert base.layout.system is base.system


def test_scaled_cluster_carries_the_bandwidths(clusters):
    base, fast = clusters
    assert fast.system.node.nic_bandwidth_bytes_per_s == 2 * base.system.node.nic_bandwidth_bytes_per_s
    assert fast.fabric.nic_bytes_per_s == pytest.approx(2 * base.fabric.nic_bytes_per_s)
    assert fast.fabric.scale_up_bytes_per_s == base.fabric.scale_up_bytes_per_s
    up = base.scaled(scale_up=1.5)
    assert up.fabric.scale_up_bytes_per_s == pytest.approx(1.5 * base.fabric.scale_up_bytes_per_s)
    assert base.fabric.nvls_bytes_per_s > 0  # H100: NVLS priced; its in-switch rate rides the same NVLink
    assert up.fabric.nvls_bytes_per_s == pytest.approx(1.5 * base.fabric.nvls_bytes_per_s)
    assert fast.fabric.nvls_bytes_per_s == pytest.approx(base.fabric.nvls_bytes_per_s)
    assert base.system.node.nic_bandwidth_bytes_per_s == load_system(SYSTEM).node.nic_bandwidth_bytes_per_s
    with pytest.raises(InputError):
        base.scaled(scale_out=0)


def test_twice_the_scale_out_speeds_up_data_parallel_training(clusters):
    base, fast = clusters
    kw = {"tp": 8, "seq_len": 4096, "global_batch": 128}
    slow_run = estimate_training("llama3-70b", base, 1024, **kw)
    fast_run = estimate_training("llama3-70b", fast, 1024, **kw)
    assert fast_run.breakdown_s.dp_comm_exposed < 0.5 * slow_run.breakdown_s.dp_comm_exposed
    assert fast_run.step_time_s < slow_run.step_time_s
    assert fast_run.breakdown_s.compute == pytest.approx(slow_run.breakdown_s.compute)


def test_twice_the_scale_out_speeds_up_the_cross_node_kv_transfer(clusters):
    base, fast = clusters
    kw = {"tp": 8, "offline": True, "input_len": 4000, "output_len": 20, "requests": 32, "prefill_gpus": 8}
    slow_serve = estimate_serving("llama3-70b", base, 16, **kw)  # prefill and decode on different nodes
    fast_serve = estimate_serving("llama3-70b", fast, 16, **kw)
    assert fast_serve.kv_transfer_s.mean == pytest.approx(0.5 * slow_serve.kv_transfer_s.mean, rel=0.05)
    assert fast_serve.e2e_s.mean < slow_serve.e2e_s.mean


def test_twice_the_scale_out_reprices_facility_network_power_and_cost(clusters):
    from infraplan.network.costs import describe_fabric

    base, fast = clusters
    slow_site, fast_site = size_facility(system=base), size_facility(system=fast)
    assert fast_site.network.switch_ports == slow_site.network.switch_ports  # same topology, faster ports
    # faster switches and optics from the network layer's bill of materials, the `network` command's figures
    fabric = describe_fabric(fast.system)
    assert fast_site.power_breakdown_w["network"] == pytest.approx(fabric.power_w)
    assert fast_site.capex_usd["network"] == pytest.approx(fabric.capex_usd)
    assert fast_site.power_breakdown_w["network"] > slow_site.power_breakdown_w["network"]
    assert fast_site.capex_usd["network"] > slow_site.capex_usd["network"]
    assert fast_site.capex_usd["servers"] == slow_site.capex_usd["servers"]
    assert fast_site.usd_per_gpu_hour > slow_site.usd_per_gpu_hour
    # the price every command uses follows the what-if too
    serve = estimate_serving("llama3-8b", fast, 8, offline=True, input_len=100, output_len=10, requests=20)
    assert serve.usd_per_hour_per_gpu == pytest.approx(fast_site.usd_per_gpu_hour, rel=1e-12)
