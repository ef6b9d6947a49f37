"""Clos builder: published switch counts, the Llama 3 fabric, fat-tree arithmetic, bad input, costs, GraphML."""

from __future__ import annotations

import networkx as nx
import pytest

from infraplan.catalog import System, load_system
from infraplan.catalog.loader import list_presets
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network.costs import bill_of_materials, describe_fabric
from infraplan.network.topology import build_topology
from infraplan.network.topology_graph import write_graphml

# NVIDIA DGX SuperPOD (H100) compute fabric, QM9700 64-port NDR: GPUs -> leaf, spine, core (network.md check vector)
SUPERPOD = [(512, 16, 8, None), (1024, 32, 16, None), (2048, 64, 32, None),
            (4096, 128, 128, 64), (8192, 256, 256, 128), (16384, 512, 512, 256)]


@pytest.mark.parametrize(("gpus", "leaf", "spine", "core"), SUPERPOD)
def test_dgx_superpod_switch_counts_match_the_reference_architecture(gpus, leaf, spine, core):
    topo = build_topology(load_system("dgx-h100-superpod"), gpus)
    counts = [t.switches for t in topo.tiers]
    assert counts == ([leaf, spine] if core is None else [leaf, spine, core])
    assert all(t.radix == 64 and t.port_bytes_per_s == 50e9 for t in topo.tiers)
    assert topo.rail_optimized
    # non-blocking: full bisection = half the GPUs at 400 Gb/s
    assert topo.bisection_bytes_per_s == pytest.approx(gpus / 2 * 50e9)


def test_llama3_roce_fabric():
    topo = build_topology(load_system("meta-genai-roce-24k"))
    rack, pod, cluster = topo.tiers
    assert rack.switches == 1536 and rack.domain_gpus == 16 and rack.down_ports == 16
    assert pod.domains == 8 and pod.domain_gpus == 3072
    assert pod.effective_oversubscription == pytest.approx(7.0, rel=0.01)
    assert rack.effective_oversubscription == 1.0  # full bisection inside the pod
    assert cluster.is_top and cluster.domains == 1
    # bisection: the uplinks of 4 of the 8 pods, ~1/7 of half the GPUs' NIC bandwidth
    assert topo.bisection_bytes_per_s == pytest.approx(24576 / 2 * 50e9 / 7, rel=0.01)


def _toy(tiers, gpus, radix, gpn=1, nics=1, rail=False, kind="infiniband") -> System:
    return System.model_validate({
        "name": "toy", "display_name": "toy", "source": "test", "accelerator": "h100-sxm",
        "total_accelerators": gpus,
        "node": {"accelerators_per_node": gpn, "scale_up_domain": gpn, "nics_per_node": nics,
                 "nic_bandwidth_bytes_per_s": "400Gbps"},
        "network": {"kind": kind, "rail_optimized": rail, "collective_efficiency": 0.9, "tiers": [
            {"name": name, "group_size": size, "oversubscription": over, "switch_radix": radix,
             "port_bandwidth_bytes_per_s": "400Gbps"} for name, size, over in tiers]},
    })


@pytest.mark.parametrize("k", [8, 16, 32])
def test_k_ary_fat_tree_has_k3_over_4_hosts_on_5k2_over_4_switches(k):
    hosts = k**3 // 4
    system = _toy([("edge", k // 2, 1), ("agg", k * k // 4, 1), ("core", hosts, 1)], hosts, k)
    topo = build_topology(system)
    assert [t.switches for t in topo.tiers] == [hosts // (k // 2), hosts // (k // 2), hosts // k]
    assert topo.switches_total == 5 * k * k // 4
    assert topo.links_total == 3 * hosts


def test_oversubscription_splits_ports_and_shrinks_bisection():
    flat = build_topology(_toy([("leaf", 32, 1), ("spine", 1024, 1)], 1024, 64))
    thin = build_topology(_toy([("leaf", 48, 3), ("spine", 1536, 1)], 1536, 64))
    assert thin.tiers[0].down_ports == 48 and thin.tiers[0].up_ports == 16
    assert thin.bisection_bytes_per_s == pytest.approx(1536 / 2 * 50e9 / 3)
    assert flat.bisection_bytes_per_s == pytest.approx(1024 / 2 * 50e9)


def test_radix_too_small_fails_with_the_arithmetic():
    system = _toy([("rack", 16, 1), ("pod", 3072, 7), ("cluster", 6144, 1)], 6144, 64)
    with pytest.raises(InputError, match=r"192 rack switches.*radix 64.*56.*need radix >= 220"):
        build_topology(system)


def test_gpus_not_a_multiple_of_a_rack_fail():
    with pytest.raises(InputError, match=r"104 GPUs is not a multiple of the 16-GPU rack"):
        build_topology(load_system("meta-genai-roce-24k"), 104)
    with pytest.raises(InputError, match="multiple of the 8-GPU node"):
        build_topology(load_system("meta-genai-roce-24k"), 12)


def test_network_capex_is_a_plausible_share_of_the_cluster():
    topo = build_topology(load_system("dgx-h100-superpod"), 16384)
    bom = bill_of_materials(topo)
    per_gpu = bom["capex_usd_per_gpu"]
    # Cottier et al. 2024: interconnect 9-13 % of hardware + energy; H100 server ~$42K per GPU (facility catalog)
    assert 0.05 < per_gpu / (per_gpu + 42000) < 0.20
    # every link of a rail-optimised InfiniBand fabric is optical: two transceivers per link
    assert bom["transceivers_total"] == 2 * topo.links_total
    roce = bill_of_materials(build_topology(load_system("meta-genai-roce-24k")))
    assert roce["tiers"][0]["transceivers"] == 0  # copper DAC under the ToR
    assert roce["tiers"][1]["switch_model"] == "arista-7816r3"


def test_graphml_export_round_trips(tmp_path):
    topo = build_topology(load_system("dgx-h100-superpod"), 4096)
    path = tmp_path / "fabric.graphml"
    write_graphml(topo, str(path))
    graph = nx.read_graphml(path)
    switches = [n for n, d in graph.nodes(data=True) if d["tier"] not in ("nic", "node")]
    assert len(switches) == topo.switches_total
    assert sum(d["links"] for _, _, d in graph.edges(data=True)) == topo.links_total
    assert nx.is_connected(graph)  # rail planes meet only inside the servers
    assert not list(tmp_path.glob("*.tmp"))


def test_describe_fabric_has_the_contract_keys():
    r = describe_fabric(Cluster.resolve("dgx-h100-superpod").system, 1024)
    assert {"tiers", "switches_total", "links_total", "transceivers_total", "bisection_bytes_per_s", "power_w",
            "capex_usd"} <= set(type(r).model_fields)
    assert [t.name for t in r.tiers] == ["leaf", "spine"]
    assert {"name", "switches", "radix", "port_bytes_per_s", "oversubscription"} <= set(type(r.tiers[0]).model_fields)
    assert r.switches_total == 48


@pytest.mark.parametrize("name", list_presets("systems"))
def test_every_system_preset_builds_its_whole_fabric(name: str) -> None:
    # `serve` and the facility model price the whole system's fabric: a preset whose tiers cannot join its NICs
    # (dgx-b200 once had only a leaf tier for 256 NIC links) fails every command that draws power
    topo = build_topology(load_system(name))
    assert topo.gpus == load_system(name).total_accelerators and topo.tiers[-1].is_top
