"""hC's review of sweeps (session 33): a function path is checked from its source before its module is imported,
and one under `infraplan.*` that is not a model entry point is refused like any other; `results` says when the
sweep that wrote a folder did not finish; `network --graphml` names a .graphml or .xml file."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sweep_helpers import start_cli, wait_for_parts

from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.sweep.backends import run_task
from infraplan.sweep.functions import resolve_callable
from infraplan.sweep.runner import run_sweep


@pytest.mark.parametrize("path", ["infraplan.cli.main:app", "infraplan.sweep.functions:resolve_callable",
                                  "infraplan.sweep.functions:train_batch", "infraplan:__version__"])
def test_an_infraplan_path_that_is_no_entry_point_is_refused_before_the_sweep_runs(tmp_path: Path,
                                                                                   path: str) -> None:
    """`infraplan.cli.main:app` ran (one failed row per point: 'Context.__init__() got an unexpected keyword
    argument'), the `infraplan.*` prefix skipped the typed-result check."""
    spec = {"function": path, "axes": {"name": ["train"]}}
    with pytest.raises(InputError, match="a sweep runs a function annotated `-> R`") as err:
        run_sweep(spec, tmp_path / "out", workers=1, progress=False)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()


def _package(root: Path, marker: Path) -> None:
    """`sidefx`: its top-level code writes `marker`; `plain` unannotated, `typed` and the re-exported `again`
    annotated."""
    package = root / "sidefx_hc"
    package.mkdir()
    effect = f"from pathlib import Path\nPath({str(marker)!r}).write_text('imported')\n"
    (package / "__init__.py").write_text(effect + "from .impl import typed as again\n")
    (package / "impl.py").write_text(
        effect + "from infraplan.results import Result\n\n\nclass Out(Result):\n    y: float\n\n\n"
        "def plain(x):\n    return Out(y=x)\n\n\ndef typed(x: float) -> Out:\n    return Out(y=2 * x)\n\n\n"
        "async def later(x: float) -> Out:\n    return Out(y=x)\n\n\nalias = typed\n")


@pytest.mark.parametrize(("path", "match"), [
    ("sidefx_hc.impl:plain", "does not declare a typed result .*impl.py:10"),
    ("sidefx_hc.impl:later", "is an async function"),
    ("sidefx_hc.impl:alias", "is not a function defined with `def`"),
    ("sidefx_hc.impl:Out", "is a class, no readable signature of a function"),
    ("sidefx_hc.impl:missing", "module 'sidefx_hc.impl' defines no function 'missing'"),
    ("sidefx_hc.nosuch:f", "does not declare a typed result: no module 'sidefx_hc.nosuch' found"),
])
def test_a_refused_path_does_not_import_its_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str,
                                                   match: str) -> None:
    """The module (and its package) used to be imported, running its top-level code, before the annotation
    check refused the function."""
    marker = tmp_path / "imported.txt"
    _package(tmp_path, marker)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(InputError, match=match):
        resolve_callable(path)
    assert not marker.exists() and "sidefx_hc" not in sys.modules


def test_an_annotated_path_and_its_re_export_still_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "imported.txt"
    _package(tmp_path, marker)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert resolve_callable("sidefx_hc.impl:typed")(3.0).y == 6.0  # type: ignore[attr-defined]
        assert resolve_callable("sidefx_hc:again")(4.0).y == 8.0  # type: ignore[attr-defined]
        assert marker.exists()
    finally:
        for name in [n for n in sys.modules if n.startswith("sidefx_hc")]:
            del sys.modules[name]


class _StopsAfter:
    """A backend running batches in this process that raises KeyboardInterrupt (Ctrl-C) after `batches`."""

    name, workers = "stub", 1

    def __init__(self, batches: int) -> None:
        self.left = batches

    def map_unordered(self, batches: Iterator[Any], max_in_flight: int) -> Iterator[tuple[Any, Any]]:
        for batch in batches:
            if self.left == 0:
                raise KeyboardInterrupt
            self.left -= 1
            yield batch, run_task(*batch)

    def close(self) -> None:
        pass


SPEC = {"function": "sweep_helpers:slow_square", "seed": 3, "batch_size": 1, "fixed": {"delay_s": 0},
        "axes": {"x": {"range": {"start": 0, "stop": 9}}}}


