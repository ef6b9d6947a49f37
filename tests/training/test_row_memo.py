"""`training.row_memo.RowMemo`: new rows are priced in `RUN_ORDER` (so kernels repeat their inputs in runs) and every
row looked up gets its own priced terms, whatever order its rows came in or were priced in."""

from __future__ import annotations

import itertools

import numpy as np

from infraplan.ops.layer import Collective
from infraplan.training.enums import Dtype, Recompute
from infraplan.training.plan import PlanArrays
from infraplan.training.row_memo import RUN_ORDER, Priced, RowMemo

KEYS = ("tp", "cp", "ep", "micro_batch", "recompute", "dtype")


def _rows(combos: list[tuple[int, ...]]) -> PlanArrays:
    columns = {k: [c[i] for c in combos] for i, k in enumerate(KEYS)}
    return PlanArrays.build(**columns, pp=1, dp=1, etp=None, vpp=1, global_batch=64, seq_len=4096, zero=1)


def _price(seen: list[PlanArrays]) -> object:
    def price(rows: PlanArrays) -> Priced:
        seen.append(rows)
        # a term that tells every key apart, and an EP record whose bytes do
        value = (rows.tp * 1e6 + rows.cp * 1e5 + rows.ep * 1e4 + rows.micro_batch * 1e3 + rows.recompute * 10.0
                 + rows.dtype).astype(np.float64)
        record = Collective("all_to_all", "ep", bytes=value * 2.0, group=rows.ep.astype(np.float64), stride=1.0)
        return {"term": value}, (record,)
    return price


def test_new_rows_are_priced_in_run_order_and_looked_up_in_their_own() -> None:
    combos = list(itertools.product((1, 2, 4), (1, 2), (1, 8), (1, 2), (int(Recompute.NONE), int(Recompute.FULL)),
                                    (int(Dtype.BF16), int(Dtype.FP8))))
    rng = np.random.default_rng(3)
    rows = _rows([combos[i] for i in rng.permutation(len(combos))])
    memo = RowMemo(rows, KEYS)
    seen: list[PlanArrays] = []
    first = rows.take(np.arange(0, len(rows), 2))
    times, records = memo.lookup(first, _price(seen))  # type: ignore[arg-type]
    expected, _ = _price([])(first)  # type: ignore[operator]
    assert np.array_equal(times["term"], expected["term"])
    assert np.array_equal(records[0].bytes, 2.0 * expected["term"])
    # priced sorted by RUN_ORDER: dtype slowest, the recompute mode fastest
    order = [k for k in RUN_ORDER if k in KEYS]
    assert order[0] == "dtype" and order[-1] == "recompute"
    priced = seen[0]
    keys = list(zip(*(getattr(priced, k).tolist() for k in order), strict=True))
    assert keys == sorted(keys)
    # the rest: the kept rows looked up, the new ones priced (and only they), each row its own terms
    times, records = memo.lookup(rows, _price(seen))  # type: ignore[arg-type]
    expected, _ = _price([])(rows)  # type: ignore[operator]
    assert len(seen[1]) == len(rows) - len(first)
    assert np.array_equal(times["term"], expected["term"])
    assert np.array_equal(records[0].group, rows.ep.astype(np.float64))
