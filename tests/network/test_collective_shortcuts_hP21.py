"""The array path's all-reduce shortcuts (hP21, session 43) keep the bits of each group's one-element (float) path:
every group inside one scale-up domain (the sized ring, tree and NVLS candidates not priced), and no group inside
one (the measured in-domain bound and NVLS not priced)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network.collectives import Fabric, all_reduce_time, collective_time
from infraplan.network.fabric import group_domain


@pytest.fixture(scope="module", params=["dgx-h100-superpod", "gb200-nvl72-superpod", "meta-genai-roce-24k"])
def fabric(request: pytest.FixtureRequest) -> Fabric:
    return Cluster.resolve(request.param).fabric


def _sizes(rng: np.random.Generator, count: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(8.0), np.log(4e10), count))


def _each_alone(fabric: Fabric, size: np.ndarray, n: np.ndarray, stride: np.ndarray, algorithm: str) -> np.ndarray:
    """Each group priced on its own (one-element arrays: the float formulas, which the shortcuts do not touch)."""
    return np.array([all_reduce_time(fabric, size[i:i + 1], n[i:i + 1], stride[i:i + 1], algorithm=algorithm,
                                     sized=True)[0] for i in range(size.size)])


@pytest.mark.parametrize("algorithm", ["auto", "ring", "tree"])
def test_groups_all_inside_one_domain(fabric: Fabric, algorithm: str) -> None:
    rng = np.random.default_rng(43)
    n = 2.0 ** rng.integers(1, 4, 200)  # 2-8 ranks side by side: inside every fabric's scale-up domain
    stride = np.ones(200)
    size = _sizes(rng, 200)
    assert np.all(n * stride <= group_domain(fabric, n, stride))
    array = all_reduce_time(fabric, size, n, stride, algorithm=algorithm, sized=True)
    assert np.array_equal(array, _each_alone(fabric, size, n, stride, algorithm))
    # sizes really priced, not one value (a small message's time is NCCL's flat LL latency in one domain, hK60)
    assert np.unique(array).size > 100


@pytest.mark.parametrize("algorithm", ["auto", "ring", "tree"])
def test_groups_none_inside_one_domain(fabric: Fabric, algorithm: str) -> None:
    rng = np.random.default_rng(7)
    domain = float(np.max(group_domain(fabric, np.array([2.0]), np.array([1.0]))))
    n = 2.0 ** rng.integers(1, 9, 200)
    stride = domain * rng.integers(1, 4, 200)  # every group's ranks a domain or more apart
    size = _sizes(rng, 200)
    assert not np.any(n * stride <= group_domain(fabric, n, stride))
    array = all_reduce_time(fabric, size, n, stride, algorithm=algorithm, sized=True)
    assert np.array_equal(array, _each_alone(fabric, size, n, stride, algorithm))


def test_mixed_groups_and_shapes(fabric: Fabric) -> None:
    """Groups inside and across domains in one column, and a scalar size against columns: each group's bits and
    the broadcast shape, as the one-element path and numpy's broadcasting give them."""
    rng = np.random.default_rng(11)
    n = 2.0 ** rng.integers(1, 8, 120)
    stride = 2.0 ** rng.integers(0, 8, 120)
    size = _sizes(rng, 120)
    array = collective_time(fabric, "all_reduce", size, n, stride)
    assert np.array_equal(array, _each_alone(fabric, size, n, stride, "auto"))
    scalar = collective_time(fabric, "all_reduce", 3e7, n[:40], stride[:40])
    assert scalar.shape == (40,)
    assert np.array_equal(scalar, _each_alone(fabric, np.full(40, 3e7), n[:40], stride[:40], "auto"))
