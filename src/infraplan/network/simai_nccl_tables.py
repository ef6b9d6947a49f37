"""The SimAI NCCL tables: a collective's bus-bandwidth efficiency by message size and node count, and each ring step
of the NIC table's shortfall priced by the link it crosses (NVLink or the scale-out NIC). Merged from
simai_nccl_tables.py and simai_nccl_tables.py unchanged (hM, session 62).

catalog/nccl/simai_{nvlink,nic,ata}_ratio.csv (SimAI's measured NCCL busbw / peak: the in-node NVLink column, the
NIC table's rings of 8-GPU nodes, 1 to 128 nodes, and all-to-all), each column normalised to its largest message
(the catalog's collective efficiencies are large-message figures) and made so that a larger message never takes
less time (between rows, which double the size, the efficiency rises by at most a factor 1 + ln 2; a row the next
exceeds by more is raised to it / (1 + ln 2), from the largest row down, so no measured cell is lowered:
`HOLD_FROM_LARGEST`, session 77). Read by
`network.collective_efficiency` (arrays and floats) and `network.nvlink_all_reduce` (the NVLink column).

Ring step links (formerly simai_nccl_tables.py): each ring step of the SimAI NIC table's shortfall priced by the link it
crosses, NVLink or the scale-out NIC. The SimAI NIC table (catalog/nccl/simai_nic_ratio.csv) is read per ring step
(`collective_efficiency`, `RING_TABLE_PER_STEP`, hT87): its shortfall at a size, S (1 / e - 1) / B, spread over the R =
8 x nodes steps of its ring, is a latency per step of ~4-8 us (16-256 MiB, at 8 NDR NICs' 400 GB/s). Its rings are of
8-GPU nodes, so of every 8 steps 1 crosses the network (a NIC to the next node) and 7 stay on NVLink. A ring with k
members per scale-up domain has a different mix: one GPU a node (k = 1) crosses the network on every step, an NVL72 rack
(k = 18, 72) on 1 of 18 or 72. Read as the same mean latency per step, every step of an NVL72 ring over racks paid the
table's ~5 us, a NIC ring's mean (hT87's open question).

Here the table's shortfall is split between its network and NVLink steps in the ratio of NCCL's own tuning model
per-step ring latencies, Simple protocol (what NCCL runs at the table's 16 MiB+ rows): hwLat[NET][Ring][Simple] 14 us
and hwLat[NVLINK][Ring][Simple] 3.4 us (NCCL src/graph/tuning.cc, ncclTopoTuneModel's hwLat table). Both rows read from
NCCL binaries (hD, session 57): PyPI nvidia-nccl-cu12 2.20.5 and 2.23.4, lib/libnccl.so.2, the float32 hwLat table
[NVLink, PCI, NET] x [algorithms] x [LL, LL128, Simple] at file offsets 222167392 (2.20.5) and 255496640 (2.23.4): ring
NVLink {.6, 1.9, 3.4}, NET {2.7, 4.0, 14.0} us in both (the NVLink row as an earlier session read it from 2.30.7,
`network/nvlink_all_reduce.py`'s comment on `NVLS_LATENCY_S`); how tuning.cc sums them is recalled. Check of the scale,
not used: one table node's 1 network + 7 NVLink steps at those figures is 14 + 7 x 3.4 = 37.8 us, 4.7 us a step, inside
the table's 3.4-9.7 us a step at 16-256 MiB (2-128 nodes). Only the ratio is used: the table keeps setting the scale, so
a ring of 8 members a domain pays its cells as they are, to the bit.

A ring of n ranks `stride` apart crosses the network on c = min(ceil(n stride / D), n) of its n steps a pass (D the
group's scale-up domain, `fabric.group_domain`: the same count `network.ring_latency` prices its hops with), so it
pays the shortfall of `weighted_steps` = (c w_net + (n - c) w_nvlink) x 8 / (w_net + 7 w_nvlink) table steps
instead of n: 2.96 n at one GPU a node, 0.84 n for 18 members a rack, 0.75 n for 72.

The flow simulation does not read the table (it prices the alpha-beta time, as the analytical model's unsized
path, whose ring already pays each hop at its own link: `network.ring_latency`), so the analytical and flow answers
stay one answer; the sized price (`collectives.collective_seconds`, train's and `collective`'s priced time) moves.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from infraplan.catalog.data_files import read_rows
from infraplan.network.fabric import Fabric, group_domain

NODE_COLUMNS = (1, 2, 4, 8, 16, 32, 64, 128)  # the SimAI tables' node-count columns
HOLD_FROM_LARGEST = True  # `efficiency_table`'s monotone-time rule from the largest row down (hN, session 77)


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
    # a factor 1 + ln 2, which keeps size / efficiency increasing under log-linear interpolation. Held from the
    # largest row down (`HOLD_FROM_LARGEST`): a row below one that rises faster is raised to it / (1 + ln 2), so
    # every cell at and above the largest violation keeps its measured value. False: from the smallest row up
    # (before session 77), each row lowered to (1 + ln 2) x the one below as lowered, which carried the 16 MiB
    # row's reading up the latency-bound rows (where the table's efficiency doubles a row, time flat): the NIC
    # table's 128-node column at 1 GiB 0.205 where it measured 0.315 (a shortfall of 3.6 MB a ring step, not
    # the column's own 1.3-2.4 MB, hT80).
    if HOLD_FROM_LARGEST:
        for i in range(table.shape[0] - 1, 0, -1):
            table[i - 1] = np.maximum(table[i - 1], table[i] / (1.0 + np.log(2.0)))
    else:
        for i in range(1, table.shape[0]):
            table[i] = np.minimum(table[i], (1.0 + np.log(2.0)) * table[i - 1])
    return sizes, np.minimum(table / table[-1:, :], 1.0)


@lru_cache(maxsize=4)
def last_measured_nodes(kind: str) -> int:
    """The largest node count a SimAI table has figures for (`efficiency_table` holds its last one past it): 128 for
    the NIC table, 16 for the all-to-all table, whose 32-128-node columns are empty (hF74: `collective` said "at 64
    nodes" where it read the 16-node figures)."""
    rows = read_rows("infraplan.catalog", "nccl", f"simai_{kind}_ratio.csv")
    columns = list(rows[0])[1:1 + len(NODE_COLUMNS)]
    return max(nodes for nodes, c in zip(NODE_COLUMNS, columns, strict=True) if any(r[c] for r in rows))


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


def forget_tables() -> None:
    """Forget the kept tables (for tests that switch `HOLD_FROM_LARGEST`)."""
    for kept in (efficiency_table, efficiency_lists, table_columns):
        kept.cache_clear()


# Each ring step of the SimAI NIC table's shortfall at its own link (module docstring; hN, session 51). False: every
# step at the table's mean step (hT87: a ring of one GPU a node paid 1 / 2.96 of its network steps, an NVL72 ring
# over racks the NIC ring's mean on its NVLink steps).
RING_TABLE_STEP_LINKS = True
NCCL_NET_RING_STEP_S = 14.0e-6  # hwLat[NET][Ring][Simple]: the NCCL 2.20.5 / 2.23.4 binaries (module docstring)
NCCL_NVLINK_RING_STEP_S = 3.4e-6  # hwLat[NVLINK][Ring][Simple]: NCCL 2.30.7 binary, nvlink_all_reduce.py
TABLE_NODE_GPUS = 8  # GPUs per node of the SimAI NIC table's columns ("2Node-16GPU" ... "128Node-1024GPU")
# table steps per second of weighted step latency: a table node's 8 steps over its 1 network + 7 NVLink steps' sum
_PER_TABLE_STEP = TABLE_NODE_GPUS / (NCCL_NET_RING_STEP_S + (TABLE_NODE_GPUS - 1) * NCCL_NVLINK_RING_STEP_S)


def weighted_steps(fabric: Fabric, n: float, stride: float) -> float:
    """The table steps whose shortfall a ring of `n` ranks `stride` apart, spanning scale-up domains, pays per pass
    (module docstring): `n` where it crosses the network on n / 8 of its steps (the table's mix) or with
    `RING_TABLE_STEP_LINKS` off, else its network and NVLink steps weighted by NCCL's per-step latencies."""
    domain = group_domain(fabric, n, stride)
    cross = float(math.ceil(n * stride / domain))
    cross = n if n < cross else cross
    if not RING_TABLE_STEP_LINKS or cross * TABLE_NODE_GPUS == n:
        return n
    return (cross * NCCL_NET_RING_STEP_S + (n - cross) * NCCL_NVLINK_RING_STEP_S) * _PER_TABLE_STEP


def weighted_steps_array(fabric: Fabric, n: np.ndarray, stride: np.ndarray) -> Any:
    """`weighted_steps` on arrays: the same operations element by element, so the same bits."""
    if not RING_TABLE_STEP_LINKS:
        return n
    domain = group_domain(fabric, n, stride)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = np.minimum(np.ceil(n * stride / domain), n)
    weighted = (cross * NCCL_NET_RING_STEP_S + (n - cross) * NCCL_NVLINK_RING_STEP_S) * _PER_TABLE_STEP
    return np.where(cross * TABLE_NODE_GPUS == n, n, weighted)


def sharp_steps(in_domain_s: Any) -> Any:
    """Table steps of IB SHARP's all-reduce (`network.sharp`): its shard up the switches' aggregation tree and back,
    2 network steps, and its in-domain reduce-scatter and all-gather at `in_domain_s` seconds of NCCL's step
    latencies (a ring's 2 (k - 1) NVLink steps, or NVLS's latency). Floats or arrays."""
    return (2.0 * NCCL_NET_RING_STEP_S + in_domain_s) * _PER_TABLE_STEP
