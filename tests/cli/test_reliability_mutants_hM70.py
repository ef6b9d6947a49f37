"""The human `reliability` and `train --tokens` lines show the job MTTF their JSON gives (hM70 mutation wave on hX60's
rename to `job_mttf_s`: the table rows and the band's "measured likely" range reading another field survived every
test, which read the JSON only). One question asked two ways, one answer: 64 H100s at llama3-h100's 3.789
interruptions per 1,000 node-days fail every 1,000 / 3.789 / 8 nodes = 33.0 days (2.85e6 s)."""

from __future__ import annotations

import re

import pytest
from tests.cli.conftest import cli_json

from infraplan.cli import main
from infraplan.cli.commands._output import fmt_seconds

RELIABILITY = "reliability --system h100-sxm --gpus 64 --model llama3-8b"
TRAIN = "train llama3-8b --system h100-sxm --gpus 64 --tp 2 --pp 1 --seq-len 4096 --global-batch 256 --tokens 100G"


def _human(capsys: pytest.CaptureFixture[str], command: str) -> str:
    assert main(command.split()) == 0
    return re.sub(r"\s+", " ", capsys.readouterr().out)


def test_reliability_shows_its_json_job_mttf(capsys: pytest.CaptureFixture[str]) -> None:
    data = cli_json(capsys, RELIABILITY)
    mttf = data["job_mttf_s"]
    assert mttf / 86_400 == pytest.approx(1000 / 3.789 / 8, rel=1e-3)  # by hand from the rate
    out = _human(capsys, RELIABILITY)
    assert f"job MTTF │ {fmt_seconds(mttf)} │" in out and fmt_seconds(mttf) == "33 days"
    band = data["error_band"]
    ends = sorted(mttf / (1.0 + r) for r in (band["low"], band["high"]))  # a latency band: measured = value / (1 + r)
    assert f"measured likely {fmt_seconds(ends[0])} to {fmt_seconds(ends[1])}" in out


def test_train_tokens_shows_the_same_job_mttf(capsys: pytest.CaptureFixture[str]) -> None:
    mttf = cli_json(capsys, RELIABILITY)["job_mttf_s"]
    assert re.search(rf"job MTTF │ {re.escape(fmt_seconds(mttf))} │", _human(capsys, TRAIN))
