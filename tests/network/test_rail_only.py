"""Rail-only fabrics (Wang et al., arXiv:2307.12169): switch counts, one cost model, collectives, flow = analytical."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from infraplan.catalog import load_system
from infraplan.catalog.schemas import Network
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.collectives import all_gather_time, all_reduce_time, all_to_all_time
from infraplan.network.costs import bill_of_materials, describe_fabric
from infraplan.network.fabric import Fabric
from infraplan.network.rail_leaves import with_fabric
from infraplan.network.topology import build_topology
from infraplan.network.topology_graph import to_networkx


def rail_only(name: str = "dgx-h100-superpod"):
    return with_fabric(load_system(name), "rail-only")


# GPUs -> switches per tier of the rail-only build (8 rails of QM9700 radix 64) and of the system's own Clos
# (DGX SuperPOD check vector, network.md); a rail of n / 8 NICs needs 1 tier up to 64 nodes, 2 up to 2,048
COUNTS = [(512, [8], 24), (1024, [32, 16], 48), (4096, [128, 64], 320), (16384, [512, 256], 1280)]


@pytest.mark.parametrize(("gpus", "tiers", "clos"), COUNTS)
def test_rail_only_switch_counts_against_the_rail_optimised_clos(gpus, tiers, clos):
    topo = build_topology(rail_only(), gpus)
    assert [t.switches for t in topo.tiers] == tiers
    assert topo.rail_only and topo.rail_optimized
    assert build_topology(load_system("dgx-h100-superpod"), gpus).switches_total == clos


def test_24k_rails_need_three_tiers_at_radix_64_so_nothing_is_saved():
    # 3,072 NICs per rail > 64 * 32 = 2,048 (two tiers of radix-64 switches): the same 3-tier fat tree per rail
    topo = build_topology(rail_only("meta-genai-ib-24k"))
    clos = build_topology(load_system("meta-genai-ib-24k"))
    assert len(topo.tiers) == 3 and topo.switches_total == clos.switches_total == 2048


def test_no_switch_joins_two_rails():
    topo = build_topology(rail_only(), 4096)
    g = to_networkx(topo)
    leaves = [v for v, d in g.nodes(data=True) if d.get("tier") == "leaf"]
    rail = {v: int(v.rsplit("-", 1)[1]) // topo.leaves_per_rail for v in leaves}  # leaf index within its domain
    for v, d in g.nodes(data=True):
        if d.get("tier") == "spine":
            below = {rail[u] for u in g.neighbors(v) if u in rail}
            assert len(below) == 1, v
    # the rail-optimised Clos's spines reach every rail
    plain = build_topology(load_system("dgx-h100-superpod"), 1024)
    g = to_networkx(plain)
    spine = next(v for v, d in g.nodes(data=True) if d.get("tier") == "spine")
    assert len({int(u.rsplit("-", 1)[1]) for u in g.neighbors(spine) if u.startswith("leaf")}) == 8


def test_cost_and_power_come_from_the_one_bill_of_materials():
    report = describe_fabric(rail_only(), 16384)
    own = bill_of_materials(build_topology(rail_only(), 16384))
    clos = bill_of_materials(build_topology(load_system("dgx-h100-superpod"), 16384))
    assert report.rail_only and report.capex_usd == pytest.approx(own["capex_usd"])
    assert report.clos_capex_usd == pytest.approx(clos["capex_usd"])
    assert report.clos_power_w == pytest.approx(clos["power_w"]) and report.clos_switches_count == 1280
    assert own["transceivers_total"] == 2 * (16384 + 16384)  # NIC and leaf-spine links, no core tier
    assert 0.3 < 1 - own["capex_usd"] / clos["capex_usd"] < 0.4


def test_rail_only_needs_rails():
    with pytest.raises(ValueError, match="rail_only needs rail_optimized"):
        Network(kind="infiniband", tiers=[{"name": "leaf", "group_size": 8}], collective_efficiency=0.9,
                rail_only=True)
    with pytest.raises(InputError, match="--fabric must be one of"):
        with_fabric(load_system("dgx-h100-superpod"), "rails")
    assert with_fabric(load_system("dgx-h100-superpod"), "clos") == load_system("dgx-h100-superpod")


def _slow_scale_up(rail: bool) -> Fabric:
    # scale-up slower than the per-GPU NIC: the all-to-all's forwarding over the scale-up domain shows
    return Fabric(scale_up_domain=8, scale_up_bytes_per_s=40e9, nic_bytes_per_s=50e9, tier_names=("leaf",),
                  tier_sizes=(4096,), tier_oversubscription=(1.0,), tier_round_trip_latency_s=(2e-6,),
                  rail_only=rail)


def test_all_to_all_pays_the_scale_up_hop_and_rings_do_not():
    clos, rail = _slow_scale_up(False), _slow_scale_up(True)
    size, n = 2.0**30, 64
    # a rank's bytes: 7/64 to its domain, 56/64 leave; on rail-only 7/8 of those first cross the scale-up link
    t_clos = float(all_to_all_time(clos, size, n, 1, sized=False))
    t_rail = float(all_to_all_time(rail, size, n, 1, sized=False))
    assert t_clos == pytest.approx(56 / 64 * size / 50e9, rel=1e-3)
    assert t_rail == pytest.approx((7 + 56 * 7 / 8) / 64 * size / 40e9, rel=1e-3)
    for fn in (all_reduce_time, all_gather_time):
        assert float(fn(rail, size, n, 1)) == float(fn(clos, size, n, 1))


@pytest.mark.parametrize("op", ["all-reduce", "all-to-all", "all-gather"])
def test_flow_simulation_matches_the_analytical_model_on_a_small_rail_only_fabric(op):
    spec = rail_only().model_copy(update={"total_accelerators": 128})
    topo = build_topology(spec)
    assert [t.switches for t in topo.tiers] == [8]  # one switch per rail, nothing above
    cluster = Cluster.resolve(spec)
    flow = estimate_collective(op, cluster, 32, 2.0**26, sim="flow", flows_per_pair=1)
    assert flow.time_s == pytest.approx(flow.analytical_time_s, rel=0.05)


def test_cli_network_and_collective_take_the_fabric(capsys):
    assert main(["network", "dgx-h100-superpod", "--gpus", "16384", "--fabric", "rail-only", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rail_only"] and data["switches_total"] == 768 and data["clos_switches_count"] == 1280
    assert data["clos_capex_usd"] > data["capex_usd"] and data["clos_power_w"] > data["power_w"]
    assert main(["network", "dgx-h100-superpod", "--gpus", "512", "--fabric", "rail-only"]) == 0
    assert "rail-only: 16 fewer switches" in " ".join(capsys.readouterr().out.split())  # hU48 wording
    assert main(["collective", "all-to-all", "--system", "dgx-h100-superpod", "--gpus", "64", "--bytes", "1GiB",
                 "--fabric", "rail-only", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["time_s"] > 0


@pytest.mark.parametrize("args", [["network", "dgx-h100-superpod", "--fabric", "rail"],
                                  ["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "16",
                                   "--bytes", "1MiB", "--fabric", "spine-free"],
                                  ["network", "gb200-nvl72", "--fabric", "rail-only", "--gpus", "0"]])
def test_cli_bad_fabric_is_one_line_exit_2(capsys, args):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_fabric_field_keeps_the_default_fabric_unchanged():
    base = Cluster.resolve("dgx-h100-superpod").fabric
    assert not base.rail_only
    assert replace(base, rail_only=True) != base


def test_a_rail_leaf_takes_the_nodes_its_ports_reach_and_the_fabric_prices_the_built_tiers():
    # Llama 3 RoCE fabric: 2 servers per ToR; a rail-only leaf takes 32 servers (its 32 down ports), and each
    # rail's 3,072 NICs then need only the pod tier above, non-blocking (the Clos: 1,611 switches, 1:7 above pods)
    spec = rail_only("meta-genai-roce-24k")
    topo = build_topology(spec)
    assert [(t.domain_gpus, t.down_ports, t.switches) for t in topo.tiers] == [(256, 32, 768), (24576, 384, 64)]
    assert build_topology(load_system("meta-genai-roce-24k")).switches_total == 1611
    fabric = Cluster.resolve(spec).fabric
    assert fabric.tier_sizes == (256, 24576) and fabric.tier_oversubscription == (1.0, 1.0)
    assert fabric.rail_only
    # flow = analytical for a spread all-to-all across the pods (1 flow per pair, no ECMP collisions to speak of)
    flow = estimate_collective("all-to-all", Cluster.resolve(spec), 1024, 2.0**26, placement="spread", sim="flow",
                               flows_per_pair=1)
    assert flow.time_s == pytest.approx(flow.analytical_time_s, rel=0.05)
