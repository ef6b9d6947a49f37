"""Mutation wave 14 (session 41): `row_memo.PricedRows` (hP17) never answers a row with another row's time.

Its key is a 64-bit hash of a row's bits (odd multipliers, the docstring), so two different rows can share one.
A shared hash is built here by modular arithmetic (a linear hash of odd 64-bit multipliers is inverted mod 2^64):
the second row, asked after the first was priced, must get its own price or the memo's None (price it directly),
never the first row's time.
"""

from __future__ import annotations

import numpy as np

from infraplan.training import row_memo
from infraplan.training.row_memo import PricedRows

MOD = 2**64


def _signed(x: int) -> int:
    x %= MOD
    return x - MOD if x >= 2**63 else x


def _price(size: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Any element-wise formula: 1,000 x size + group."""
    return np.asarray(size, dtype=np.float64) * 1000.0 + np.asarray(group, dtype=np.float64)


def test_a_row_sharing_a_kept_rows_hash_is_not_given_its_time() -> None:
    h0, h1 = (int(h) % MOD for h in row_memo._HASH[:2])
    a = (5, 7)
    # b1 = a1 + 1 and b0 = a0 - h1 / h0 (mod 2^64): b0 h0 + b1 h1 = a0 h0 + a1 h1 (mod 2^64)
    b = (_signed(a[0] - h1 * pow(h0, -1, MOD)), a[1] + 1)
    assert (b[0] * h0 + b[1] * h1 - a[0] * h0 - a[1] * h1) % MOD == 0 and b != a
    table = PricedRows(fabric=object())
    first = [np.array([a[0], 11], dtype=np.int64), np.array([a[1], 13], dtype=np.int64)]
    kept = table.lookup(first, list(first), _price)
    assert kept is not None and list(kept) == list(_price(*first))
    second = [np.array([b[0], a[0]], dtype=np.int64), np.array([b[1], a[1]], dtype=np.int64)]
    got = table.lookup(second, list(second), _price)
    assert got is None or list(got) == list(_price(*second)), (got, _price(*second))
