"""Local sweeps: resumable results, crash safety (kill -9, Ctrl-C), and `infraplan results`."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

import pytest
from sweep_helpers import start_cli, wait_for_parts

from infraplan.cli.main import main
from infraplan.sweep.backends import Batch, Rows, run_task
from infraplan.sweep.runner import run_sweep
from infraplan.sweep.store import ResultStore, load_table

TRAIN_SPEC = {"function": "train", "fixed": {"model": "llama3-8b", "system": "dgx-h100-superpod",
                                             "seq_len": 2048, "global_batch": 64},
              "axes": [{"product": {"gpus": {"log": {"start": 8, "stop": 64, "factor": 2}}, "tp": [1, 2, 4, 8],
                                    "pp": [1, 2, 3]}}]}


def test_rerun_skips_finished_points_and_failures_are_rows(tmp_path: Path) -> None:
    first = run_sweep(TRAIN_SPEC, tmp_path / "out", workers=2, progress=False)
    assert first.points == first.points_run == first.rows == 48
    assert 0 < first.points_failed < 48 and first.errors  # PP 3 does not divide the GPUs: error rows
    again = run_sweep(TRAIN_SPEC, tmp_path / "out", workers=2, progress=False)
    assert again.points_skipped == 48 and again.points_run == 0 and again.rows == 48
    table = load_table(tmp_path / "out")
    assert table.num_rows == len(set(table.column("key").to_pylist())) == 48
    assert {"in_gpus", "step_time_s", "breakdown_s__compute", "config__dp", "error", "catalog_hash",
            "infraplan_version"} <= set(table.column_names)


def test_a_part_the_manifest_does_not_list_is_dropped(tmp_path: Path) -> None:
    run_sweep(TRAIN_SPEC, tmp_path / "out", workers=1, progress=False)
    stray = tmp_path / "out" / "parts" / "part-999999-dead.parquet"
    stray.write_bytes(b"half a file")
    ResultStore(tmp_path / "out", "train")
    assert not stray.exists()
    assert load_table(tmp_path / "out").num_rows == 48


def test_kill_9_in_the_middle_then_rerun_loses_and_duplicates_nothing(tmp_path: Path, slow_spec: Path) -> None:
    out = tmp_path / "killed"
    # the uninterrupted reference sweep runs beside the killed one and its resume. The toy's points are sleeps:
    # the reference and the resume run them on 8 forked workers (a quarter of the wall, no more CPU); the killed
    # run keeps 2, so that its 2.5 s outlast the first part (committed after 1 s) and the kill lands mid-sweep
    clean = start_cli(["sweep", str(slow_spec), "--out", str(tmp_path / "clean"), "--workers", "8", "--json"])
    process = start_cli(["sweep", str(slow_spec), "--out", str(out), "--workers", "2", "--json"])
    try:
        wait_for_parts(out, 1)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the driver and its pool workers, no clean-up
        process.wait(timeout=30)
    before = load_table(out).num_rows
    assert 0 < before < 100
    resumed = run_sweep(slow_spec, out, workers=8, progress=False)
    assert resumed.points_skipped == before and resumed.rows == 100
    stdout, stderr = clean.communicate(timeout=60)
    assert clean.returncode == 0, stderr
    assert json.loads(stdout)["rows"] == 100
    assert load_table(out).equals(load_table(tmp_path / "clean"))


def test_ctrl_c_stops_cleanly_with_what_finished_saved(tmp_path: Path, long_spec: Path) -> None:
    out = tmp_path / "stopped"
    process = start_cli(["sweep", str(long_spec), "--out", str(out), "--workers", "2", "--json"])
    wait_for_parts(out, 1)
    # one press: it was lost in ~1 of 15 loaded runs while pyarrow swallowed it (runner.CtrlC, and the next test)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, (stderr, stdout[:300])
    report = json.loads(stdout)
    saved = load_table(out)
    assert report["interrupted"] and report["rows"] == saved.num_rows and 0 < saved.num_rows < 1000
    assert "Traceback" not in stderr
    squares = dict(zip(saved.column("in_x").to_pylist(), saved.column("square").to_pylist(), strict=True))
    assert all(square == x * x + 3 for x, square in squares.items())  # what was saved is whole and right


class _InProcess:
    """A backend that runs each batch here, in the driver: `run_task` infers its rows' Arrow types in this process."""

    name = "in-process"
    workers = 1

    def map_unordered(self, batches: Iterator[Batch], max_in_flight: int) -> Iterator[tuple[Batch, Rows]]:
        for batch in batches:
            yield batch, run_task(*batch)

    def close(self) -> None:
        pass


class _CtrlCDuringImport:
    """Ctrl-C pressed inside the next import of dateutil once armed: where the sweep's lost Ctrl-C landed (pyarrow's
    type inference imports dateutil.relativedelta and drops what the import raises, inference.cc:48-57)."""

    def __init__(self) -> None:
        self.armed = False
        self.pressed = 0

    def arm(self) -> None:
        self.armed = True
        for name in ("dateutil", "dateutil.relativedelta"):  # looked up again even where dateutil is installed
            sys.modules.pop(name, None)

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if name == "dateutil" and self.armed:
            self.armed = False
            self.pressed += 1
            signal.raise_signal(signal.SIGINT)
        return None


