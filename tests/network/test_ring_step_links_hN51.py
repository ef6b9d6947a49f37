"""Each ring step of the SimAI NIC table's shortfall at the link it crosses (hN, session 51; `simai_nccl_tables`).

The table's rings are of 8-GPU nodes: 1 network step and 7 NVLink steps in every 8. Its shortfall is split between
them in the ratio of NCCL's Simple-protocol ring step latencies (network 14 us, NVLink 3.4 us): a network step is
8 x 14 / 37.8 = 2.963 mean steps, an NVLink step 8 x 3.4 / 37.8 = 0.720. A ring of 8 members a domain pays the
table's cells to the bit; a ring over NVL72 racks pays less (most of its steps are NVLink), one GPU a node more.
IB SHARP reads the table's two-domain column as a latency per step too, on its own 2 network steps and its
in-domain steps (`sharp.SHARP_TABLE_PER_STEP`).
"""

from __future__ import annotations

import numpy as np
import pytest
from simai_held_cells import held_cell

from infraplan.cluster import Cluster
from infraplan.network import collective_efficiency, sharp, simai_nccl_tables
from infraplan.network.collective_formulas import all_reduce_time, reduce_scatter_time
from infraplan.network.collectives import collective_seconds, forget_collective_seconds, forget_float_values
from infraplan.network.fabric import group_link_one

SIZE = 2.0**24  # 16 MiB, the table's first row
NET = 8 * 14.0 / (14.0 + 7 * 3.4)  # a network step in the table's mean steps
NVLINK = 8 * 3.4 / (14.0 + 7 * 3.4)  # an NVLink step


def _fresh() -> None:
    forget_float_values()
    forget_collective_seconds()


