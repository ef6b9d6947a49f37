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
(`scalar_path`, issue 18). Each path keeps its last answer (`KeepLast`: on arrays by the inputs' bits, on floats by
the group's numbers; an all-reduce prices its ring and its tree on the same groups) and the array path reads the
measured columns for all group sizes at once (`network.nvlink_collectives`). The SimAI tables:
`network.simai_nccl_tables`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from infraplan import scalar_path
from infraplan.identity_memo import KeepLast
from infraplan.network import nvlink_collectives as _measured
from infraplan.network import simai_nccl_tables as _links
from infraplan.network.fabric import Fabric, group_domain, group_link, group_link_one, ring_scale_up_limit
from infraplan.network.nvlink_collectives import in_domain_efficiency
from infraplan.network.simai_nccl_tables import NODE_COLUMNS, efficiency_lists, table_columns
from infraplan.scalar_path import NUMPY_OPS, MathOps

# The SimAI NIC table is a ring's: its inefficiency at a size is 2 (8 x nodes - 1) ring steps of a constant ~1.3-2.4 MB
# at its large-message busbw from 4 to 128 nodes and 16 MiB to 1 GiB (hT80, validation/notes/network_flow_tried.md),
# i.e. a latency linear in the ranks; NCCL's tree runs ~2 log2(nodes) network hops, not those steps. So only a ring
# (and the table's other ring-built readers) is bounded by it across scale-up domains; a tree spanning domains keeps
# its alpha-beta time (NCCL's tuning model: latency + size / bw) and hN3's in-domain whole-buffer bound. False: the
# tree read the ring's table too (before session 50: 16 MiB over 128 one-GPU nodes priced at 94x its alpha-beta).
RING_TABLE_RING_ONLY = True
# ... and it is read per ring step, by ranks, not by nodes (hT87): its columns are rings of 8-GPU nodes ("2Node-16GPU"
# ... "128Node-1024GPU"), so a ring of n ranks reads the column at n / 8 table nodes (held to 2-128: rings of 16-1,024
# ranks), and its shortfall 2 S / B (1 / e - 1) over the column's 2 (R - 1) steps (R = 8 x table nodes) is a latency
# per ring step, tau = S (1 / e - 1) / (R B), turned into seconds at the table node's busbw B: 8 of the fabric's NICs
# (ASSUMPTION: the table's machine had this fabric's NICs; SimAI does not say what it measured on), bounded by the
# scale-up link's limit of an 8-member ring (`fabric.ring_scale_up_limit`). The ring pays tau on each of its own
# steps: its efficiency 1 / (1 + f (1 / e - 1)) with f = (n / R) (bw / B), bw its own busbw (f = 1: a ring of 8
# members per domain in the table's range at the table node's rate, the table's cell as it is). False: the column at
# the group's domains (n / k) and f = 1 (before session 50: a ring over 128 one-GPU nodes read the 128-node column,
# 1,024 ranks' steps at 8 NICs' rate: 74.8 ms for 16 MiB where its own 254 steps give ~2.3 ms).
RING_TABLE_PER_STEP = True
RING_TABLE_NODE_GPUS = 8  # GPUs per node of the SimAI NIC table's columns
NCCL_NET_STEP_LATENCY_S = 4.0e-6  # NCCL hwLat[NET][Ring][LL128] per ring step: NCCL 2.20.5 / 2.23.4 binaries (hD57)
_LOG2_LAST_COLUMN = float(np.log2(NODE_COLUMNS[-1]))
_FIRST_RING_RANKS = float(RING_TABLE_NODE_GPUS * NODE_COLUMNS[1])  # the NIC table's smallest ring: 16 ranks
_LAST_RING_RANKS = float(RING_TABLE_NODE_GPUS * NODE_COLUMNS[-1])  # and its largest: 1,024


def table_busbw(fabric: Fabric) -> float:
    """Bytes/s of the SimAI NIC table's ring on this fabric's NICs (`RING_TABLE_PER_STEP`): a ring of 8 members
    per node drives 8 NICs, bounded by the scale-up link's limit of such a ring (`fabric.ring_scale_up_limit`)."""
    limit = float(ring_scale_up_limit(fabric, float(RING_TABLE_NODE_GPUS)))
    nics = RING_TABLE_NODE_GPUS * fabric.nic_bytes_per_s
    return nics if nics < limit or not limit > 0.0 else limit  # (no scale-up rate: the NICs alone)


def message_efficiency(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike,
                       all_to_all: bool = False, per_step: bool = True) -> np.ndarray:
    """Bus-bandwidth efficiency of one collective at its message size, relative to its large-message busbw.

    From the SimAI NCCL tables (catalog/nccl, measured busbw / peak by message size and node count):
    inside one scale-up domain the NVLink column, across domains the NIC table at the node count the group
    spans, all-to-all the ATA table; each normalised by its largest-message value (the catalog's collective
    efficiencies are large-message figures), interpolated in log2(size) and log2(nodes); a ring's NIC table read
    per ring step (`RING_TABLE_PER_STEP`, `per_step`: False reads the column at the group's domains, f = 1, as
    SHARP's two-domain figure does). Below the smallest
    tabulated size (16 MiB) the smallest size's value holds and the alpha-beta latency term takes over (an
    all-reduce inside one domain follows the measured curve instead, `network.nvlink_all_reduce`).
    """
    one = scalar_path.one_element(size_bytes, n, stride)
    if one is not None:
        (f_size, f_n, f_stride), ndim = one
        return scalar_path.as_array(_message_efficiency_one(fabric, f_size, f_n, f_stride, all_to_all, per_step),
                                    ndim)
    raw, n, stride = (np.asarray(size_bytes, dtype=np.float64), np.asarray(n, dtype=np.float64),
                      np.asarray(stride, dtype=np.float64))
    # the last array query is kept, by its inputs' bits (an all-reduce asks for its ring's and its tree's)
    steps = per_step and RING_TABLE_PER_STEP and not all_to_all
    key = (raw.shape, raw.tobytes(), n.shape, n.tobytes(), stride.shape, stride.tobytes(), all_to_all, steps,
           _measured.MEASURED_NVLINK_COLLECTIVES, _measured.MEASURED_LEVEL, _links.RING_TABLE_STEP_LINKS,
           _measured.H100_GROUP_SHARE)
    value = _LAST_ARRAY.get(fabric, key)
    if value is None:
        value = _message_efficiency_array(fabric, raw, n, stride, all_to_all, steps)
        _LAST_ARRAY.put(fabric, key, value)
    return value.copy()  # type: ignore[no-any-return]  # a copy: the caller may write to it


def _message_efficiency_array(fabric: Fabric, raw: np.ndarray, n: np.ndarray, stride: np.ndarray,
                              all_to_all: bool, steps: bool) -> np.ndarray:
    """`message_efficiency` on arrays, not kept (`steps`: the NIC table read per ring step)."""
    size = np.maximum(raw, 1.0)
    domain = group_domain(fabric, n, stride)  # the job's placement (`network.placement`)
    inside = n * stride <= domain
    every, some = bool(inside.all()), bool(inside.any())
    sizes, nvlink = table_columns("ata" if all_to_all else "nvlink")
    log_size = np.minimum(np.maximum(np.log2(size), sizes[0]), sizes[-1])  # np.clip, without its wrapper's cost
    across = np.zeros(np.shape(inside))  # groups all inside one domain: nothing read across domains (zeros)
    if not every:
        _, nic = table_columns("ata" if all_to_all else "nic")
        if steps:  # the column at the ring's ranks / 8 table nodes (`RING_TABLE_PER_STEP`), held to 16-1,024 ranks
            ranks = np.minimum(np.maximum(n, _FIRST_RING_RANKS), _LAST_RING_RANKS)
            log_nodes = np.log2(ranks / RING_TABLE_NODE_GPUS)
        else:  # nodes holding members of the group (the tables' column), however far apart they are
            nodes = np.maximum(n / np.minimum(np.maximum(np.floor(domain / stride), 1.0), np.maximum(n, 1.0)), 1.0)
            log_nodes = np.minimum(np.maximum(np.log2(nodes), 0.0), _LOG2_LAST_COLUMN)
        # linear interpolation between the columns (knots at log2 nodes = 0, 1, ..., 7): hat-function weights; only
        # the columns next to some group's log2 nodes have a non-zero weight (the others would add exact zeros)
        low = np.floor(log_nodes[~inside]) if np.ndim(log_nodes) else np.floor(log_nodes)
        for j in range(int(low.min()), min(int(low.max()) + 2, len(NODE_COLUMNS))):
            across = across + np.maximum(1.0 - np.abs(log_nodes - j), 0.0) * np.interp(log_size, sizes, nic[j])
        if steps:  # the table's shortfall per step on the ring's own steps at its own busbw
            bw, _, _ = group_link(fabric, n, stride, False)
            table = np.minimum(np.maximum(across, 1e-3), 1.0)
            busbw = table_busbw(fabric)
            # each step at its link's share of the table's shortfall (`simai_nccl_tables`)
            share = (_links.weighted_steps_array(fabric, n, stride) / ranks) * (bw / busbw) if busbw > 0.0 \
                else np.ones_like(across)
            across = np.where(share == 1.0, table, table / (table + share * (1.0 - table)))
    if not some:
        return np.asarray(np.minimum(np.maximum(across, 1e-3), 1.0), dtype=np.float64)

    def simai() -> np.ndarray:  # the SimAI NVLink column
        return np.asarray(np.interp(log_size, sizes, nvlink[0]), dtype=np.float64)

    if _measured.MEASURED_NVLINK_COLLECTIVES and _measured.table_file(fabric.accelerator) is not None:
        local = in_domain_efficiency(fabric, size, n, inside, all_to_all, simai)
    else:  # (off: the SimAI column as it is, without the per-group-size columns)
        local = simai() * _measured.share_array(all_to_all, n)  # H100's 2 / 4 / 8-rank shares where on, else 1
    if every:  # np.where(inside, local, across) is local, at the shape of the three
        shape = np.broadcast(inside, local).shape
        local = local if np.shape(local) == shape else np.broadcast_to(local, shape)
        return np.asarray(np.minimum(np.maximum(local, 1e-3), 1.0), dtype=np.float64)
    return np.asarray(np.minimum(np.maximum(np.where(inside, local, across), 1e-3), 1.0), dtype=np.float64)



def _message_efficiency_one(fabric: Fabric, size_bytes: float, n: float, stride: float, all_to_all: bool,
                            per_step: bool = True) -> float:
    """`message_efficiency` of one group, in floats: the same operations in the same order (max and min of two
    floats as FLOAT_OPS spells them: `max(a, b)` is `b if b > a else a`, without the builtin's call cost).

    The last group's value is kept (`_LAST_EFFICIENCY`, by the fabric's identity and the group's numbers): an
    all-reduce asks it for its ring and its tree, and a step's gradient all-reduce and reduce-scatter share it."""
    key = (size_bytes, n, stride, all_to_all, per_step and RING_TABLE_PER_STEP, _links.RING_TABLE_STEP_LINKS)
    value = _LAST_EFFICIENCY.get(fabric, key)
    if value is None:
        value = efficiency_at(group_efficiency(fabric, n, stride, all_to_all, per_step), size_bytes)
        _LAST_EFFICIENCY.put(fabric, key, value)
    return value  # type: ignore[no-any-return]


def _log2(x: float) -> float:
    """`float(np.log2(x))`: exact (the exponent) at powers of two, where numpy's log2 is exact too."""
    mantissa, exponent = math.frexp(x)
    return float(exponent - 1) if mantissa == 0.5 else float(np.log2(x))


# one group's part of the float message efficiency: (log2 sizes, the in-domain column or None, the across-domain
# (weight, column) pairs, the in-domain measured column of `network.nvlink_collectives` or None, the per-step share
# f of a ring read per step, `RING_TABLE_PER_STEP`: 1.0 reads the table's efficiency as it is)
GroupEfficiency = tuple[list[float], list[float] | None, tuple[tuple[float, list[float]], ...],
                        tuple[list[float], list[float]] | None, float]


def group_efficiency(fabric: Fabric, n: float, stride: float, all_to_all: bool,
                     per_step: bool = True) -> GroupEfficiency:
    """What `message_efficiency` reads of one group's shape alone, on floats: inside one scale-up domain the
    in-domain column; across domains the node-count columns next to its log2 nodes with their hat-function weights
    (clamped at 0, as `message_efficiency`'s max(a, b): `b if b > a else a`), in the order they are summed. A caller
    pricing several messages over one group (`network.collectives`) keeps it per group."""
    sizes, nvlink, nic = _float_tables(all_to_all)
    domain = group_domain(fabric, n, stride)
    if n * stride <= domain:  # inside one scale-up domain: the measured table where there is one
        measured = _measured.measured_column(fabric.accelerator, all_to_all, n)
        return sizes, nvlink, (), measured, 1.0 if measured is not None else _measured.share_of(all_to_all, n)
    share = 1.0
    if per_step and RING_TABLE_PER_STEP and not all_to_all:  # the column at ranks / 8 table nodes, the share f
        ranks = _FIRST_RING_RANKS if n < _FIRST_RING_RANKS else n
        ranks = _LAST_RING_RANKS if ranks > _LAST_RING_RANKS else ranks
        log_nodes = _log2(ranks / RING_TABLE_NODE_GPUS)
        busbw = table_busbw(fabric)
        steps = _links.weighted_steps(fabric, n, stride)  # each step at its link (`simai_nccl_tables`)
        share = (steps / ranks) * (group_link_one(fabric, n, stride, False)[0] / busbw) if busbw > 0.0 else 1.0
    else:
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
    for j in range(low, min(low + 2, len(NODE_COLUMNS))):
        weight = 1.0 - abs(log_nodes - j)
        pairs.append((0.0 if weight < 0.0 else weight, nic[j]))
    return sizes, None, tuple(pairs), None, share


def efficiency_at(group: GroupEfficiency, size_bytes: float) -> float:
    """`_message_efficiency_of` of a group's `group_efficiency` at a message size: every max(a, b) / min(a, b) of
    `message_efficiency` written as the builtins compare (`b if b > a else a` / `b if b < a else a`), the columns
    interpolated in log2(size) and weighted in the same order."""
    sizes, column, pairs, measured, share = group
    if measured is not None:
        efficiency = _measured.efficiency_of(measured, 1.0 if size_bytes < 1.0 else size_bytes)
        efficiency = 1e-3 if efficiency < 1e-3 else efficiency
        return 1.0 if efficiency > 1.0 else efficiency
    log_size = _log2(1.0 if size_bytes < 1.0 else size_bytes)
    log_size = sizes[0] if sizes[0] > log_size else log_size
    log_size = sizes[-1] if sizes[-1] < log_size else log_size
    if column is not None:
        efficiency = scalar_path.interp(log_size, sizes, column)
        if share != 1.0:  # in one domain: H100's group share (`_message_efficiency_array`'s product, in its order)
            efficiency = efficiency * share
    else:
        efficiency = 0.0
        for weight, nic in pairs:
            efficiency = efficiency + weight * scalar_path.interp(log_size, sizes, nic)
        if share != 1.0:  # read per ring step: `_message_efficiency_array`'s operations in its order
            efficiency = 1e-3 if efficiency < 1e-3 else efficiency
            efficiency = 1.0 if efficiency > 1.0 else efficiency
            efficiency = efficiency / (efficiency + share * (1.0 - efficiency))
    efficiency = 1e-3 if efficiency < 1e-3 else efficiency
    return 1.0 if efficiency > 1.0 else efficiency


_FLOAT_TABLES: dict[bool, tuple[list[float], list[float], tuple[list[float], ...]]] = {}


def forget_float_values() -> None:
    """Forget the float path's kept tables and both kept last efficiencies (for tests that patch the tables)."""
    _FLOAT_TABLES.clear()
    _LAST_EFFICIENCY.forget()
    _LAST_ARRAY.forget()


def _float_tables(all_to_all: bool) -> tuple[list[float], list[float], tuple[list[float], ...]]:
    """(log2 sizes, the in-domain column, the across-domain columns) of `efficiency_lists` for the float path:
    the ATA table for an all-to-all, else the NVLink table's first column and the NIC table's columns."""
    tables = _FLOAT_TABLES.get(all_to_all)
    if tables is None:
        sizes, inside = efficiency_lists("ata" if all_to_all else "nvlink")
        tables = _FLOAT_TABLES[all_to_all] = (sizes, inside[0], efficiency_lists("ata" if all_to_all else "nic")[1])
    return tables


_LAST_EFFICIENCY = KeepLast()  # `_message_efficiency_one`: (size, n, stride, all_to_all) -> efficiency
_LAST_ARRAY = KeepLast()  # `message_efficiency` on arrays: the inputs' shapes and bits and the switches -> efficiency


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

