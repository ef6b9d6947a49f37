"""`reliability --optimizer adam|muon` (hP61): the model's checkpoint at the optimizer's bytes a parameter, the one
figure `train --tokens` reads (`training.optimizer_models.checkpoint_bytes_per_param`: Adam 14 B, Muon 10 B); it was
Adam's 14 B whatever the run stepped with."""

from __future__ import annotations

import json

import pytest

from infraplan.catalog import load_model
from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError
from infraplan.facility.reliability import reliability_report
from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    capsys.readouterr()
    assert cli_main(["reliability", "--system", "h100-sxm", "--gpus", "1024", "--model", "llama3-70b", *args,
                     "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_muon_checkpoints_hold_one_moment_fewer(capsys: pytest.CaptureFixture[str]) -> None:
    """llama3-70b: 14 B a parameter with Adam (the default, as before), 10 B a matrix parameter with Muon and AdamW's
    14 B on the embedding and LM head (hD62: 10 B on all of them before); its write time and the Daly interval
    shrink with it, and the basis names the optimizer and its bytes."""
    shape = load_model("llama3-70b")
    params, tables = float(shape.total_params()), float(shape.embedding_params())
    adam, default, muon = _cli(capsys, "--optimizer", "adam"), _cli(capsys), _cli(capsys, "--optimizer", "muon")
    assert default == adam and adam["optimizer"] == "adam"
    assert (adam["checkpoint_bytes"], muon["checkpoint_bytes"]) == pytest.approx(
        (14.0 * params, 10.0 * (params - tables) + 14.0 * tables))
    assert muon["checkpoint_write_s"] < adam["checkpoint_write_s"]
    assert muon["daly_interval_s"] < adam["daly_interval_s"]
    assert muon["optimizer"] == "muon" and "optimizer state (muon)" in str(muon["checkpoint_size_basis"])
    per = (10.0 * (params - tables) + 14.0 * tables) / params  # (10.12 B: the tables are 2.98 %)
    assert f"({per:g} bytes per parameter)" in str(muon["checkpoint_size_basis"])


def test_the_checkpoint_is_train_tokens_one(capsys: pytest.CaptureFixture[str]) -> None:
    """`reliability --optimizer muon` writes the checkpoint `train --optimizer muon --tokens` prices for the model."""
    estimate = estimate_training("llama3-70b", "h100-sxm", 1024, tp=8, pp=4, seq_len=4096, global_batch=1024,
                                 optimizer="muon")
    run = training_run_totals(estimate, "h100-sxm", 1e12)
    assert _cli(capsys, "--optimizer", "muon")["checkpoint_bytes"] == pytest.approx(run.checkpoint_bytes)


def test_a_given_size_with_muon_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """--checkpoint-size states the checkpoint, so --optimizer muon would size nothing: it was read by nothing and
    said nowhere (hQ61); now one line, exit 2, from the CLI and through the report (the web's path). Adam, the
    default, with a stated size: the size, no optimizer named (null)."""
    capsys.readouterr()
    assert cli_main(["reliability", "--system", "h100-sxm", "--gpus", "1024", "--model", "llama3-70b",
                     "--optimizer", "muon", "--checkpoint-size", "5TB", "--json"]) == 2
    err = capsys.readouterr().err
    assert "give one of the two" in err and err.count("\n") == 1 and "Traceback" not in err
    with pytest.raises(InputError, match="give one of the two"):
        reliability_report("h100-sxm", 64, checkpoint_size_bytes=1e12, checkpoint_bytes_per_param=10.0,
                           optimizer="muon")
    got = _cli(capsys, "--checkpoint-size", "5TB")
    assert got["optimizer"] is None and got["checkpoint_bytes"] == pytest.approx(5e12)


def test_refusals_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown optimizer: exit 2, one line; the API's Muon without its bytes: refused, not Adam's size."""
    capsys.readouterr()
    assert cli_main(["reliability", "--system", "h100-sxm", "--gpus", "64", "--optimizer", "sgd"]) == 2
    err = capsys.readouterr().err
    assert "--optimizer must be one of adam, muon, got 'sgd'" in err and "Traceback" not in err
    with pytest.raises(InputError, match="checkpoint_bytes_per_param"):
        reliability_report("h100-sxm", 64, optimizer="muon")

