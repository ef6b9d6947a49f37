"""The float path's `interp` equals `np.interp` bit for bit on the collectives' efficiency tables (issue 18)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.network.simai_nccl_tables import efficiency_lists, efficiency_table
from infraplan.scalar_path import interp


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("kind", ["nvlink", "nic", "ata"])
def test_interp_equals_numpy_on_the_efficiency_tables(kind: str) -> None:
    sizes, table = efficiency_table(kind)
    size_list, columns = efficiency_lists(kind)
    rng = np.random.default_rng(18)
    # random points inside and outside the knots, every knot exactly, and the midpoints
    xs = [*rng.uniform(sizes[0] - 2.0, sizes[-1] + 2.0, 400).tolist(), *sizes.tolist(),
          *((sizes[1:] + sizes[:-1]) / 2).tolist()]
    for j, column in enumerate(columns):
        for x in xs:
            expected = float(np.interp(x, sizes, table[:, j]))
            assert _same(interp(x, size_list, column), expected), (kind, j, x)


def test_interp_follows_numpy_at_the_ends_on_knots_and_through_nans() -> None:
    xp = [0.0, 1.0, 2.0, 3.0, 4.0]
    fp = [0.3, float("nan"), 0.7, 0.7, 1.0 / 3.0]
    for x in [-1.0, 0.0, 0.25, 1.0, 1.5, 2.0, 2.5, 3.0, 3.7, 4.0, 9.0, float("nan"), float("inf"), -float("inf")]:
        assert _same(interp(x, xp, fp), float(np.interp(x, xp, fp))), x
    assert interp(2.5, xp, fp) == 0.7  # equal neighbours: the value, not a rounded interpolation
    assert interp(-5.0, xp, fp) == 0.3 and interp(5.0, xp, fp) == 1.0 / 3.0
