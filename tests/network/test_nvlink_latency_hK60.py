"""NCCL's small-message latency inside one NVLink domain: a base plus one LL step per ring hop (hK, session 60).

The measured rows (validation/notes/out_of_sample_s60/aic_nccl_small_messages.csv, NVIDIA AIConfigurator 0.12.0's
NCCL tables, <= 32 KiB) against `infraplan collective`'s time: the all-reduce rows (not read by the fit, which takes
the all-gather / reduce-scatter / all-to-all columns of the catalog tables at <= 4 KiB) and the GB300 NVL72 rows
across 2 / 4 trays are out of sample. Each test fails at the tree before hK60 (no `network.nvlink_latency`; by value:
the toggle-off lines below are that tree's answers).
"""

from __future__ import annotations

import csv
import math
import statistics
from pathlib import Path

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network import nvlink_latency
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.collectives import collective_seconds, collective_time, forget_float_values

ROWS = Path(__file__).resolve().parents[2] / "validation/notes/out_of_sample_s60/aic_nccl_small_messages.csv"
SYSTEMS = {"h100_sxm": "dgx-h100-superpod", "h200_sxm": "hgx-h200", "b200_sxm": "dgx-b200", "b300_sxm": "dgx-b300",
           "gb200": "gb200-nvl72", "gb300": "gb300-nvl72", "a100_sxm": "dgx-a100-superpod"}
US = 1e-6


def _rows(system: str | None = None, op: str | None = None) -> list[dict[str, str]]:
    with ROWS.open() as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    return [r for r in rows if (system is None or r["system"] == system) and (op is None or r["op"] == op)]


def _ratio(r: dict[str, str]) -> float:
    """Model / measured time of one row."""
    cluster = Cluster.resolve(SYSTEMS[r["system"]])
    model = estimate_collective(r["op"], cluster, int(r["gpus"]), float(r["size_bytes"])).time_s
    return model / (float(r["measured_us"]) * US)


def _mean_abs_log(rows: list[dict[str, str]]) -> float:
    return statistics.fmean(abs(math.log(_ratio(r))) for r in rows)


def test_gb300_across_trays_follows_the_boards_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """NCCL across 2 / 4 trays of one GB300 NVL72 (SGLang's PyNCCL, 256 B - 32 KiB): 27-30 / 48-52 us measured; the
    B300 board's line prices 25.3 / 46.7 us (the alpha-beta tree was 18 / 24 us: 0.49x at 16 ranks)."""
    cross = [r for r in _rows("gb300", "all-reduce") if int(r["gpus"]) > 4]
    assert {int(r["gpus"]) for r in cross} == {8, 16} and len(cross) == 16
    assert all(0.85 < _ratio(r) < 1.0 for r in cross)
    sixteen = estimate_collective("all-reduce", Cluster.resolve("gb300-nvl72"), 16, 256.0).time_s
    assert sixteen == pytest.approx(46.7 * US, rel=2e-3)
    monkeypatch.setattr(nvlink_latency, "IN_DOMAIN_LL_LATENCY", False)
    assert all(_ratio(r) < 0.7 for r in cross)
    assert estimate_collective("all-reduce", Cluster.resolve("gb300-nvl72"), 16, 256.0).time_s == pytest.approx(
        24.0 * US, rel=1e-3)


