"""`search --tokens` (hL60): the best plan's whole run (wall clock with failures, checkpoints and evaluations,
GPU-hours, energy, CO2, cost) is `train --tokens` of the best plan's `train_command`, bit for bit: one function
prices both (`cli.commands.train.whole_run`). Before, search had no --tokens and a planner reran train by hand."""

from __future__ import annotations

import shlex

import pytest
from tests.cli.conftest import cli_json

from infraplan.cli.main import main

SEARCH = "search llama3-8b --system dgx-h100-superpod --gpus 64 --seq-len 8192 --global-batch 512 --top 2"


@pytest.mark.parametrize(("asked", "run"), [
    ([], ["--tokens", "1T"]),
    ([], ["--tokens", "200B", "--location", "oregon", "--server-price", "300000", "--eval-every", "50M tokens",
          "--eval-samples", "2 steps"]),
    (["--lora-rank", "16", "--memory-margin", "0.3", "--stack", "torchtitan"], ["--tokens", "20B"]),
    (["--optimizer", "muon"], ["--tokens", "20B"]),
])
def test_the_best_plans_run_is_train_tokens_of_its_command(capsys: pytest.CaptureFixture[str], asked: list[str],
                                                             run: list[str]) -> None:
    found = cli_json(capsys, [*SEARCH.split(), *asked, *run])
    best, whole = found["best"], found["best_run"]
    assert whole is not None and whole["time_to_train_s"] > 0 and whole["gpu_hours"] > 0
    train = cli_json(capsys, [*shlex.split(best["train_command"])[1:], *run])
    assert whole == train  # every figure, note and band to the bit
    for key in ("step_time_s", "tokens_per_s", "mfu", "memory_per_gpu_bytes"):  # the row is the estimate
        assert best[key] == whole[key]
    if "--eval-every" in run:
        assert whole["evaluations"] > 0 and whole["location"] == "oregon"


def test_tokens_adds_the_run_and_changes_nothing_else(capsys: pytest.CaptureFixture[str]) -> None:
    plain, run = cli_json(capsys, SEARCH), cli_json(capsys, [*SEARCH.split(), "--tokens", "1T"])
    added = {"best_run", "best_run_command", "run_ranked_count"}  # (its rerun line: hR61; runs ranked: hS75)
    assert "best_run" not in plain and set(run) == {*plain, *added} and run["run_ranked_count"] == 5
    timing = {"wall_time_s", "configs_per_s"}  # the search's own wall clock
    assert {k: v for k, v in run.items() if k not in timing | added} == \
        {k: v for k, v in plain.items() if k not in timing}


def test_the_text_prints_the_best_plans_run(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([*SEARCH.split(), "--tokens", "1T"]) == 0
    out = capsys.readouterr().out
    said = "the best plan (#1) on 1,000,000,000,000 tokens, as train --tokens of its train_command"
    assert said in " ".join(out.split())
    assert "time to train (wall clock)" in out and "GPU-hours" in out


@pytest.mark.parametrize(("extra", "line"), [
    (["--tokens", "lots"], "--tokens: cannot read quantity 'lots'"),
    (["--tokens", "1T", "--scaling"], "--tokens prices the best plan of one GPU count"),
    (["--location", "oregon"], "--location, --server-price and --costs need --tokens"),
    (["--tokens", "1T", "--location", "quebec"], "unknown location 'quebec'"),
    (["--eval-every", "12 steps", "--eval-samples", "1 steps"], "need --tokens"),
])
def test_bad_run_options_are_one_line_before_the_search(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch, extra: list[str],
                                                        line: str) -> None:
    def no_search(*args: object, **kwargs: object) -> None:
        raise AssertionError("searched before refusing")

    monkeypatch.setattr("infraplan.cli.commands.search.search_plans", no_search)
    capsys.readouterr()
    args = SEARCH.replace("--gpus 64", "--gpus 64,128").split() if "--scaling" in extra else SEARCH.split()
    assert main([*args, *(x for x in extra if x != "--scaling")]) == 2
    out, err = capsys.readouterr()
    assert line in err and "Traceback" not in err and not out.strip()
