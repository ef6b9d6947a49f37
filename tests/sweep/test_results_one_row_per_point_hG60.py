"""`infraplan results` answers one row per point after a rerun on another catalog (hG, session 60).

A point whose catalog (or infraplan version) changed is recomputed on the rerun, and its old row stays in its part (a
part is never rewritten): `SELECT ... FROM results` gave two rows, two answers, for one point. The view `results`
keeps the row of the running version and catalog (else the latest); `results_all` keeps every row.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.sweep import query, runner, store
from infraplan.sweep.query import query_results
from infraplan.sweep.runner import run_sweep

SPEC = {"function": "collective", "fixed": {"op": "all-reduce", "system": "dgx-h100-superpod"},
        "axes": [{"product": {"gpus": [8, 16], "bytes": ["1MiB", "1GiB"]}}]}


def _on_catalog(monkeypatch: pytest.MonkeyPatch, digest: str) -> None:
    """Every reader of the catalog hash (the runner's keys and rows, the store's manifest, the query) sees `digest`."""
    for module in (runner, store, query):
        monkeypatch.setattr(module, "catalog_hash", lambda: digest, raising=False)
    runner._environment.cache_clear()  # the version / catalog pair of every key, cached per process


def _rows(folder: Path, view: str) -> list[list[object]]:
    sql = f"SELECT point_id, catalog_hash FROM {view} ORDER BY point_id, catalog_hash"
    return query_results(folder, sql).rows


def test_a_rerun_on_another_catalog_leaves_one_row_per_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    _on_catalog(monkeypatch, "catalog-a")
    assert run_sweep(SPEC, out, workers=1, progress=False).points_run == 4
    _on_catalog(monkeypatch, "catalog-b")  # an upgrade or a catalog edit: every point recomputed
    assert run_sweep(SPEC, out, workers=1, progress=False).points_run == 4
    now = _rows(out, "results")
    assert len(now) == 4 and {row[1] for row in now} == {"catalog-b"}
    assert len({row[0] for row in now}) == 4
    assert len(_rows(out, "results_all")) == 8
    summary = query_results(out)  # points per function, not rows
    assert summary.rows == [["collective", 4, 0, 4]]
    _on_catalog(monkeypatch, "catalog-a")  # reverted: the rerun skips every point, its rows are current again
    assert run_sweep(SPEC, out, workers=1, progress=False).points_run == 0
    assert {row[1] for row in _rows(out, "results")} == {"catalog-a"}
    runner._environment.cache_clear()


def test_rows_of_no_current_catalog_read_the_latest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    for digest in ("catalog-a", "catalog-b"):
        _on_catalog(monkeypatch, digest)
        run_sweep(SPEC, out, workers=1, progress=False)
    _on_catalog(monkeypatch, "catalog-c")  # a newer infraplan reads the folder without rerunning it
    assert {row[1] for row in _rows(out, "results")} == {"catalog-b"}
    runner._environment.cache_clear()
