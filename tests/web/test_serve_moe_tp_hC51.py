"""`serve --moe-tp N` (web `moe_tp`): attention DP with MoE TP from the CLI and the web (hC51).

Session 50 (hL82) priced `Deployment.moe_tp` (each expert's FFN split over MoE-TP GPUs of an attention-DP replica,
EP x MoE TP = attention DP x TP; TensorRT-LLM `moe_tensor_parallel_size`), reachable only from the validation rows: a
user could not ask for the layout the Blackwell set's GPT-OSS-120B rows measure (attention DP 4, MoE TP 4, EP 1).
Before this change `--moe-tp` was an unknown option (exit 2, "No such option") and the web refused the field (422).
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from tests.web.test_web_cli_parity import _same_as_cli

from infraplan.cli.main import main

BASE = ["serve", "gpt-oss-120b", "--system", "dgx-b200", "--gpus", "4", "--dtype", "mxfp4", "--concurrency", "32",
        "--input-len", "1024", "--output-len", "256", "--requests", "64", "--json"]


def _deployment(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    assert main([*BASE, *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_moe_tp_is_priced_and_said(capsys: pytest.CaptureFixture[str]) -> None:
    """MoE TP 4 over 4 attention-DP ranks: EP defaults to attention DP x TP / MoE TP = 1, the JSON says both, and the
    layer is priced as the folded layout (one gather + one reduce-scatter, quarter-width experts), not as EP 4."""
    wide_ep = _deployment(capsys, "--attention-dp", "4")
    moe_tp = _deployment(capsys, "--attention-dp", "4", "--moe-tp", "4")
    assert (wide_ep["deployment"]["ep"], wide_ep["deployment"]["moe_tp"]) == (4, 1)
    assert (moe_tp["deployment"]["ep"], moe_tp["deployment"]["moe_tp"]) == (1, 4)
    assert moe_tp["tpot_s"]["p50"] != wide_ep["tpot_s"]["p50"]
    split = _deployment(capsys, "--attention-dp", "4", "--moe-tp", "2")  # EP 2 x MoE TP 2
    assert (split["deployment"]["ep"], split["deployment"]["moe_tp"]) == (2, 2)
    assert main([*BASE[:-1], "--attention-dp", "4", "--moe-tp", "4"]) == 0  # the title names the layout
    assert "DP-attention4 EP1 MoE-TP4" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(("extra", "words"), [
    (["--moe-tp", "4"], "give --attention-dp > 1"),
    (["--attention-dp", "4", "--moe-tp", "3"], "--moe-tp 3 must divide attention DP x TP = 4"),
    (["--attention-dp", "4", "--moe-tp", "4", "--ep", "2"], "EP x MoE TP = attention DP x TP = 4"),
    (["--attention-dp", "4", "--ep", "1"], "give --moe-tp 4"),
])
def test_bad_combinations_are_one_line_exit_2(capsys: pytest.CaptureFixture[str], extra: list[str],
                                              words: str) -> None:
    assert main([*BASE, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and words in err, err


def test_a_prefill_pool_of_its_own_runs_moe_tp_1(capsys: pytest.CaptureFixture[str]) -> None:
    """--moe-tp is the decode pool's, as --attention-dp is; a TP4 prefill worker has no attention DP to split."""
    args = [*BASE[:5], "8", "--dtype", "mxfp4", "--rate", "4", "--input-len", "1024", "--output-len", "128",
            "--requests", "40", "--prefill-gpus", "4", "--prefill-tp", "4", "--attention-dp", "4", "--moe-tp", "4",
            "--json"]
    assert main(args) == 0
    dep = json.loads(capsys.readouterr().out)["deployment"]
    assert (dep["prefill"]["moe_tp"], dep["decode"]["moe_tp"], dep["decode"]["ep"]) == (1, 4, 1)


def test_web_serve_with_moe_tp_equals_the_cli(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    body = {"model": "gpt-oss-120b", "system": "dgx-b200", "gpus": 4, "attention_dp": 4, "moe_tp": 4,
            "dtype": "mxfp4", "concurrency": 32, "input_len": 1024, "output_len": 256, "requests": 64}
    data = _same_as_cli(client, "serve", body, capsys)
    assert (data["deployment"]["moe_tp"], data["deployment"]["ep"]) == (4, 1)
    bad = client.post("/api/serve", json={**body, "attention_dp": 1})
    assert bad.status_code == 400 and "give --attention-dp > 1" in bad.json()["detail"]
