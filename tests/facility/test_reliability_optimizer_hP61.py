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


def test_a_given_size_overrides_muon_as_it_does_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    """--checkpoint-size states the checkpoint, so --optimizer muon sizes nothing: it was read by nothing and said
    nowhere (hQ61), then refused (hP61) while `--model` beside the size was accepted and said unused (hN71: two rules
    for one case). One rule since hN2 (session 71): the size overrides both, and the answer says so. The CLI and the
    report (the web's path) answer the same; Adam, the default, with a stated size: no optimizer named (null)."""
    got = _cli(capsys, "--optimizer", "muon", "--checkpoint-size", "5TB")
    assert got["checkpoint_bytes"] == pytest.approx(5e12) and got["optimizer"] is None and got["model"] is None
    assert got["checkpoint_size_basis"] == "--checkpoint-size; the model is not used, nor --optimizer muon"
    report = reliability_report("h100-sxm", 64, checkpoint_size_bytes=1e12, optimizer="muon")
    assert report.checkpoint_bytes == pytest.approx(1e12) and report.optimizer is None
    got = _cli(capsys, "--checkpoint-size", "5TB")
    assert got["optimizer"] is None and got["checkpoint_bytes"] == pytest.approx(5e12)
    assert got["checkpoint_size_basis"] == "--checkpoint-size; the model is not used"


def test_refusals_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown optimizer: exit 2, one line; the API's Muon without its bytes: refused, not Adam's size."""
    capsys.readouterr()
    assert cli_main(["reliability", "--system", "h100-sxm", "--gpus", "64", "--optimizer", "sgd"]) == 2
    err = capsys.readouterr().err
    assert "--optimizer must be one of adam, muon, got 'sgd'" in err and "Traceback" not in err
    with pytest.raises(InputError, match="checkpoint_bytes_per_param"):
        reliability_report("h100-sxm", 64, optimizer="muon")

