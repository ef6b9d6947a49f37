"""A write that fails half-way leaves nothing of the failed command (hH70): `plan --out` wrote its five Parquet
tables one by one, so a full disk at pools.parquet left services.parquet behind (and `--report` beside it left
the report); a sweep's part file hitting a full disk or a file-size limit was a pyarrow OSError traceback. Now the
tables are written together (`catalog.output_files.write_together`: all five, or none), the run's new report is
removed when its tables fail, and the sweep says one line (its parts so far kept: the same command resumes)."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infraplan.catalog.output_files import write_together
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.planning import scenario_outputs
from infraplan.sweep import store

ROOT = Path(__file__).parents[2]
PLAN = str(ROOT / "examples" / "plan-minimal.yaml")
SWEEP = str(ROOT / "tests" / "sweep" / "tiny.yaml")


def _disk_full_at(monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    """`plan --out`'s writer raising ENOSPC for the table `table` (writers are made in `TABLES` order), after
    writing part of it."""
    real, made = scenario_outputs._writer, []

    def writer(arrow: Any) -> Callable[[str], None]:
        write = real(arrow)
        failing = len(made) % len(scenario_outputs.TABLES) == scenario_outputs.TABLES.index(table)
        made.append(arrow)

        def fail_or_write(tmp: str) -> None:
            if failing:
                Path(tmp).write_bytes(b"PAR1 half")
                raise OSError(errno.ENOSPC, "No space left on device")
            write(tmp)

        return fail_or_write

    monkeypatch.setattr(scenario_outputs, "_writer", writer)


def test_write_together_writes_all_or_none(tmp_path: Path) -> None:
    def fails(tmp: str) -> None:
        Path(tmp).write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    (tmp_path / "b.txt").write_text("old b")
    with pytest.raises(InputError, match=r"^--out: cannot write .*c\.txt: No space left on device$"):
        write_together([(str(tmp_path / "a.txt"), lambda t: Path(t).write_text("a")),
                        (str(tmp_path / "b.txt"), lambda t: Path(t).write_text("b")),
                        (str(tmp_path / "c.txt"), fails)], "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt"]  # no a.txt, no temporary file
    assert (tmp_path / "b.txt").read_text() == "old b"  # the older file untouched
    paths = write_together([(str(tmp_path / "a.txt"), lambda t: Path(t).write_text("a")),
                            (str(tmp_path / "b.txt"), lambda t: Path(t).write_text("b"))], "--out")
    assert paths == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    assert [(tmp_path / n).read_text() for n in ("a.txt", "b.txt")] == ["a", "b"]


def test_plan_out_on_a_full_disk_leaves_no_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _disk_full_at(monkeypatch, "pools")
    out = tmp_path / "tables"
    out.mkdir()
    report = tmp_path / "report.html"
    assert main(["plan", PLAN, "--out", str(out), "--report", str(report)]) == 2
    _, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("infraplan: error: --out: cannot write ") and "pools.parquet" in err, err
    assert err.rstrip().endswith(": No space left on device"), err
    assert list(out.iterdir()) == []  # was: services.parquet left behind
    assert not report.exists()  # the report this run wrote goes with its tables


def test_plan_out_failing_keeps_the_tables_of_an_earlier_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tables"
    out.mkdir()
    assert main(["plan", PLAN, "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(before) == 6  # five tables and the tornado's (its columns, no rows, without --vary: hV53)
    _disk_full_at(monkeypatch, "pools")
    assert main(["plan", PLAN, "--out", str(out)]) == 2
    capsys.readouterr()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_sweep_part_that_cannot_be_written_is_one_line_and_resumes(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    def too_large(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EFBIG, "File too large")

    out = tmp_path / "tiny.sweep"
    with monkeypatch.context() as patch:
        patch.setattr(store.pq, "write_table", too_large)
        assert main(["sweep", SWEEP, "--workers", "1", "--out", str(out), "--json"]) == 2  # was a traceback
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert captured.err.rstrip().endswith(": File too large (the parts written before are kept: the same command "
                                          "resumes)"), captured.err
    assert main(["sweep", SWEEP, "--workers", "1", "--out", str(out), "--json"]) == 0
    assert '"points_run": 4' in capsys.readouterr().out
