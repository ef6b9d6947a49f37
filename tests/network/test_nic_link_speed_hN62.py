"""A NIC faster than its leaf port runs its link at the port's speed (hN62, session 48): both collective models
take the NIC link at min(NIC, port) through one function (`clos_topology.nic_link_rate`), `network`, `collective` and
`train` say so once where the speeds differ, and the `network` table's ratio is the bandwidth ratio its JSON gives.

The toy: 256 GPUs, 16-GPU racks (one 32-port leaf, 16 NIC links down, 16 up), 1:4 above 128-GPU pods, ports at
400G; the NICs vary."""

from __future__ import annotations

import json

import pytest
from flow_toy_fabric import nic_toy

from infraplan.catalog import list_presets, load_system
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.network.clos_topology import nic_link_rate
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.costs import describe_fabric
from infraplan.network.routing import build_links
from infraplan.network.tier_bandwidth import crossing_notes, port_ratios
from infraplan.network.topology import build_topology
from infraplan.training import estimate_training

GIB = 2.0**30


def _toy(tmp_path, nic: str, radix: bool = True) -> str:
    path = tmp_path / f"toy-{nic}-{radix}.yaml"
    path.write_text(nic_toy(nic, radix=radix))
    return str(path)


def test_a_link_runs_at_its_slower_end():
    assert nic_link_rate(100e9, 50e9) == 50e9  # 800G NIC, 400G port
    assert nic_link_rate(50e9, 100e9) == 50e9  # 400G NIC, 800G port
    assert nic_link_rate(50e9, None) == 50e9  # a tier without a port speed: ports at the NIC's


def test_800g_nics_under_400g_ports_by_hand_in_both_models(tmp_path):
    """By hand: 8 NICs per 8 GPUs, each link at 400 Gb/s = 50 GB/s: the analytical per-GPU NIC rate is 0.9 x 50 =
    45 GB/s (line 50), the flow model's every NIC link 45 GB/s each way; the rack's 16 x 50 GB/s in over 16 x 50
    GB/s up is 1:1 and the pod's 4:1, the port ratios (hN58 priced 90 GB/s, 2:1 and 8:1 at the NIC's rate)."""
    cluster = Cluster.resolve(_toy(tmp_path, "800Gbps"))
    fabric = cluster.fabric
    assert fabric.nic_bytes_per_s == pytest.approx(45e9, rel=1e-12)
    assert fabric.nic_line_bytes_per_s == pytest.approx(50e9, rel=1e-12)
    assert fabric.tier_oversubscription == (1.0, 4.0, 1.0)
    topo = build_topology(cluster.system)
    links = build_links(topo, 1e12, 0.9)
    nic_links = links.capacity[links.link_class == 1]
    assert nic_links.size == 2 * 256 and nic_links.tolist() == pytest.approx([45e9] * 512, rel=1e-12)
    assert topo.nic_bytes_per_s == 100e9 and topo.gpu_bytes_per_s == 50e9  # the NIC's own rate is kept for notes


def test_the_unbuilt_fallback_holds_the_nic_to_the_port_too(tmp_path):
    """Without switch radices the fabric does not build: the configured ratios at the link rate, 400G x o / 400G."""
    assert port_ratios(load_system(_toy(tmp_path, "800Gbps", radix=False))) == (1.0, 4.0, 1.0)


@pytest.mark.parametrize("op", ["all-to-all", "all-reduce", "send-recv"])
def test_800g_nics_under_400g_ports_price_as_400g_nics(tmp_path, op):
    """Between two runs: NICs held to the 400G ports move the same bytes as 400G NICs, in the analytical model and
    in the flow simulation (the same links, the same seeded ECMP draws): every time equal."""
    fast, port = (Cluster.resolve(_toy(tmp_path, nic)) for nic in ("800Gbps", "400Gbps"))
    for sim in ("analytical", "flow"):
        times = [estimate_collective(op, c, 256, GIB, sim=sim).time_s for c in (fast, port)]
        assert times[0] == pytest.approx(times[1], rel=1e-12), sim


def test_flow_agrees_with_analytical_for_faster_nics(tmp_path):
    """The oversubscribed toys' tolerance (ECMP at 16 flows per pair leaves the busiest uplink a little above the
    mean): before, the flow model ran the 800G NIC links at 800G while the analytical model's tier bound was the
    port ratio at the NIC's rate, 2.1x apart (hN58)."""
    result = estimate_collective("all-to-all", Cluster.resolve(_toy(tmp_path, "800Gbps")), 256, GIB, sim="flow")
    assert result.analytical_time_s is not None and result.bottleneck_tier == "pod"
    assert 0.99 * result.analytical_time_s <= result.time_s < 1.05 * result.analytical_time_s


