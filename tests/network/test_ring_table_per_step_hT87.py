"""The SimAI NIC table read per ring step, by ranks, not by nodes (hT87, session 50).

The table's columns are rings of 8-GPU nodes ("2Node-16GPU" ... "128Node-1024GPU"); hT80 found its shortfall
2 S / B (1 / e - 1) a flat ~1.3-2.4 MB of its large-message busbw per ring step: a latency per step. The ring read
it per node: a ring over 128 one-GPU nodes read the 128-node column (1,024 ranks' steps) and paid the shortfall at
its one NIC's rate, 8x the table node's per byte: 74.8 ms for 16 MiB. Now the column is the ring's ranks / 8, the
shortfall per step tau = S (1 / e - 1) / (R B) (R = 8 x table nodes, B = 8 NICs' busbw) is paid on the ring's own
steps, 2 (n - 1) for an all-reduce, n - 1 for a reduce-scatter (`collective_efficiency.RING_TABLE_PER_STEP`).
Hand figures: DGX H100, 47 GB/s of busbw per NIC (the catalog's), 8 NICs 376 GB/s.
"""

from __future__ import annotations

import csv
import math
from importlib import resources

import numpy as np
import pytest
from simai_held_cells import held_cell

from infraplan.cluster import Cluster
from infraplan.network import collective_efficiency, simai_nccl_tables
from infraplan.network.collective_efficiency import message_efficiency
from infraplan.network.collective_formulas import _all_reduce_parts, all_reduce_time, reduce_scatter_time
from infraplan.network.collectives import collective_seconds, forget_collective_seconds, forget_float_values
from infraplan.network.sharp import sharp_time
from infraplan.scalar_path import FLOAT_OPS

SIZE = 2.0**24  # 16 MiB, the table's first row
# since session 51 (hN, `simai_nccl_tables.RING_TABLE_STEP_LINKS`) each step pays its link's share of the table's
# shortfall: a network step 14 / (14 + 7 x 3.4) x 8 = 2.963 mean steps (NCCL's Simple ring step latencies, network
# 14 us, NVLink 3.4 us); a ring of one GPU a node crosses the network on every step (hT87 paid each the mean step)
NET_STEP = 8 * 14.0 / (14.0 + 7 * 3.4)
NIC = 47e9  # DGX H100 busbw per 400G NIC (catalog), 8 of them the table node's
TABLE_BUSBW = 8 * NIC


def _table() -> tuple[list[float], np.ndarray]:
    """(sizes, efficiency[size, network column 2..128 nodes] over each column's 16 GiB value) from the CSV itself,
    with time held non-decreasing in size as the model holds it: between rows (sizes double) the efficiency rises
    by at most 1 + ln 2 (the table's own 16 -> 32 MiB at 16-128 nodes rises 2.2-2.4x: time falling with size),
    held from the largest row down since session 77 (hN: a row is raised to the one above / (1 + ln 2))."""
    text = resources.files("infraplan.catalog").joinpath("nccl", "simai_nic_ratio.csv").read_text()
    rows = list(csv.reader(line for line in text.splitlines() if not line.startswith("#")))[1:]
    raw = np.array([[float(x) for x in r[2:9]] for r in rows])
    for i in range(len(raw) - 1, 0, -1):
        raw[i - 1] = np.maximum(raw[i - 1], raw[i] / (1.0 + math.log(2.0)))
    return [float(r[0]) for r in rows], np.minimum(raw / raw[-1], 1.0)


def _fabric():  # type: ignore[no-untyped-def]
    return Cluster.resolve("dgx-h100-superpod").fabric


