"""hA (session 61): the never-seen estimate's calls cut, every answer the same bits.

Each cut is held here to the form it replaced: the float collectives' in-domain tests not asked again where the
caller knows the group is inside one domain (`known_inside`), the measured all-reduce curve's zero-weight columns
not interpolated, and the one-plan sums written as loops (no generator resumed per record).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates, memory_bound_seconds
from infraplan.network import fabric as fabric_module
from infraplan.network import nvlink_all_reduce, nvlink_latency
from infraplan.network.collectives import collective_seconds, collective_time, forget_float_values
from infraplan.ops.layer_records import Collective, Elementwise, Gemm, LayerOps, collective_launches
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS
from infraplan.training import layer_kernels

SYSTEMS = ("dgx-h100-superpod", "meta-genai-roce-24k", "gb200-nvl72", "dgx-b300")


@pytest.mark.parametrize("system", SYSTEMS)
def test_in_domain_float_collectives_skip_the_domain_test_and_keep_the_array_bits(
        system: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reduce-scatter / all-gather / all-reduce inside one domain priced on floats never asks the in-domain test
    again (its `_inside` made to fail), and gives the array path's bits at sizes from 1 B to 1 GiB."""
    fabric = Cluster.resolve(system).fabric
    sizes = [2.0 ** e for e in range(0, 31, 3)] + [3.0e3, 98304000.0, 7.5e8]
    expected = {(kind, size, n): float(np.ravel(collective_time(fabric, kind, np.array([size]),
                                                                 np.array([n]), 1))[0])
                for kind in ("reduce_scatter", "all_gather", "all_reduce") for size in sizes for n in (2.0, 4.0, 8.0)}

    def refused(*_: Any) -> Any:
        raise AssertionError("the in-domain test asked again")

    monkeypatch.setattr(nvlink_latency, "_inside", refused)
    forget_float_values()
    for (kind, size, n), value in expected.items():
        assert collective_seconds(fabric, kind, size, n, 1.0) == value, (kind, size, n)
    forget_float_values()


def test_known_inside_is_the_tests_true() -> None:
    """`known_inside=True` gives what the in-domain test's True picks, on floats, for the three shared formulas."""
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    rng = random.Random(61)
    for _ in range(300):
        n = float(rng.choice((2, 4, 8)))
        size, ring_bw, plain = 10.0 ** rng.uniform(0, 9), 10.0 ** rng.uniform(-7, -2), 10.0 ** rng.uniform(-6, -2)
        steps, lat = n - 1.0, 10.0 ** rng.uniform(-6, -5)
        assert nvlink_latency.alpha_beta(FLOAT_OPS, fabric, n, 1.0, steps, ring_bw, steps * lat, known_inside=True) \
            == nvlink_latency.alpha_beta(FLOAT_OPS, fabric, n, 1.0, steps, ring_bw, steps * lat)
        assert nvlink_latency.all_reduce_plain(FLOAT_OPS, fabric, n, 1.0, ring_bw, plain, known_inside=True) \
            == nvlink_latency.all_reduce_plain(FLOAT_OPS, fabric, n, 1.0, ring_bw, plain)
        assert nvlink_all_reduce.in_domain_bound_xp(FLOAT_OPS, fabric, size, n, 1.0, ring_bw, known_inside=True) \
            == nvlink_all_reduce.in_domain_bound_xp(FLOAT_OPS, fabric, size, n, 1.0, ring_bw)


@pytest.mark.parametrize("table", sorted({*nvlink_all_reduce.ACCELERATOR_TABLE_FILES.values(),
                                          nvlink_all_reduce.TABLE_FILE}))
def test_measured_curve_on_floats_is_the_array_curve(table: str) -> None:
    """The float curve, zero-weight columns skipped, equals the array curve (every weight summed) bit for bit at
    every GPU count between the columns and sizes across and beyond the rows; every column positive and finite
    (what the skip needs: 0.0 x a finite ratio adds +0.0)."""
    _, columns = nvlink_all_reduce.tau_columns(table)
    assert all(np.isfinite(c).all() and (np.asarray(c) > 0).all() for cols in columns.values() for c in cols)
    rng = random.Random(7)
    sizes = [1.0, 100.0, 4096.0, 2.0 ** 20, 3.3e7, 2.0 ** 29, 2.0 ** 31]
    sizes += [10.0 ** rng.uniform(0, 10) for _ in range(60)]
    for kind in nvlink_all_reduce.KINDS:
        for n in (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 16.0, 72.0):
            grid = nvlink_all_reduce.measured_efficiency_xp(NUMPY_OPS, np.array(sizes), np.full(len(sizes), n), kind,
                                                            table)
            for i, size in enumerate(sizes):
                assert nvlink_all_reduce.measured_efficiency_xp(FLOAT_OPS, size, n, kind, table) == grid[i]


def test_group_domain_keeps_its_types() -> None:
    """The float fast path of `group_domain` answers a placed fabric's floats as before, and ints, numpy scalars and
    arrays take their own paths (a float gcd, a numpy gcd)."""
    fabric = Cluster.resolve("meta-genai-roce-24k").placed(16384).fabric
    assert fabric.placement_unit > 0
    for n, stride in ((8.0, 1.0), (2.0, 1024.0), (128.0, 128.0), (3.0, 5.0)):
        got = fabric_module.group_domain(fabric, n, stride)
        assert type(got) is float and got == float(np.gcd(int(n * stride), fabric.placement_unit))
        assert fabric_module.group_domain(fabric, int(n), int(stride)) == got
        assert type(fabric_module.group_domain(fabric, np.float64(n), stride)) is float
    array = fabric_module.group_domain(fabric, np.array([8.0, 2.0]), np.array([1.0, 1024.0]))
    assert isinstance(array, np.ndarray) and array.tolist() == np.gcd([8, 2048], fabric.placement_unit).tolist()


def test_one_plan_loops_are_the_sums_they_replace() -> None:
    """`collective_launches`, `LayerOps.gemm_kernels` and `elementwise_time` of one plan's records: the builtin
    `sum` of the same terms from the same start, in order (Python and numpy scalars among them)."""
    rng = random.Random(3)
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")
    for _ in range(200):
        records = tuple(Collective(rng.choice(("all_gather", "all_reduce")), "tp", rng.uniform(1, 1e8),
                                   rng.choice((1, 2, 8, 8.0)), 1, rng.choice((1.0, 2.0, 3, np.float64(0.5))),
                                   rng.choice((True, False)))
                        for _ in range(rng.randint(0, 6)))
        assert collective_launches(records, True) == sum(
            (c.count if c.mask and c.group > 1 else 0.0 for c in records), 0.0)
        gemms = tuple(Gemm("qkv", 1.0, 2.0, 3.0, rng.choice((1.0, 2.0)), rng.choice((True, False)),
                           rng.choice((1.0, 0.25))) for _ in range(rng.randint(1, 5)))
        passes = tuple(Elementwise("norm", rng.uniform(0, 1e9), rng.choice((1.0, 6.0)), rng.choice((True, False)))
                       for _ in range(rng.randint(0, 6)))
        table = LayerOps(gemms, None, passes, passes, records, records)  # type: ignore[arg-type]
        assert table.gemm_kernels() == sum(g.kernels() for g in gemms)
        assert layer_kernels.elementwise_time(rates, passes, one=True) == sum(
            (memory_bound_seconds(rates, 1.0 * e.bytes, kernels=e.kernels) if e.mask else 0.0
             for e in passes), 0.0)

