"""The array path's joined spanning-bound passes (hP22, session 43): a spanning group's collective and its in-domain
bound over its k local members priced in one pass (`collective_formulas._joined`) keep the bits of each group's
one-element (float) path, which prices them apart, for the all-reduce's ring and tree bounds, the reduce-scatter
(all-gather) and the all-to-all, on columns mixing groups inside one domain, spanning domains and of one rank, and
on broadcast shapes (a scalar size against columns, a 2-D grid)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network.collectives import Fabric, collective_time
from infraplan.network.fabric import group_domain


@pytest.fixture(scope="module", params=["dgx-h100-superpod", "gb200-nvl72-superpod", "meta-genai-roce-24k"])
def fabric(request: pytest.FixtureRequest) -> Fabric:
    return Cluster.resolve(request.param).fabric


def _columns(seed: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 2.0 ** rng.integers(0, 9, count)  # 1 to 256 ranks
    stride = 2.0 ** rng.integers(0, 4, count)  # 1 to 8 apart
    size = np.exp(rng.uniform(np.log(8.0), np.log(4e10), count))
    return size, n, stride


def _each_alone(fabric: Fabric, kind: str, size: np.ndarray, n: np.ndarray, stride: np.ndarray) -> np.ndarray:
    """Each group priced on its own (one element: the float formulas, which bound the two passes apart)."""
    return np.array([collective_time(fabric, kind, size[i:i + 1], n[i:i + 1], stride[i:i + 1])[0]
                     for i in range(size.size)])


@pytest.mark.parametrize("kind", ["all_reduce", "reduce_scatter", "all_gather", "all_to_all"])
def test_joined_pass_keeps_each_groups_bits(fabric: Fabric, kind: str) -> None:
    size, n, stride = _columns(22, 160)
    domain = group_domain(fabric, n, stride)
    spans = (n * stride > domain) & (np.floor(domain / stride) > 1.0)
    assert spans.sum() > 20 and (n * stride <= domain).sum() > 10  # both kinds of group in the column
    array = collective_time(fabric, kind, size, n, stride)
    alone = _each_alone(fabric, kind, size, n, stride)
    assert np.array_equal(array, alone)
    assert np.all(array[n == 1] == 0.0)


@pytest.mark.parametrize("kind", ["all_reduce", "reduce_scatter", "all_to_all"])
def test_joined_pass_keeps_broadcast_shapes(fabric: Fabric, kind: str) -> None:
    _, n, stride = _columns(5, 48)
    scalar = collective_time(fabric, kind, 3e7, n, stride)
    assert scalar.shape == (48,)
    assert np.array_equal(scalar, _each_alone(fabric, kind, np.full(48, 3e7), n, stride))
    grid = collective_time(fabric, kind, np.array([[1e5], [3e7], [2e9]]), n[None, :], stride[None, :])
    assert grid.shape == (3, 48)
    for row, value in enumerate((1e5, 3e7, 2e9)):
        assert np.array_equal(grid[row], _each_alone(fabric, kind, np.full(48, value), n, stride))


def test_bound_binds_for_some_spanning_groups(fabric: Fabric) -> None:
    """The joined pass is not a no-op: for some spanning groups the in-domain bound is the time (a reduce-scatter
    over two domains no faster than (n - 1) / k x the ring of its k local members)."""
    size, n, stride = _columns(3, 400)
    domain = group_domain(fabric, n, stride)
    local = np.minimum(np.maximum(np.floor(domain / stride), 1.0), n)
    spans = (n * stride > domain) & (local > 1.0)
    t = collective_time(fabric, "reduce_scatter", size, n, stride)
    inside = np.array([collective_time(fabric, "reduce_scatter", size[i] * local[i] / n[i], local[i], stride[i])
                       for i in range(size.size)]).reshape(-1)
    bound = (n - 1.0) / local * inside
    assert np.all(t[spans] >= bound[spans])
    assert np.any(t[spans] == bound[spans])
