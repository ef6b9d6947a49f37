"""`search --tokens` gives the `train` line that prices its best plan's run again as one field, `best_run_command`
(`planning.search_run.run_flags`, hR61): --json carries it, the text prints it, the web's answer is the CLI's. Before,
the text built the line from the run's options and --json held only `best.train_command`, without them."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from tests.cli.conftest import CliRun, cli_json

SEARCH = ("search llama3-8b --system dgx-h100-superpod --gpus 8 --seq-len 4096 --global-batch 64 --top 1 "
          "--tokens 20B --location texas --server-price 250000 --eval-every '40M tokens' --eval-samples '1 steps'")


def test_the_json_field_reruns_the_best_run_and_is_the_printed_line(tmp_path: Path, cli: CliRun,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    costs = tmp_path / "my costs.yaml"  # a path with a space: the field quotes it as the shell reads it
    costs.write_text("electricity_usd_per_mwh: 97\n", encoding="utf-8")
    search = [*shlex.split(SEARCH), "--costs", str(costs)]
    found = cli_json(capsys, search)
    command = found["best_run_command"]
    assert command.startswith(found["best"]["train_command"] + " --tokens 20B --location texas")
    args = shlex.split(command)
    assert args[0] == "infraplan" and args[-2:] == ["--eval-samples", "1 steps"] and str(costs) in args
    trained = cli_json(capsys, args[1:])
    at = args.index("--costs")
    plain = cli_json(capsys, args[1:at] + args[at + 2:])  # the costs file moves the money the field reruns
    assert trained["evaluations"] > 0 and trained["cost_usd"] != plain["cost_usd"]
    assert trained == found["best_run"]  # every figure of the run, the step's and the money's
    code, out, _ = cli(search)
    lines = [t.removeprefix("the same run again: ") for t in out.splitlines() if t.startswith("the same run again")]
    assert code == 0 and lines == [command]


def test_no_command_without_a_run(capsys: pytest.CaptureFixture[str]) -> None:
    found = cli_json(capsys, [*shlex.split(SEARCH.split(" --tokens")[0])])
    assert "best_run_command" not in found and "best_run" not in found
