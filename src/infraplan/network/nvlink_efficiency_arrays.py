"""In-domain message efficiency on arrays: the measured NVLink board tables' column of every group size at once.

The array path of `network.collective_efficiency.message_efficiency` inside one scale-up domain: each group size
reads its own measured column (`network.nvlink_collectives.measured_column`: AIConfigurator 0.12.0's NCCL 2.29.2
all-gather / reduce-scatter / all-to-all tables of 8-GPU H100 / H200 / B200 / B300 boards, catalog/nccl), tau = size
/ efficiency interpolated in log2(size), the sizes held to the table's rows; a group size without a column takes the
SimAI NVLink column. The same IEEE operations as the float path (`collective_efficiency.efficiency_at`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from infraplan.network import nvlink_collectives
from infraplan.network.fabric import Fabric


def in_domain_efficiency(fabric: Fabric, size: np.ndarray, n: np.ndarray, inside: np.ndarray, all_to_all: bool,
                         simai: Callable[[], np.ndarray]) -> np.ndarray:
    """The in-domain efficiency: `efficiency_array` on the measured column (`network.nvlink_collectives`) of each
    group size, or the SimAI column (`simai()`, read only where some group size has no measured column). The sizes
    held to the table's rows and their log2 are element-wise, so they are taken once for all group sizes, and
    each group size's tau is interpolated on the arrays of its column (`_column_arrays`): the same operations."""
    shape = np.broadcast(size, n).shape
    n_all = n if n.shape == shape else np.broadcast_to(n, shape)
    size_all = size if size.shape == shape else np.broadcast_to(size, shape)
    whole = len(shape) > 0 and bool(inside.all())
    mask = inside if inside.shape == shape else np.broadcast_to(inside, shape)
    n_in = n_all if whole else n_all[mask]
    size_in = size_all if whole else size_all[mask]
    members = [float(n)] if np.ndim(n) == 0 else np.unique(n_in).tolist()
    columns = [_column_arrays(nvlink_collectives.measured_column(fabric.accelerator, all_to_all, m)) for m in members]
    present = [c for c in columns if c is not None]
    value = None
    if present and all(c[0] is present[0][0] for c in present):  # the columns share their rows
        log_sizes = present[0][0]
        held = np.minimum(np.maximum(size_in, 2.0 ** log_sizes[0]), 2.0 ** log_sizes[-1])
        log_held = np.log2(held)
        if len(columns) == 1 and present:
            value = held / np.interp(log_held, log_sizes, present[0][1])
        else:
            tau = np.full(held.shape, np.nan)  # a group size without a column: nan, then its SimAI value
            for members_one, column in zip(members, columns, strict=True):
                if column is not None:
                    np.copyto(tau, np.interp(log_held, log_sizes, column[1]), where=n_in == members_one)
            value = held / tau
        if whole and len(present) == len(columns):
            return np.asarray(value, dtype=np.float64)
    local = np.broadcast_to(np.asarray(simai(), dtype=np.float64), shape).copy()
    if value is None:  # no column, or columns on different rows (no table has them): one group size at a time
        for members_one, column in zip(members, columns, strict=True):
            if column is not None:
                pick = mask & (n_all == members_one)
                held = np.minimum(np.maximum(size_all[pick], 2.0 ** column[0][0]), 2.0 ** column[0][-1])
                local[pick] = held / np.interp(np.log2(held), column[0], column[1])
        return local
    if len(present) < len(columns):
        value = np.where(np.isnan(value), local if whole else local[mask], value)
    if whole:
        return value
    local[mask] = value
    return local


_COLUMN_ARRAYS: dict[int, tuple[object, tuple[np.ndarray, np.ndarray]]] = {}


def _column_arrays(column: tuple[list[float], list[float]] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """A `measured_column` as two float64 arrays, kept by the column's identity (the kept column itself is held
    with them, so its id is not reused): `np.interp` then reads them without converting the lists each call."""
    if column is None:
        return None
    kept = _COLUMN_ARRAYS.get(id(column))
    if kept is None or kept[0] is not column:
        log_sizes = next((k[1][0] for k in _COLUMN_ARRAYS.values() if k[1][0].tolist() == column[0]), None)
        log_sizes = np.array(column[0]) if log_sizes is None else log_sizes  # one array for equal rows
        kept = _COLUMN_ARRAYS[id(column)] = (column, (log_sizes, np.array(column[1])))
    return kept[1]