@pytest.mark.parametrize("system", ["h100_sxm", "h200_sxm", "b200_sxm", "b300_sxm", "gb200", "gb300"])
def test_small_all_reduce_out_of_sample_within_a_fifth(system: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The all-reduce rows (2 (n - 1) steps of the line fitted on the all-gather / reduce-scatter n - 1): every row
    of 512 B - 32 KiB on one board or tray within 0.75-1.2x (H100 at 4 ranks, 16 KiB: a 12.5 us spike between 10.0
    and 11.2); before, Blackwell's 2- and 8-rank rows 0.53-0.73x."""
    rows = [r for r in _rows(system, "all-reduce") if int(r["gpus"]) <= 8]
    assert rows and all(0.75 < _ratio(r) < 1.2 for r in rows)
    monkeypatch.setattr(nvlink_latency, "IN_DOMAIN_LL_LATENCY", False)
    if system not in ("h100_sxm", "h200_sxm"):
        assert min(_ratio(r) for r in rows) < 0.6


def test_every_small_row_closer_on_the_tables_systems(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mean |ln(model / measured)| over every <= 32 KiB row of the systems with a table (all-reduce, all-gather,
    reduce-scatter, all-to-all; 2-16 ranks): 0.05 with the line, 0.50 with the alpha-beta latency. A100 (no table)
    keeps the alpha-beta latency either way."""
    rows = [r for r in _rows() if r["system"] != "a100_sxm"]
    assert len(rows) > 450
    on = _mean_abs_log(rows)
    a100 = _mean_abs_log(_rows("a100_sxm"))
    monkeypatch.setattr(nvlink_latency, "IN_DOMAIN_LL_LATENCY", False)
    assert on < 0.08 < 0.4 < _mean_abs_log(rows)
    assert _mean_abs_log(_rows("a100_sxm")) == a100


def test_the_line_is_read_from_the_catalog_tables() -> None:
    """Base and step per accelerator, least squares over 2 / 4 / 8 ranks: Hopper's step ~0.85 us, Blackwell's
    ~1.3 us (NCCL's tuning constant is 0.6 us on every NVLink); the fit leaves each point within 6 %."""
    tables = (("aiconfigurator_h100_collectives.csv", 0.86), ("aiconfigurator_b300_collectives.csv", 1.34))
    for table, step_us in tables:
        (base, step), (a2a_base, a2a_step) = nvlink_latency.table_lines(table)
        assert step == pytest.approx(step_us * US, rel=0.02) and 4 * US < base < 8 * US
        assert 0.0 < a2a_step < step and a2a_base > base
    fabric = Cluster.resolve("gb300-nvl72").fabric
    assert nvlink_latency.lines(fabric) == nvlink_latency.table_lines("aiconfigurator_b300_collectives.csv")
    assert nvlink_latency.lines(Cluster.resolve("dgx-a100-superpod").fabric) is None  # no table: alpha-beta


def test_large_messages_and_groups_across_domains_do_not_move(monkeypatch: pytest.MonkeyPatch) -> None:
    """The network validation cases' 8 GiB all-reduces and a 2-node all-reduce keep their time to the bit: the Simple
    protocol's alpha-beta line is never below LL's latency, and the line is an in-domain term."""
    cluster = Cluster.resolve("dgx-h100-superpod")
    cases = [("all-reduce", 8, 2.0**33), ("all-reduce", 16, 2.0**33), ("reduce-scatter", 8, 2.0**30)]
    on = [estimate_collective(op, cluster, n, size).time_s for op, n, size in cases]
    monkeypatch.setattr(nvlink_latency, "IN_DOMAIN_LL_LATENCY", False)
    assert on == [estimate_collective(op, cluster, n, size).time_s for op, n, size in cases]


@pytest.mark.parametrize("system", ["dgx-h100-superpod", "gb300-nvl72-superpod", "dgx-b200"])
def test_float_and_array_paths_agree_in_a_domain(system: str) -> None:
    """One plan's float formulas (`collective_seconds`) equal the array path bit for bit with the line on."""
    fabric = Cluster.resolve(system).fabric
    rng = np.random.default_rng(60)
    sizes = np.exp(rng.uniform(np.log(8.0), np.log(2e9), 120))
    n = rng.choice([2.0, 3.0, 4.0, 8.0, 16.0, 72.0], 120)
    n = np.minimum(n, float(fabric.scale_up_domain))
    for kind in ("all_reduce", "reduce_scatter", "all_to_all"):
        forget_float_values()
        array = collective_time(fabric, kind, sizes, n, 1.0)
        for i in range(sizes.size):
            assert collective_seconds(fabric, kind, float(sizes[i]), float(n[i]), 1.0) == float(array[i]), (kind, i)