def test_the_tables_own_rings_read_their_cells() -> None:
    """A ring of 8 x N ranks packed 8 a node (N = 2 ... 128) at each tabulated size reads its cell: the efficiency
    is the cell (f = 1), and the ring's price is its bandwidth term over it, within 7 % (the 16 GiB row, where the
    cell is 1 by the normalisation, adds NCCL's step latency on 2 (8N - 1) steps: 6.5 % at 1,024 ranks), or its
    alpha-beta time where that is above it (since session 77 the 16 MiB cell at 128 nodes is held up to the 32 MiB
    one / (1 + ln 2), 2.5 us a step, under NCCL's 4 us LL128 step latency: the alpha-beta line binds there)."""
    fabric = _fabric()
    sizes, table = _table()
    for column, nodes in enumerate((2, 4, 8, 16, 32, 64, 128)):
        n = 8.0 * nodes
        for row, size in enumerate(sizes):
            assert float(message_efficiency(fabric, size, n, 1.0)) == pytest.approx(table[row, column], rel=1e-12)
            _, ring, _ = _all_reduce_parts(FLOAT_OPS, fabric, size, n, 1.0, "ring", True)
            _, plain, _ = _all_reduce_parts(FLOAT_OPS, fabric, size, n, 1.0, "ring", False)
            bandwidth = 2.0 * (n - 1.0) / n * size / TABLE_BUSBW
            assert bandwidth / ring <= table[row, column] * (1.0 + 1e-12)
            assert bandwidth / ring == pytest.approx(min(table[row, column], bandwidth / plain), rel=0.08)


