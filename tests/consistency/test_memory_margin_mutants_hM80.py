"""Mutation wave hM80 (session 50): a search row's `train_command` carries the search's --memory-margin as given, so
the rerun flags its headroom at the same margin (hC70): 0.125 stays 0.125 (not rounded to 0.12 or 0.13), and
`train` then keeps 12.5 % of the accelerator's memory as its margin."""

from __future__ import annotations

import shlex

import pytest
from tests.cli.conftest import cli_json

SEARCH = "llama3-70b --system dgx-h100-superpod --gpus 64 --seq-len 8192 --global-batch 128 --top 1"


def test_a_margin_of_three_decimals_reruns_as_given(capsys: pytest.CaptureFixture[str]) -> None:
    row = cli_json(capsys, ["search", *shlex.split(SEARCH), "--memory-margin", "0.125"])["top"][0]
    args = shlex.split(row["train_command"])
    assert args[args.index("--memory-margin") + 1] == "0.125"
    trained = cli_json(capsys, args[1:])
    assert trained["memory_margin_bytes"] == 0.125 * trained["memory_capacity_bytes"]
    assert trained["memory_margin_bytes"] == row["memory_margin_bytes"]
