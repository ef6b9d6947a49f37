"""`results --pareto` over a column with no value in any row (hW71): serve's `slo_attainment` where no SLO was
given, a collective sweep's `analytical_time_s` on its analytical points. The front was empty ("showing 0 of 0
rows", exit 0), as a text column's was before it was refused; now one line, exit 2. A column named twice (a front
over one objective) is refused likewise. A column null in only some rows still ranks the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.errors import InputError
from infraplan.sweep.query import query_results

SAMPLE = Path(__file__).resolve().parents[1] / "sweep" / "sample-results"


def test_a_column_null_in_every_row_is_refused(cli) -> None:
    code, out, err = cli(["results", str(SAMPLE), "--pareto", "analytical_time_s,time_s"])
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "infraplan: error: --pareto: column 'analytical_time_s' has no value in any row considered (4 rows, each "
        "null): no point has a value to rank by"]


def test_a_column_named_twice_is_refused() -> None:
    with pytest.raises(InputError, match="--pareto names column 'time_s' twice"):
        query_results(SAMPLE, pareto="time_s,time_s:max")


def test_a_column_null_in_some_rows_ranks_the_others() -> None:
    sql = "SELECT *, CASE WHEN in_gpus = 8 THEN NULL ELSE time_s END AS t FROM results WHERE error IS NULL"
    front = query_results(SAMPLE, sql=sql, pareto="t,size_bytes:max")
    assert front.rows_considered == 4
    gpus = front.columns.index("in_gpus")
    assert [row[gpus] for row in front.rows] == [16, 16]  # the two rows with a value (neither dominates)
