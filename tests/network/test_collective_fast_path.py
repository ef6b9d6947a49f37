"""The one-element (Python float) path of the collective times equals the array path bit for bit (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network.collectives import (
    Fabric,
    all_reduce_time,
    all_to_all_time,
    message_efficiency,
    reduce_scatter_time,
    step_latency,
)


@pytest.fixture(scope="module", params=["meta-genai-roce-24k", "dgx-h100-superpod", "gb200-nvl72-superpod"])
def fabric(request: pytest.FixtureRequest) -> Fabric:
    return Cluster.resolve(request.param).fabric


def _groups(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Message sizes from bytes to GB, group sizes 1..4096 and strides 1..16384 (powers of two and others)."""
    bytes_ = np.exp(rng.uniform(0.0, np.log(4e10), size))
    n = np.where(rng.random(size) < 0.6, 2.0 ** rng.integers(0, 13, size), rng.integers(1, 300, size))
    stride = np.where(rng.random(size) < 0.6, 2.0 ** rng.integers(0, 15, size), rng.integers(1, 3000, size))
    return bytes_, n.astype(float), stride.astype(float)


@pytest.mark.parametrize("sized", [True, False])
def test_collective_fast_paths_are_bit_identical(fabric: Fabric, sized: bool) -> None:
    size, n, stride = _groups(np.random.default_rng(18), 300)
    arrays = {
        "all_reduce": all_reduce_time(fabric, size, n, stride, sized=sized),
        "ring": all_reduce_time(fabric, size, n, stride, algorithm="ring", sized=sized),
        "reduce_scatter": reduce_scatter_time(fabric, size, n, stride, sized=sized),
        "all_to_all": all_to_all_time(fabric, size, n, stride, sized=sized),
    }
    assert np.count_nonzero(arrays["all_reduce"]) > 200
    for i in range(size.size):
        one = (size[i:i + 1], n[i:i + 1], stride[i:i + 1])
        assert all_reduce_time(fabric, *one, sized=sized)[0] == arrays["all_reduce"][i], (size[i], n[i], stride[i])
        assert all_reduce_time(fabric, *one, algorithm="ring", sized=sized)[0] == arrays["ring"][i]
        assert reduce_scatter_time(fabric, *one, sized=sized)[0] == arrays["reduce_scatter"][i]
        assert all_to_all_time(fabric, *one, sized=sized)[0] == arrays["all_to_all"][i]


def test_message_efficiency_fast_path_is_bit_identical(fabric: Fabric) -> None:
    size, n, stride = _groups(np.random.default_rng(3), 1500)
    for all_to_all in (False, True):
        array = message_efficiency(fabric, size, n, stride, all_to_all)
        assert np.unique(array).size > 50  # the tables are really interpolated
        for i in range(size.size):
            one = message_efficiency(fabric, float(size[i]), np.array([n[i]]), int(stride[i]), all_to_all)
            assert one.shape == (1,) and one[0] == array[i], (size[i], n[i], stride[i], all_to_all)


def test_fast_path_keeps_shapes(fabric: Fabric) -> None:
    assert reduce_scatter_time(fabric, 1e6, 8, 1, sized=True).shape == ()
    assert all_reduce_time(fabric, np.array([[1e6]]), 8, 1).shape == (1, 1)
    assert step_latency(fabric, 1e-6, np.array([16.0]), 8).shape == (1,)
