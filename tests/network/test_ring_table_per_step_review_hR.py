"""Review of the NIC table read per ring step (hT87) by mutation (hR, session 51): both of `message_efficiency`'s paths
(one group in floats, `group_efficiency` / `efficiency_at`; groups in arrays, `_message_efficiency_array`), the
16-rank floor of the column, the all-to-all left on its own table, the table node's rate bounded by scale-up.

Every mutant of `_message_efficiency_array` (share without n / R, the per-step formula scaled, the 16-rank floor or
the 1,024-rank cap dropped, all-to-all read per step) and the floor in the float path passed hT87's tests, which
price through the float path only. Hand figures: DGX H100 superpod, 47 GB/s of busbw per NIC (the catalog's)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from simai_held_cells import held_cell

from infraplan.cluster import Cluster
from infraplan.network import collective_efficiency
from infraplan.network.collective_efficiency import message_efficiency, table_busbw
from infraplan.network.collectives import forget_collective_seconds, forget_float_values
from infraplan.network.fabric import ring_scale_up_limit

SIZE = 2.0**24  # 16 MiB, the table's first row
CLUSTER = Cluster.resolve("dgx-h100-superpod")
FABRIC, GPUS = CLUSTER.fabric, CLUSTER.system.total_accelerators
GROUPS = [(n, stride) for n in (8.0, 12.0, 100.0, 128.0, 2048.0, 8192.0) for stride in (1.0, float(GPUS // n))]


def _both(n: float, stride: float, all_to_all: bool = False, size: float = SIZE) -> tuple[float, float]:
    """(float path, array path) efficiency of one group: a 0-d query takes the float path, two equal groups the
    array path."""
    one = float(message_efficiency(FABRIC, size, n, stride, all_to_all))
    two = message_efficiency(FABRIC, np.full(2, size), np.full(2, n), np.full(2, stride), all_to_all)
    return one, float(two[0])


@pytest.mark.parametrize(("n", "stride"), GROUPS)
@pytest.mark.parametrize("all_to_all", [False, True])
def test_the_float_and_array_paths_agree(n: float, stride: float, all_to_all: bool) -> None:
    for size in (SIZE, 2.0**28, 2.0**34):
        one, array = _both(n, stride, all_to_all, size)
        assert one == pytest.approx(array, rel=1e-12), (n, stride, size)


def test_a_ring_under_the_tables_smallest_reads_the_sixteen_rank_column_at_its_own_share() -> None:
    """8 GPUs on 8 nodes: the 16-rank (2-node) column, 0.32 / 0.96 = 1/3 at 16 MiB, read with f = (8 / 16) x (one NIC
    / 8 NICs) = 1/16 (8/9 before session 51), each of its 8 steps a network step (hN, `simai_nccl_tables`: 8 x 14 /
    (14 + 7 x 3.4) = 2.963 of the table's mean steps): f = 2.963 / 16, e = (1/3) / (1/3 + (2/3) x 2.963 / 16) =
    37.8 / 51.8 = 27/37, in both paths."""
    one, array = _both(8.0, float(GPUS // 8))
    assert one == pytest.approx(27.0 / 37.0, rel=1e-12) and array == pytest.approx(27.0 / 37.0, rel=1e-12)


def test_a_packed_ring_past_the_last_column_reads_it_at_its_own_steps() -> None:
    """8,192 GPUs packed 8 a node: the 1,024-rank column (0.0087 / 0.919175 at 16 MiB, held up from the rows above
    since session 77, `simai_held_cells`) with f = 8,192 / 1,024 = 8 (the ring's busbw is the table node's):
    e = t / (t + 8 (1 - t)), in both paths."""
    t = held_cell("simai_nic_ratio.csv", 8, 2**24)
    hand = t / (t + 8.0 * (1.0 - t))
    one, array = _both(8192.0, 1.0)
    assert one == pytest.approx(hand, rel=1e-9) and array == pytest.approx(hand, rel=1e-9)


def test_an_all_to_all_keeps_the_ata_table_at_its_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-step reading is a ring's (module docstring): an all-to-all reads its own table at the nodes it spans,
    the switch on or off, in both paths."""
    groups = [(128.0, float(GPUS // 128)), (512.0, 1.0), (8.0, float(GPUS // 8))]
    on = [_both(n, stride, True) for n, stride in groups]
    monkeypatch.setattr(collective_efficiency, "RING_TABLE_PER_STEP", False)
    forget_float_values()
    forget_collective_seconds()
    off = [_both(n, stride, True) for n, stride in groups]
    monkeypatch.undo()
    forget_float_values()
    forget_collective_seconds()
    assert on == off


def test_the_table_nodes_rate_is_bounded_by_its_scale_up_ring() -> None:
    """8 NICs of the fabric, unless an 8-member ring's scale-up limit is lower: with 1 TB/s NICs (8 TB/s) the
    NVLink bound of an 8-member ring binds; with the catalog's 47 GB/s NICs the NICs do."""
    assert table_busbw(FABRIC) == pytest.approx(8 * FABRIC.nic_bytes_per_s, rel=1e-12)
    fast = replace(FABRIC, nic_bytes_per_s=1e12)
    limit = float(ring_scale_up_limit(FABRIC, 8.0))
    assert limit < 8e12 and table_busbw(fast) == pytest.approx(limit, rel=1e-12)