def _spread(gpus: int) -> tuple[object, float]:
    cluster = Cluster.resolve("dgx-h100-superpod")
    return cluster.fabric, float(cluster.system.total_accelerators // gpus)


def test_a_one_gpu_per_node_ring_pays_the_tables_step_latency_on_its_own_steps() -> None:
    """16 MiB over 128 GPUs, one a node: the 16-node column (128 ranks / 8; 0.05 / 0.96) gives tau =
    S (1 / e - 1) / (128 x 376 GB/s) = 6.6 us a step; the ring's 254 steps on one NIC's 2 x 127 / 128 x S / 47 GB/s
    = 0.708 ms: 2.39 ms (was 74.8 ms, the 128-node column at 8x the table node's cost per byte). Since session 51
    every one of its steps is a network step, NET_STEP = 2.963 mean steps: 5.48 ms. Since session 77 the cell is
    held up from the rows above (`simai_held_cells`): 3.66 ms."""
    fabric, stride = _spread(128)
    efficiency = held_cell("simai_nic_ratio.csv", 5, 2**24)
    tau = SIZE * (1.0 / efficiency - 1.0) / (128 * TABLE_BUSBW)
    hand = 2.0 * 127 / 128 * SIZE / NIC + 254 * NET_STEP * tau
    ring = float(all_reduce_time(fabric, SIZE, 128.0, stride, algorithm="ring", sized=True))
    assert ring == pytest.approx(hand, rel=1e-9)
    assert 3.6e-3 < ring < 3.7e-3


def test_the_step_latency_is_the_mean_packed_and_a_network_steps_spread() -> None:
    """128 ranks packed (16 nodes of 8) and spread (128 nodes of 1) read the same column: packed, the table's own
    mix of steps, the mean latency per ring step; spread, every step a network step, NET_STEP x that (hT87: the
    same; session 51, `simai_nccl_tables`): (ring - bandwidth term) / 254, though the spread ring's bytes go at 1/8
    the rate."""
    fabric, stride = _spread(128)
    per_step = []
    for spacing, busbw in ((1.0, TABLE_BUSBW), (stride, NIC)):
        ring = float(all_reduce_time(fabric, SIZE, 128.0, spacing, algorithm="ring", sized=True))
        per_step.append((ring - 2.0 * 127 / 128 * SIZE / busbw) / 254)
    assert per_step[0] * NET_STEP == pytest.approx(per_step[1], rel=1e-9)


def test_a_reduce_scatter_pays_half_the_steps() -> None:
    """A reduce-scatter runs n - 1 ring steps, an all-reduce 2 (n - 1): the same latency per step, half of it."""
    fabric, stride = _spread(128)
    ring = float(all_reduce_time(fabric, SIZE, 128.0, stride, algorithm="ring", sized=True))
    scatter = float(reduce_scatter_time(fabric, SIZE, 128.0, stride, sized=True))
    assert scatter - 127 / 128 * SIZE / NIC == pytest.approx((ring - 2.0 * 127 / 128 * SIZE / NIC) / 2.0, rel=1e-9)


def test_beyond_the_last_column_the_ring_pays_its_own_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """8,192 ranks packed (1,024 nodes): the 128-node column's latency per step on 2 x 8,191 steps, 8x the 1,024-rank
    ring's latency (it read that column's efficiency at its own ranks before, 8x less latency than its steps). With
    the table held from the smallest row up (the rule before session 77) the cell is the CSV's 0.0087 / 0.919175;
    held from the largest row down it is raised, and the ring is cheaper, its alpha-beta line binding."""
    fabric = _fabric()
    held, _, _ = _all_reduce_parts(FLOAT_OPS, fabric, SIZE, 8192.0, 1.0, "ring", True)
    monkeypatch.setattr(simai_nccl_tables, "HOLD_FROM_LARGEST", False)
    simai_nccl_tables.forget_tables()
    forget_float_values()
    efficiency = 0.0087 / 0.919175
    tau = SIZE * (1.0 / efficiency - 1.0) / (1024 * TABLE_BUSBW)
    hand = 2.0 * 8191 / 8192 * SIZE / TABLE_BUSBW + 2 * 8191 * tau
    _, ring, _ = _all_reduce_parts(FLOAT_OPS, fabric, SIZE, 8192.0, 1.0, "ring", True)
    monkeypatch.undo()
    simai_nccl_tables.forget_tables()
    forget_float_values()
    assert ring == pytest.approx(hand, rel=1e-9)
    assert held < 0.7 * ring


def test_fewer_ranks_than_the_first_column_read_it_per_step() -> None:
    """8 GPUs on 8 nodes: under the table's smallest ring (16 ranks, 2 nodes): its column (0.32 / 0.96) read at its
    own 16 ranks' steps, tau = 5.6 us on the ring's 2 x 7 steps (before: the 2-node column as it is, 3.3x the
    time, 2.31 ms); since session 51 each of them a network step, NET_STEP mean steps: 0.856 ms, 1.37x the
    bandwidth term."""
    fabric, stride = _spread(8)
    efficiency = 0.32 / 0.96
    tau = SIZE * (1.0 / efficiency - 1.0) / (16 * TABLE_BUSBW)
    _, ring, _ = _all_reduce_parts(FLOAT_OPS, fabric, SIZE, 8.0, stride, "ring", True)
    plain = 2.0 * 7 / 8 * SIZE / NIC
    assert ring == pytest.approx(plain + 14 * NET_STEP * tau, rel=1e-9)
    assert ring < 1.4 * plain


def test_sharp_keeps_its_two_domain_column(monkeypatch: pytest.MonkeyPatch) -> None:
    """SHARP's aggregation tree has no published per-size curve: it keeps the table's two-domain column
    (`sharp.sharp_time`, ASSUMPTION there; read per step on SHARP's own steps since session 51,
    `sharp.SHARP_TABLE_PER_STEP`), whatever the ring's per-step switch says."""
    fabric, stride = _spread(128)
    now = sharp_time(fabric, SIZE, 128.0, stride)
    monkeypatch.setattr(collective_efficiency, "RING_TABLE_PER_STEP", False)
    forget_float_values()
    assert sharp_time(fabric, SIZE, 128.0, stride) == now
    monkeypatch.undo()
    forget_float_values()


def test_the_switch_restores_the_per_node_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off, the 16 MiB reduce-scatter over 128 one-GPU nodes reads the 128-node column at one NIC's rate again:
    37.4 ms (~50x its 0.75 ms alpha-beta time); on, 1.16 ms (2.74 ms since session 51: each of its steps a network
    step, `simai_nccl_tables`); float and array paths agree either way."""
    fabric, stride = _spread(128)
    now = collective_seconds(fabric, "reduce_scatter", SIZE, 128.0, stride)
    assert now == float(reduce_scatter_time(fabric, SIZE, 128.0, stride, sized=True))
    monkeypatch.setattr(collective_efficiency, "RING_TABLE_PER_STEP", False)
    forget_float_values()
    forget_collective_seconds()
    before = collective_seconds(fabric, "reduce_scatter", SIZE, 128.0, stride)
    array = float(reduce_scatter_time(fabric, SIZE, 128.0, stride, sized=True))
    monkeypatch.undo()
    forget_float_values()
    forget_collective_seconds()
    assert before == array
    assert before == pytest.approx(127 / 128 * SIZE / NIC / held_cell("simai_nic_ratio.csv", 8, 2**24), rel=1e-9)
    assert 1.8e-3 < now < 1.9e-3  # (2.74 ms before session 77's hold from the largest row)
