"""A search's collectives priced once per distinct (size, group, stride) row equal the whole columns bit for bit
(`training.distinct_collectives.distinct_collective_time`, issue 18), and the kept last array efficiency is a copy."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network.collectives import Fabric, collective_time, message_efficiency
from infraplan.training.distinct_collectives import DISTINCT_MIN_ROWS, distinct_collective_time


@pytest.fixture(scope="module", params=["dgx-h100-superpod", "gb200-nvl72-superpod", "meta-genai-roce-24k"])
def fabric(request: pytest.FixtureRequest) -> Fabric:
    return Cluster.resolve(request.param).fabric


def _rows(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A few dozen collective shapes repeated over `rows` rows in no order; group sizes as int64 (as a search's)."""
    shapes = 40
    size = np.exp(rng.uniform(np.log(1e3), np.log(4e10), shapes))
    group = 2 ** rng.integers(0, 8, shapes)
    stride = 2.0 ** rng.integers(0, 10, shapes)
    pick = rng.integers(0, shapes, rows)
    return size[pick], group[pick].astype(np.int64), stride[pick]


@pytest.mark.parametrize("kind", ["all_gather", "reduce_scatter", "all_reduce", "all_to_all"])
def test_distinct_rows_price_as_the_whole_columns(fabric: Fabric, kind: str) -> None:
    size, group, stride = _rows(np.random.default_rng(5), 4 * DISTINCT_MIN_ROWS)
    whole = collective_time(fabric, kind, size, group, stride)
    assert np.unique(whole).size > 10
    assert distinct_collective_time(fabric, kind, size, group, stride).tobytes() == whole.tobytes()
    # a plain number among the inputs stays one, as the whole call has it
    assert (distinct_collective_time(fabric, kind, size, group, 8).tobytes()
            == collective_time(fabric, kind, size, group, 8).tobytes())


def test_short_or_distinct_columns_are_priced_as_they_are(fabric: Fabric) -> None:
    size, group, stride = _rows(np.random.default_rng(6), DISTINCT_MIN_ROWS - 1)
    assert (distinct_collective_time(fabric, "all_reduce", size, group, stride).tobytes()
            == collective_time(fabric, "all_reduce", size, group, stride).tobytes())
    rng = np.random.default_rng(7)
    size = np.exp(rng.uniform(np.log(1e3), np.log(4e10), 2 * DISTINCT_MIN_ROWS))  # every row its own shape
    assert (distinct_collective_time(fabric, "reduce_scatter", size, 8, 1).tobytes()
            == collective_time(fabric, "reduce_scatter", size, 8, 1).tobytes())


def test_kept_array_efficiency_is_returned_as_a_copy(fabric: Fabric) -> None:
    size, group, stride = _rows(np.random.default_rng(8), 64)
    first = message_efficiency(fabric, size, group, stride)
    bits = first.tobytes()
    first[:] = -1.0  # a caller's change to its result does not reach the next caller of the same groups
    assert message_efficiency(fabric, size, group, stride).tobytes() == bits
    assert message_efficiency(fabric, size * 2.0, group, stride).tobytes() != bits
