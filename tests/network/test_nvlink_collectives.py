"""Measured in-domain all-gather / reduce-scatter / all-to-all (AIConfigurator 0.12.0 NCCL tables)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.catalog.data_files import read_rows
from infraplan.network import nvlink_collectives
from infraplan.network.collectives import (
    Fabric,
    all_gather_time,
    all_to_all_time,
    collective_seconds,
    collective_time,
    forget_float_values,
    reduce_scatter_time,
)


@pytest.fixture(autouse=True)
def _measured_tables():
    """The tables on for each test (they are off by default), the previous setting restored after it."""
    before = nvlink_collectives.MEASURED_NVLINK_COLLECTIVES
    nvlink_collectives.MEASURED_NVLINK_COLLECTIVES = True
    forget_float_values()
    yield
    nvlink_collectives.MEASURED_NVLINK_COLLECTIVES = before
    forget_float_values()


def fabric(name: str) -> Fabric:
    system = load_system(name)
    return Fabric.from_system(system, load_accelerator(system.accelerator))


def measured_us(table: str, column: str, size: int) -> float:
    return next(float(r[column]) for r in read_rows("infraplan.catalog", "nccl", table) if int(r["size_bytes"]) == size)


@pytest.mark.parametrize(("system", "table"), [("dgx-b200", "aiconfigurator_b200_collectives.csv"),
                                               ("gb200-nvl72-superpod", "aiconfigurator_b200_collectives.csv"),
                                               ("dgx-h100-superpod", "aiconfigurator_h100_collectives.csv")])
def test_in_domain_times_follow_the_measured_table(system, table):
    f = fabric(system)
    for gpus in (2, 4, 8):
        for size in (2**23, 2**25, 2**27):  # training's TP messages, where the bandwidth term rules
            ring = 0.5 * (measured_us(table, f"all_gather_{gpus}gpu_us", size)
                          + measured_us(table, f"reduce_scatter_{gpus}gpu_us", size))
            assert 1e6 * float(all_gather_time(f, size, gpus, 1, sized=True)) == pytest.approx(ring, rel=0.02)
            a2a = measured_us(table, f"alltoall_{gpus}gpu_us", size)
            assert 1e6 * float(all_to_all_time(f, size, gpus, 1, sized=True)) == pytest.approx(a2a, rel=0.02)


def test_blackwell_small_rings_are_slower_than_the_simai_column():
    f = fabric("gb200-nvl72-superpod")
    size = 2.0**23  # 8 MiB over a TP4 group: NCCL 2.29.2 measured 50.9 us (all-gather), SimAI priced 17.7 us
    measured = float(reduce_scatter_time(f, size, 4, 1, sized=True))
    try:
        nvlink_collectives.MEASURED_NVLINK_COLLECTIVES = False
        forget_float_values()
        simai = float(reduce_scatter_time(f, size, 4, 1, sized=True))
    finally:
        nvlink_collectives.MEASURED_NVLINK_COLLECTIVES = True
        forget_float_values()
    assert measured > 2.0 * simai


def test_groups_leaving_the_domain_and_accelerators_without_a_table_are_unchanged():
    a100 = fabric("dgx-a100-superpod")
    assert nvlink_collectives.measured_column(a100.accelerator, False, 8.0) is None
    h100 = fabric("dgx-h100-superpod")
    assert nvlink_collectives.measured_column(h100.accelerator, False, 1.0) is None
    across = float(reduce_scatter_time(h100, 2.0**27, 16, 8, sized=True))
    try:
        nvlink_collectives.MEASURED_NVLINK_COLLECTIVES = False
        forget_float_values()
        assert float(reduce_scatter_time(h100, 2.0**27, 16, 8, sized=True)) == across
    finally:
        nvlink_collectives.MEASURED_NVLINK_COLLECTIVES = True
        forget_float_values()


def test_array_and_float_paths_agree_bit_for_bit():
    f = fabric("gb200-nvl72-superpod")
    sizes = 2.0 ** np.arange(8, 33)
    for kind in ("all_gather", "reduce_scatter", "all_to_all"):
        for n in (2.0, 3.0, 4.0, 8.0, 16.0, 72.0):
            array = collective_time(f, kind, sizes, np.full_like(sizes, n), np.ones_like(sizes))
            floats = [collective_seconds(f, kind, float(s), n, 1.0) for s in sizes]
            assert array.tolist() == floats, (kind, n)


def test_time_grows_with_the_message():
    for system in ("dgx-b200", "dgx-h100-superpod"):
        f = fabric(system)
        sizes = 2.0 ** np.arange(10, 31)
        for n in (2, 4, 8):
            for seconds in (all_gather_time(f, sizes, n, 1, sized=True), all_to_all_time(f, sizes, n, 1, sized=True)):
                assert np.all(np.diff(seconds) >= 0), (system, n)


def test_every_measured_board_table_has_the_gpu_columns_both_readers_share():
    """`nvlink_collectives.TABLE_GPUS` is the one list of the boards' GPU counts (the all-reduce tables read it
    too): every aiconfigurator board table in catalog/nccl has exactly those columns for each of its collectives."""
    tables = sorted(p.name for p in (Path(nvlink_collectives.__file__).parents[1] / "catalog" / "nccl").glob(
        "aiconfigurator_*_*.csv") if p.name.endswith(("_all_reduce.csv", "_collectives.csv")))
    assert len(tables) >= 8
    for table in tables:
        columns = [re.fullmatch(r"(\w+?)_(\d+)gpu_us", c) for c in read_rows("infraplan.catalog", "nccl", table)[0]]
        counts: dict[str, list[int]] = {}
        for m in filter(None, columns):
            counts.setdefault(m.group(1), []).append(int(m.group(2)))
        assert counts, table
        assert all(tuple(v) == nvlink_collectives.TABLE_GPUS for v in counts.values()), (table, counts)
