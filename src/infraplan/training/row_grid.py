"""The search space as rows x broadcast axes (`RowGrid`, `enumerate_rows`): the rows of `axes.enumerate_axes`
without the broadcast axes (VPP with the pipeline schedule, the ZeRO stage), which the search prices as extra array
dimensions, each row's rank in the full cartesian order of `enumerate_axes` kept so ties break as they would there.
Split from training/axes.py (session 60, hL: it was at 398 lines), which declares the axes and their candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

import numpy as np
from numpy.typing import NDArray

from infraplan.training.axes import AXES, ZERO_STAGES, Axis, SearchSpace, inner_grid, outer_combinations
from infraplan.training.enums import Schedule
from infraplan.training.plan import PlanArrays


@dataclass(frozen=True)
class RowGrid:
    """The search space as rows x broadcast axes: every plan is a row, a (vpp, schedule) pair and a ZeRO stage.

    `rows` holds one plan per combination of the enumerated axes, at vpp 1, 1F1B and ZeRO 0 (always a valid
    combination, so row validity is that of every rule not involving the broadcast axes). `stages[pp]` is the
    (2, K) array of (vpp, schedule) candidates for that PP, `zero` the ZeRO stages. `rank[i] + k *
    pair_stride[i] + z * zero_stride[i]` is the position of plan (row i, pair k, ZeRO z) in the full cartesian
    order of `enumerate_axes`, so ties break as they would there. A column holding one value in every row (a fixed
    axis, the broadcast axes' first candidates) is a read-only one-value view (`np.broadcast_to`), no memory per row.
    """

    rows: PlanArrays
    stages: dict[int, NDArray[np.int64]]
    zero: NDArray[np.int64]
    rank: NDArray[np.int64]
    pair_stride: NDArray[np.int64]
    zero_stride: NDArray[np.int64]
    # (2, Z): which of `zero` the stack refuses with PP = 1 (row 0, `SearchSpace.zero_stages`) and with PP > 1
    # (row 1, `SearchSpace.pipeline_zero`); None: none refused
    zero_refused: NDArray[np.bool_] | None = None


def _inner_candidates(space: SearchSpace, combinations: list[dict[str, int]],
                      inner: list[Axis]) -> tuple[dict[int, list[int]], dict[int, list[list[int]]]]:
    """Each inner axis's candidates: `fixed[j]` for every outer combination where `inner[j]` reads none (`Axis.reads`),
    else `listed[j][i]` at combination i, once per value of the fields read (lists shared, never changed) or each."""
    fixed: dict[int, list[int]] = {}
    listed: dict[int, list[list[int]]] = {}
    for j, axis in enumerate(inner):
        if axis.reads == ():
            fixed[j] = list(axis.candidates(space, combinations[0]))
        elif axis.reads is None:
            listed[j] = [list(axis.candidates(space, chosen)) for chosen in combinations]
        else:  # (each combination's key; the first combination of each key, a dict of the pairs reversed)
            keys = list(map(itemgetter(*axis.reads), combinations))
            first = dict(zip(reversed(keys), reversed(combinations), strict=True))
            lists = {key: list(axis.candidates(space, chosen)) for key, chosen in first.items()}
            listed[j] = list(map(lists.__getitem__, keys))
    return fixed, listed


def enumerate_rows(space: SearchSpace) -> RowGrid:
    """The candidate rows of `enumerate_axes` without the broadcast axes (vpp and schedule, ZeRO stage).

    Python walks the outer axes and lists the inner candidates of each outer combination; the rows are then
    built for all combinations at once (grid coordinates from each row's position, no per-combination arrays).
    """
    outer = [a for a in AXES if a.outer]
    inner = [a for a in AXES if not a.outer and not a.broadcast]
    cheap = [a for a in AXES if a.broadcast]
    stages: dict[int, NDArray[np.int64]] = {}
    cheap_sizes: dict[int, list[int]] = {}  # per PP: the broadcast dimensions' sizes, in AXES order
    combinations = list(outer_combinations(space))
    for chosen in combinations:
        pp = chosen["pp"]
        if pp not in cheap_sizes:
            dims = inner_grid(space, chosen, cheap)
            cheap_sizes[pp] = [values.shape[1] for _, values in dims]
            pairs = next(values for names, values in dims if "vpp" in names)
            stages[pp] = pairs[[0, 1]] if pairs.shape[0] == 2 else pairs
    fixed, listed = _inner_candidates(space, combinations, inner) if combinations else ({}, {})
    # the blocks: the combinations where every inner and broadcast axis has a candidate
    empty = {i for column in listed.values() if not all(column) for i, values in enumerate(column) if not values}
    thin = {p for p, dims in cheap_sizes.items() if not all(dims)}
    if not all(fixed.values()):
        combinations = []
    elif empty or thin:
        kept = [i for i, chosen in enumerate(combinations) if i not in empty and chosen["pp"] not in thin]
        combinations = list(map(combinations.__getitem__, kept))
        listed = {j: list(map(column.__getitem__, kept)) for j, column in listed.items()}
    zero = np.asarray(ZERO_STAGES, dtype=np.int64)
    # (membership in the stack's few stages: `~np.isin`'s bools, without its ~20 us per call)
    by_depth = np.array([[bool(stages) and int(z) not in stages for z in ZERO_STAGES]
                         for stages in (space.zero_stages, space.pipeline_zero)], dtype=bool).reshape(2, zero.size)
    refused = by_depth if by_depth.any() else None
    if not combinations:
        none = np.zeros(0, dtype=np.int64)
        return RowGrid(PlanArrays(**{a.field: none for a in AXES}), stages, zero, none, none, none, refused)
    # full cartesian order of `enumerate_axes`: inner axes in AXES order, (vpp, schedule) one joint dimension
    order = [a for a in AXES if not a.outer and a.given is None]
    sizes = np.empty((len(combinations), len(inner)), dtype=np.int64)  # (blocks, inner); `fixed`: one size for all
    for j in range(len(inner)):
        sizes[:, j] = len(fixed[j]) if j in fixed else list(map(len, listed[j]))
    n = sizes.prod(axis=1)
    at_inner = [next((i for i, b in enumerate(inner) if b is a), -1) for a in order]
    at_cheap = [next((i for i, b in enumerate(c for c in cheap if c.given is None) if b is a), -1) for a in order]
    # each block's sizes in that order: its inner axes' (`sizes`), its PP's broadcast ones (one table line per PP)
    depths = list(cheap_sizes)
    line = np.searchsorted(np.array(depths), [chosen["pp"] for chosen in combinations], sorter=np.argsort(depths))
    line = np.argsort(depths)[line]
    cheap_table = np.array([cheap_sizes[p] for p in depths], dtype=np.int64).reshape(len(depths), -1)
    full_sizes = np.stack([sizes[:, i] if i >= 0 else cheap_table[line, j] for i, j in zip(at_inner, at_cheap,
                                                                                             strict=True)], axis=1)
    full_strides = np.concatenate([np.cumprod(full_sizes[:, :0:-1], axis=1)[:, ::-1],
                                   np.ones((len(combinations), 1), dtype=np.int64)], axis=1)
    full_offset = np.concatenate([[0], np.cumsum(full_sizes.prod(axis=1))[:-1]])
    # row coordinates in int32 where the rows allow (integer division costs ~3x less than in int64); per-block
    # values reach the rows by np.repeat (a copy per block, not a gather per row)
    small = np.int32 if int(n.sum()) < 2**31 else np.int64
    local = np.arange(int(n.sum()), dtype=small) - np.repeat((np.cumsum(n) - n).astype(small), n)
    # each row's coordinate on the axes with several candidates somewhere: mixed-radix digits of its position in
    # its block, the last axis fastest (one divmod per axis)
    coords: dict[int, NDArray[np.int64]] = {}
    rest = local
    for j in reversed(range(len(inner))):
        if (sizes[:, j] > 1).any():
            rest, coords[j] = np.divmod(rest, np.repeat(sizes[:, j].astype(small), n))
    columns: dict[str, NDArray[np.int64]] = {}
    rank = np.repeat(full_offset.astype(np.int64), n)
    for j, axis in enumerate(inner):
        once = fixed.get(j)  # (every block's candidates, or the one list of an axis listed once)
        flat = np.asarray(list(chain.from_iterable(listed[j])) if once is None else once, dtype=np.int64)
        if j not in coords:  # one candidate in every block (fixed axes): no coordinate to compute
            # one value in all (a fixed axis): a read-only view of it, no memory per row
            columns[axis.field] = (np.broadcast_to(flat[:1], (local.size,)) if np.all(flat == flat[0])
                                   else np.repeat(flat, n))
            continue
        coord = coords[j]
        starts = np.concatenate([[0], np.cumsum(sizes[:, j])[:-1]])
        columns[axis.field] = flat[coord] if once is not None else flat[np.repeat(starts, n) + coord]
        rank = rank + coord * np.repeat(full_strides[:, next(i for i, a in enumerate(order) if a is axis)], n)
    for axis in outer:
        columns[axis.field] = np.repeat(np.array(list(map(itemgetter(axis.field), combinations)), dtype=np.int64), n)
    # first candidates of the broadcast axes: vpp 1 with 1F1B, ZeRO 0 (valid for every row)
    fill = {"vpp": 1, "schedule": int(Schedule.ONE_F_ONE_B), "zero": 0}
    columns.update({k: np.broadcast_to(np.array([v], dtype=np.int64), (local.size,)) for k, v in fill.items()})
    by_field = {a.field: i for i, a in enumerate(order)}
    return RowGrid(PlanArrays(**columns), stages, zero, rank,
                   np.repeat(full_strides[:, by_field["vpp"]], n), np.repeat(full_strides[:, by_field["zero"]], n),
                   refused)
