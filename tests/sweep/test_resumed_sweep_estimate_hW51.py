"""A resumed sweep is estimated on the points it still has to run (hW51): `--max-cpu-hours` priced every point of
the spec, so the rerun of a sweep whose rest fitted the limit was refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infraplan.cli.main import main
from infraplan.sweep.runner import points_to_run
from infraplan.sweep.spec import load_spec
from infraplan.sweep.work_estimate import POINT_CPU_S

FIXED = {"model": "llama3-8b", "system": "dgx-h100-superpod", "seq_len": 2048, "global_batch": 64}


def _spec(tmp_path: Path, gpus: list[int]) -> str:
    path = tmp_path / f"train{len(gpus)}.yaml"
    path.write_text(yaml.safe_dump({"function": "train", "fixed": FIXED, "axes": {"gpus": gpus}}))
    return str(path)


def test_a_resumed_sweep_is_priced_on_its_remaining_points(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "out")
    # 2 of the 4 points done first (the folder an interrupted run of the 4 would leave)
    assert main(["sweep", _spec(tmp_path, [8, 16]), "--out", out, "--json"]) == 0
    capsys.readouterr()
    four = _spec(tmp_path, [8, 16, 32, 64])
    assert points_to_run(load_spec(four), out) == 2
    # --max-cpu-hours 1e-7 = 0.36 ms: the 4 points' 0.6 ms would be refused, the 2 left (0.3 ms) fit
    assert main(["sweep", four, "--out", out, "--max-cpu-hours", "1e-7", "--json"]) == 0
    run = json.loads(capsys.readouterr().out)
    assert (run["points_skipped"], run["points_run"]) == (2, 2)
    assert run["estimated_cpu_s"] == pytest.approx(2 * POINT_CPU_S["train"])
    # a fresh folder is priced on all 4, and a resumed one past the limit says how many are left
    assert main(["sweep", four, "--out", str(tmp_path / "new"), "--max-cpu-hours", "1e-7"]) == 2
    assert "4 train points x at least 0.15 ms CPU each = at least 0.0006 CPU-s" in capsys.readouterr().err
    eight = _spec(tmp_path, [8, 16, 32, 64, 128, 256, 512, 1024])
    assert main(["sweep", eight, "--out", out, "--max-cpu-hours", "1e-7"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "sweep of 4 of 8 train points still to run x at least 0.15 ms CPU each = at " \
        "least 0.0006 CPU-s, above the limit of 0.00036 CPU-s (--max-cpu-hours)" in err, err


def test_rows_of_other_points_do_not_count_as_done(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The folder's rows less than the spec's points is a floor: rows of points the spec no longer has (its axes
    changed) would pass a run past its limit, so where the floor fits and the whole does not, the points are keyed."""
    out = str(tmp_path / "out")
    assert main(["sweep", _spec(tmp_path, [8, 16]), "--out", out, "--json"]) == 0
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"function": "train", "fixed": FIXED, "axes": {"gpus": [32, 64, 128]}}))
    assert points_to_run(load_spec(str(other)), out) == 1  # the floor: 3 points less 2 rows
    assert points_to_run(load_spec(str(other)), out, max_cpu_s=3.6e-4) == 3  # keyed: none of the 3 is done
    capsys.readouterr()
    assert main(["sweep", str(other), "--out", out, "--max-cpu-hours", "1e-7"]) == 2  # 0.45 ms > 0.36 ms
    assert "sweep of 3 train points x at least 0.15 ms" in capsys.readouterr().err
