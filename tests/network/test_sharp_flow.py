"""IB SHARP in the flow simulator (hC, session 36): `collective all-reduce --sharp --sim flow` runs each shard
group's aggregation tree as one flow over its NIC and switch links (`network.sharp_flows`).

On an idle fabric whose trees have links of their own the flow answer is `network.sharp`'s alpha-beta line (its
bandwidth and latency terms, to 1e-6) and within the 5 % the other flow schedules are held to of the analytical
time (which adds the two-domain ring's message-size efficiency, 0.96 at 1 GiB); where trees share uplinks (a 1:4
leaf, failed links, ECMP picks) it is slower and says which tier and why."""

from __future__ import annotations

import json

import numpy as np
import pytest
from flow_toy_fabric import unrailed_mi300x

from infraplan.catalog import load_system
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network.collective_schedules import estimate_collective, place
from infraplan.network.routing import build_links, fail_links
from infraplan.network.sharp import sharp_parts
from infraplan.network.sharp_flows import sharp_trees
from infraplan.network.topology import build_topology

GIB = 2.0**30

# a SHARP InfiniBand toy: 64 GPUs, two 8-GPU nodes (16 NICs, not rail-optimised) per leaf, one spine; every
# shard group's tree crosses every leaf, so the 8 trees share a leaf's uplinks: 16 at 1:1, 4 at 1:4. The leaves are
# QM9700s cabled at 32 / 20 ports: named (`switch_model`), since a tier is priced as a catalog model of its own radix
# only (hU54: a 128-port tier was priced as a 576-port chassis); before, the smallest radix >= the tier's was taken
TOY = """
display_name: toy IB fabric (64 GPUs, 2 nodes per leaf, 1:{o} above)
source: test fixture
accelerator: h100-sxm
total_accelerators: 64
node: {{accelerators_per_node: 8, scale_up_domain: 8, nics_per_node: 8, nic_bandwidth_bytes_per_s: 400Gbps}}
network:
  kind: infiniband
  rail_optimized: false
  collective_efficiency: 1.0
  ecmp_flows_per_pair: 1
  tiers:
    - {{name: leaf, group_size: 16, oversubscription: {o}, switch_radix: {radix}, port_bandwidth_bytes_per_s: 400Gbps,
       switch_model: nvidia-qm9700}}
    - {{name: spine, group_size: 64, oversubscription: 1, switch_radix: 64, port_bandwidth_bytes_per_s: 400Gbps}}
"""


def _toy(tmp_path, o: int, radix: int) -> str:
    path = tmp_path / f"toy{o}.yaml"
    path.write_text(TOY.format(o=o, radix=radix))
    return str(path)


def _flow(system: str, gpus: int, placement: str = "packed", size: float = GIB, **kw):  # type: ignore[no-untyped-def]
    return estimate_collective("all-reduce", Cluster.resolve(system), gpus, size, placement, "sharp", sim="flow",
                               sharp=True, **kw)


IDLE = [("dgx-h100-superpod", 64, "packed"), ("dgx-h100-superpod", 1024, "packed"),
        ("dgx-h100-superpod", 1024, "spread"), ("dgx-h100-superpod", 4096, "spread"),
        ("dgx-a100-superpod", 64, "packed"), ("dgx-a100-superpod", 560, "spread"),
        ("meta-genai-ib-24k", 2048, "spread"), ("hgx-h200", 256, "packed"), ("hgx-h200", 512, "spread")]


@pytest.mark.parametrize(("system", "gpus", "placement"), IDLE)
def test_idle_flow_equals_the_analytical_sharp(system: str, gpus: int, placement: str) -> None:
    r = _flow(system, gpus, placement)
    assert r.algorithm == "sharp" and r.sim == "flow"
    assert r.time_s == pytest.approx(r.analytical_time_s, rel=0.05) and r.difference_reason is None
    # the alpha-beta line of `network.sharp` (no message-size efficiency, as no flow schedule has one): exact
    _, stride = place(Cluster.resolve(system).system.total_accelerators, gpus, placement)
    network, domain, latency = sharp_parts(Cluster.resolve(system).fabric, GIB, gpus, stride)
    assert r.time_s == pytest.approx(max(network, domain) + latency, rel=1e-6)
    assert r.bottleneck_tier == ("nic" if network > domain else "scale-up")


def test_one_tree_per_shard_group_each_link_once() -> None:
    spec = load_system("dgx-h100-superpod")
    topo = build_topology(spec)
    links = build_links(topo, 369e9, spec.network.collective_efficiency)
    # 64 GPUs packed: 8 trees (one per rail), each its 8 NICs up and down under one rail leaf: the leaf is the root
    paths, roots, first = sharp_trees(topo, links, np.arange(64), seed=0)
    assert paths.shape == (8, 16) and (roots == 0).all() and first.tolist() == list(range(8))
    assert ((paths >= links.nic_up) & (paths < links.nic_down + topo.endpoint_links)).all()
    # 1,024 GPUs spread (one per 2 nodes): one tree of 1,024 NICs through spines to one core switch
    members, _ = place(topo.gpus, 1024, "spread")
    paths, roots, _ = sharp_trees(topo, links, members, seed=0)
    row = paths[0][paths[0] >= 0]
    assert paths.shape[0] == 1 and roots.tolist() == [2] and np.unique(row).size == row.size
    spine_up = row[(row >= links.bundle_up[2]) & (row < links.bundle_down[2])]
    assert spine_up.size == 8  # one stream up from each of the 8 spine domains' one tree spine, to the root core


