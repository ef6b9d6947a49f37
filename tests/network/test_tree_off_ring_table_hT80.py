"""The SimAI NIC table is a ring's; NCCL's tree across scale-up domains is not priced by it (hT80, session 50).

`train` priced a 16 MiB all-reduce over 128 one-GPU nodes at 74.8 ms, 94x the tree's alpha-beta 0.79 ms: the
tree was bounded by its bandwidth term over the SimAI NIC table's efficiency at 128 nodes (0.0087 / 0.919). The
table's own numbers say what it measured: its shortfall at a size, 2 S / B x (1 / efficiency - 1), divided by a
ring's 2 (8 x nodes - 1) steps is the same ~1.3-2.4 MB of its large-message busbw from 4 to 128 nodes (a 32x span
of steps), i.e. a latency linear in the ranks: a ring's (~5 us a step at a DGX H100 node's ~370 GB/s). NCCL's tree
runs ~2 log2(nodes) network hops. So the ring keeps the table, the tree its own alpha-beta time
(`collective_efficiency.RING_TABLE_RING_ONLY`).
"""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
import pytest
from flow_toy_fabric import TINY

from infraplan.cluster import Cluster
from infraplan.network import collective_efficiency, simai_nccl_tables
from infraplan.network.collective_formulas import all_reduce_time
from infraplan.network.collectives import collective_seconds, forget_collective_seconds, forget_float_values
from infraplan.network.priced_collective import priced_collective

SIZE = 2.0**24  # 16 MiB, the tables' first row


def _table() -> tuple[np.ndarray, np.ndarray]:
    """(sizes, efficiency[size, node column 1..128] over each column's 16 GiB value) read from the CSV itself."""
    text = resources.files("infraplan.catalog").joinpath("nccl", "simai_nic_ratio.csv").read_text()
    rows = list(csv.reader(line for line in text.splitlines() if not line.startswith("#")))[1:]
    sizes = np.array([float(r[0]) for r in rows])
    table = np.array([[float(x) for x in r[1:9]] for r in rows])
    return sizes, table / table[-1]


def test_the_tables_shortfall_is_a_rings_steps() -> None:
    """Per ring step of 8 x nodes ranks, the shortfall in bytes at the large-message busbw is flat (within 2x)
    from 4 to 128 nodes at 16 MiB - 1 GiB, while a tree's hops (log2 nodes) would make it fall 6x over that span."""
    sizes, eff = _table()
    per_step = []
    for column, nodes in enumerate((1, 2, 4, 8, 16, 32, 64, 128)):
        if nodes < 4:
            continue
        steps = 2.0 * (8 * nodes - 1)
        per_step.append(2.0 * sizes[:7] * (1.0 / eff[:7, column] - 1.0) / steps)
    values = np.array(per_step)
    assert values.min() > 1.0e6 and values.max() < 2.5e6
    means = values.mean(axis=1)  # per node column
    assert means.max() / means.min() < 1.5  # steps grow 32x from 4 to 128 nodes


def _spread(gpus: int) -> tuple[object, int]:
    cluster = Cluster.resolve("dgx-h100-superpod")
    return cluster.fabric, cluster.system.total_accelerators // gpus


def test_a_tree_over_128_nodes_is_priced_at_its_own_time() -> None:
    """16 MiB over 128 GPUs one per node: priced = the tree's alpha-beta time (0.79 ms: 2 x 16 MiB over one
    NIC's ~47 GB/s is 0.71 ms plus the tree's latency), the ring still bounded by the table (above its own)."""
    fabric, stride = _spread(128)
    tree = float(all_reduce_time(fabric, SIZE, 128, stride, algorithm="tree", sized=False))
    priced = priced_collective(fabric, "all-reduce", SIZE, 128, stride)
    assert priced.time_s == pytest.approx(tree, rel=1e-12) and priced.efficiency is None
    assert 2.0 * SIZE / 50e9 < priced.time_s < 1.0e-3
    ring_sized = float(all_reduce_time(fabric, SIZE, 128, stride, algorithm="ring", sized=True))
    ring_plain = float(all_reduce_time(fabric, SIZE, 128, stride, algorithm="ring", sized=False))
    assert ring_sized > 1.5 * ring_plain  # the ring reads the table (per ring step since hT87: 2.32 ms vs 1.50)
    assert collective_seconds(fabric, "all_reduce", SIZE, 128.0, float(stride)) == priced.time_s


