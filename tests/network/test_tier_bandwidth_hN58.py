"""A tier's capacity is its built uplinks at port speed against its NICs at NIC speed, in both collective models
(`network.tier_bandwidth`): NICs slower than the switch ports (dgx-b200's 400G under 800G ports) left the
analytical all-to-all 1.7x slower than the flow simulation of the same question (hU62, session 48)."""

from __future__ import annotations

import json

import pytest
from flow_toy_fabric import nic_toy

from infraplan.catalog import load_system
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.flow_explain import PhaseComparison, difference_reason
from infraplan.network.tier_bandwidth import built_ratios, port_ratios, tier_bandwidth_ratios
from infraplan.network.topology import build_topology

GIB = 2.0**30

# hU62's what-if: dgx-b200 nodes (8 x 400G NICs) under 800G switches, 1:7 above each 2,048-GPU pod
B200_24K = """
extends: dgx-b200
display_name: 24,576 B200, 3-tier Clos, 1:7 above each 2,048-GPU pod
total_accelerators: 24576
{node}network:
  tiers:
    - {{name: leaf, group_size: 32, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 800Gbps}}
    - {{name: spine, group_size: 2048, oversubscription: 7, hop_latency_s: 2.0e-6, switch_radix: 128,
       port_bandwidth_bytes_per_s: 800Gbps}}
    - {{name: core, group_size: 24576, oversubscription: 1, hop_latency_s: 3.0e-6, switch_radix: 128,
       port_bandwidth_bytes_per_s: 800Gbps}}
"""
NODE_800G = ("node: {accelerators_per_node: 8, scale_up_domain: 8, nics_per_node: 8, "
             "nic_bandwidth_bytes_per_s: 800Gbps}\n")


def _write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return str(path)


@pytest.fixture(scope="module")
def b200(tmp_path_factory) -> tuple[Cluster, Cluster]:
    """(400G NICs, 800G NICs) under the same 800G switches."""
    tmp = tmp_path_factory.mktemp("b200")
    return (Cluster.resolve(_write(tmp, "b200-24k", B200_24K.format(node=""))),
            Cluster.resolve(_write(tmp, "b200-24k-800", B200_24K.format(node=NODE_800G))))


def test_b200_24k_spine_is_3_2_to_1_by_hand(b200):
    """By hand: a leaf (radix 64, 1:1) takes 32 NIC links down and 32 ports up; a 2,048-GPU pod's 64 leaves reach
    32 spines (radix 128 at 1:7: at most floor(128 x 7/8) = 112 down; 64 leaves x 32 uplinks / 32 spines = 64 down,
    1 link from each leaf), each with ceil(64 / 7) = 10 up ports. 320 x 800 Gb/s = 32 TB/s leaves the pod; its
    2,048 NICs bring 2,048 x 50 GB/s = 102.4 TB/s: 3.2:1 (6.4:1 in ports). The leaf: 32 x 50 GB/s in, 32 x 100
    GB/s up: 0.5:1."""
    slow, fast = b200
    spine = build_topology(slow.system).tiers[1]
    assert (spine.switches_per_domain, spine.down_ports, spine.up_ports) == (32, 64, 10)
    assert slow.fabric.tier_oversubscription == (0.5, 2048 * 50e9 / (32 * 10 * 100e9), 1.0) == (0.5, 3.2, 1.0)
    assert fast.fabric.tier_oversubscription == (1.0, 6.4, 1.0)  # 800G NICs: the port ratio as built


