"""Collective times priced once per distinct (size, group, stride) row of a search's columns, and kept per search.

A search block's rows repeat a few hundred collective shapes (issue 18), not in runs: `distinct_collective_time`
prices each distinct row once (`scalar_path.price_distinct`; every formula of `network.collectives` is
element-wise, so every row gets the bits of the whole columns), keeps the times by the columns' content within one
search (`training.row_memo.RowMemo.shared`; by row too, `row_memo.priced_rows`), and `distinct_collective_times`
prices the requests that share a formula in one pass. The layer's collectives of one role
(`training.layer_kernels.collective_times`) and the data-parallel traffic (`training.step_traffic`,
`training.mirrored_dp`) are priced here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan import scalar_path
from infraplan.network.collectives import Fabric, collective_time
from infraplan.training.row_memo import RowMemo, priced_rows

DISTINCT_MIN_ROWS = 256  # shorter columns are priced as they are (sorting them costs about what it saves)
# a reduce-scatter and an all-gather of the same columns cost the same: `network.collective_formulas.all_gather_time`
# returns `reduce_scatter_time` of its arguments, and only an all-reduce adds SHARP (`collective_formulas.
# collective_time`); tests/training/test_hot_path_hP4.py checks the two on random columns
_FORMULA_OF = {"all_gather": "reduce_scatter"}
# columns longer than this are not kept (their bytes are the key), and at this many entries the search's kept
# times are forgotten before the next: at most 32 x 4 columns x 256 KiB = 32 MiB per search
KEPT_MAX_ELEMENTS = 1 << 15
KEPT_MAX_ENTRIES = 32


def distinct_collective_time(fabric: Fabric, kind: str, size: Any, group: Any, stride: Any) -> Any:
    """`collective_time` priced once per distinct (size, group, stride) row of a search's 1-D columns and spread
    back (`scalar_path.price_distinct`): a block's rows repeat a few hundred collective shapes (issue 18), not in
    runs. Each collective formula is element-wise, so every row gets the bits of the whole columns.

    Within a search (`row_memo.RowMemo.shared`) the times are kept by the columns' content (dtype, shape, bytes)
    and the formula: a block prices the same columns several times (a sequence-parallel layer's all-gathers and
    reduce-scatters of one activation, the DP traffic's gradient and weight messages when both are bf16), once
    now; each caller gets its own copy. Kept for one search only, so a patched formula is never served stale."""
    memo = RowMemo.active()
    key = None if memo is None else _content_key(fabric, _FORMULA_OF.get(kind, kind), size, group, stride)
    if key is not None:
        kept = memo.collectives.get(key)  # type: ignore[union-attr]  # (a key only with a memo)
        if kept is not None and kept[0] is fabric:
            return kept[1].copy()
    def price(*values: Any) -> Any:
        return scalar_path.price_distinct(lambda *v: collective_time(fabric, kind, *v), *values,
                                          min_elements=DISTINCT_MIN_ROWS)

    # (and by row: the search's earlier rows looked up, only the new ones priced; `row_memo.priced_rows`)
    out = None if memo is None else priced_rows(fabric, _FORMULA_OF.get(kind, kind), (size, group, stride), price)
    if out is None:
        out = price(size, group, stride)
    if key is not None and type(out) is np.ndarray and out.ndim:  # (the entry holds the fabric: its id stays)
        if len(memo.collectives) >= KEPT_MAX_ENTRIES:  # type: ignore[union-attr]
            memo.collectives.clear()  # type: ignore[union-attr]
        memo.collectives[key] = (fabric, out.copy())  # type: ignore[union-attr]
    return out


def distinct_collective_times(fabric: Fabric, requests: list[tuple[str, Any, Any, Any]]) -> list[Any]:
    """`distinct_collective_time` of each (kind, size, group, stride) request, the requests that share a formula
    (`_FORMULA_OF`) priced in one call on their columns end to end where every column is 1-D of one length (one
    sort and one formula pass instead of one per request: the formulas are element-wise, so each element keeps its
    bits); other requests one by one."""
    out: list[Any] = [None] * len(requests)
    batches: dict[tuple[str, ...], list[int]] = {}  # by formula and the columns' dtypes (joined as they are)
    n = None
    for i, (kind, *columns) in enumerate(requests):
        if all(type(c) is np.ndarray and c.ndim == 1 for c in columns) and len({c.size for c in columns}) == 1:
            size = columns[0].size
            if size > 1 and (n is None or size == n):  # (one row: the float path, as alone)
                n = size
                batches.setdefault((_FORMULA_OF.get(kind, kind), *(c.dtype.str for c in columns)), []).append(i)
                continue
        out[i] = distinct_collective_time(fabric, kind, *columns)
    for at in batches.values():
        if len(at) == 1:
            out[at[0]] = distinct_collective_time(fabric, *requests[at[0]])
            continue
        joined = [np.concatenate([requests[i][j] for i in at]) for j in (1, 2, 3)]
        priced = np.asarray(distinct_collective_time(fabric, requests[at[0]][0], *joined))
        for k, i in enumerate(at):
            out[i] = priced[k * n:(k + 1) * n].copy()  # type: ignore[operator]  # (each request its own array)
    return out


def _content_key(fabric: Fabric, formula: str, *values: Any) -> tuple[object, ...] | None:
    """The key of a collective's columns by content: the fabric's id, the formula and each value's dtype, shape and
    bytes (an array) or type and value (a number); None for a column longer than `KEPT_MAX_ELEMENTS` or another
    array-like."""
    key: list[object] = [id(fabric), formula]
    for v in values:
        if type(v) is np.ndarray:
            if v.size > KEPT_MAX_ELEMENTS:
                return None
            key.append((v.dtype.str, v.shape, v.tobytes()))
        elif isinstance(v, int | float | np.number):
            key.append((type(v), v))
        else:  # (another array-like: not kept)
            return None
    return tuple(key)