def test_the_switch_restores_the_old_price(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the tree read against the table again (the switch off) and the table read per node (hT87's switch off)
    the same all-reduce costs ~75 ms, 94x."""
    fabric, stride = _spread(128)
    now = collective_seconds(fabric, "all_reduce", SIZE, 128.0, float(stride))
    monkeypatch.setattr(collective_efficiency, "RING_TABLE_RING_ONLY", False)
    monkeypatch.setattr(collective_efficiency, "RING_TABLE_PER_STEP", False)
    monkeypatch.setattr(simai_nccl_tables, "HOLD_FROM_LARGEST", False)  # the table as held before session 77
    simai_nccl_tables.forget_tables()
    forget_float_values()
    forget_collective_seconds()
    before = collective_seconds(fabric, "all_reduce", SIZE, 128.0, float(stride))
    array = float(all_reduce_time(fabric, SIZE, 128, stride, sized=True))
    monkeypatch.undo()
    simai_nccl_tables.forget_tables()
    forget_float_values()
    forget_collective_seconds()
    assert before == array
    assert 80.0 < before / now < 110.0


def test_inside_one_domain_nothing_moves() -> None:
    """A group inside one node keeps its measured in-domain bound: the switch changes nothing there."""
    fabric, _ = _spread(128)
    inside = collective_seconds(fabric, "all_reduce", SIZE, 8.0, 1.0)
    assert inside == float(all_reduce_time(fabric, SIZE, 8, 1, sized=True))
    assert inside > float(all_reduce_time(fabric, SIZE, 8, 1, sized=False))  # the measured curve binds


def test_three_nodes_reduce_and_broadcast_at_once_by_hand(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """24 GPUs: nodes 0, 1 on leaf 0 (2 x 400G up), node 2 on leaf 1. NCCL's trees over 3 nodes: tree 0 1 -> 2 -> 0,
    tree 1 (shifted, 3 is odd) 0 -> 1, 2 -> 0 (root 1). Per channel leaf 0 sends 1 -> 2 up (1 edge out) and takes
    2 -> 0 up in both trees (2 in); the broadcast runs the same edges the other way at the same time (NCCL's
    runTreeSplit), so each direction of leaf 0's uplinks carries 3 edges of S / 16 per channel, 8 channels:
    1.5 S over 2 x 50 GB/s. 64 MiB: 1.0066 ms + the tree's latency (its 1-byte time); one pass after the other
    (max(out, in) = 2 per pass) it would be 1.342 ms. Both models give it; the NICs alone 0.168 ms."""
    from infraplan.network.collective_schedules import estimate_collective
    from infraplan.network.nccl_trees import tree_parents

    assert [p.tolist() for p in tree_parents(3)] == [[-1, 2, 0], [1, -1, 0]]
    path = tmp_path / "three.yaml"
    path.write_text(TINY)  # three of its four nodes: two on leaf 0, one on leaf 1
    cluster = Cluster.resolve(str(path))
    size = 64 * 2.0**20
    hand = 1.5 * size / (2 * 50e9)
    latency = estimate_collective("all-reduce", cluster, 24, 1.0, algorithm="tree").time_s
    analytical = estimate_collective("all-reduce", cluster, 24, size, algorithm="tree")
    assert analytical.bottleneck_tier == "leaf"
    assert analytical.time_s - latency == pytest.approx(hand, rel=1e-6)
    flow = estimate_collective("all-reduce", cluster, 24, size, algorithm="tree", sim="flow")
    assert flow.time_s == pytest.approx(analytical.time_s, rel=1e-3)
