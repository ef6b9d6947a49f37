"""`reliability --json` says what sized the checkpoint (hC51).

With `--checkpoint-size` the model is not used (`facility.reliability.job_reliability` reads the parameters only for
the size), yet the JSON said `"model": "llama3-405b"` (the --model default) beside the given bytes: a reader took the
figures for that model's. Now `model` is null there and `checkpoint_size_basis` names the source either way; the text
row (hU81) reads the same words. Before this change: `model` was "llama3-405b" and the field did not exist.
"""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json

from infraplan.facility.reliability import reliability_report

RELIABILITY = ["reliability", "--system", "meta-genai-roce-24k", "--gpus", "16384", "--days", "54"]


def test_a_given_size_names_no_model(capsys: pytest.CaptureFixture[str]) -> None:
    given = cli_json(capsys, [*RELIABILITY, "--checkpoint-size", "2TiB"])
    assert given["model"] is None and given["checkpoint_bytes"] == 2 * 2**40
    basis = given["checkpoint_size_basis"]
    assert basis.startswith("--checkpoint-size") and "not used" in basis
    sized = cli_json(capsys, [*RELIABILITY, "--model", "llama3-70b"])
    assert sized["model"] == "llama3-70b"
    assert sized["checkpoint_size_basis"] == ("llama3-70b's weights and optimizer state (adam), --model (14 bytes "
                                              "per parameter)")  # (the optimizer named since hP61)


def test_the_api_and_the_text_row_say_the_same() -> None:
    report = reliability_report("meta-genai-roce-24k", 16384, 54, "llama3-405b", checkpoint_size_bytes=1e12)
    assert report.model is None and "--checkpoint-size" in report.checkpoint_size_basis
    default = reliability_report("meta-genai-roce-24k", 16384, 54)
    assert default.model == "llama3-405b" and default.checkpoint_size_basis.startswith("llama3-405b's")


def test_the_text_row_reads_the_basis(capsys: pytest.CaptureFixture[str]) -> None:
    from infraplan.cli.main import main

    assert main([*RELIABILITY, "--checkpoint-size", "1TB"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--checkpoint-size; the model is not" in out and "405b" not in out  # the row wraps at 80 columns
