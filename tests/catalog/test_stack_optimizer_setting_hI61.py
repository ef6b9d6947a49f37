"""A stack file whose own optimizer (or a model recipe's) is not among its `optimizers` is refused naming the setting
that names it (hI61: `extends: deepseek-v3` with `optimizers: [muon]` said only "ships no adam optimizer", which read
as a refusal of `--optimizer muon` given on the same line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli import main

PLAN = ["--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096", "--global-batch", "8"]


def _refusal(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, *more: str) -> str:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    assert main(["train", "llama3-8b", *PLAN, "--stack", str(path), *more]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    return err


def test_the_stacks_own_default_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _refusal(tmp_path, capsys, "extends: deepseek-v3\nname: mine\noptimizers: [muon]\n",
                   "--optimizer", "muon")
    assert "its `optimizer` is adam: stack mine ships no adam optimizer (its optimizers: muon" in err


def test_a_recipes_optimizer_is_named_with_its_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _refusal(tmp_path, capsys, "extends: nemo-26.04\nname: adam-only\noptimizers: [adam]\n"
                   "optimizers_source: mine\n")
    # (kimi-k2.5's recipe, hD68, Muon as kimi-k2's: the line names one of them)
    assert "its kimi-k2.5 recipe's `optimizer` is muon: stack adam-only ships no muon optimizer" in err


def test_a_file_whose_default_it_ships_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("extends: deepseek-v3\nname: mine\noptimizers: [muon]\noptimizer: muon\n"
                    "optimizers_source: mine\n")
    assert main(["train", "llama3-8b", *PLAN, "--stack", str(path), "--json"]) == 0
    assert '"optimizer": "muon"' in capsys.readouterr().out
