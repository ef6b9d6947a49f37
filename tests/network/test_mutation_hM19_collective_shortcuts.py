"""Mutation wave 3 (hM19, session 43) on the array path's all-reduce shortcuts (hP21: `collective_formulas`'
in-domain / spanning shortcuts, `nvlink_all_reduce.nvls_time_xp`'s off-domain skip): each group's bits are its
one-element (float-formula) path's, also for NVLS asked by name over groups inside and across domains, for one-rank
groups, and in numpy's broadcast shape where no group is inside a domain."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network.collectives import Fabric, all_reduce_time
from infraplan.network.fabric import group_domain
from infraplan.network.nvlink_all_reduce import nvls_time_xp
from infraplan.scalar_path import NUMPY_OPS


@pytest.fixture(scope="module", params=["dgx-h100-superpod", "gb200-nvl72-superpod"])
def fabric(request: pytest.FixtureRequest) -> Fabric:
    return Cluster.resolve(request.param).fabric


def _each_alone(fabric: Fabric, size: np.ndarray, n: np.ndarray, stride: np.ndarray, algorithm: str) -> np.ndarray:
    return np.array([all_reduce_time(fabric, size[i:i + 1], n[i:i + 1], stride[i:i + 1], algorithm=algorithm,
                                     sized=True)[0] for i in range(size.size)])


def _nvls_fabric() -> Fabric:
    """A fabric with an NVLS rate (H100 NVSwitch; GB200's catalog entry has none)."""
    return Cluster.resolve("dgx-h100-superpod").fabric


def test_nvls_by_name_over_groups_inside_and_across_domains() -> None:
    """NVLS runs inside one scale-up domain only (inf across); asked by name over a column of both kinds, each group
    keeps its own time: the in-domain shortcut may not price the across-domain groups as in-domain ones."""
    fabric = _nvls_fabric()
    assert fabric.nvls_bytes_per_s > 0.0
    rng = np.random.default_rng(19)
    n = 2.0 ** rng.integers(1, 8, 120)
    stride = 2.0 ** rng.integers(0, 8, 120)
    size = np.exp(rng.uniform(np.log(1e3), np.log(4e10), 120))
    inside = n * stride <= group_domain(fabric, n, stride)
    assert np.any(inside) and not np.all(inside)
    array = all_reduce_time(fabric, size, n, stride, algorithm="nvls", sized=True)
    alone = _each_alone(fabric, size, n, stride, "nvls")
    assert np.array_equal(array, alone)
    assert np.all(np.isinf(alone[~inside])) and np.all(np.isfinite(alone[inside]))


@pytest.mark.parametrize("algorithm", ["auto", "ring", "tree"])
def test_one_rank_groups_inside_a_domain_cost_nothing(fabric: Fabric, algorithm: str) -> None:
    """A group of one rank all-reduces nothing: 0 s, also where every group of the column lies in one domain (the
    in-domain shortcut), as each group's own path gives."""
    n = np.array([1.0, 2.0, 1.0, 4.0])
    stride = np.ones(4)
    size = np.array([1e6, 1e6, 3e9, 3e9])
    array = all_reduce_time(fabric, size, n, stride, algorithm=algorithm, sized=True)
    assert np.array_equal(array, _each_alone(fabric, size, n, stride, algorithm))
    assert array[0] == 0.0 and array[2] == 0.0 and array[1] > 0.0 and array[3] > 0.0


def test_nvls_off_domain_keeps_the_broadcast_shape() -> None:
    """No group inside a domain: infinities in numpy's broadcast shape of size, ranks and stride (a size column
    against one group), as where some group is inside."""
    fabric = _nvls_fabric()
    domain = float(np.max(group_domain(fabric, np.array([2.0]), np.array([1.0]))))
    size = np.array([1e6, 1e8, 1e9])
    far = nvls_time_xp(NUMPY_OPS, fabric, size, np.array(2.0), np.array(domain), True)
    near = nvls_time_xp(NUMPY_OPS, fabric, size, np.array(2.0), np.array(1.0), True)
    assert np.shape(near) == np.shape(far) == (3,)
    assert np.all(np.isinf(far)) and np.all(np.isfinite(near))
