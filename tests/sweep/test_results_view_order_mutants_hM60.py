"""Mutants of hG60's one-row-per-point view `results` (`sweep.query`; hM, session 60): its rows come in the parts'
commit order, as `results_all`'s, and a function whose own output is named `filename` still reads every row."""

from __future__ import annotations

from pathlib import Path

from infraplan.sweep.query import query_results
from infraplan.sweep.store import ResultStore, catalog_hash, infraplan_version, rows_to_table


def _row(point: str, **outputs: object) -> dict[str, object]:
    return {"point_id": point, "key": f"key-{point}", "function": "collective",
            "infraplan_version": infraplan_version(), "catalog_hash": catalog_hash(), **outputs}


def _folder(tmp_path: Path, parts: list[list[dict[str, object]]]) -> Path:
    store = ResultStore(tmp_path / "out", "collective")
    for rows in parts:
        store.append([rows_to_table(rows)])
    store.mark(True)
    store.close()
    return tmp_path / "out"


def _points(folder: Path, view: str) -> list[object]:
    return [row[0] for row in query_results(folder, f"SELECT point_id FROM {view}").rows]


def test_one_row_per_point_keeps_the_parts_order(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [[_row("p1"), _row("p2")], [_row("p3"), _row("p4")], [_row("p5")]])
    assert _points(folder, "results") == _points(folder, "results_all") == ["p1", "p2", "p3", "p4", "p5"]


def test_an_output_named_filename_reads_every_row(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [[_row("p1", filename="a.bin", time_s=1.0), _row("p2", filename="b.bin", time_s=2.0)]])
    rows = query_results(folder, "SELECT point_id, filename FROM results ORDER BY point_id").rows
    assert rows == [["p1", "a.bin"], ["p2", "b.bin"]]
