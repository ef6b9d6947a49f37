"""hV77 (hW77's walk): `results DIR --sql "... WHERE 1=0" --pareto A,B --plot f.html` wrote an empty chart, exit 0.
A chart of no rows is refused in one line, exit 2, no file written, as a column with no value in any row already was
(`sweep.query.query_results`); the same query without --plot still answers "0 rows", exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli.main import main

SAMPLE = Path(__file__).resolve().parent / "sample-results"
PARETO = "time_s,busbw_bytes_per_s:max"


def test_a_chart_of_no_rows_is_refused_and_not_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "f.html"
    code = main(["results", str(SAMPLE), "--sql", "SELECT * FROM results WHERE 1=0", "--pareto", PARETO,
                 "--plot", str(chart)])
    err = capsys.readouterr().err
    assert code == 2 and not chart.exists()
    assert "--plot: no rows to chart: the query gave no rows; no chart written" in err and err.count("\n") == 1


def test_rows_without_a_number_in_an_objective_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "f.html"
    sql = ("SELECT *, CASE WHEN row_number() OVER () = 1 THEN 1.0 END AS a, "  # a in row 1 only, b in row 2 only
           "CASE WHEN row_number() OVER () = 2 THEN 1.0 END AS b FROM results")
    assert main(["results", str(SAMPLE), "--sql", sql, "--pareto", "a,b", "--plot", str(chart)]) == 2
    assert "the query gave 4 rows, none with a number in every objective (a, b)" in capsys.readouterr().err
    assert not chart.exists()


def test_no_rows_without_a_chart_is_still_an_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["results", str(SAMPLE), "--sql", "SELECT * FROM results WHERE 1=0", "--pareto", PARETO]) == 0
    assert "0 rows" in capsys.readouterr().out


def test_a_chart_of_rows_is_still_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "f.html"
    assert main(["results", str(SAMPLE), "--pareto", PARETO, "--plot", str(chart)]) == 0
    assert chart.stat().st_size > 0