def test_b200_24k_all_to_all_rate_is_the_uplinks_share_whatever_the_nic(b200):
    """A 64 GiB all-to-all over all 24,576 GPUs leaves each pod with 11/12 of its bytes: the NIC rate the spine
    allows is 0.94 x 50 GB/s / (3.2 x 11/12) = 16.0 GB/s (it was / (7 x 11/12) = 7.3 GB/s, 2.2x slower, beside the
    flow model's uplinks). 800G NICs under the same switches reach the same rate: the uplinks bind, not the NICs."""
    slow, fast = b200
    eff = slow.system.network.collective_efficiency
    by_hand = eff * 50e9 / (3.2 * (1.0 - 2048 / 24576))
    rates = [estimate_collective("all-to-all", c, 24576, 64 * GIB).algbw_bytes_per_s for c in (slow, fast)]
    assert rates[0] == pytest.approx(by_hand, rel=0.01)  # latency and the (n-1)/n share: under 1 %
    assert rates[1] == pytest.approx(rates[0], rel=1e-9)


@pytest.mark.parametrize("nic", ["200Gbps", "400Gbps", "800Gbps"])
@pytest.mark.parametrize("op", ["all-to-all", "send-recv"])
def test_flow_and_analytical_agree_whatever_the_nic_speed_under_the_ports(tmp_path, nic, op):
    """NICs slower than, equal to and faster than the 400G ports: the analytical tier limit is the flow model's
    built uplinks (at 200G the analytical model was 1.9x slower, at 800G the flow 2.1x slower). The tolerance of
    the other oversubscribed-toy comparisons (ECMP at 16 flows per pair leaves the busiest uplink a little above
    the mean; hB74: the toy's ECMP, its kind's default, is priced in the analytical line too, whose expected
    collisions sit up to 1.4 % above the flow model's one draw at 16 flows a pair; hE76's planeless descent, drawn
    again in the priced line as in the routed one, puts the 400G send-recv's analytical 0.10297 s 0.7 % above the flow
    model's mean over 60 seeds, 0.10224 +- 0.00025 s, and 2.9 % above seed 0's draw, 0.10011 s: the lower bound is
    one draw's spread, not the mean's)."""
    cluster = Cluster.resolve(_write(tmp_path, "toy", nic_toy(nic)))
    result = estimate_collective(op, cluster, 256, GIB, sim="flow")
    assert result.analytical_time_s is not None and result.bottleneck_tier == "pod"
    assert 0.965 * result.analytical_time_s <= result.time_s < 1.05 * result.analytical_time_s
    assert result.difference_reason is None


def test_slower_nics_shorten_a_cross_pod_exchange_only_as_far_as_the_uplinks_allow(tmp_path):
    """Between two runs: halving the NICs under the same 1:4 pod uplinks leaves a cross-pod all-to-all's time
    unchanged (the pod's 16 x 400G uplinks bind at 4:1 and 2:1 alike: 128 x 400G / 4 = 128 x 200G / 2)."""
    times = [estimate_collective("all-to-all", Cluster.resolve(_write(tmp_path, nic, nic_toy(nic))),
                                 256, 64 * GIB).time_s for nic in ("200Gbps", "400Gbps")]
    assert times[0] == pytest.approx(times[1], rel=1e-9)


def test_oversubscribed_tiers_multiply_and_the_unbuilt_fallback_agrees(tmp_path):
    """A 2:1 rack under a 2:1 pod: the pod's up ports carry a quarter of its NICs' bandwidth (4:1 above the pod,
    where the configured-ratio rule said 2:1). Without switch radices the fabric does not build, and the same
    ratios come from the configured ones: NIC x the product of o up to the tier / the tier's port speed."""
    def two_tier(nic: str, radix: bool = True) -> str:
        return nic_toy(nic, pod=2, radix=radix).replace("name: rack, group_size: 16, oversubscription: 1",
                                                        "name: rack, group_size: 16, oversubscription: 2")

    system = load_system(_write(tmp_path, "two-tier", two_tier("400Gbps")))
    built = built_ratios(build_topology(system))
    assert built == (2.0, 4.0, 1.0) == tier_bandwidth_ratios(system) == port_ratios(system)
    assert tier_bandwidth_ratios(load_system(_write(tmp_path, "bare", two_tier("400Gbps", False)))) == (2.0, 4.0, 1.0)
    slow = load_system(_write(tmp_path, "bare-200", two_tier("200Gbps", False)))
    assert slow.node.nic_bandwidth_bytes_per_s == 25e9
    assert tier_bandwidth_ratios(slow) == (1.0, 2.0, 1.0)


