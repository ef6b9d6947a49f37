"""Coverage wave hM15 (session 42): `training.row_memo` paths no test took.

The memo is transparent: whatever it keeps, `lookup(rows, price, spread)` is `price(rows)` (gathered at `spread`),
term for term and record for record. Checked where it cannot keep a row (outside the packing's ranges, records of
another structure) and with `spread`; `distinct_rows` checked against a brute force (Python tuples in a dict) on
ranges too wide to pack."""

from __future__ import annotations

import itertools

import numpy as np

from infraplan.ops.layer import Collective
from infraplan.training.plan import PlanArrays
from infraplan.training.row_memo import Priced, RowMemo, distinct_rows

KEYS = ("tp", "micro_batch")


def _rows(tp: list[int], mb: list[int]) -> PlanArrays:
    return PlanArrays.build(tp=tp, micro_batch=mb, cp=1, ep=1, recompute=0, dtype=0, pp=1, dp=1, etp=None, vpp=1,
                            global_batch=64, seq_len=4096, zero=1)


def _price(calls: list[int], extra: bool = False):
    def price(rows: PlanArrays) -> Priced:
        calls.append(len(rows))
        value = (rows.tp * 100.0 + rows.micro_batch).astype(np.float64)
        times = {"term": value, **({"other": value + 1.0} if extra else {})}
        return times, (Collective("all_to_all", "ep", bytes=value * 2.0, group=rows.tp.astype(np.float64),
                                  stride=1.0),)
    return price


BOUNDS = _rows([1, 2, 4], [1, 2, 4])  # tp 1..4, micro-batch 1..4 packed


def _check(got: Priced, rows: PlanArrays, spread: np.ndarray | None = None) -> None:
    value = (rows.tp * 100.0 + rows.micro_batch).astype(np.float64)
    if spread is not None:
        value = value[spread]
    times, records = got
    np.testing.assert_array_equal(times["term"], value)
    np.testing.assert_array_equal(records[0].bytes, 2.0 * value)
    np.testing.assert_array_equal(records[0].group, np.floor(value / 100.0))


def test_rows_outside_the_packing_are_priced_directly_and_spread() -> None:
    """TP 8 lies outside the bounds' 1..4: the rows are priced as they are (all of them, nothing kept), and
    `spread` gathers their terms and records."""
    memo = RowMemo(BOUNDS, KEYS)
    rows = _rows([8, 2, 8], [1, 2, 4])
    calls: list[int] = []
    spread = np.array([2, 0, 0, 1])
    _check(memo.lookup(rows, _price(calls), spread), rows, spread)
    assert calls == [3] and memo.packed.size == 0


def test_kept_rows_are_spread_too() -> None:
    memo = RowMemo(BOUNDS, KEYS)
    rows = _rows([1, 2, 4, 1], [4, 2, 1, 1])
    calls: list[int] = []
    memo.lookup(rows, _price(calls))
    spread = np.array([3, 3, 1, 0, 2])
    _check(memo.lookup(rows, _price(calls), spread), rows, spread)
    assert calls == [4]  # the second lookup priced nothing


def test_records_of_another_structure_are_priced_whole_and_not_kept() -> None:
    """New rows whose terms differ in structure from the kept rows' (another term): the whole call is priced as it
    is, the memo left as it was."""
    memo = RowMemo(BOUNDS, KEYS)
    calls: list[int] = []
    kept = _rows([1, 2], [1, 1])
    memo.lookup(kept, _price(calls))
    rows = _rows([1, 4, 4], [1, 2, 4])  # one kept row, two new
    times, records = memo.lookup(rows, _price(calls, extra=True))
    _check((times, records), rows)
    assert "other" in times  # the new pricing's own terms, whole
    assert calls == [2, 2, 3]  # the two new rows, refused, then the whole call
    assert memo.packed.size == 2 and set(memo.times) == {"term"}


def test_an_unusable_memo_prices_every_call() -> None:
    """Bounds so wide their packed key would pass 2^62: nothing is kept, every call priced whole."""
    wide = _rows([1, 2**31], [1, 2**31 + 7])
    memo = RowMemo(wide, KEYS)
    assert not memo.usable
    calls: list[int] = []
    rows = _rows([1, 2], [1, 1])
    _check(memo.lookup(rows, _price(calls)), rows)
    _check(memo.lookup(rows, _price(calls)), rows)
    assert calls == [2, 2]


def test_distinct_rows_on_ranges_too_wide_to_pack() -> None:
    """Three columns spanning 2^40 each (2^120 combinations): the row-wise fallback, against a brute force."""
    big = 2**40
    base = list(itertools.product((0, big), (5, big), (-big, 3)))
    table = [base[i] for i in (0, 3, 3, 7, 0, 1, 7, 7)]
    columns = [np.array([r[k] for r in table], dtype=np.int64) for k in range(3)]
    got = distinct_rows(columns)
    assert got is not None
    first, inverse = got
    seen: dict[tuple[int, ...], int] = {}
    for i, r in enumerate(table):
        seen.setdefault(r, i)
    assert sorted(first.tolist()) == sorted(seen.values())
    for i, r in enumerate(table):  # each row maps to a combination whose first row is equal to it
        assert table[int(first[inverse[i]])] == r
