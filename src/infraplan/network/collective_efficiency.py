"""Message-size efficiency of collectives: small messages reach a fraction of the large-message busbw.

Issue 12 item 3. The SimAI NCCL tables (catalog/nccl, measured busbw / peak by message size and node count)
give the efficiency of one collective at its message size relative to its large-message bus bandwidth (the
catalog's collective efficiencies are large-message figures); `sized_time` bounds a collective's alpha-beta
time from below by its bandwidth term over that efficiency. Inside one scale-up domain an accelerator with
AIConfigurator's measured NCCL tables (H100, H200, B200, GB200) reads its own all-gather / reduce-scatter and
all-to-all curve instead of the SimAI NVLink column where `network.nvlink_collectives` is switched on (off by
default). A ring that leaves its
scale-up domain pays NCCL's network step latency per step (NCCL tuning model, src/graph/tuning.cc). Both run on
Python floats for a single estimate with the same IEEE operations in the same order as the array path
(`scalar_path`, issue 18).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from infraplan import scalar_path
from infraplan.catalog.data_files import read_rows
from infraplan.network import nvlink_collectives as _measured
from infraplan.network.fabric import Fabric, group_domain
from infraplan.scalar_path import NUMPY_OPS, MathOps

NCCL_NET_STEP_LATENCY_S = 4.0e-6  # NCCL tuning model hwLat[NET][Ring][LL128] per ring step (src/graph/tuning.cc)
_NODE_COLUMNS = (1, 2, 4, 8, 16, 32, 64, 128)  # the SimAI tables' node-count columns
_LOG2_LAST_COLUMN = float(np.log2(_NODE_COLUMNS[-1]))


@lru_cache(maxsize=4)
def _efficiency_table(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(log2 message sizes, efficiency[size, node column] normalised to the largest message) of a SimAI table."""
    rows = read_rows("infraplan.catalog", "nccl", f"simai_{kind}_ratio.csv")
    size_column, *columns = list(rows[0])[:1 + len(_NODE_COLUMNS)]  # "Size", then the node-count columns in order
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
def _efficiency_lists(kind: str) -> tuple[list[float], tuple[list[float], ...]]:
    """`_efficiency_table(kind)` as Python lists (log2 sizes, then each node-count column) for the float path."""
    sizes, table = _efficiency_table(kind)
    return sizes.tolist(), tuple(table[:, j].tolist() for j in range(table.shape[1]))


def message_efficiency(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike,
                       all_to_all: bool = False) -> np.ndarray:
    """Bus-bandwidth efficiency of one collective at its message size, relative to its large-message busbw.

    From the SimAI NCCL tables (catalog/nccl, measured busbw / peak by message size and node count):
    inside one scale-up domain the NVLink column, across domains the NIC table at the node count the group
    spans, all-to-all the ATA table; each normalised by its largest-message value (the catalog's collective
    efficiencies are large-message figures), interpolated in log2(size) and log2(nodes). Below the smallest
    tabulated size (16 MiB) the smallest size's value holds and the alpha-beta latency term takes over (an
    all-reduce inside one domain follows the measured curve instead, `network.nvlink_all_reduce`).
    """
    one = scalar_path.one_element(size_bytes, n, stride)
    if one is not None:
        (f_size, f_n, f_stride), ndim = one
        return scalar_path.as_array(_message_efficiency_one(fabric, f_size, f_n, f_stride, all_to_all), ndim)
    size = np.maximum(np.asarray(size_bytes, dtype=np.float64), 1.0)
    n, stride = np.asarray(n, dtype=np.float64), np.asarray(stride, dtype=np.float64)
    domain = group_domain(fabric, n, stride)  # the job's placement (`network.placement`)
    inside = n * stride <= domain
    # nodes holding members of the group (the tables' column), however far apart they are
    nodes = np.maximum(n / np.minimum(np.maximum(np.floor(domain / stride), 1.0), np.maximum(n, 1.0)),
                       1.0)
    sizes, nvlink = _efficiency_table("ata" if all_to_all else "nvlink")
    _, nic = _efficiency_table("ata" if all_to_all else "nic")
    log_size = np.minimum(np.maximum(np.log2(size), sizes[0]), sizes[-1])  # np.clip, without its wrapper's cost
    log_nodes = np.minimum(np.maximum(np.log2(nodes), 0.0), _LOG2_LAST_COLUMN)
    # linear interpolation between the columns (knots at log2 nodes = 0, 1, ..., 7): hat-function weights; only
    # the columns next to some group's log2 nodes have a non-zero weight (the others would add exact zeros)
    across = np.zeros(np.shape(log_nodes))
    if not inside.all():
        low = np.floor(log_nodes[~inside]) if np.ndim(log_nodes) else np.floor(log_nodes)
        for j in range(int(low.min()), min(int(low.max()) + 2, len(_NODE_COLUMNS))):
            across = across + np.maximum(1.0 - np.abs(log_nodes - j), 0.0) * np.interp(log_size, sizes, nic[:, j])
    local = np.interp(log_size, sizes, nvlink[:, 0]) if inside.any() else across
    measured = _measured.MEASURED_NVLINK_COLLECTIVES and fabric.accelerator in _measured.ACCELERATOR_TABLE_FILES
    if measured and inside.any():  # (off: the SimAI column as it is, without the per-group-size loop)
        local = _measured_local(fabric, size, n, inside, all_to_all, local)
    return np.asarray(np.minimum(np.maximum(np.where(inside, local, across), 1e-3), 1.0), dtype=np.float64)


