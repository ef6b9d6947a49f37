"""`results` pointed at a `plan --out` folder (hU54, session 54 capacity planner's walk).

A planner wrote a plan's tables (`plan SCENARIO --out DIR`) and asked `infraplan results DIR`, the command the README
names for DuckDB queries: it said only "DIR holds no sweep results (no readable manifest.json)". The line now says
what the folder holds and how to query it; the SELECT it suggests runs. A folder with neither stays as it was.
Checked failing on HEAD 6f42eaa (the line had no "plan --out")."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from infraplan.cli import main

PLAN = str(Path(__file__).parents[2] / "examples" / "plan-minimal.yaml")


def test_results_names_a_plan_folder_and_its_query(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", PLAN, "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["results", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "holds no sweep results" in err
    assert "`infraplan plan --out`" in err and "phases" in err and "tornado" in err
    query = err.split("e.g. ", 1)[1]
    assert query == f"SELECT * FROM '{(tmp_path / 'pools.parquet').as_posix()}'"
    assert duckdb.sql(query).fetchall()  # the suggestion runs: the plan's pool rows


def test_an_empty_folder_keeps_the_plain_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["results", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("holds no sweep results (no readable manifest.json)")
