"""Coverage wave hM15 (session 42): `sweep.query.run_sql` values no test read back.

DuckDB returns DECIMAL, DATE, TIME, INTERVAL, BLOB, LIST, STRUCT and non-finite doubles as Python objects JSON cannot
hold; `results --json` must print every one as JSON does (a number, a string, a hex string, a list, an object, null
for inf / NaN). Each expected value is written by hand from the SQL literal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from infraplan.errors import InputError
from infraplan.sweep.query import run_sql

SAMPLE = Path(__file__).resolve().parent / "sample-results"


def test_every_duckdb_value_comes_back_as_json() -> None:
    sql = ("SELECT 1.25::DECIMAL(5, 2) AS d, DATE '2026-12-04' AS day, TIME '03:05:00' AS t, "
           "INTERVAL 90 MINUTE AS span, '\\x0Aff'::BLOB AS raw, [1.5, 'inf'::DOUBLE] AS xs, "
           "{'a': 'nan'::DOUBLE, 'b': [DATE '2026-01-01']} AS obj, '-inf'::DOUBLE AS low, 3 AS n "
           "FROM results LIMIT 1")
    columns, rows = run_sql(SAMPLE, sql)
    assert columns == ["d", "day", "t", "span", "raw", "xs", "obj", "low", "n"]
    (row,) = rows
    assert row == [1.25, "2026-12-04", "03:05:00", "1:30:00", "0a6666", [1.5, None], {"a": None, "b": ["2026-01-01"]},
                   None, 3]
    assert json.loads(json.dumps(row, allow_nan=False)) == row  # strict JSON: no Infinity / NaN


def test_a_folder_with_no_parts_yet_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    shutil.copytree(SAMPLE, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["parts"] = []
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="has no results yet"):
        run_sql(folder, "SELECT 1")
