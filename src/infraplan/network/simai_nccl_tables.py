"""The SimAI NCCL tables: a collective's bus-bandwidth efficiency by message size and node count.

catalog/nccl/simai_{nvlink,nic,ata}_ratio.csv (SimAI's measured NCCL busbw / peak: the in-node NVLink column, the
NIC table's rings of 8-GPU nodes, 1 to 128 nodes, and all-to-all), each column normalised to its largest message
(the catalog's collective efficiencies are large-message figures) and made so that a larger message never takes
less time (between rows, which double the size, the efficiency rises by at most a factor 1 + ln 2). Read by
`network.collective_efficiency` (arrays and floats) and `network.nvlink_all_reduce` (the NVLink column).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from infraplan.catalog.data_files import read_rows

NODE_COLUMNS = (1, 2, 4, 8, 16, 32, 64, 128)  # the SimAI tables' node-count columns


@lru_cache(maxsize=4)
def efficiency_table(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(log2 message sizes, efficiency[size, node column] normalised to the largest message) of a SimAI table."""
    rows = read_rows("infraplan.catalog", "nccl", f"simai_{kind}_ratio.csv")
    size_column, *columns = list(rows[0])[:1 + len(NODE_COLUMNS)]  # "Size", then the node-count columns in order
    sizes = np.log2([float(r[size_column]) for r in rows])
    table = np.array([[float(r[c]) if r[c] else np.nan for c in columns] for r in rows])
    for j in range(table.shape[1]):  # node counts the table lacks: the largest one it has
        if np.isnan(table[:, j]).all():
            table[:, j] = table[:, j - 1]
    # time must not fall as the message grows: between rows (sizes double) the efficiency may rise by at most
    # a factor 1 + ln 2, which keeps size / efficiency increasing under log-linear interpolation
    for i in range(1, table.shape[0]):
        table[i] = np.minimum(table[i], (1.0 + np.log(2.0)) * table[i - 1])
    return sizes, np.minimum(table / table[-1:, :], 1.0)


@lru_cache(maxsize=4)
def efficiency_lists(kind: str) -> tuple[list[float], tuple[list[float], ...]]:
    """`efficiency_table(kind)` as Python lists (log2 sizes, then each node-count column) for the float path."""
    sizes, table = efficiency_table(kind)
    return sizes.tolist(), tuple(table[:, j].tolist() for j in range(table.shape[1]))


@lru_cache(maxsize=8)
def table_columns(kind: str) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """`efficiency_table(kind)` with each node-count column as its own contiguous array (what `np.interp` reads)."""
    sizes, table = efficiency_table(kind)
    return sizes, tuple(np.ascontiguousarray(table[:, j]) for j in range(table.shape[1]))