def test_an_oversubscribed_leaf_slows_the_trees_and_says_why(tmp_path) -> None:
    whole = _flow(_toy(tmp_path, 1, 32), 64)
    over = _flow(_toy(tmp_path, 4, 20), 64)
    assert whole.difference_reason is None and whole.bottleneck_tier == "scale-up"
    assert over.analytical_time_s == whole.analytical_time_s  # the analytical tree ignores the 1:4 tier
    # by hand: 8 trees of 1 GiB / 8 over a leaf's 4 x 50 GB/s uplinks: 25 GB/s each, 5.369 ms
    assert over.time_s == pytest.approx(GIB / 8 / 25e9 + 4e-6 + 6e-6, rel=1e-6)
    assert over.bottleneck_tier == "leaf" and over.time_s > 1.3 * whole.time_s
    assert "SHARP trees share leaf uplinks: the busiest leaf link carries 8 trees" in over.difference_reason


def test_failed_links_are_avoided_and_shared_trees_slow_down(tmp_path) -> None:
    unrailed = unrailed_mi300x(tmp_path)  # every shard group's tree on both leaves of a domain (hN70: rails kept
    idle = _flow(unrailed, 1024)  # each on one leaf, where a 10 % loss leaves spare uplinks)
    failed = _flow(unrailed, 1024, failed_links="leaf:10%")
    assert idle.difference_reason is None
    assert failed.time_s > 1.4 * idle.time_s and failed.bottleneck_tier == "leaf"
    assert "SHARP trees share leaf uplinks" in failed.difference_reason
    assert any("leaf uplinks failed (chosen with seed 0)" in a for a in failed.assumptions)
    spec = load_system("mi300x-cluster")
    topo = build_topology(spec)
    links, _, _ = fail_links(topo, build_links(topo, 336e9, 0.94), "leaf", 0.2, seed=1)
    paths, _, _ = sharp_trees(topo, links, np.arange(1024), seed=1)
    assert links.healthy is not None and (links.healthy[paths[paths >= 0]] > 0).all()  # no dead bundle in a tree


def test_cli_answers_with_flow_and_its_assumptions(capsys) -> None:
    assert main(["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "256", "--bytes", "1GiB",
                 "--sharp", "--sim", "flow", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["algorithm"] == "sharp" and data["sim"] == "flow" and data["flows_per_pair"] == 1
    assert data["time_s"] == pytest.approx(data["analytical_time_s"], rel=0.05)
    assert any("SHARP as flows" in a for a in data["assumptions"])


def test_the_text_answer_counts_tree_flows_not_gpu_pairs(capsys) -> None:
    """SHARP's flows are one per aggregation tree (plus the in-domain ring's): not ECMP flows per GPU pair."""
    assert main(["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "64", "--bytes", "1GiB",
                 "--sharp", "--sim", "flow"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "one per aggregation tree" in out and "per GPU pair" not in out


def test_small_messages_say_the_efficiency_differs() -> None:
    """The flow model applies no message-size bound: at 16 MiB packed it runs 0.58x the analytical time. (Was 64 MiB
    spread, 0.52x with SHARP's bound at bandwidth / e; read per step since session 51, hN,
    `sharp.SHARP_TABLE_PER_STEP`, one GPU a node pays 2 network steps' latency: 0.96x there.)"""
    r = _flow("dgx-h100-superpod", 1024, "packed", size=2.0**24)
    assert r.time_s < 0.6 * r.analytical_time_s
    assert "message-size efficiency" in r.difference_reason


@pytest.mark.parametrize(("args", "said"), [
    (["--system", "meta-genai-roce-24k", "--gpus", "64", "--sharp"], "minipack2 does no in-network reduction"),
    (["--system", "dgx-h100-superpod", "--gpus", "8", "--sharp", "--algorithm", "sharp"], "inside one 8-GPU"),
    (["--system", "dgx-a100-superpod", "--gpus", "4480", "--sharp", "--algorithm", "sharp", "--failed-links",
      "leaf:50%"], "no spine switch joins shard group 0's leaf switches over healthy links"),
])
def test_hostile_input_is_one_line_exit_2(capsys, args, said) -> None:
    assert main(["collective", "all-reduce", "--bytes", "1GiB", "--sim", "flow", *args]) == 2
    err = capsys.readouterr().err
    assert said in " ".join(err.split()) and err.count("\n") == 1 and "Traceback" not in err


def test_not_all_reduce_is_refused_in_the_flow_model_too(capsys) -> None:
    assert main(["collective", "all-gather", "--system", "dgx-h100-superpod", "--gpus", "64", "--bytes", "1GiB",
                 "--sharp", "--sim", "flow"]) == 2
    assert "--sharp prices all-reduce" in capsys.readouterr().err


def test_unjoinable_planes_are_one_line() -> None:
    spec = load_system("dgx-a100-superpod")
    topo = build_topology(spec)
    links, _, _ = fail_links(topo, build_links(topo, 231e9, 0.94), "leaf", 0.5, seed=0)
    with pytest.raises(InputError, match="no spine switch joins"):
        sharp_trees(topo, links, np.arange(0, 4480, 8), seed=0)


def test_uneven_members_per_domain_are_said() -> None:
    # 8,192 of 24,576 GPUs spread: stride 3, so nodes hold 2 or 3 members; the flow model runs 3 trees (through
    # 3 NICs of every node, PXN), the analytical model floor(8 / 3) = 2 shards per node
    r = _flow("meta-genai-ib-24k", 8192, "spread")
    assert r.time_s < 0.7 * r.analytical_time_s
    assert "the flow model runs 3 trees" in r.difference_reason and "= 2 per domain" in r.difference_reason
