"""Per-layer terms kept across the blocks of one search, keyed by the plan's stride-free layer-key row.

The search prices its grid in blocks (`training.search.CHUNK_PLANS`); blocks of different PP share rows of the
same TP, CP, EP, expert TP, micro-batch, recompute, dtype and sequence, whose layer times (GEMMs, attention,
element-wise work, TP/CP collectives, the EP all-to-all's bytes and group) do not depend on PP or the rank order
(`step_time.STRIDE_ONLY_KEYS`). Within `RowMemo.shared(...)` `layer_terms.per_layer_terms` prices each such row once per
search instead of once per block (DeepSeek-V3 with EP on 8,192 GB200: 78k row pricings -> 31k). The terms are
element-wise in the rows, so a row priced in any block has the same bits: the search's answer does not change.
New rows are priced sorted by `RUN_ORDER` (precision, micro-batch and sequence slowest, the recompute mode fastest):
consecutive rows then repeat the inputs of most GEMMs and collectives, which `scalar_path.price_runs` prices once
per run (DeepSeek-V3 on 8,192 GB200: 3.1 M GEMM elements in 1.6 M runs in grid order, 0.22 M sorted).

Within one call, `computed_once` prices a step's cached terms (the layer terms of `layer_terms.per_layer_terms`, the
traffic of `step_traffic.pipeline_and_dp_traffic`) once per distinct row of their keys (`distinct_rows`: the key
columns packed into one int64 by their value ranges) and broadcasts them back, exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import fields, replace
from typing import Any

import numpy as np

from infraplan.ops.layer import Collective
from infraplan.training.axes import LAYER_KEYS
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import take_rows

Priced = tuple[dict[str, np.ndarray], tuple[Collective, ...]]
_ACTIVE: ContextVar[RowMemo | None] = ContextVar("row_memo", default=None)
# the order, slowest first, in which new rows are priced: the layer's GEMM and collective shapes depend on the
# precision, micro-batch and sequence of every kernel, the dense ones on TP and CP, the experts' on EP and ETP, and
# none on the recompute mode, so sorted this way consecutive rows repeat most kernels' inputs (priced once per
# run, `scalar_path.price_runs`; keys not named here vary fastest)
RUN_ORDER = ("dtype", "seq_len", "micro_batch", "attention", "sequence_parallel", "tp", "cp", "etp", "ep",
             "recompute")


def _column(value: object, n: int) -> np.ndarray:
    """`value` (a scalar or an array over n rows) as an array of n rows (an array of n rows as it is: each caller
    gathers a copy of it, `[order]`)."""
    if type(value) is np.ndarray and value.shape == (n,):
        return value
    return np.asarray(np.broadcast_to(np.asarray(value), (n,)))


def _spread(priced: Priced, spread: np.ndarray | None, n: int) -> Priced:
    """Priced terms and records of n rows, at the positions `spread` (None: as they are)."""
    if spread is None:
        return priced
    times, records = priced

    def at(v: object) -> np.ndarray:
        return np.broadcast_to(np.asarray(v), (n,)).take(spread)  # (`take`: `[spread]`'s gather, ~1.4x faster)

    return ({k: at(v) for k, v in times.items()},
            tuple(replace(c, bytes=at(c.bytes), group=at(c.group), mask=at(c.mask)) for c in records))


class RowMemo:
    """Priced terms and EP all-to-all records per distinct row of `keys`, sorted by a packed int64 key.

    The packing takes its value ranges from the rows the search may price (`bounds`); rows outside them (or
    ranges too wide to pack) are priced directly, never looked up.
    """

    def __init__(self, bounds: PlanArrays, keys: tuple[str, ...]) -> None:
        self.keys = keys
        self.run_keys = tuple(k for k in RUN_ORDER if k in keys) + tuple(k for k in keys if k not in RUN_ORDER)
        columns = [np.reshape(getattr(bounds, k), -1) for k in keys]
        self.lows = [int(c.min()) if c.size else 0 for c in columns]
        self.sizes = [int(c.max()) - low + 1 if c.size else 1 for c, low in zip(columns, self.lows, strict=True)]
        self.usable = bool(columns and columns[0].size) and float(np.prod(np.array(self.sizes, float))) < 2.0**62
        self.packed = np.zeros(0, dtype=np.int64)
        self.times: dict[str, np.ndarray] = {}
        self.records: tuple[Collective, ...] = ()
        # collective times of the search's columns by their content (`distinct_collectives.distinct_collective_time`)
        self.collectives: dict[tuple[object, ...], tuple[object, np.ndarray]] = {}
        # and by row, per formula and fabric (`priced_rows`)
        self.collective_rows: dict[tuple[object, ...], PricedRows] = {}
        # a step's layer terms by whole LAYER_KEYS row, per pricing (`whole_rows`), and that packing's ranges
        self.bounds = bounds
        self.whole: dict[tuple[int, ...], tuple[tuple[object, ...], np.ndarray, dict[str, np.ndarray]]] = {}
        self.whole_packing: tuple[list[int], list[int]] | None = None

    @staticmethod
    def active() -> RowMemo | None:
        """The memo of the search running in this context, if any."""
        return _ACTIVE.get()

    @staticmethod
    @contextmanager
    def shared(bounds: PlanArrays, keys: tuple[str, ...]) -> Iterator[RowMemo]:
        """Within: `layer_terms.per_layer_terms` keeps its per-row terms in one memo (the search's blocks share it)."""
        memo = RowMemo(bounds, keys)
        token = _ACTIVE.set(memo)
        try:
            yield memo
        finally:
            _ACTIVE.reset(token)

    def _pack(self, rows: PlanArrays, keys: tuple[str, ...] | None = None) -> np.ndarray | None:
        """Each row's packed key (of `keys`, in that order: default the memo's), or None when a value lies outside
        the packing's ranges."""
        key = np.zeros(len(rows), dtype=np.int64)
        for k in self.keys if keys is None else keys:
            low, size = self.lows[self.keys.index(k)], self.sizes[self.keys.index(k)]
            c = np.reshape(getattr(rows, k), -1) - low
            if c.size and (int(c.min()) < 0 or int(c.max()) >= size):
                return None
            key = key * size + c
        return key

    def _merge(self, key: np.ndarray, priced: Priced) -> bool:
        """Add distinct new rows; False (nothing added) when their records differ in structure from the kept."""
        times, records = priced
        n = key.size
        if self.packed.size and (times.keys() != self.times.keys() or len(records) != len(self.records) or any(
                (a.kind, a.role, a.count) != (b.kind, b.role, b.count)
                for a, b in zip(records, self.records, strict=True))):
            return False
        if not self.packed.size:
            order = np.argsort(key, kind="stable")
            self.packed = key[order]
            self.times = {k: _column(v, n)[order] for k, v in times.items()}
            self.records = tuple(replace(c, bytes=_column(c.bytes, n)[order], group=_column(c.group, n)[order],
                                         mask=_column(c.mask, n)[order]) for c in records)
        else:
            order = np.argsort(np.concatenate([self.packed, key]), kind="stable")
            self.packed = np.concatenate([self.packed, key])[order]

            def join(old: object, new: object) -> np.ndarray:
                return np.concatenate([np.asarray(old), _column(new, n)])[order]

            self.times = {k: join(self.times[k], v) for k, v in times.items()}
            self.records = tuple(replace(a, bytes=join(a.bytes, b.bytes), group=join(a.group, b.group),
                                         mask=join(a.mask, b.mask)) for a, b in zip(self.records, records, strict=True))
        return True

    def whole_rows(self, owners: tuple[object, ...], rows: PlanArrays, compute: Callable[[PlanArrays], dict[str, Any]],
                   keep: bool) -> dict[str, np.ndarray] | None:
        """`compute(rows)` of 1-D rows with distinct LAYER_KEYS (`computed_once`'s, under the pricing `owners`), each
        row computed once per search: the memory's split (`step_time.balanced_split`, every row of a block) and the
        step time of the rows that fit (`row_bound.price_by_bound`) read one pricing of the EP all-to-all and the stage
        split (hP20, session 42). The terms are element-wise in the rows (as `lookup`'s), so a row computed beside
        others has the same bits; the new rows are computed together (two at least: one row would take the float path).
        `keep`: the call may start keeping rows under `owners` (else only rows of an earlier call's start are read and
        added). None where nothing is kept or the rows' keys do not pack (the caller computes them)."""
        ident = tuple(id(owner) for owner in owners)
        entry = self.whole.get(ident)
        if entry is not None and any(a is not b for a, b in zip(entry[0], owners, strict=True)):
            entry = None
        if entry is None and not keep:
            return None
        if self.whole_packing is None:
            columns = [np.reshape(getattr(self.bounds, k), -1) for k in LAYER_KEYS]
            lows = [int(c.min()) if c.size else 0 for c in columns]
            sizes = [int(c.max()) - low + 1 if c.size else 1 for c, low in zip(columns, lows, strict=True)]
            self.whole_packing = (lows, sizes) if float(np.prod(np.array(sizes, float))) < 2.0**62 else ([], [])
        lows, sizes = self.whole_packing
        n = len(rows)
        if not sizes or n < 2:
            return None
        key = np.zeros(n, dtype=np.int64)
        for k, low, size in zip(LAYER_KEYS, lows, sizes, strict=True):
            c = np.reshape(getattr(rows, k), -1) - low
            if c.size != n or int(c.min()) < 0 or int(c.max()) >= size:
                return None
            key = key * size + c
        if entry is None:
            entry = self.whole[ident] = (owners, np.zeros(0, dtype=np.int64), {})
        _, packed, terms = entry
        pos = np.minimum(np.searchsorted(packed, key), max(packed.size - 1, 0))
        hit = packed[pos] == key if packed.size else np.zeros(n, dtype=bool)
        if not hit.all():
            miss = np.flatnonzero(~hit)
            computed = compute(take_rows(rows, miss if miss.size > 1 else np.repeat(miss, 2)))
            if any(np.ndim(v) > 1 for v in computed.values()) or (terms and computed.keys() != terms.keys()):
                return None  # (terms not one per row, or other terms than kept: priced by the caller)
            new = {k: np.broadcast_to(np.asarray(v), (max(miss.size, 2),))[:miss.size] for k, v in computed.items()}
            order = np.argsort(np.concatenate([packed, key[miss]]), kind="stable")
            packed = np.concatenate([packed, key[miss]])[order]
            terms = {k: np.concatenate([terms[k], v])[order] if terms else v[order] for k, v in new.items()}
            self.whole[ident] = (owners, packed, terms)
            pos = np.searchsorted(packed, key)
        return {k: v.take(pos) for k, v in terms.items()}  # (`v[pos]`'s values: `take` gathers 1-D rows faster)

    def lookup(self, rows: PlanArrays, price: Callable[[PlanArrays], Priced],
               spread: np.ndarray | None = None) -> Priced:
        """`price(rows)` for rows with distinct keys: kept rows are looked up, the others priced and kept.

        `spread`: return the terms of rows `spread` (indices into `rows`) instead, gathered from the memo at once.
        The records' `stride` is that of whichever row was priced first: the caller sets the rows' own.
        """
        key = self._pack(rows) if self.usable else None
        if key is None:
            return _spread(price(rows), spread, len(rows))
        pos = np.searchsorted(self.packed, key)
        hit = (pos < self.packed.size) & (self.packed[np.minimum(pos, max(self.packed.size - 1, 0))] == key
                                          if self.packed.size else False)
        miss = np.flatnonzero(~hit)
        if miss.size:
            # priced in `RUN_ORDER`: consecutive rows then repeat most kernels' inputs (`scalar_path.price_runs`)
            runs = self._pack(rows, self.run_keys)
            miss = miss[np.argsort(runs[miss], kind="stable")] if runs is not None else miss
            priced = price(take_rows(rows, miss))
            if not self._merge(key[miss], priced):
                return _spread(price(rows), spread, len(rows))
            pos = np.searchsorted(self.packed, key)
        pos = pos if spread is None else pos[spread]
        # (`v[pos]`'s values: `take` gathers 1-D columns ~1.4x faster than fancy indexing)
        return ({k: v.take(pos) for k, v in self.times.items()},
                tuple(replace(c, bytes=np.asarray(c.bytes).take(pos), group=np.asarray(c.group).take(pos),
                              mask=np.asarray(c.mask).take(pos)) for c in self.records))


# odd 64-bit multipliers of the row hash (`PricedRows`): any, the rows are compared whole after it
_HASH = (np.int64(-7046029254386353131), np.int64(-4417276706812531889), np.int64(1609587929392839161))


class PricedRows:
    """A search's priced rows of one collective formula on one fabric (hP17, session 41): the (size, group, stride)
    rows priced so far, by a 64-bit hash of their bits sorted, with their times. A later call (the row bound's
    second pass, `row_bound.price_by_bound`, re-prices the traffic's and the end stages' DP collectives on other
    rows that repeat the first pass's shapes) looks its rows up and prices only the new ones; the formulas are
    element-wise (`scalar_path.price_distinct` prices the distinct rows alone on the same ground), so each row keeps
    the bits a whole-column pricing gives it. A hash shared by two different rows is seen (rows compared whole) and
    the call priced as before."""

    __slots__ = ("columns", "fabric", "hashes", "seconds")

    def __init__(self, fabric: object) -> None:
        self.fabric = fabric  # (held: the key's id of it is not reused while kept)
        self.hashes = np.zeros(0, dtype=np.int64)
        self.columns: list[np.ndarray] = []
        self.seconds = np.zeros(0)

    def lookup(self, bits: list[np.ndarray], values: list[Any],
               price: Callable[..., np.ndarray]) -> np.ndarray | None:
        """The times of the rows of `bits` (int64 views of the array columns among `values`), pricing the rows not
        kept (`price(*values)` on those rows, the scalars as they are); None where a hash is shared."""
        h: np.ndarray = bits[0] * _HASH[0]
        for column, factor in zip(bits[1:], _HASH[1:], strict=False):
            h = h + column * factor
        n = self.hashes.size
        if n:
            pos = np.minimum(np.searchsorted(self.hashes, h), n - 1)
            hit = self.hashes[pos] == h
            same = hit.copy()
            for kept, column in zip(self.columns, bits, strict=True):
                same &= kept[pos] == column
            if not np.array_equal(same, hit):  # (a kept hash on another row)
                return None
            if hit.all():
                return self.seconds[pos]
            miss = np.flatnonzero(~hit)
        else:
            miss = np.arange(h.size)
        new, first, inverse = np.unique(h[miss], return_index=True, return_inverse=True)
        rows = miss[first]
        if not all(np.array_equal(column[miss], column[rows][inverse.reshape(-1)]) for column in bits):
            return None  # (two new rows of one hash)
        # (two rows at least: a single row would take the float path, `collective_formulas._evaluate`)
        take = rows if rows.size > 1 else np.repeat(rows, 2)
        seconds = np.asarray(price(*(v[take] if type(v) is np.ndarray else v for v in values)), dtype=np.float64)
        order = np.argsort(np.concatenate([self.hashes, new]), kind="stable")
        self.hashes = np.concatenate([self.hashes, new])[order]
        self.columns = [np.concatenate([kept, column[rows]])[order] for kept, column in
                        zip(self.columns or [np.zeros(0, dtype=np.int64)] * len(bits), bits, strict=True)]
        self.seconds = np.concatenate([self.seconds, seconds[:rows.size]])[order]
        return self.seconds[np.searchsorted(self.hashes, h)]


def priced_rows(fabric: object, formula: str, values: tuple[Any, ...],
                price: Callable[..., np.ndarray]) -> np.ndarray | None:
    """`price(*values)` (a collective formula's (size, group, stride): 1-D float64 or int64 columns of one length,
    or plain numbers) through the active search's `PricedRows` of the formula, fabric, the columns' dtypes and the
    numbers; None outside a search, for one row, other values, or where `PricedRows.lookup` is."""
    memo = _ACTIVE.get()
    if memo is None:
        return None
    key: list[object] = [id(fabric), formula]
    bits, n, columns = [], -1, list(values)
    for i, v in enumerate(values):
        if type(v) is np.ndarray and v.ndim:
            if v.ndim != 1 or v.dtype.str not in ("<f8", "<i8") or (n >= 0 and v.size != n):
                return None
            if i < 2 and v.dtype.str == "<i8":  # (a size or group: every formula takes it as float64 first,
                v = columns[i] = v.astype(np.float64)  # `collective_formulas._evaluate`, `sharp.sharp_times`)
            n = v.size
            key.append(v.dtype.str)
            bits.append(v.view(np.int64))
        elif type(v) in (int, float):
            key.append((type(v), v))
        elif type(v) is np.ndarray and v.dtype.str in ("<f8", "<i8"):  # (0-d: kept as it is)
            key.append((v.dtype.str, v.tobytes()))
        else:
            return None
    if not bits or n < 2:  # (one row: the float path, `collective_formulas._evaluate`, as before)
        return None
    table = memo.collective_rows.get(tuple(key))
    if table is None or table.fabric is not fabric:
        table = memo.collective_rows[tuple(key)] = PricedRows(fabric)
    return table.lookup(bits, columns, price)


def distinct_rows(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """(index of the first row of each distinct combination, row -> combination index), or None when every
    row is already distinct.

    Integer columns are packed into one int64 key by their value ranges (one sort instead of one per column).
    Rows enumerated in grid order (the search's rows) have strictly increasing keys: then no sort at all.
    """
    if columns[0].size <= 1:  # one plan (a single estimate): nothing to share
        return None
    lows = [int(c.min()) if c.size else 0 for c in columns]
    sizes = [int(c.max()) - low + 1 if c.size else 1 for c, low in zip(columns, lows, strict=True)]
    if np.prod(np.array(sizes, dtype=np.float64)) < 2.0**62:
        key = np.zeros(columns[0].shape, dtype=np.int64)
        for column, low, size in zip(columns, lows, sizes, strict=True):
            if size > 1:  # a constant column adds nothing to the key (key * 1 + 0)
                key = key * size + (column - low)
        if bool(np.all(key[1:] > key[:-1])):
            return None
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:  # astronomically wide ranges: fall back to row-wise unique
        _, first, inverse = np.unique(np.stack(columns, axis=1), axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def computed_once(plan: PlanArrays, keys: tuple[str, ...],
                   compute: Callable[[PlanArrays], dict[str, Any]],
                   owners: tuple[object, ...] | None = None, keep: bool = False) -> dict[str, Any]:
    """Run `compute` once per distinct combination of the `keys` fields and broadcast back (exact).

    The plan's key fields may be arrays of any one shape (the search passes (rows, 1, 1) columns beside
    broadcast virtual-stage, schedule and ZeRO axes); the results come back in that shape. `compute` sees
    only the key fields (the others are the first row's: the cached terms do not depend on them). A single
    estimate's plan (`PlanArrays.is_one`) gets `compute`'s terms as they are: Python floats (`step_time`).
    A search's rows (those a `RowMemo` serves) differ in LAYER_KEYS: every field but DP (set by TP, CP, PP), the
    global batch (one per search) and the broadcast axes is one of them (tests/training/test_search_speed.py).
    `owners`: the objects `compute` prices with (`layer_terms.per_layer_terms`'s), by which a search's rows are kept
    across calls (`RowMemo.whole_rows`, which `keep` may start); None: not kept.
    """
    if plan.is_one:  # (every field of shape (1,))
        return compute(plan)  # its own row: the one-plan terms, Python floats
    shape = np.shape(getattr(plan, keys[0]))
    columns = {f.name: _flat(getattr(plan, f.name)) for f in fields(plan)}
    known = keys == LAYER_KEYS and RowMemo.active() is not None  # a search's rows: distinct, no check
    distinct = None if known else distinct_rows([columns[k] for k in keys])
    n = columns[keys[0]].size
    if distinct is None:
        rows = PlanArrays(**{k: c if c.size == n else np.broadcast_to(c[:1], (n,)) for k, c in columns.items()})
        memo = RowMemo.active() if known and owners is not None else None
        kept = None if memo is None or owners is None else memo.whole_rows(owners, rows, compute, keep)
        return {k: _array(v).reshape(shape) for k, v in (compute(rows) if kept is None else kept).items()}
    first, inverse = distinct
    rows = PlanArrays(**{k: c[first] if c.size == n else np.broadcast_to(c[:1], first.shape)
                         for k, c in columns.items()})
    return {k: _array(v)[inverse.reshape(shape)] for k, v in compute(rows).items()}


def _flat(column: np.ndarray) -> np.ndarray:
    """`np.ravel`, but a 1-D column as it is (a one-value view of the search's rows stays a view, not a copy)."""
    return column if column.ndim == 1 else np.ravel(column)


def _array(value: Any) -> np.ndarray:
    return np.array([value]) if type(value) is float else np.asarray(value)  # a one-plan term: a Python float
