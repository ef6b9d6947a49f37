"""hR55: `validation.silicon.worst_case_floor`, the least worst |predicted / published - 1| of three chained cases
whose error factors (1 + e1) (1 + e2) / (1 + e3) multiply to a gap F (hU55 took a third of the log gap: 24 % at
F = 1.91, where two cases 22 % high and one 22 % low close it)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from infraplan.validation.silicon import worst_case_floor


@pytest.mark.parametrize("factor", [1.91, 1.2885, 1 / 1.91, 0.8, 1.0])
def test_the_floor_closes_the_gap_and_nothing_smaller_does(factor: float) -> None:
    x = worst_case_floor(factor)
    closes = (1 + x) ** 2 / (1 - x) if factor >= 1 else (1 - x) ** 2 / (1 + x)
    assert closes == pytest.approx(factor, rel=1e-12)
    # a grid of errors within 0.99 x never multiplies to the gap: the least product's range misses it
    grid = np.linspace(-0.99 * x, 0.99 * x, 41)
    products = [(1 + a) * (1 + b) / (1 + c) for a, b, c in itertools.product(grid, grid, grid)]
    assert factor == 1.0 or not min(products) <= factor <= max(products)