def test_catalog_fabrics_keep_their_ratios_except_whole_up_ports():
    """NICs at the ports' speed: the catalog's non-blocking tiers stay exactly 1 (no rounding turns them into a
    bound), and the Llama 3 RoCE pod is its built 3,072 / (8 x 55) = 6.98:1."""
    for name in ("dgx-h100-superpod", "gb200-nvl72", "gaudi2-cluster", "meta-genai-ib-24k"):
        assert set(tier_bandwidth_ratios(load_system(name))) == {1.0}, name
    assert tier_bandwidth_ratios(load_system("meta-genai-roce-24k")) == pytest.approx((1.0, 3072 / 440, 1.0),
                                                                                      rel=1e-11)


def _cli_json(capsys, args: list[str]) -> dict:
    assert main([*args, "--json"]) == 0
    data: dict = json.loads(capsys.readouterr().out)
    return data


def test_network_and_collective_note_nics_slower_than_the_leaf_ports(tmp_path, capsys):
    path = _write(tmp_path, "b200-24k", B200_24K.format(node=""))
    report = _cli_json(capsys, ["network", path])
    spine = report["tiers"][1]
    assert (spine["oversubscription"], spine["bandwidth_oversubscription"]) == (6.4, 3.2)
    note = next(n for n in report["notes"] if n.startswith("NICs at 400 Gb/s under leaf ports at 800 Gb/s"))
    assert "lower than the port ratio" in note and "spine 3.2:1 (6.4:1 in ports)" in note
    crossing = _cli_json(capsys, ["collective", "all-to-all", "--system", path, "--gpus", "4096", "--bytes", "1GiB"])
    assert crossing["notes"] == [note]
    inside = _cli_json(capsys, ["collective", "all-to-all", "--system", path, "--gpus", "8", "--bytes", "1GiB"])
    assert inside["notes"] == []  # NVLink only: no NIC crossed
    assert main(["collective", "all-to-all", "--system", path, "--gpus", "4096", "--bytes", "1GiB"]) == 0
    assert "note: NICs at 400 Gb/s" in capsys.readouterr().out


def test_faster_nics_are_noted_as_held_to_the_port_speed(tmp_path, capsys):
    """800G NICs under 400G ports: the links run at 400G (`clos_topology.nic_link_rate`, hN62), so the tiers' bandwidth
    ratios are their port ratios (rack 1:1, pod 4:1), where hN58 priced 2:1 and 8:1 at the NIC's rate."""
    report = _cli_json(capsys, ["network", _write(tmp_path, "toy", nic_toy("800Gbps"))])
    note = next(n for n in report["notes"] if n.startswith("NICs at 800 Gb/s under rack ports at 400 Gb/s"))
    assert "each NIC link runs at the ports' 400 Gb/s" in note and "ASSUMPTION" not in note
    assert [t["bandwidth_oversubscription"] for t in report["tiers"]] == [1.0, 4.0, 1.0]


def test_matching_nics_get_no_speed_note(capsys):
    report = _cli_json(capsys, ["network", "dgx-h100-superpod"])
    assert not any(n.startswith("NICs at") for n in report["notes"])
    assert [t["bandwidth_oversubscription"] for t in report["tiers"]] == [1.0, 1.0, 1.0]


def test_a_faster_flow_names_what_binds_it_not_the_placement():
    """The flow-faster branch named "this placement" whatever the cause (hU62: the tier rule's capacity); it names
    the link class holding the flow model's slowest transfer and its load instead."""
    phase = PhaseComparison("all-to-all", 768, 0.018, 0.009, 0.037, 0.009, "spine", 220.0, 205.0, 10240)
    reason = difference_reason(0.027, 0.046, [phase], "spine", 1)
    assert reason is not None and "placement" not in reason
    assert "held by the spine links" in reason and "carries 220 flows" in reason and "spine bound" in reason
