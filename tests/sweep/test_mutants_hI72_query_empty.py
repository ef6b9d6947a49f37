"""hI72 mutation wave on hW71's `sweep.query.run_sql` statement check: SQL that holds no statement at all (a lone
comment, an empty string, a bare ';': DuckDB's `extract_statements` returns none) is one InputError line, "0
statements: none", not an IndexError on the first statement (`results --sql "-- note"` would end in a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.errors import InputError
from infraplan.sweep.query import run_sql

SAMPLE = Path(__file__).resolve().parent / "sample-results"


@pytest.mark.parametrize("sql", ["-- only a note", "", ";", "/* x */"])
def test_no_statement_is_one_line(sql: str) -> None:
    with pytest.raises(InputError, match="one read-only SELECT over the view `results`; got 0 statements: none"):
        run_sql(SAMPLE, sql)


def test_a_select_still_runs() -> None:
    columns, rows = run_sql(SAMPLE, "SELECT count(*) AS n FROM results")
    assert columns == ["n"] and rows[0][0] > 0
