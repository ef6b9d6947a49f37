"""An EP that does not divide the experts names the EPs that do; a dense model's EP says it is dense (hW, session 70).

`train deepseek-v3 ... --ep 72` said "expert parallel must divide the 256 experts (EP=1 for dense models): EP 72"
(a dense-model aside on an MoE model, and no valid EP named, where the TP rule names the TPs dividing the heads);
`train llama3-8b ... --ep 2` said "must divide the 1 experts". Both one line, exit 2, before and after.
"""

from __future__ import annotations

import pytest

from infraplan.cli.main import main

TRAIN = ["train", "--seq-len", "4096", "--global-batch", "4608"]


def _error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main([*TRAIN, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_an_moe_ep_not_dividing_the_experts_names_the_eps_that_do(capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(capsys, "deepseek-v3", "--system", "gb300-nvl72-superpod", "--gpus", "576", "--pp", "8", "--ep", "72")
    assert err.endswith("expert parallel must divide the 256 experts: EP 72 (EPs dividing 256 experts: 1, 2, 4, 8, "
                        "16, 32, 64, 128, 256)"), err
    assert "dense" not in err
    err = _error(capsys, "kimi-k2", "--system", "gb300-nvl72-superpod", "--gpus", "576", "--pp", "8", "--ep", "72")
    assert "EPs dividing 384 experts: 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 384)" in err


def test_a_dense_model_with_ep_is_said_to_be_dense(capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(capsys, "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--ep", "2")
    assert "llama3-8b is dense, no experts" in err and "the 1 experts" not in err and "EPs dividing" not in err