def test_results_say_a_folder_left_by_ctrl_c_is_incomplete_until_a_rerun_finishes_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`results` on an interrupted sweep showed its 3 rows as 3 points, 0 failed, like a finished 3-point sweep."""
    out = tmp_path / "out"
    stopped = run_sweep(SPEC, out, backend=_StopsAfter(3), flush_s=0, progress=False)
    assert stopped.interrupted and stopped.rows == 3
    assert main(["results", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"][0][1] == 3 and summary["complete"] is False
    assert main(["results", str(out)]) == 0
    assert "incomplete: the sweep that wrote this folder stopped before its last point" in capsys.readouterr().out
    resumed = run_sweep(SPEC, out, workers=1, progress=False)
    assert resumed.points_skipped == 3 and resumed.rows == 10
    assert main(["results", str(out), "--sql", "SELECT count(*) AS n FROM results", "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["rows"] == [[10]] and done["complete"] is True
    assert main(["results", str(out)]) == 0
    assert "incomplete" not in capsys.readouterr().out


def test_a_run_killed_before_its_first_part_leaves_the_folder_marked_incomplete(tmp_path: Path) -> None:
    """A finished folder rerun with a longer spec and killed before it saved a part kept `complete` from before."""
    from infraplan.sweep.store import sweep_complete

    out = tmp_path / "out"
    run_sweep(SPEC, out, workers=1, progress=False)
    assert sweep_complete(out) is True
    longer = {**SPEC, "axes": {"x": {"range": {"start": 0, "stop": 19}}}}
    with pytest.raises(RuntimeError, match="worker lost"):
        run_sweep(longer, out, backend=_Fails(), progress=False)
    assert sweep_complete(out) is False


class _Fails(_StopsAfter):
    def __init__(self) -> None:
        super().__init__(0)

    def map_unordered(self, batches: Iterator[Any], max_in_flight: int) -> Iterator[tuple[Any, Any]]:
        raise RuntimeError("worker lost")
        yield  # a generator, as the real backends


def test_graphml_must_be_named_graphml_or_xml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`network --graphml` wrote GraphML under any name (`fabric.html`, `fabric`) while `--plot` needs `.html`."""
    for name in ("fabric.html", "fabric", "fabric.graphml.txt"):
        assert main(["network", "dgx-h100-superpod", "--gpus", "64", "--graphml", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert err == f"infraplan: error: --graphml must name a .graphml or .xml file, got '{tmp_path / name}'\n"
        assert not (tmp_path / name).exists()
    for name in ("fabric.graphml", "fabric.xml"):
        assert main(["network", "dgx-h100-superpod", "--gpus", "64", "--graphml", str(tmp_path / name)]) == 0
        assert (tmp_path / name).read_text().startswith("<?xml")
    capsys.readouterr()


def test_a_second_sweep_into_a_folder_being_written_is_refused_in_one_line(
        tmp_path: Path, slow_spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two writers on one folder each recomputed the other's points and rewrote the manifest with their own parts
    only (5 part files, 3 listed); the first writer's lock now refuses the second before it touches anything."""
    out = tmp_path / "out"
    first = start_cli(["sweep", str(slow_spec), "--out", str(out), "--workers", "2", "--json"])
    try:
        wait_for_parts(out, 1)
        assert main(["sweep", str(slow_spec), "--out", str(out), "--workers", "1"]) == 2
        assert capsys.readouterr().err == (f"infraplan: error: --out {out}: another sweep is writing to it; wait for "
                                           "it to finish or give another --out\n")
    finally:
        stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    from infraplan.sweep.store import sweep_complete

    assert json.loads(stdout)["rows"] == 100 and sweep_complete(out) is True
    again = run_sweep(slow_spec, out, workers=1, progress=False)  # the lock went with the first process
    assert again.points_skipped == 100 and again.rows == 100


@pytest.mark.parametrize(("text", "reason"), [
    ("function: train\nseed: " + "9" * 5000 + "\n",
     "Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits"),
    ("[" * 5000 + "]" * 5000 + "\n", "nested too deep"),
])
def test_a_spec_python_cannot_convert_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                                  reason: str) -> None:
    """A 5,000-digit integer (ValueError) or 5,000 nested lists (RecursionError) in a spec was a traceback."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"infraplan: error: sweep spec {spec}: not valid YAML ({reason})\n"
