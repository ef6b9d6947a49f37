"""The web refuses a plan that defers its wgrads under TP userbuffers as `train` does (hD, session 66;
`training.tp_overlap.deferred_wgrad_userbuffers_refused`: Transformer Engine 2.14 module/_common.py:212-216): a 4xx
with the CLI's one line, for an uploaded stack file; the same file without userbuffers answers; the CLI exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infraplan.cli.main import main as cli_main

STACK = ("extends: nemo-26.04\nexpert_parallel_layout: ep-inside-dp\n"
         "moe:\n  overlap_ep_comm: true\n  delay_wgrad_compute: true\n")
BODY = {"model": "qwen3-30b-a3b", "system": "dgx-h100-superpod", "gpus": 64, "tp": 2, "ep": 8, "seq_len": 4096,
        "global_batch": 512}


def test_train_refuses_with_the_cli_line(client: TestClient) -> None:
    refused = client.post("/api/train", json=BODY | {"stack": {"text": STACK, "filename": "ub-delay.yaml"}})
    detail = refused.json()["detail"]
    assert 400 <= refused.status_code < 500, refused.text
    assert "delay_wgrad_compute does not run with TP userbuffers" in detail and "\n" not in detail
    plain = STACK + "tp_comm_overlap_fraction: 0.0\ntp_overlap_sm_fraction: 0.0\n"
    ran = client.post("/api/train", json=BODY | {"stack": {"text": plain, "filename": "delay.yaml"}})
    assert ran.status_code == 200, ran.text


def test_cli_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`train` with the same file: exit code 2, one line on stderr, nothing on stdout."""
    stack = tmp_path / "ub-delay.yaml"
    stack.write_text(STACK, encoding="utf-8")
    code = cli_main(["train", "qwen3-30b-a3b", "--system", "dgx-h100-superpod", "--gpus", "64", "--tp", "2", "--ep",
                     "8", "--seq-len", "4096", "--global-batch", "512", "--stack", str(stack), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and "_common.py:212-216" in err
