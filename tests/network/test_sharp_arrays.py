"""SHARP priced on arrays (hX, session 36): `sharp_times` is the formula on whole numpy arrays, element for element
the bits of the scalar loop it replaced, and `sharp_time` its float twin; `search --sharp` answers as before."""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network import collective_efficiency as _efficiency
from infraplan.network import collective_formulas, sharp, simai_nccl_tables
from infraplan.network.fabric import SCALE_UP_LATENCY_S, Fabric, group_domain, group_link_one
from infraplan.network.nvlink_all_reduce import NVLS_LATENCY_S
from infraplan.network.sharp import sharp_time, sharp_times
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.search import search_plans


def _old_sharp_time(fabric: Fabric, size: float, n: float, stride: float) -> float:
    """`sharp_time` as it was at ba83d2a (network/sharp.py, `_members`, `sharp_parts`, `sharp_time`), verbatim but
    for the three functions folded into one, and since session 51 (hN) its message-size bound read per step
    (`sharp.SHARP_TABLE_PER_STEP`: the column's shortfall per table step on SHARP's own steps, each at its link):
    the reference the array path must equal."""
    domain = float(group_domain(fabric, n, stride))
    k = min(max(math.floor(domain / stride), 1.0), n)
    if not n * stride > domain or not n > 1.0:
        return math.inf
    network = size / (k * fabric.nic_bytes_per_s)
    in_domain = 2.0 * (k - 1.0) / k * size / fabric.scale_up_bytes_per_s
    if fabric.nvls_bytes_per_s > 0.0 and k > 1.0:
        in_domain = min(in_domain, (1.0 + 1.0 / k) * size / fabric.nvls_bytes_per_s)
    _, lat = group_link_one(fabric, n, stride, False)
    latency = max(lat, _efficiency.NCCL_NET_STEP_LATENCY_S) + (2.0 * SCALE_UP_LATENCY_S if k > 1.0 else 0.0)
    bandwidth = max(network, in_domain)
    two = min(n, 2.0 * k)
    efficiency = _efficiency.efficiency_at(_efficiency.group_efficiency(fabric, two, stride, False, False), size)
    busbw = _efficiency.table_busbw(fabric)
    if not sharp.SHARP_TABLE_PER_STEP or not busbw > 0.0:
        return max(bandwidth + latency, bandwidth / efficiency)
    in_steps = 2.0 * (k - 1.0) * simai_nccl_tables.NCCL_NVLINK_RING_STEP_S
    if fabric.nvls_bytes_per_s > 0.0 and k > 1.0:
        in_steps = min(in_steps, NVLS_LATENCY_S)
    ranks = _efficiency.RING_TABLE_NODE_GPUS * two / k
    shortfall = simai_nccl_tables.sharp_steps(in_steps) * (size * (1.0 / efficiency - 1.0)) / (ranks * busbw)
    return max(bandwidth + latency, bandwidth + shortfall)


def _old_sharp_times(fabric: Fabric, size: np.ndarray, n: np.ndarray, stride: np.ndarray) -> np.ndarray:
    """The old `sharp_times`: the scalar formula element by element."""
    s, g, d = np.broadcast_arrays(np.asarray(size, dtype=np.float64), np.asarray(n, dtype=np.float64),
                                  np.asarray(stride, dtype=np.float64))
    out = np.empty(s.shape)
    for index in np.ndindex(s.shape):
        out[index] = _old_sharp_time(fabric, float(s[index]), float(g[index]), float(d[index]))
    return out


# three SHARP InfiniBand systems (every tier a Quantum switch, `sharp.sharp_switches`): NDR with NVLS (3 tiers),
# HDR without NVLS (2 tiers), the Llama 3 IB cluster; and the first as a placed job (`placement_unit`, the gcd rule)
_SYSTEMS = ("dgx-h100-superpod", "dgx-a100-superpod", "meta-genai-ib-24k")


def _fabrics() -> list[Fabric]:
    fabrics = [Cluster.resolve(name).fabric for name in _SYSTEMS]
    return [*fabrics, replace(fabrics[0], placement_unit=24, concurrent_groups=1)]


def _grid(seed: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    size = np.exp2(rng.uniform(0.0, 40.0, count))
    size[::7] = np.exp2(rng.integers(0, 41, size[::7].size))  # powers of two: the tables' knots
    n = rng.integers(0, 4097, count).astype(np.float64)
    n[::5] = rng.choice([1.0, 2.0, 3.0, 8.0, 9.0, 16.0, 64.0, 1024.0, 16384.0], n[::5].size)
    n[1::5] = rng.integers(0, 9, n[1::5].size)  # small groups: many inside one domain
    stride = rng.choice([1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0, 64.0, 128.0, 1000.0], count)
    return size, n, stride


@pytest.mark.parametrize("which", range(4))
def test_the_array_path_equals_the_old_loop_element_for_element(which: int) -> None:
    fabric = _fabrics()[which]
    size, n, stride = _grid(36 + which, 2500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # groups of 0 or 1 rank: infinite, without a numpy warning
        got = sharp_times(fabric, size, n, stride)
    want = _old_sharp_times(fabric, size, n, stride)
    assert got.dtype == np.float64 and got.shape == size.shape
    assert np.array_equal(got, want)  # == element for element (inf where SHARP does not run)
    assert np.isfinite(got).sum() > 1000 and np.isinf(got).sum() > 100  # both kinds of group sampled
    floats = np.array([sharp_time(fabric, a, b, c) for a, b, c in zip(size, n, stride, strict=True)])
    assert np.array_equal(floats, want)  # the float twin: the same bits


def test_broadcast_shapes_and_plain_numbers() -> None:
    fabric = _fabrics()[0]
    sizes = np.exp2(np.arange(10.0, 31.0))[:, None]
    n = np.array([[2.0, 16.0, 64.0, 1024.0, 4096.0]])
    got = sharp_times(fabric, sizes, n, 1.0)
    assert got.shape == (21, 5)
    assert np.array_equal(got, _old_sharp_times(fabric, sizes, n, np.array(1.0)))
    assert float(sharp_times(fabric, 2.0**30, 64, 1)) == sharp_time(fabric, 2**30, 64, 1) == \
        _old_sharp_time(fabric, 2.0**30, 64.0, 1.0)
    assert np.isinf(sharp_times(fabric, 2.0**30, 8, 1))  # inside one DGX


def test_search_with_sharp_answers_as_with_the_old_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = Cluster.resolve("dgx-h100-superpod")
    calls: list[int] = []

    def old(fabric: Fabric, size: np.ndarray, n: np.ndarray, stride: np.ndarray) -> np.ndarray:
        calls.append(int(np.size(size)))
        return _old_sharp_times(fabric, size, n, stride)

    def answer(sharp: bool = True) -> dict[str, object]:
        clear_one_plan_memo()
        result = search_plans("llama3-70b", cluster, 1024, seq_len=8192, global_batch=1024, sharp=sharp)
        return result.model_dump(exclude={"wall_time_s", "configs_per_s"})

    new = answer()
    assert new != answer(sharp=False)  # SHARP changes the answer here (ZeRO 0's DP all-reduce)
    monkeypatch.setattr(collective_formulas, "sharp_times", old)
    assert answer() == new
    assert sum(calls) > 0  # the old loop priced the search's all-reduces
