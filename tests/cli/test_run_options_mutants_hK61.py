"""Mutant-killing check of `training.run_options.check_run_options` (hK, session 61): each whole-run price option
(--location, --server-price, --costs) without --tokens is one line and exit 2 on `train` and `search` alike, before
any plan is priced: none of them is read without a run to price."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli.main import main

TRAIN = "train llama3-8b --system dgx-h100-superpod --gpus 8 --tp 1 --pp 1 --dp 8 --seq-len 4096 --global-batch 64"
SEARCH = "search llama3-8b --system dgx-h100-superpod --gpus 64 --seq-len 8192 --global-batch 512 --top 2"


@pytest.mark.parametrize("command", [TRAIN, SEARCH])
@pytest.mark.parametrize("option", ["--location", "--server-price", "--costs"])
def test_a_price_option_without_tokens_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch, command: str,
                                                    option: str) -> None:
    def no_pricing(*args: object, **kwargs: object) -> None:
        raise AssertionError("priced before refusing")

    monkeypatch.setattr("infraplan.cli.commands.search.search_plans", no_pricing)
    costs = tmp_path / "costs.yaml"
    costs.write_text("server_usd_per_accelerator: 30000\n")
    value = {"--location": "oregon", "--server-price": "300000", "--costs": str(costs)}[option]
    capsys.readouterr()
    assert main([*command.split(), option, value]) == 2
    out, err = capsys.readouterr()
    assert "--location, --server-price and --costs need --tokens" in err
    assert "Traceback" not in err and not out.strip()
