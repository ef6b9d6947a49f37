"""Edges of `nvlink_all_reduce.STREAMED_TAIL` (hL, session 52: hand mutation testing): the array path's tail starts
right past the last row (512 MiB), as the float path's does, and is continuous there. Failed on the mutant the
module's tests let live (array path `sizes > last` -> `sizes >= 2 * last`: 768 MiB held at the last row's 0.938
there, streamed on the float path)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.network import nvlink_all_reduce as nv
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS

LAST = 512.0 * 2**20


def test_the_tail_starts_right_past_the_last_row_on_both_paths() -> None:
    sizes = np.array([LAST, LAST * (1 + 1e-9), 1.5 * LAST, 2.0 * LAST])
    many = nv.measured_efficiency_xp(NUMPY_OPS, sizes, np.full(4, 8.0))
    one = [nv.measured_efficiency_xp(FLOAT_OPS, float(s), 8.0) for s in sizes]
    assert list(many) == one  # the float path is the array path's bits
    held = one[0]
    assert one[1] == pytest.approx(held, rel=1e-8)  # continuous at the last row
    assert one[2] == pytest.approx(1.5 * LAST / (LAST / held + 0.5 * LAST), rel=1e-12) and held < one[2] < one[3]
