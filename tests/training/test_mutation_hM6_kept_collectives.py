"""Mutation wave 6 (hM6): the per-search collective times of `training.distinct_collectives.distinct_collective_time`
(its docstring): kept by the columns' content, which is their dtype, SHAPE and bytes, and each caller gets its own
copy (a caller writing into its answer changes no later answer)."""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_time
from infraplan.network.fabric import Fabric
from infraplan.training import distinct_collectives
from infraplan.training.row_memo import RowMemo
from infraplan.training.search import enumerate_plans


def _setup() -> tuple[Fabric, np.ndarray, np.ndarray, np.ndarray, Any]:
    fabric = Cluster.resolve("dgx-h100-superpod").for_gpus(4096).fabric
    size = np.array([2.0**20, 2.0**27, 5e8, 2.0**20, 2.0**27, 5e8])
    group = np.array([8.0, 64.0, 512.0, 2.0, 8.0, 64.0])
    stride = np.array([1.0, 8.0, 1.0, 64.0, 1.0, 8.0])
    return fabric, size, group, stride, enumerate_plans(load_model("llama3-8b"), 64, 4096, 128, ["bf16"], 8)


def test_columns_of_the_same_bytes_in_another_shape_are_priced_in_their_own_shape() -> None:
    fabric, size, group, stride, rows = _setup()
    with RowMemo.shared(rows, ("tp",)):
        flat = distinct_collectives.distinct_collective_time(fabric, "reduce_scatter", size, group, stride)
        wide = distinct_collectives.distinct_collective_time(fabric, "reduce_scatter", size.reshape(2, 3),
                                                      group.reshape(2, 3), stride.reshape(2, 3))
        tall = distinct_collectives.distinct_collective_time(fabric, "reduce_scatter", size.reshape(3, 2),
                                                      group.reshape(3, 2), stride.reshape(3, 2))
    want = collective_time(fabric, "reduce_scatter", size, group, stride)
    assert flat.shape == (6,) and wide.shape == (2, 3) and tall.shape == (3, 2)
    assert flat.tolist() == want.tolist() == wide.ravel().tolist() == tall.ravel().tolist()


def test_a_kept_answer_written_into_by_its_caller_does_not_change_the_next() -> None:
    fabric, size, group, stride, rows = _setup()
    want = collective_time(fabric, "all_gather", size, group, stride)
    with RowMemo.shared(rows, ("tp",)):
        distinct_collectives.distinct_collective_time(fabric, "all_gather", size, group, stride)  # priced, kept
        read = distinct_collectives.distinct_collective_time(fabric, "all_gather", size, group, stride)  # from the memo
        read[:] = -1.0
        again = distinct_collectives.distinct_collective_time(fabric, "reduce_scatter", size, group, stride)
    assert again.tolist() == want.tolist()


def test_columns_of_the_same_bytes_in_another_dtype_are_priced_as_their_values() -> None:
    """An int64 column whose bytes are a float64 column's holds other numbers (2^20 as a float is
    4,697,254,411,347,427,328 as an int): priced as those, not read back as the floats' times."""
    fabric, size, group, stride, rows = _setup()
    as_ints = size.view(np.int64)
    with RowMemo.shared(rows, ("tp",)):
        distinct_collectives.distinct_collective_time(fabric, "reduce_scatter", size, group, stride)
        got = distinct_collectives.distinct_collective_time(fabric, "reduce_scatter", as_ints, group, stride)
    assert got.tolist() == collective_time(fabric, "reduce_scatter", as_ints, group, stride).tolist()
