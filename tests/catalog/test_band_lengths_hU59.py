"""An answer longer than every case behind its band says so (hU59, catalog/answer_bands.py): a 131,072-token train
or a 128k-context serve read their band as if it had been measured at their length."""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog.answer_bands import beyond_validated_length, validated_lengths
from infraplan.catalog.error_bands import ErrorBand

BAND = ErrorBand(low=-0.1, high=0.2, cases=10, basis="b")


def test_only_a_length_beyond_the_longest_case_is_flagged() -> None:
    longest = validated_lengths()["training"].tokens
    assert beyond_validated_length(BAND, "training", longest) == BAND  # at the longest: inside
    flagged = beyond_validated_length(BAND, "training", 2 * longest)
    assert flagged is not None and (flagged.low, flagged.high, flagged.cases) == (BAND.low, BAND.high, BAND.cases)
    assert flagged.basis.startswith("b; outside the validated lengths") and "2.0x the longest" in flagged.basis
    assert beyond_validated_length(None, "training", 10**6) is None
    assert beyond_validated_length(BAND, "recsys", 10**6) == BAND  # no length entry: unjudged


def test_train_at_131k_says_its_length_is_outside_and_at_8k_does_not(capsys: pytest.CaptureFixture[str]) -> None:
    """Two runs differing only in length (and the batch that keeps tokens per step): same band, one flagged."""
    base = "train llama3-8b --system dgx-h100-superpod --gpus 64 --tp 8 --cp 4 --recompute full"
    short = cli_json(capsys, f"{base} --seq-len 8192 --global-batch 256")["error_band"]
    long = cli_json(capsys, f"{base} --seq-len 131072 --global-batch 16")["error_band"]
    assert (short["low"], short["high"]) == (long["low"], long["high"])
    assert "outside the validated lengths" not in short["basis"]
    assert "sequence length of 131,072 tokens is 16.0x the longest" in long["basis"]


def test_serve_flags_its_mean_context_on_both_bands(capsys: pytest.CaptureFixture[str]) -> None:
    args = "serve llama3.1-8b --system dgx-h100-superpod --gpus 1 --concurrency 1 --requests 2 --output-len 8"
    short = cli_json(capsys, f"{args} --input-len 1000")
    long = cli_json(capsys, f"{args} --input-len 20000")
    for key in ("error_band", "ttft_error_band"):
        assert "outside the validated lengths" not in short[key]["basis"]
        assert "mean prompt + output context of 20,008 tokens is 2.0x the longest" in long[key]["basis"]
