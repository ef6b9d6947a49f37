"""hG (session 64): numpy's Python wrappers skipped where the search's values are already what they make.

`scalar_path.anywhere` of an array asks the array's own `any` (not `np.any`'s dispatch, keyword dict and wrapper),
`row_memo._column` hands back a column that already has the rows' shape (each caller gathers a copy of it), and
`axes._bools` a rule's verdict that already has the VPP values' shape (the listing only indexes it): each gives the
values `np.broadcast_to` / `np.any` gave, without their calls.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan import scalar_path
from infraplan.training import axes, row_memo

ARRAYS = [np.array([0.0, 0.0, 2.5]), np.zeros(4), np.array([], dtype=np.float64), np.array(True), np.array(0),
          np.array([[False, False], [False, True]]), np.array([np.nan]), np.array([0, 0, 0], dtype=np.int64)]


def _refused(*_: Any, **__: Any) -> Any:
    raise AssertionError("numpy's wrapper called")


@pytest.mark.parametrize("values", ARRAYS, ids=range(len(ARRAYS)))
def test_anywhere_of_an_array_answers_np_any_without_calling_it(values: np.ndarray,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """`anywhere` of an ndarray is `bool(np.any(x))` (empty, 0-d, 2-D, NaN, ints), with `np.any` not called."""
    expected = bool(np.any(values))
    monkeypatch.setattr(np, "any", _refused)
    got = scalar_path.anywhere(values)
    assert type(got) is bool and got is expected


def test_anywhere_of_plain_values_and_other_array_likes() -> None:
    """Plain numbers and bools answer their own truth; a list (not an ndarray) still goes through `np.any`."""
    assert scalar_path.anywhere(0.0) is False and scalar_path.anywhere(3) is True and scalar_path.anywhere(True)
    assert scalar_path.anywhere([0, 0, 1]) is True and scalar_path.anywhere([0.0]) is False
    assert scalar_path.anywhere(np.float64(0.0)) is False and scalar_path.anywhere(np.bool_(True)) is True


def test_column_of_the_rows_shape_is_handed_back_without_a_broadcast(monkeypatch: pytest.MonkeyPatch) -> None:
    """An (n,) array comes back as it is (its values, no `np.broadcast_to`); a scalar or a one-element array is
    broadcast to n rows as before."""
    column = np.array([3.0, 1.0, 2.0])
    scalar = row_memo._column(2.5, 3)
    one = row_memo._column(np.array([7]), 3)
    assert scalar.tolist() == [2.5, 2.5, 2.5] and one.tolist() == [7, 7, 7]
    monkeypatch.setattr(np, "broadcast_to", _refused)
    got = row_memo._column(column, 3)
    assert got is column
    assert row_memo._column(column, 3)[np.array([1, 2, 0])].tolist() == [1.0, 2.0, 3.0]


def test_rule_verdicts_of_the_vpp_shape_are_not_broadcast(monkeypatch: pytest.MonkeyPatch) -> None:
    """`_bools`: a verdict array of the VPP values' shape as it is (as bools); a scalar verdict broadcast."""
    verdict = np.array([True, False, True])
    assert axes._bools(True, (3,)).tolist() == [True, True, True]
    assert axes._bools(np.array([1, 0, 2]), (3,)).tolist() == [True, False, True]
    monkeypatch.setattr(np, "broadcast_to", _refused)
    assert axes._bools(verdict, (3,)) is verdict