def _measured_local(fabric: Fabric, size: np.ndarray, n: np.ndarray, inside: np.ndarray, all_to_all: bool,
                    local: np.ndarray) -> np.ndarray:
    """`local` with the in-domain groups whose accelerator has a measured table (`network.nvlink_collectives`) read
    from it, per group size: the float path's operations (`efficiency_at` on `group_efficiency`'s measured column)."""
    local = np.broadcast_to(np.asarray(local, dtype=np.float64), np.broadcast(size, n).shape).copy()
    n_all = np.broadcast_to(n, local.shape)
    size_all = np.broadcast_to(size, local.shape)
    mask = np.broadcast_to(inside, local.shape)
    for members in np.unique(n_all[mask]):
        column = _measured.measured_column(fabric.accelerator, all_to_all, float(members))
        if column is None:
            continue
        pick = mask & (n_all == members)
        local[pick] = _measured.efficiency_array(column, size_all[pick])
    return local


def _message_efficiency_one(fabric: Fabric, size_bytes: float, n: float, stride: float, all_to_all: bool) -> float:
    """`message_efficiency` of one group, in floats: the same operations in the same order (max and min of two
    floats as FLOAT_OPS spells them: `max(a, b)` is `b if b > a else a`, without the builtin's call cost).

    The last group's value is kept (`_LAST_EFFICIENCY`, by the fabric's identity and the group's numbers): an
    all-reduce asks it for its ring and its tree, and a step's gradient all-reduce and reduce-scatter share it."""
    global _LAST_EFFICIENCY
    last = _LAST_EFFICIENCY
    if (last[0] is fabric and last[1] == size_bytes and last[2] == n and last[3] == stride
            and last[4] is all_to_all):
        return last[5]  # type: ignore[no-any-return]
    value = _message_efficiency_of(fabric, size_bytes, n, stride, all_to_all)
    _LAST_EFFICIENCY = (fabric, size_bytes, n, stride, all_to_all, value)  # one tuple: threads read it whole
    return value


def _log2(x: float) -> float:
    """`float(np.log2(x))`: exact (the exponent) at powers of two, where numpy's log2 is exact too."""
    mantissa, exponent = math.frexp(x)
    return float(exponent - 1) if mantissa == 0.5 else float(np.log2(x))


def _message_efficiency_of(fabric: Fabric, size_bytes: float, n: float, stride: float, all_to_all: bool) -> float:
    """`_message_efficiency_one` without the kept last value: the group's columns (`group_efficiency`) read at the
    message size (`efficiency_at`)."""
    return efficiency_at(group_efficiency(fabric, n, stride, all_to_all), size_bytes)


# one group's part of the float message efficiency: (log2 sizes, the in-domain column or None, the across-domain
# (weight, column) pairs, the in-domain measured column of `network.nvlink_collectives` or None)
GroupEfficiency = tuple[list[float], list[float] | None, tuple[tuple[float, list[float]], ...],
                        tuple[list[float], list[float]] | None]


def group_efficiency(fabric: Fabric, n: float, stride: float, all_to_all: bool) -> GroupEfficiency:
    """What `message_efficiency` reads of one group's shape alone, on floats: inside one scale-up domain the
    in-domain column; across domains the node-count columns next to its log2 nodes with their hat-function weights
    (clamped at 0, as `message_efficiency`'s max(a, b): `b if b > a else a`), in the order they are summed. A caller
    pricing several messages over one group (`network.collectives`) keeps it per group."""
    sizes, nvlink, nic = _float_tables(all_to_all)
    domain = group_domain(fabric, n, stride)
    if n * stride <= domain:  # inside one scale-up domain: the measured table where there is one
        measured = _measured.measured_column(fabric.accelerator, all_to_all, n)
        return sizes, nvlink, (), measured
    per_domain = float(math.floor(domain / stride))
    per_domain = 1.0 if per_domain < 1.0 else per_domain
    members = 1.0 if n < 1.0 else n
    per_domain = members if members < per_domain else per_domain
    nodes = n / per_domain
    log_nodes = _log2(1.0 if nodes < 1.0 else nodes)
    log_nodes = 0.0 if log_nodes < 0.0 else log_nodes
    log_nodes = _LOG2_LAST_COLUMN if log_nodes > _LOG2_LAST_COLUMN else log_nodes
    low = math.floor(log_nodes)
    pairs = []
    for j in range(low, min(low + 2, len(_NODE_COLUMNS))):
        weight = 1.0 - abs(log_nodes - j)
        pairs.append((0.0 if weight < 0.0 else weight, nic[j]))
    return sizes, None, tuple(pairs), None


