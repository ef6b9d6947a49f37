"""`plan --out DIR --report FILE` writes the tables and the report together (hR80, session 50 review of hH70's
all-or-none outputs): the report was written first and removed only when it was new, so a full disk at a table
left an earlier run's report replaced by this failed run's (the first test failed before: the report read "new").
Now the report is the sixth file of `output_files.write_together`: all six or none."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infraplan.cli import main
from infraplan.planning import scenario_outputs

PLAN = str(Path(__file__).parents[2] / "examples" / "plan-minimal.yaml")


def _pools_table_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    real, made = scenario_outputs._writer, []

    def writer(arrow: Any) -> Callable[[str], None]:
        failing = len(made) == scenario_outputs.TABLES.index("pools")
        made.append(arrow)
        write = real(arrow)

        def fail_or_write(tmp: str) -> None:
            if failing:
                raise OSError(errno.ENOSPC, "No space left on device")
            write(tmp)

        return fail_or_write

    monkeypatch.setattr(scenario_outputs, "_writer", writer)


def test_a_failed_table_leaves_an_earlier_report_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out, report = tmp_path / "tables", tmp_path / "report.html"
    out.mkdir()
    report.write_text("an earlier run's report")
    _pools_table_fails(monkeypatch)
    assert main(["plan", PLAN, "--out", str(out), "--report", str(report)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("infraplan: error: --out: cannot write ") and "pools.parquet" in err, err
    assert report.read_text() == "an earlier run's report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "tables"]  # no temporary file left
    assert list(out.iterdir()) == []


def test_a_report_that_cannot_be_written_leaves_no_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    out, report = tmp_path / "tables", tmp_path / "report.html"
    out.mkdir()

    def no_room(plan: Any) -> Callable[[str], None]:
        def fail(tmp: str) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        return fail

    monkeypatch.setattr(scenario_outputs, "report_writer", no_room)
    assert main(["plan", PLAN, "--out", str(out), "--report", str(report)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("infraplan: error: --report: cannot write ") and "report.html" in err, err
    assert list(out.iterdir()) == [] and not report.exists()


def test_both_written_say_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, report = tmp_path / "tables", tmp_path / "report.html"
    out.mkdir()
    assert main(["plan", PLAN, "--out", str(out), "--report", str(report)]) == 0
    said = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.parquet" for t in scenario_outputs.TABLES)
    assert report.read_text(encoding="utf-8").lstrip().lower().startswith("<html")
    assert "report written to" in said and "tables written to" in said
