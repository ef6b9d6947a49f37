"""Mutation wave hM80 (session 50): what `network.priced_collective` names and reads, held to the tables' own figures.

Inside one H100 node the measured curves are AIConfigurator's NCCL times (catalog/nccl/aiconfigurator_h100_*.csv,
16 MiB row: all_gather 8 GPUs 68.86 us, reduce_scatter 69.67, alltoall 75.66, 4 GPUs 66.21 / 59.27 / 68.93; the
all-reduce 99.27 us on 4 GPUs): at a tabulated size the priced time is the measured time (a reduce-scatter or
all-gather reads the mean of the two ring columns, `nvlink_collectives._measured_times`). Across nodes the SimAI
tables' entry at the group's node column over the column's 16 GiB value, read from the CSVs here.
"""

from __future__ import annotations

import dataclasses

import pytest
from simai_held_cells import held_cell

from infraplan.cluster import Cluster
from infraplan.network.priced_collective import priced_collective

US = 1e-6
MIB = 2.0**20


def _h100():  # type: ignore[no-untyped-def]
    return Cluster.resolve("dgx-h100-superpod").fabric  # 8 H100 a node, no SHARP, no placement unit


def _simai(table: str, column: int, size: int) -> float:  # the cell as held (session 77, `simai_held_cells`)
    return held_cell(table, column, size)


@pytest.mark.parametrize(("op", "gpus", "measured_us", "curve"), [
    ("all-to-all", 8, 75.66, "all_to_all"),
    ("all-to-all", 4, 68.93, "all_to_all"),
    ("all-gather", 8, (68.86 + 69.67) / 2, "all_gather"),
    ("reduce-scatter", 4, (66.21 + 59.27) / 2, "reduce_scatter"),
])
def test_inside_a_node_the_price_is_the_measured_time(op: str, gpus: int, measured_us: float, curve: str) -> None:
    got = priced_collective(_h100(), op, 16 * MIB, gpus, 1)
    assert got.time_s == pytest.approx(measured_us * US, rel=1e-9)
    assert f"the measured NCCL {curve} curve catalog/nccl/aiconfigurator_h100_collectives.csv" in got.basis


def test_an_all_to_all_in_a_node_reports_the_all_to_all_curves_efficiency() -> None:
    """Each measured efficiency is (g - 1) / g x size / catalog rate / the measured time
    (`nvlink_collectives._column`), so at one size and GPU count the all-to-all's over the all-gather's is the
    inverse of their times: 69.265 / 75.66 (8 GPUs, 16 MiB)."""
    a2a = priced_collective(_h100(), "all-to-all", 16 * MIB, 8, 1).efficiency
    ring = priced_collective(_h100(), "all-gather", 16 * MIB, 8, 1).efficiency
    assert a2a is not None and ring is not None
    assert a2a / ring == pytest.approx((68.86 + 69.67) / 2 / 75.66, rel=1e-9)


def test_a_4_gpu_all_reduce_reads_the_4_gpu_column() -> None:
    """NCCL's 4-GPU all-reduce of 16 MiB took 99.27 us (8 GPUs: 122.29): the price reads the 4-GPU curve (within
    1 %: the fastest of ring, tree and NVLS, each on the measured curve's efficiency)."""
    got = priced_collective(_h100(), "all-reduce", 16 * MIB, 4, 1)
    assert got.time_s == pytest.approx(99.27 * US, rel=0.01)


def test_an_all_to_all_across_nodes_reads_the_all_to_all_table() -> None:
    """64 GPUs (8 nodes), 16 MiB: the ATA table's 8-node column, 0.64 / 0.94 (the NIC table's would be
    0.13 / 0.96)."""
    got = priced_collective(_h100(), "all-to-all", 16 * MIB, 64, 1)
    assert got.efficiency == pytest.approx(_simai("simai_ata_ratio.csv", 4, 2**24), rel=1e-12)
    assert got.efficiency == pytest.approx(0.64 / 0.94, rel=1e-12)


def test_the_last_column_itself_is_read_not_held() -> None:
    """1,024 GPUs packed span 128 nodes, the tables' last column (header "128Node-1024GPU"): read at that column,
    nothing held beyond it."""
    got = priced_collective(_h100(), "reduce-scatter", 16 * MIB, 1024, 1)
    assert "at 1,024 ranks / 8 = 128 nodes," in got.basis and "last column" not in got.basis
    assert got.efficiency == pytest.approx(_simai("simai_nic_ratio.csv", 8, 2**24), rel=1e-9)


def test_ranks_3_apart_put_2_in_a_node() -> None:
    """32 ranks 3 apart: floor(8 / 3) = 2 members in a node (`fabric.group_domain`), so the ring drives 2 NICs
    (2 x 47 GB/s, not 32 / (8 / 3) = 12 members' worth); read per ring step (hT87) at 32 / 8 = 4 table nodes
    (0.24 / 0.95 at 16 MiB), its shortfall per step at the table node's 8 x 47 GB/s paid at the ring's own 94 GB/s:
    1 / (1 + (1 / e - 1) x 94 / 376), on its own steps each at its link (session 51, `simai_nccl_tables`): it touches
    ceil(96 / 8) = 12 nodes, so 12 of its 32 steps cross the network (14 us) and 20 stay on NVLink (3.4 us), in
    mean table steps (12 x 14 + 20 x 3.4) x 8 / (14 + 7 x 3.4) = 49.9 for 32."""
    got = priced_collective(_h100(), "reduce-scatter", 16 * MIB, 32, 3)
    assert "at 32 ranks / 8 = 4 nodes," in got.basis
    table = _simai("simai_nic_ratio.csv", 3, 2**24)
    steps = (12 * 14.0 + 20 * 3.4) * 8 / (14.0 + 7 * 3.4) / 32
    assert got.efficiency == pytest.approx(1.0 / (1.0 + (1.0 / table - 1.0) * steps * 94.0 / 376.0), rel=1e-9)


def test_a_sharp_fabric_prices_sharp_without_the_flag() -> None:
    """A fabric whose switches do SHARP (`sharp` set in its file) prices an all-reduce as `train --sharp` does on the
    plain fabric: the same time, the same SHARP basis (`collective_seconds` takes CollNet on such a fabric)."""
    fabric = _h100()
    flagged = priced_collective(fabric, "all-reduce", 1024 * MIB, 64, 1, sharp=True)
    assert flagged.efficiency is None and "IB SHARP" in flagged.basis
    assert priced_collective(dataclasses.replace(fabric, sharp=True), "all-reduce", 1024 * MIB, 64, 1) == flagged


def test_the_custom_all_reduce_is_named_up_to_its_8_mib_buffer() -> None:
    """vLLM's custom all-reduce buffer is 8 MiB (csrc/custom_all_reduce.cuh;
    `collective_algorithms.custom_all_reduce_time` takes sizes <= it): named at 8 MiB, not a byte above."""
    at = priced_collective(_h100(), "all-reduce", 8 * MIB, 8, 1).basis
    assert "custom_all_reduce_time" in at and "up to 8 MiB" in at
    assert "custom_all_reduce_time" not in priced_collective(_h100(), "all-reduce", 8 * MIB + 1, 8, 1).basis