def efficiency_at(group: GroupEfficiency, size_bytes: float) -> float:
    """`_message_efficiency_of` of a group's `group_efficiency` at a message size: every max(a, b) / min(a, b) of
    `message_efficiency` written as the builtins compare (`b if b > a else a` / `b if b < a else a`), the columns
    interpolated in log2(size) and weighted in the same order."""
    sizes, column, pairs, measured = group
    if measured is not None:
        efficiency = _measured.efficiency_of(measured, 1.0 if size_bytes < 1.0 else size_bytes)
        efficiency = 1e-3 if efficiency < 1e-3 else efficiency
        return 1.0 if efficiency > 1.0 else efficiency
    log_size = _log2(1.0 if size_bytes < 1.0 else size_bytes)
    log_size = sizes[0] if sizes[0] > log_size else log_size
    log_size = sizes[-1] if sizes[-1] < log_size else log_size
    if column is not None:
        efficiency = scalar_path.interp(log_size, sizes, column)
    else:
        efficiency = 0.0
        for weight, nic in pairs:
            efficiency = efficiency + weight * scalar_path.interp(log_size, sizes, nic)
    efficiency = 1e-3 if efficiency < 1e-3 else efficiency
    return 1.0 if efficiency > 1.0 else efficiency


_FLOAT_TABLES: dict[bool, tuple[list[float], list[float], tuple[list[float], ...]]] = {}


def forget_float_values() -> None:
    """Forget the float path's kept tables and last efficiency (for tests that patch the tables)."""
    global _LAST_EFFICIENCY
    _FLOAT_TABLES.clear()
    _LAST_EFFICIENCY = (None, None, None, None, None, 0.0)


def _float_tables(all_to_all: bool) -> tuple[list[float], list[float], tuple[list[float], ...]]:
    """(log2 sizes, the in-domain column, the across-domain columns) of `_efficiency_lists` for the float path:
    the ATA table for an all-to-all, else the NVLink table's first column and the NIC table's columns."""
    tables = _FLOAT_TABLES.get(all_to_all)
    if tables is None:
        sizes, inside = _efficiency_lists("ata" if all_to_all else "nvlink")
        tables = _FLOAT_TABLES[all_to_all] = (sizes, inside[0], _efficiency_lists("ata" if all_to_all else "nic")[1])
    return tables


# (fabric, size, n, stride, all_to_all, efficiency) of the last `_message_efficiency_one` call
_LAST_EFFICIENCY: tuple[Any, ...] = (None, None, None, None, None, 0.0)


def sized_time(fabric: Fabric, alpha_beta_s: npt.ArrayLike, bandwidth_s: npt.ArrayLike, size_bytes: npt.ArrayLike,
               n: npt.ArrayLike, stride: npt.ArrayLike, all_to_all: bool = False, sized: bool = True) -> np.ndarray:
    """A collective's seconds with its message-size efficiency: max(alpha-beta time, bandwidth term / efficiency).

    The table's efficiency already contains the latency of the measured collective, so it bounds the time
    from below instead of adding to the alpha-beta latency; tiny messages stay latency-bound.
    """
    if not sized:
        return np.asarray(alpha_beta_s, dtype=np.float64)
    eff = message_efficiency(fabric, size_bytes, n, stride, all_to_all)
    seconds: np.ndarray = np.maximum(np.asarray(alpha_beta_s, dtype=np.float64),
                                     np.asarray(bandwidth_s, dtype=np.float64) / eff)
    return seconds


def sized_time_xp(xp: MathOps, fabric: Fabric, alpha_beta_s: Any, bandwidth_s: Any, size_bytes: Any, n: Any,
                  stride: Any, all_to_all: bool, sized: bool) -> Any:
    """`sized_time` in the namespace `xp`."""
    if xp is NUMPY_OPS:
        return sized_time(fabric, alpha_beta_s, bandwidth_s, size_bytes, n, stride, all_to_all, sized)
    if not sized:
        return alpha_beta_s
    bound = bandwidth_s / _message_efficiency_one(fabric, size_bytes, n, stride, all_to_all)
    return bound if bound > alpha_beta_s else alpha_beta_s  # max(alpha_beta_s, bound)


def step_latency(fabric: Fabric, latency_s: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike) -> np.ndarray:
    """Per-step latency of a ring: a group that leaves its scale-up domain pays NCCL's network step latency
    (proxy thread, NIC, protocol: `NCCL_NET_STEP_LATENCY_S`), not just the switch hops."""
    return np.asarray(step_latency_xp(NUMPY_OPS, fabric, latency_s, np.asarray(n, dtype=np.float64),
                                      np.asarray(stride, dtype=np.float64)))


def step_latency_xp(xp: MathOps, fabric: Fabric, latency_s: Any, n: Any, stride: Any) -> Any:
    """`step_latency` in the namespace `xp`."""
    crosses = n * stride > group_domain(fabric, n, stride)
    return xp.where(crosses, xp.maximum(latency_s, NCCL_NET_STEP_LATENCY_S), latency_s)