def test_the_bill_prices_the_nic_links_at_the_link_rate(tmp_path):
    """Cables and optics of the NIC links are bought for the rate the link runs at: the 800G-NIC toy's fabric costs
    what the 400G one does (the NICs themselves are the server's)."""
    fast, port = (describe_fabric(load_system(_toy(tmp_path, nic))) for nic in ("800Gbps", "400Gbps"))
    assert fast.capex_usd == port.capex_usd and fast.power_w == port.power_w
    assert fast.bisection_bytes_per_s == port.bisection_bytes_per_s


def test_train_says_it_once_where_its_traffic_leaves_the_node(tmp_path):
    path = _toy(tmp_path, "800Gbps")
    kw = {"seq_len": 8192, "global_batch": 512}
    across = estimate_training("llama3-8b", path, 64, tp=8, pp=1, **kw).notes
    assert [n for n in across if n.startswith("NICs at 800 Gb/s under rack ports at 400 Gb/s")] == [
        "NICs at 800 Gb/s under rack ports at 400 Gb/s: each NIC link runs at the ports' 400 Gb/s (a link comes up "
        "at the slower end's rate), as the analytical and flow models both price it; the NICs' extra speed is unused"]
    inside = estimate_training("llama3-8b", path, 8, tp=8, pp=1, **kw).notes
    assert not any(n.startswith("NICs at") for n in inside)  # one node: NVLink only


def test_train_search_and_collective_say_it_too(tmp_path, capsys):
    path = _toy(tmp_path, "800Gbps")
    assert main(["train", "llama3-8b", "--system", path, "--gpus", "64", "--seq-len", "8192", "--global-batch",
                 "512", "--json"]) == 0
    searched = json.loads(capsys.readouterr().out)
    assert sum(n.startswith("NICs at 800 Gb/s") for n in searched["notes"]) == 1
    assert main(["collective", "all-reduce", "--system", path, "--gpus", "64", "--bytes", "1GiB", "--json"]) == 0
    assert sum(n.startswith("NICs at 800 Gb/s") for n in json.loads(capsys.readouterr().out)["notes"]) == 1


def test_no_catalog_system_is_warned():
    """Every catalog system's NICs run at its leaf ports' speed (dgx-b200: 400G NICs under 400G leaf ports), so
    none of them carries the line, wherever its traffic goes."""
    for name in list_presets("systems"):
        system = load_system(name)
        leaf = system.network.tiers[0].port_bandwidth_bytes_per_s
        assert leaf in (None, system.node.nic_bandwidth_bytes_per_s), name
        assert crossing_notes(system, True) == [], name


B200_24K = """
extends: dgx-b200
display_name: 24,576 B200, 1:7 above each 2,048-GPU pod
total_accelerators: 24576
network:
  tiers:
    - {name: leaf, group_size: 32, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 800Gbps}
    - {name: spine, group_size: 2048, oversubscription: 7, hop_latency_s: 2.0e-6, switch_radix: 128,
       port_bandwidth_bytes_per_s: 800Gbps}
    - {name: core, group_size: 24576, oversubscription: 1, hop_latency_s: 3.0e-6, switch_radix: 128,
       port_bandwidth_bytes_per_s: 800Gbps}
"""


@pytest.mark.parametrize("width", [80, 100])
def test_the_table_shows_the_bandwidth_ratio_and_fits(tmp_path, capsys, monkeypatch, width):
    """The table's "oversub." is the JSON's `bandwidth_oversubscription` (the spine of 400G NICs under 800G ports
    at 1:7: 2,048 x 50 GB/s over 32 spines x 10 up ports x 100 GB/s = 3.2:1), with the port ratio (64 down / 10 up
    = 6.4:1) under it, labelled; it printed 6.4:1 alone. No line is wider than the console."""
    path = tmp_path / "b200-24k.yaml"
    path.write_text(B200_24K)
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["network", str(path)]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("│ spine")]
    assert rows and "3.2:1" in rows[0] and "6.4:1" not in rows[0]
    assert "(6.4:1 ports)" in out and "(1:1 ports)" in out  # the leaf: 0.5:1 in bandwidth, 1:1 in ports
    assert max(len(line) for line in out.splitlines()) <= width
    assert main(["network", "dgx-h100-superpod"]) == 0  # NICs at the ports' speed: one ratio, no label
    plain = capsys.readouterr().out
    assert "ports)" not in plain and "1:1" in plain
