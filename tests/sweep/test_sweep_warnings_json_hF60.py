"""hF (session 60): `sweep --json` carries the warning lines the run raised, as every other command's `--json`
(`results.with_warnings`, hJ59). Before, `SweepRun` had neither a `warnings` nor a `notes` field: the work estimate
past a CPU-hour (`work_estimate.warn_sweep_work`) was a stderr line only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infraplan.cli.main import main
from infraplan.sweep import work_estimate

SPEC = {"function": "train", "fixed": {"model": "llama3-8b", "system": "dgx-h100-superpod", "seq_len": 2048,
                                       "global_batch": 64}, "axes": {"gpus": [8, 16]}}


def test_the_work_estimate_is_in_the_sweeps_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(SPEC))
    assert main(["sweep", str(path), "--out", str(tmp_path / "quiet"), "--workers", "1", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["warnings"] == [] and err == ""  # under a CPU-hour: no line
    monkeypatch.setattr(work_estimate, "SWEEP_WARN_CPU_S", 0.0)
    assert main(["sweep", str(path), "--out", str(tmp_path / "said"), "--workers", "1", "--json"]) == 0
    out, err = capsys.readouterr()
    printed = [line.removeprefix("infraplan: warning: ") for line in err.splitlines()]
    assert len(printed) == 1 and printed[0].startswith("sweep of 2 train points x at least 0.15 ms CPU each")
    assert json.loads(out)["warnings"] == printed
