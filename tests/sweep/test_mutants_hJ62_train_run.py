"""Mutant-killing checks of `sweep.train_run` (hJ, session 62): a sweep point's whole run is `train --tokens --json`
of the same point (the CLI's reading of its options is the other implementation): its stack prices the in-run
evaluations' forward passes (megatron-core 0.8 is not nemo-26.04), and a system given as a file is named by its
path in the notes' commands, as `train --system FILE` names it (hU53)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from infraplan.cli.main import main as cli_main
from infraplan.planning.results import TrainingRunResult
from infraplan.sweep.functions import run_batch
from infraplan.sweep.results import flatten_result


def _cli(capsys: pytest.CaptureFixture[str], line: str) -> dict[str, Any]:
    capsys.readouterr()
    assert cli_main(shlex.split(line)) == 0
    return flatten_result(TrainingRunResult.model_validate(json.loads(capsys.readouterr().out)))


def _outputs(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("key", "error", "config_warnings") and not k.startswith("in_")}


def test_the_points_stack_prices_its_evaluations(capsys: pytest.CaptureFixture[str]) -> None:
    point = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 256, "tp": 1, "seq_len": 1024,
             "global_batch": 256, "zero": 0, "tokens": "10B", "eval_every": "50M", "eval_samples": "24M"}
    row = run_batch("train", [("b", {**point, "stack": "megatron-core-0.8"})], 0)[0]
    cli = _cli(capsys, "train llama3-8b --system dgx-h100-superpod --gpus 256 --tp 1 --seq-len 1024 --global-batch 256"
               " --zero 0 --stack megatron-core-0.8 --tokens 10B --eval-every 50M --eval-samples 24M --json")
    assert row["evaluation_s"] > 0 and _outputs(row) == cli  # (2,655 s; nemo-26.04's 2,604 s)


def test_a_system_file_is_named_by_its_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "acc.yaml"
    path.write_text("extends: h100-sxm\nname: my-h100\n")
    point = {"model": "llama3-8b", "system": str(path), "gpus": 12, "tp": 2, "seq_len": 4096, "global_batch": 48,
             "tokens": "1B"}
    row = run_batch("train", [("a", point)], 0)[0]
    assert row["error"] is None and f"--accelerator {path} --count 12" in row["notes"]
    cli = _cli(capsys, f"train llama3-8b --system {path} --gpus 12 --tp 2 --seq-len 4096 --global-batch 48 "
               "--tokens 1B --json")
    assert row["notes"] == cli["notes"]
