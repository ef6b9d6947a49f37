"""A link between two tiers runs at its slower end's rate (hY64, session 48), as a NIC link does (hN62): 400G leaf
ports under 100G spine ports were counted at 400G in both models, an all-400G fabric's times, with no note.

The toy: 256 GPUs, 16-GPU racks (one 32-port leaf: 16 NIC links down, 16 up at 1:1), one pod of 256 at the top;
NICs and rack ports at 400G, the pod's ports vary."""

from __future__ import annotations

import pytest

from infraplan.catalog import list_presets, load_system
from infraplan.catalog.network_price_loader import load_link_catalog, load_switch_catalog
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.costs import describe_fabric, switch_for
from infraplan.network.routing import build_links
from infraplan.network.tier_bandwidth import crossing_notes, port_ratios, tier_speed_note
from infraplan.network.topology import build_topology

GIB = 2.0**30
TOY = """
display_name: toy RoCE fabric, pod ports at {pod}
source: test fixture
accelerator: h100-sxm
total_accelerators: 256
node: {{accelerators_per_node: 8, scale_up_domain: 8, nics_per_node: 8, nic_bandwidth_bytes_per_s: 400Gbps}}
network:
  kind: roce
  collective_efficiency: 0.9
  ecmp_flows_per_pair: {ecmp}
  tiers:
    - {{name: rack, group_size: 16, oversubscription: {rack_o}{radix32}, port_bandwidth_bytes_per_s: 400Gbps}}
    - {{name: pod, group_size: 256, oversubscription: 1{radix64}, port_bandwidth_bytes_per_s: {pod}}}
"""


def _toy(tmp_path, pod: str, rack_o: int = 1, ecmp: int = 16, radix: bool = True) -> str:
    path = tmp_path / f"toy-{pod}-{rack_o}-{ecmp}-{radix}.yaml"
    path.write_text(TOY.format(pod=pod, rack_o=rack_o, ecmp=ecmp, radix32=", switch_radix: 32" if radix else "",
                               radix64=", switch_radix: 64" if radix else ""))
    return str(path)


def test_slower_spine_ports_by_hand_in_both_models(tmp_path):
    """By hand: a rack's 16 GPUs bring 16 x 50 GB/s in; its one leaf has 16 up links, each at min(400G, 100G) =
    12.5 GB/s: 800 / 200 = 4:1 (1:1 in ports). The flow model's rack-pod links carry 0.9 x 12.5 GB/s each
    (bundled: `links_per_lower` per leaf and pod switch)."""
    cluster = Cluster.resolve(_toy(tmp_path, "100Gbps"))
    assert cluster.fabric.tier_oversubscription == (4.0, 1.0)
    topo = build_topology(cluster.system)
    rack = topo.tiers[0]
    assert (rack.up_ports, rack.port_bytes_per_s, rack.uplink_bytes_per_s) == (16, 50e9, 12.5e9)
    links = build_links(topo, 1e12, 0.9)
    pod_links = links.capacity[links.link_class == 2]  # one bundle per rack leaf and pod switch
    bundle = topo.tiers[1].links_per_lower * 0.9 * 12.5e9
    assert pod_links.size and pod_links.tolist() == pytest.approx([bundle] * pod_links.size, rel=1e-12)
    assert topo.bisection_bytes_per_s == pytest.approx(8 * 16 * 12.5e9, rel=1e-12)  # 8 of 16 racks' uplinks
    assert port_ratios(load_system(_toy(tmp_path, "100Gbps", radix=False))) == (4.0, 1.0)  # unbuilt: the same


def test_faster_spine_ports_are_held_to_the_leaf_ports(tmp_path):
    """The other way round: 800G pod ports above 400G rack ports run each link at 400G, the all-400G fabric."""
    fast, even = (build_topology(load_system(_toy(tmp_path, pod))) for pod in ("800Gbps", "400Gbps"))
    assert fast.tiers[0].uplink_bytes_per_s == even.tiers[0].uplink_bytes_per_s == 50e9
    assert fast.bisection_bytes_per_s == even.bisection_bytes_per_s


