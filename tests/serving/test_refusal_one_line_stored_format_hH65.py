"""A refused `serve` of a model whose config stores another weight format is one line (hH, session 65).

GPT-OSS's and Kimi K2's shipped configs carry a quantization_config (MXFP4 / INT4 routed experts). `serve` at another
`--dtype` warns that every layer is priced at that dtype (`serve_inputs.checkpoint_mismatch`), and it warned before
checking the rest of the input: `serve gpt-oss-120b --system hgx-h200 --gpus 8 --tp 16 --dtype fp8` printed the
warning and then the refusal ("--gpus 8 is not divisible by TP x PP x attention DP = 16"), as did nvfp4 on H100
(no fp4 there). Bad input is one line and exit 2 (the developers' guide); the warning now comes once the inputs pass,
and a run that goes ahead still carries it.
"""

from __future__ import annotations

import json

import pytest

from infraplan.cli.main import main

GPT_OSS = ["serve", "gpt-oss-120b", "--system", "hgx-h200", "--gpus", "8", "--offline", "--input-len", "100",
           "--output-len", "10", "--requests", "8"]


@pytest.mark.parametrize("bad", [["--tp", "16", "--dtype", "fp8"],  # TP x PP x attention DP does not divide the GPUs
                                 ["--tp", "8", "--dtype", "nvfp4"],  # H200 has no fp4
                                 ["--tp", "8", "--dtype", "fp8", "--prefill-gpus", "3"]])
def test_a_refusal_is_one_line(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([*GPT_OSS, *bad]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("infraplan: error:") and "quantization_config" not in err


def test_a_run_at_another_dtype_still_says_the_stored_format(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([*GPT_OSS, "--tp", "8", "--dtype", "fp8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert any("quantization_config (mxfp4)" in w and "--dtype fp8 on every layer" in w for w in out["warnings"])
