"""Mutation wave 3 (hM19, session 43) on `training.row_memo`'s gathers (hP21: `take` for fancy indexing): every row
looked up gets its own terms, records and masks, and `whole_rows` its own terms, whatever order its rows came in."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from infraplan.ops.layer import Collective
from infraplan.training.enums import Dtype, Recompute
from infraplan.training.plan import PlanArrays
from infraplan.training.row_memo import Priced, RowMemo

KEYS = ("tp", "cp", "ep", "micro_batch", "recompute", "dtype")


def _rows(seed: int) -> PlanArrays:
    combos = list(itertools.product((1, 2, 4), (1, 2), (1, 8), (1, 2), (int(Recompute.NONE), int(Recompute.FULL)),
                                    (int(Dtype.BF16), int(Dtype.FP8))))
    order = np.random.default_rng(seed).permutation(len(combos))
    columns = {k: [combos[j][i] for j in order] for i, k in enumerate(KEYS)}
    return PlanArrays.build(**columns, pp=1, dp=1, etp=None, vpp=1, global_batch=64, seq_len=4096, zero=1)


def _value(rows: PlanArrays) -> np.ndarray:
    """A term that tells every key apart."""
    return (rows.tp * 1e6 + rows.cp * 1e5 + rows.ep * 1e4 + rows.micro_batch * 1e3 + rows.recompute * 10.0
            + rows.dtype).astype(np.float64)


def _price(rows: PlanArrays) -> Priced:
    record = Collective("all_to_all", "ep", bytes=_value(rows) * 2.0, group=rows.ep.astype(np.float64), stride=1.0,
                        mask=np.asarray(rows.cp > 1))
    return {"term": _value(rows)}, (record,)


def test_a_lookup_gives_each_row_its_own_record_mask() -> None:
    """A record's mask (here: CP > 1) comes back row by row, as its bytes and group do, for rows looked up in
    another order than they were priced in."""
    rows = _rows(3)
    memo = RowMemo(rows, KEYS)
    memo.lookup(rows.take(np.arange(0, len(rows), 2)), _price)
    times, records = memo.lookup(rows, _price)
    assert np.array_equal(times["term"], _value(rows))
    assert np.array_equal(records[0].mask, rows.cp > 1)
    assert np.array_equal(records[0].bytes, 2.0 * _value(rows))


def test_whole_rows_gives_each_row_its_own_terms() -> None:
    """`whole_rows` keeps rows under their owners and gives every row of a later call (in another order, with new
    ones among them) its own terms, as computing them row by row does."""
    rows = _rows(5)
    memo = RowMemo(rows, KEYS)
    owners: tuple[Any, ...] = (object(),)

    def compute(some: PlanArrays) -> dict[str, Any]:
        return {"term": _value(some)}

    first = memo.whole_rows(owners, rows.take(np.arange(1, len(rows), 3)), compute, True)
    assert first is not None
    again = _rows(7)
    got = memo.whole_rows(owners, again, compute, False)
    assert got is not None and np.array_equal(got["term"], _value(again))
