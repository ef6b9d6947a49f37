"""hN (session 68): the reported bisection is the min cut of the fabric built; the generic pod's tie-break has a
reason; a user's file smaller than its rail unit is built by the catalog's rule.

1. `bisection_of` bounded each tier by the uplinks of `occupied // 2` domains: 728 A100 on 5 pods of 160 gave 2 pods'
   uplinks, 8 TB/s, where the same 110 switches as 10 pods of 80 gave 10 (hI68). A cut through the middle pod crosses
   its half's uplinks too: by hand, 800 A100 (25 GB/s a GPU) are 400 x 25 GB/s = 10 TB/s either way, 728 are
   364 x 25 GB/s = 9.1. Checked against networkx's max flow between the two halves on the built graph (servers do
   not forward), and random balanced splits never cut less.
2. `clos_tiers`' ties in switches and waste: equal price, power, links and bisection, so the larger pod for fewer
   switch hops (`mean_switch_hops`): a 160-GPU all-reduce stays under one pod's spines.
3. 17 DGX in a user's file on the SuperPOD's tiers: `network` and `facility` gave 25 switches, $1.27 M (17 spines),
   the catalog's dgx-h100-superpod at 136 GPUs 8 leaves + 4 spines, $922 k; now one answer.
"""

from __future__ import annotations

import json
import random

import networkx as nx
import pytest
import yaml

from infraplan.catalog import load_system
from infraplan.catalog.schemas import System
from infraplan.cli import main
from infraplan.cluster.generic import clos_tiers, generic_system, mean_switch_hops
from infraplan.network.clos_topology import ClosTopology
from infraplan.network.costs import bill_of_materials, describe_fabric, whole_domain_topology
from infraplan.network.rail_leaves import with_fabric
from infraplan.network.topology import build_topology
from infraplan.network.topology_graph import to_networkx
from infraplan.sweep.callables import collective

H100 = load_system("dgx-h100-superpod")


