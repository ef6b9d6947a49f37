"""hO (session 55): B300's measured in-domain all-gather / reduce-scatter / all-to-all table (AIConfigurator 0.12.0,
b300_sxm NCCL 2.29.2), GB300 taking it as GB200 takes B200's; `nvlink_collectives.B300_TABLE`, on (the lead, session
55; it moves the serving Blackwell set 19.7445 -> 19.7457 %). Out of sample it prices the GB300 tray's measured rows
(a table no model input reads; validation/notes/out_of_sample_s55/) at 2-5 % mean |busbw error| at 1-128 MiB, against
102-154 % on the SimAI column. Checked to fail before: the table file and `B300_TABLE` did not exist (KeyError /
AttributeError), and with the toggle off the GB300 times below are the SimAI column's (the 4-GPU all-gather at 64 MiB
87.1 us against the tray's measured 105.6 us)."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.catalog.data_files import read_rows
from infraplan.network import nvlink_collectives
from infraplan.network.collectives import Fabric, all_gather_time, all_to_all_time, forget_float_values
from infraplan.network.priced_collective import priced_collective

TABLE = "aiconfigurator_b300_collectives.csv"
# the GB300 tray's own measured microseconds (AIConfigurator 0.12.0 gb300/comm/nccl/2.29.2/nccl_perf.parquet, half
# rows, 4 GPUs; validation/notes/out_of_sample_s55/aic_oos_nccl.csv): not in the catalog, the out-of-sample check
GB300_TRAY_4GPU_US = {("all-gather", 2**26): 105.60, ("all-to-all", 2**26): 120.30,
                      ("all-gather", 2**24): 57.88, ("all-to-all", 2**24): 46.09}


@pytest.fixture()
def b300_table():
    before = nvlink_collectives.B300_TABLE
    nvlink_collectives.B300_TABLE = True
    forget_float_values()
    yield
    nvlink_collectives.B300_TABLE = before
    forget_float_values()


def fabric(name: str) -> Fabric:
    system = load_system(name)
    return Fabric.from_system(system, load_accelerator(system.accelerator))


def _us(fabric_: Fabric, op: str, size: float, n: int) -> float:
    timed = all_gather_time if op == "all-gather" else all_to_all_time
    return 1e6 * float(timed(fabric_, size, n, 1, sized=True))


def test_the_table_is_the_wheels_b300_board_rows():
    rows = read_rows("infraplan.catalog", "nccl", TABLE)
    assert [int(r["size_bytes"]) for r in rows] == [2**k for k in range(10, 30)]  # 1 KiB .. 512 MiB
    assert {f"{op}_{g}gpu_us" for op in ("all_gather", "reduce_scatter", "alltoall") for g in (2, 4, 8)} <= set(rows[0])


def test_on_by_default_and_off_b300_and_gb300_keep_the_simai_column():
    assert nvlink_collectives.B300_TABLE is True  # the lead turned it on (session 55; module docstring)
    assert nvlink_collectives.table_file("gb300") == TABLE
    before = nvlink_collectives.B300_TABLE
    nvlink_collectives.B300_TABLE = False
    try:
        assert nvlink_collectives.table_file("b300") is None and nvlink_collectives.table_file("gb300") is None
        assert nvlink_collectives.measured_column("gb300", False, 4.0) is None
    finally:
        nvlink_collectives.B300_TABLE = before
    assert nvlink_collectives.table_file("h100-sxm") == "aiconfigurator_h100_collectives.csv"  # unchanged


@pytest.mark.usefixtures("b300_table")
def test_on_b300_follows_its_board_table():
    f = fabric("dgx-b300")
    for size in (2**23, 2**25, 2**27):
        row = next(r for r in read_rows("infraplan.catalog", "nccl", TABLE) if int(r["size_bytes"]) == size)
        ring = 0.5 * (float(row["all_gather_4gpu_us"]) + float(row["reduce_scatter_4gpu_us"]))
        assert _us(f, "all-gather", size, 4) == pytest.approx(ring, rel=0.02)
        assert _us(f, "all-to-all", size, 4) == pytest.approx(float(row["alltoall_4gpu_us"]), rel=0.02)


def test_gb300_tray_out_of_sample_on_and_off(b300_table):
    f = fabric("gb300-nvl72")
    for (op, size), measured in GB300_TRAY_4GPU_US.items():
        assert _us(f, op, size, 4) == pytest.approx(measured, rel=0.06)  # the board's table predicts the tray
    nvlink_collectives.B300_TABLE = False
    forget_float_values()
    for (op, size), measured in GB300_TRAY_4GPU_US.items():
        assert _us(f, op, size, 4) < 0.85 * measured  # the SimAI column: 15-50 % too fast


def test_priced_basis_names_the_b300_table(b300_table):
    f = fabric("gb300-nvl72")
    priced = priced_collective(f, "all-gather", 2.0**26, 4, 1)
    assert TABLE in priced.basis
