"""`plan --out DIR --vary ...` writes the tornado as a table too (hV53, session 53 planner walk): the sweep's rows
were in `--json` (`tornado`) and the terminal only, so a planner who saved the plan's tables had no table of what
moves TCO most. tornado.parquet is now the sixth table; a plan without `--vary` writes it with its columns and no
rows, so a folder reused without `--vary` does not keep the earlier sweep beside the new tables.
Checked failing on HEAD 78a4202: no tornado.parquet is written."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from infraplan.cli import main

PLAN = str(Path(__file__).parents[2] / "examples" / "plan-minimal.yaml")


def _tornado(folder: Path) -> list[tuple[object, ...]]:
    return duckdb.sql(f"SELECT parameter, low_value, high_value, unit, tco_low_usd_per_year, tco_high_usd_per_year, "
                      f"swing_usd_per_year FROM '{folder / 'tornado.parquet'}' ORDER BY parameter").fetchall()


def test_the_tornado_is_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", PLAN, "--out", str(tmp_path), "--vary", "electricity=0.05/kWh..0.12/kWh",
                 "--vary", "h100.price=±30%"]) == 0
    assert "phases.parquet, tornado.parquet" in capsys.readouterr().out
    rows = _tornado(tmp_path)
    assert [r[0] for r in rows] == ["electricity", "h100.price"]
    electricity, price = rows
    assert electricity[1:4] == (0.05, 0.12, "USD/kWh")
    assert price[1:4] == (pytest.approx(29_400.0), pytest.approx(54_600.0), "USD per device")  # $42,000 +- 30 %
    # plan-minimal's 89.499 MWh/year at $0.05 and $0.12/kWh against its $70.3/MWh (Ohio): TCO -$1,817 / +$4,448
    assert electricity[4] == pytest.approx(85_833.28 - 89.499168 * (70.3 - 50.0), rel=1e-6)
    assert electricity[5] == pytest.approx(85_833.28 + 89.499168 * (120.0 - 70.3), rel=1e-6)
    assert electricity[6] == pytest.approx(electricity[5] - electricity[4])


def test_a_plan_without_vary_empties_the_earlier_tornado(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", PLAN, "--out", str(tmp_path), "--vary", "pue=1.1..1.3"]) == 0
    assert len(_tornado(tmp_path)) == 1
    assert main(["plan", PLAN, "--out", str(tmp_path)]) == 0
    assert _tornado(tmp_path) == []  # its columns, no rows: not the earlier run's sweep
