"""The training page names the FLOP count a DSA warm-up's MFU is in, as `train` does (hI62: the page labelled every
MFU "full s×s scores"; `train --dsa-stage warmup` prints "MFU / HFU (warm-up FLOPs)", its `mfu_flop_convention`
the warm-up's own count, training/dsa_warmup.py)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from infraplan.cli.main import main

WARMUP = ["train", "deepseek-v3.2", "--system", "h800", "--gpus", "64", "--tp", "8", "--ep", "8", "--seq-len", "16384",
          "--global-batch", "8", "--dtype", "fp8", "--recompute", "full", "--zero", "1", "--stack", "deepseek-v3"]


def _cli_label(capsys: pytest.CaptureFixture[str], stage: str) -> str:
    capsys.readouterr()
    assert main([*WARMUP, "--dsa-stage", stage]) == 0
    found = re.search(r"MFU / HFU (\([^)]*\))", capsys.readouterr().out)
    assert found is not None
    return found.group(1)


def test_the_page_labels_a_warmups_mfu_as_the_cli_does(client: TestClient,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    page = client.get("/train").text
    row = re.search(r"\[r\.dsa_stage === \"warmup\" \? \"MFU (\([^)]*\))\" : \"MFU (\([^)]*\))\",", page)
    assert row is not None, "the MFU row's label does not follow the answer's dsa_stage"
    assert row.group(1) == _cli_label(capsys, "warmup") == "(warm-up FLOPs)"
    assert row.group(2) == _cli_label(capsys, "sparse") == "(full s×s scores)"