@pytest.fixture
def ctrl_c_in_pyarrow(monkeypatch: pytest.MonkeyPatch) -> Iterator[_CtrlCDuringImport]:
    finder = _CtrlCDuringImport()
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    names = ("dateutil", "dateutil.relativedelta")
    modules = {name: sys.modules[name] for name in names if name in sys.modules}
    previous = signal.getsignal(signal.SIGINT)
    try:
        yield finder
    finally:
        signal.signal(signal.SIGINT, previous)
        for name in names:  # dateutil's entries as they were
            sys.modules.pop(name, None)
        sys.modules.update(modules)


def test_a_ctrl_c_a_library_swallows_still_stops_the_sweep(tmp_path: Path,
                                                            ctrl_c_in_pyarrow: _CtrlCDuringImport) -> None:
    spec = {"function": "sweep_helpers:slow_square", "batch_size": 1, "fixed": {"delay_s": 0},
            "axes": {"x": list(range(20))}}
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, whatever the test runner set
    ctrl_c_in_pyarrow.arm()
    run = run_sweep(spec, tmp_path / "out", backend=_InProcess(), progress=False)
    assert ctrl_c_in_pyarrow.pressed == 1
    assert run.interrupted and run.points_run == run.rows == 1  # stopped after the batch it was pressed in
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the sweep's handler is gone again
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an ignored Ctrl-C (nohup) stays ignored: the sweep finishes
    ctrl_c_in_pyarrow.arm()
    again = run_sweep(spec, tmp_path / "ignored", backend=_InProcess(), progress=False)
    assert ctrl_c_in_pyarrow.pressed == 2
    assert not again.interrupted and again.rows == 20 and signal.getsignal(signal.SIGINT) is signal.SIG_IGN


@pytest.fixture(scope="module")
def train_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results") / "train"
    run_sweep(TRAIN_SPEC, out, workers=2, progress=False)
    return out


def test_results_sql_pareto_and_plot(train_results: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["results", str(train_results), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"][0][:2] == ["train", 48]
    sql = "SELECT in_gpus, in_tp, step_time_s FROM results WHERE error IS NULL ORDER BY step_time_s"
    assert main(["results", str(train_results), "--sql", sql, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert rows == sorted(rows, key=lambda r: r[2]) and len(rows) < 48
    plot = tmp_path / "front.html"
    assert main(["results", str(train_results), "--pareto", "step_time_s,in_gpus", "--plot", str(plot),
                 "--json"]) == 0
    front = json.loads(capsys.readouterr().out)
    assert 0 < front["row_count"] < front["rows_considered"]
    times = [r[front["columns"].index("step_time_s")] for r in front["rows"]]
    gpus = [r[front["columns"].index("in_gpus")] for r in front["rows"]]
    assert times == sorted(times) and gpus == sorted(gpus, reverse=True)  # trading time for GPUs along the front
    assert "plotly" in plot.read_text()[:400_000].lower() and plot.stat().st_size > 1_000_000  # self-contained


def test_results_refuses_bad_input_in_one_line(train_results: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--sql", "SELEC nonsense"], ["--pareto", "step_time_s"], ["--pareto", "nope,step_time_s"],
                 ["--pareto", "step_time_s,mfu:up"], ["--plot", str(tmp_path / "x.html")]):
        assert main(["results", str(train_results), *args]) == 2
        assert capsys.readouterr().err.count("\n") == 1
    assert main(["results", str(tmp_path)]) == 2
    assert "no sweep results" in capsys.readouterr().err


def test_sweep_cli_refuses_a_bad_spec_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("function: train\naxes: {gpu: [8]}\nfixed: {model: llama3-8b}\n")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o")]) == 2
    assert "takes no argument 'gpu'" in capsys.readouterr().err


def test_top_up_pulls_batches_only_into_free_slots() -> None:
    from infraplan.sweep.backends import top_up

    pulled: list[int] = []

    def batches() -> Iterator[Batch]:
        for i in range(5):
            pulled.append(i)
            yield ("train", [(f"k{i}", {})], i)

    source = batches()
    in_flight: dict[int, Batch] = {}
    assert not top_up(in_flight, source, 3, lambda batch: (batch[2], batch))
    assert sorted(in_flight) == [0, 1, 2] and pulled == [0, 1, 2]  # back-pressure: nothing pulled beyond 3
    del in_flight[1]
    assert not top_up(in_flight, source, 3, lambda batch: (batch[2], batch))
    assert sorted(in_flight) == [0, 2, 3] and pulled == [0, 1, 2, 3]
    in_flight.clear()
    assert top_up(in_flight, source, 3, lambda batch: (batch[2], batch))  # exhausted after batch 4
    assert sorted(in_flight) == [4]
