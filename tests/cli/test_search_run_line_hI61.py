"""`search --tokens` prints, under its best plan's whole run, the `train` line that prices that run again: the
best plan's `train_command` with the run's options as typed (hI61: the text said "as train --tokens of its
train_command" and showed no command; only --json held it, and without the run's options)."""

from __future__ import annotations

import shlex

import pytest
from tests.cli.conftest import CliRun, cli_json

SEARCH = ("search llama3-8b --system dgx-h100-superpod --gpus 16 --seq-len 4096 --global-batch 32 --tokens 100B "
          "--location texas --eval-every '50M tokens' --eval-samples 100")


def test_the_printed_line_reruns_the_best_plans_run(cli: CliRun, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(shlex.split(SEARCH))
    assert code == 0
    (line,) = [t for t in out.splitlines() if t.startswith("the same run again: infraplan train ")]
    args = shlex.split(line.removeprefix("the same run again: infraplan "))
    assert args[-8:] == ["--tokens", "100B", "--location", "texas", "--eval-every", "50M tokens", "--eval-samples",
                         "100"]
    searched = cli_json(capsys, shlex.split(SEARCH))["best_run"]
    trained = cli_json(capsys, args)
    for key in ("time_to_train_s", "gpu_hours", "energy_mwh", "cost_usd", "step_time_s"):
        assert trained[key] == searched[key]


def test_no_run_line_without_tokens(cli: CliRun) -> None:
    code, out, _ = cli(shlex.split(SEARCH.split(" --tokens")[0]))
    assert code == 0 and "the same run again" not in out