def _both(monkeypatch: pytest.MonkeyPatch, fabric, kind: str, n: float, stride: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(the sized price with each step at its link, with every step at the table's mean step)."""
    _fresh()
    on = collective_seconds(fabric, kind, SIZE, n, stride)
    monkeypatch.setattr(simai_nccl_tables, "RING_TABLE_STEP_LINKS", False)
    _fresh()
    off = collective_seconds(fabric, kind, SIZE, n, stride)
    monkeypatch.undo()
    _fresh()
    return on, off


def test_the_weights_are_nccls_step_latencies_and_the_tables_mix_is_one_step_each() -> None:
    """1 network + 7 NVLink steps are 8 mean steps; the module's figures are the ones this test names."""
    assert abs(NET + 7 * NVLINK - 8.0) < 1e-12
    assert simai_nccl_tables.NCCL_NET_RING_STEP_S == 14.0e-6 and simai_nccl_tables.NCCL_NVLINK_RING_STEP_S == 3.4e-6
    h100 = Cluster.resolve("dgx-h100-superpod").fabric
    assert simai_nccl_tables.weighted_steps(h100, 128.0, 1.0) == 128.0  # 8 a node: the table's own mix
    assert simai_nccl_tables.weighted_steps(h100, 128.0, 8.0) == pytest.approx(128 * NET, rel=1e-12)  # one a node
    assert simai_nccl_tables.weighted_steps(h100, 32.0, 3.0) == pytest.approx(12 * NET + 20 * NVLINK, rel=1e-12)


def test_an_nvl72_ring_over_racks_pays_nvlink_steps_at_nvlinks_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """GB200 NVL72, 128 GPUs 4 apart: 18 members a rack on 8 racks (ceil(512 / 72) = 8 network steps of 128), so
    (8 x 2.963 + 120 x 0.720) = 110.05 mean steps, not 128: its efficiency 1 / (1 + f (1 / e - 1)) with
    f = (110.05 / 128) (bw / B) (the 16-node column, 0.05 / 0.96 held up from the rows above since session 77,
    `simai_held_cells`; B = 8 NICs' busbw). The 16 MiB reduce-scatter
    falls from the table's bound 0.4247 ms to 0.4108 ms, its alpha-beta line (127 hops at their own links), which
    now binds."""
    fabric = Cluster.resolve("gb200-nvl72-superpod").fabric
    bw = group_link_one(fabric, 128.0, 4.0, False)[0]
    ratio = bw / collective_efficiency.table_busbw(fabric)
    steps = 8 * NET + 120 * NVLINK
    assert steps == pytest.approx(110.05, abs=0.01)
    e = held_cell("simai_nic_ratio.csv", 5, 2**24)
    for links, mean_steps in ((True, steps), (False, 128.0)):
        monkeypatch.setattr(simai_nccl_tables, "RING_TABLE_STEP_LINKS", links)
        _fresh()
        got = float(collective_efficiency.message_efficiency(fabric, SIZE, 128.0, 4.0))
        assert got == pytest.approx(1.0 / (1.0 + mean_steps / 128 * ratio * (1.0 / e - 1.0)), rel=1e-9)
    monkeypatch.undo()
    on, off = _both(monkeypatch, fabric, "reduce_scatter", 128.0, 4.0)
    alpha_beta = float(reduce_scatter_time(fabric, SIZE, 128.0, 4.0, sized=False))
    assert on == pytest.approx(0.4108e-3, abs=1e-7) and off == pytest.approx(0.4108e-3, abs=1e-7)  # both at it
    assert on >= alpha_beta
    # with the table held from the smallest row up (before session 77: the CSV's 16 MiB cell) the mean step binds
    monkeypatch.setattr(simai_nccl_tables, "HOLD_FROM_LARGEST", False)
    simai_nccl_tables.forget_tables()
    on, off = _both(monkeypatch, fabric, "reduce_scatter", 128.0, 4.0)
    monkeypatch.undo()
    simai_nccl_tables.forget_tables()
    _fresh()
    assert on == pytest.approx(0.4108e-3, abs=1e-7) and off == pytest.approx(0.4247e-3, abs=1e-7)


def test_eight_members_a_node_pay_the_tables_cells_to_the_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Packed DGX H100 rings of 16-8,192 ranks: the same bits with the switch on or off, float and array paths."""
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    for n in (16.0, 64.0, 1024.0, 8192.0):
        for kind in ("reduce_scatter", "all_reduce"):
            on, off = _both(monkeypatch, fabric, kind, n, 1.0)
            assert on == off


def test_float_and_array_paths_agree_on_mixed_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """The float path (`collective_seconds`) and the array path (`reduce_scatter_time` on arrays) give the same
    bits for groups of every mix, on and off."""
    n = np.array([8.0, 32.0, 128.0, 128.0, 1024.0, 144.0])
    stride = np.array([8.0, 3.0, 8.0, 4.0, 16.0, 1.0])
    for system in ("dgx-h100-superpod", "gb200-nvl72-superpod"):
        fabric = Cluster.resolve(system).fabric
        for links in (True, False):
            monkeypatch.setattr(simai_nccl_tables, "RING_TABLE_STEP_LINKS", links)
            _fresh()
            array = reduce_scatter_time(fabric, np.full(n.shape, SIZE), n, stride, sized=True)
            floats = [collective_seconds(fabric, "reduce_scatter", SIZE, float(a), float(b))
                      for a, b in zip(n, stride, strict=True)]
            assert array.tolist() == floats
    monkeypatch.undo()
    _fresh()


def test_the_alpha_beta_line_the_flow_model_compares_with_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flow simulation does not read the table: the unsized times it is held to are the same on and off."""
    fabric = Cluster.resolve("gb200-nvl72-superpod").fabric
    on = float(all_reduce_time(fabric, SIZE, 128.0, 4.0, algorithm="ring", sized=False))
    monkeypatch.setattr(simai_nccl_tables, "RING_TABLE_STEP_LINKS", False)
    _fresh()
    assert float(all_reduce_time(fabric, SIZE, 128.0, 4.0, algorithm="ring", sized=False)) == on
    monkeypatch.undo()
    _fresh()


def test_sharp_pays_the_two_domain_columns_step_latency_on_its_own_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """DGX H100, 128 GPUs one a node (k = 1), 16 MiB: SHARP's NIC term S / 47 GB/s plus 2 network steps (2 x 2.963
    mean steps) of the 16-rank column's shortfall per step, S (1 / e - 1) / (16 x 376 GB/s), e = 0.32 / 0.96:
    0.390 ms (bandwidth / e was 1.071 ms: the table's latency scaled by one NIC's bandwidth term)."""
    cluster = Cluster.resolve("dgx-h100-superpod")
    fabric, stride = cluster.fabric, float(cluster.system.total_accelerators // 128)
    tau = SIZE * (0.96 / 0.32 - 1.0) / (16 * 8 * 47e9)
    bandwidth = SIZE / 47e9
    now = sharp.sharp_time(fabric, SIZE, 128.0, stride)
    assert now == pytest.approx(bandwidth + 2 * NET * tau, rel=1e-9)
    monkeypatch.setattr(sharp, "SHARP_TABLE_PER_STEP", False)
    before = sharp.sharp_time(fabric, SIZE, 128.0, stride)
    assert before == pytest.approx(bandwidth / (0.32 / 0.96), rel=1e-9)
    assert now < 0.4 * before


def test_sharp_in_a_domain_with_nvls_pays_nvlss_latency_not_a_rings_steps() -> None:
    """Packed DGX H100 (k = 8, NVLS): the in-domain steps are min(2 x 7 x 3.4, 25) us = NVLS's 25 us, so
    (2 x 14 + 25) x 8 / 37.8 = 11.2 mean steps of the column's shortfall, on SHARP's bandwidth term."""
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    network, domain, _ = sharp.sharp_parts(fabric, SIZE, 256.0, 1.0)
    tau = SIZE * (0.96 / 0.32 - 1.0) / (16 * collective_efficiency.table_busbw(fabric))
    steps = (2 * 14.0 + 25.0) * 8 / (14.0 + 7 * 3.4)
    assert sharp.sharp_time(fabric, SIZE, 256.0, 1.0) == pytest.approx(max(network, domain) + steps * tau, rel=1e-9)