def test_slow_spine_times_as_the_same_bandwidth_in_ports(tmp_path):
    """Between two runs: 16 up links at 100G carry what 4 up links at 400G do (a rack at 4:1 in ports), so the
    analytical all-to-all is the same time; before it was the all-400G fabric's, 4x faster."""
    slow, ports, even = (Cluster.resolve(p) for p in (_toy(tmp_path, "100Gbps"), _toy(tmp_path, "400Gbps", 4),
                                                    _toy(tmp_path, "400Gbps")))
    answers = [estimate_collective("all-to-all", c, 256, GIB) for c in (slow, ports, even)]
    # the even spread: adaptive copies (the toy's kind's default, ECMP, is hashed in the priced line too, hB74)
    spread = [c.system.network.model_copy(update={"load_balancing": "adaptive", "load_balancing_source": "test"})
              for c in (slow, ports, even)]
    times = [estimate_collective("all-to-all", Cluster.resolve(c.system.model_copy(update={"network": n})), 256,
                                 GIB).alpha_beta_time_s for c, n in zip((slow, ports, even), spread, strict=True)]
    assert times[0] == pytest.approx(times[1], rel=1e-12)
    assert times[0] > 3.5 * times[2]
    # hashed (the toy is ECMP): 16 thin links collide a little more than 4 thick ones (hE73, `ecmp_collisions`;
    # since hB74 in the priced line's pools too, `ecmp_tiers`: 2.1 % more)
    assert answers[1].time_s < answers[0].time_s < 1.03 * answers[1].time_s


def test_flow_agrees_with_analytical(tmp_path):
    """The existing 5 % tolerance; at 256 ECMP flows per pair (16 flows over 16 thin uplinks collide: 8.8 % above
    the analytical bound, where 4 thick uplinks give 2.8 %: ECMP's hash spread, not the link rate)."""
    r = estimate_collective("all-to-all", Cluster.resolve(_toy(tmp_path, "100Gbps", ecmp=256)), 256, GIB, sim="flow")
    assert r.analytical_time_s is not None and r.bottleneck_tier == "rack"
    assert 0.99 * r.analytical_time_s <= r.time_s < 1.05 * r.analytical_time_s


def test_the_bill_prices_the_inter_tier_optics_at_the_link_rate(tmp_path):
    """The rack-pod links' transceivers and fibre are bought for the 100G they run at (two optics and one fibre per
    link, the link catalog's 100G prices), whatever the rack switches' 400G ports; before, at 400G."""
    system = load_system(_toy(tmp_path, "100Gbps"))
    topo = build_topology(system)
    pod = describe_fabric(system).tiers[1]
    _, usd, _ = switch_for(topo.tiers[1], "ethernet", load_switch_catalog())
    price = load_link_catalog().at(12.5e9)
    count = topo.links_between(1)
    assert pod.links_from_below == count == 256 and pod.transceivers == 2 * count
    assert pod.capex_usd == pytest.approx(topo.tiers[1].switches * usd + count * (2 * price.transceiver_usd
                                                                                + price.fibre_usd), rel=1e-12)
    assert load_link_catalog().at(50e9).transceiver_usd > price.transceiver_usd  # the test can tell them apart


def test_the_note_says_it_once(tmp_path):
    path = _toy(tmp_path, "100Gbps")
    system = load_system(path)
    note = tier_speed_note(build_topology(system))
    assert note is not None and note.startswith("pod ports at 100 Gb/s above rack ports at 400 Gb/s")
    assert "each rack-pod link runs at 100 Gb/s, rack 4:1 (1:1 in ports)" in note
    assert crossing_notes(system, True) == [note] and crossing_notes(system, False) == []
    assert describe_fabric(system).notes.count(note) == 1
    assert tier_speed_note(build_topology(load_system(_toy(tmp_path, "400Gbps")))) is None


def test_no_catalog_system_has_tiers_at_different_speeds():
    """Every catalog system's tiers run at one port speed, so no validation answer moves (session 48)."""
    for name in list_presets("systems"):
        system = load_system(name)
        nic = system.node.nic_bandwidth_bytes_per_s
        assert len({t.port_bandwidth_bytes_per_s or nic for t in system.network.tiers}) == 1, name
        assert tier_speed_note(build_topology(system)) is None, name
