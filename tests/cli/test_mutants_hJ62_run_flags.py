"""Mutant-killing check of `planning.search_run.run_flags` (hJ, session 62): `--server-price 0` is a price the
options accept (`cli.options.PRICE`, ge 0: servers already paid for), not an option left out, so the `train` line
that reruns the best plan's run carries it and prices the same run (the default server price is not 0)."""

from __future__ import annotations

import shlex

import pytest
from tests.cli.conftest import cli_json

SEARCH = ("search llama3-8b --system dgx-h100-superpod --gpus 8 --seq-len 4096 --global-batch 64 --top 1 "
          "--tokens 20B --server-price 0")


def test_a_zero_server_price_is_rerun(capsys: pytest.CaptureFixture[str]) -> None:
    found = cli_json(capsys, shlex.split(SEARCH))
    args = shlex.split(found["best_run_command"])
    assert args[-2:] in (["--server-price", "0"], ["--server-price", "0.0"])
    rerun = cli_json(capsys, args[1:])
    default = cli_json(capsys, args[1:-2])
    assert rerun == found["best_run"] and rerun["cost_usd"] < default["cost_usd"]