def _max_flow(topo: ClosTopology, gpus: int, side_a: set[int]) -> float:
    """Max flow (= min cut) on the built graph from the nodes in `side_a` to the other nodes of the first `gpus`
    GPUs' servers; an idle server forwards nothing (its NICs are not joined)."""
    d = nx.DiGraph()
    for u, v, data in to_networkx(topo).edges(data=True):
        if data["links"]:
            d.add_edge(u, v, capacity=data["bytes_per_s"])
            d.add_edge(v, u, capacity=data["bytes_per_s"])
    for node in range(gpus // topo.gpus_per_node):
        for nic in range(topo.nics_per_node):
            if node in side_a:
                d.add_edge("A", f"node{node}-nic{nic}", capacity=float("inf"))
            else:
                d.add_edge(f"node{node}-nic{nic}", "B", capacity=float("inf"))
    return float(nx.maximum_flow_value(d, "A", "B"))


def _system(part: str, tiers: list[dict[str, object]], total: int, railed: bool = False) -> System:
    node = generic_system(part, 8).node
    return System.model_validate({"name": "t", "display_name": "t", "source": "test", "accelerator": part,
                                  "total_accelerators": total, "node": node.model_dump(),
                                  "network": {"kind": "ethernet", "rail_optimized": railed, "tiers": tiers,
                                              "collective_efficiency": 0.9}})


def _tiers(*groups: tuple[int, int, float]) -> list[dict[str, object]]:
    return [{"name": f"t{i}", "group_size": g, "switch_radix": r, "oversubscription": o}
            for i, (g, r, o) in enumerate(groups)]


POD160 = _system("a100-80gb", _tiers((16, 40, 1), (160, 40, 1), (800, 40, 1)), 800)
POD80 = _system("a100-80gb", _tiers((16, 40, 1), (80, 40, 1), (800, 40, 1)), 800)
CASES = [
    (POD160, 800), (POD160, 720), (POD80, 720),
    (_system("h100-sxm", _tiers((32, 64, 1), (128, 64, 3), (384, 64, 1)), 384), 384),  # 3 pods at 3:1 above
    (_system("h100-sxm", _tiers((32, 64, 1), (128, 64, 3), (384, 64, 1)), 384), 192),
    (_system("h100-sxm", _tiers((64, 64, 2), (320, 64, 1)), 320), 320),  # 2 unrailed 2:1 leaves a domain
    (_system("h100-sxm", _tiers((96, 64, 3), (288, 64, 1)), 288), 192),  # 3:1 leaves, nodes straddling two
    (load_system("dgx-a100-superpod"), 480),  # 3 scalable units
    (with_fabric(H100, "rail-only"), 768),
]


@pytest.mark.parametrize(("system", "gpus"), CASES)
def test_bisection_is_the_max_flow_between_the_halves(system: System, gpus: int) -> None:
    topo, _ = whole_domain_topology(system, gpus)  # 720 of POD160: its 5 whole pods, the GPUs packed from the first
    nodes = gpus // topo.gpus_per_node
    per_hb = topo.scale_up_domain_gpus // topo.gpus_per_node if topo.rail_only else 1
    half = nodes // per_hb // 2 * per_hb
    assert topo.bisection_of(gpus) == pytest.approx(_max_flow(topo, gpus, set(range(half))), rel=1e-9)


def test_worked_by_hand_and_the_same_switches_give_the_same_bisection() -> None:
    gpu = 25e9  # 8 x 200 Gb/s HDR a DGX A100
    for system in (POD160, POD80):
        topo = build_topology(system)
        assert topo.switches_total == 110 and topo.bisection_of(800) == pytest.approx(400 * gpu)
        assert topo.bisection_of(728) == pytest.approx(364 * gpu)  # 5 pods of 160: 8e12 before (2 pods' uplinks)
    r = describe_fabric(generic_system("a100-80gb", 728), 728, None, whole=True)
    assert r.fabric_gpus_count == 800 and r.bisection_bytes_per_s == pytest.approx(9.1e12)


@pytest.mark.parametrize("system", [POD160, CASES[3][0]])
def test_no_balanced_split_cuts_less(system: System) -> None:
    topo, rng = build_topology(system), random.Random(68)
    nodes = topo.nodes
    for _ in range(6):
        side = set(rng.sample(range(nodes), nodes // 2))
        assert _max_flow(topo, topo.gpus, side) >= topo.bisection_of(topo.gpus) * (1 - 1e-9)


def test_a_pod_tie_is_a_tie_in_price_power_links_and_bisection() -> None:
    """728 A100: 10 pods of 80 and 5 of 160 are the same 110 switches and 800 GPUs; the chosen is the larger pod,
    the fewer switch hops, and a 160-GPU all-reduce is faster on it (one pod's spines, no top)."""
    node = generic_system("a100-80gb", 8).node
    tiers, built = clos_tiers(728, node, 40)
    assert built == 800 and [t.group_size for t in tiers] == [16, 160, 800]
    figures = []
    for system in (POD160, POD80):
        topo = build_topology(system)
        bom = bill_of_materials(topo, populated_gpus=728)
        figures.append((topo.switches_total, bom["capex_usd"], bom["power_w"], topo.links_total,
                        topo.bisection_of(728)))
    assert figures[0] == pytest.approx(figures[1])
    assert mean_switch_hops(list(POD160.network.tiers), 800, 8) < mean_switch_hops(list(POD80.network.tiers), 800, 8)


def test_the_larger_pod_is_the_faster_collective(tmp_path) -> None:
    times = []
    for system in (POD160, POD80):
        path = tmp_path / f"{len(times)}.yaml"
        path.write_text(yaml.safe_dump(json.loads(system.model_dump_json())))
        times.append(collective("all-reduce", str(path), 160, "1MiB").time_s)  # type: ignore[attr-defined]
    assert times[0] < times[1]


def _user_file(total: int) -> System:
    return H100.model_copy(update={"name": f"user-{total}", "total_accelerators": total})


@pytest.mark.parametrize("total", [72, 136, 144, 200, 256])
def test_a_user_file_within_its_unit_is_the_catalog_system_at_that_count(total: int) -> None:
    mine, catalog = describe_fabric(_user_file(total)), describe_fabric(H100, total)
    keys = ("gpus", "fabric_gpus_count", "switches_total", "links_total", "transceivers_total", "capex_usd",
            "power_w", "bisection_bytes_per_s")
    assert [getattr(mine, k) for k in keys] == [getattr(catalog, k) for k in keys]


def test_17_dgx_in_a_user_file_by_hand(tmp_path, capsys) -> None:
    """136 links / 32 = 5 leaves -> 8 (a rail each), 8 x 32 / 64 = 4 spines: 12 switches, $922,400, 16,104 W, as
    `network dgx-h100-superpod --gpus 136` (25 switches, $1,266,800, 25,278 W before); `facility` the same fabric."""
    path = tmp_path / "dgx17.yaml"
    path.write_text(yaml.safe_dump({**json.loads(H100.model_dump_json()), "name": "dgx17",
                                    "total_accelerators": 136}))
    assert main(["network", str(path), "--json"]) == 0
    net = json.loads(capsys.readouterr().out)
    assert (net["switches_total"], net["capex_usd"], net["power_w"]) == (12, 922_400, 16_104)
    assert main(["facility", "--system", str(path), "--json"]) == 0
    fac = json.loads(capsys.readouterr().out)
    assert fac["network"]["switches"] == 12 and fac["capex_usd"]["network"] == 922_400
    assert fac["power_breakdown_w"]["network"] == 16_104


def test_a_user_file_never_costs_less_for_more() -> None:
    rows = [describe_fabric(_user_file(n)) for n in range(16, 257, 8)]
    assert all(b.switches_total >= a.switches_total and b.capex_usd >= a.capex_usd
               for a, b in zip(rows, rows[1:], strict=False))
