"""Another tool's name for an option is answered with infraplan's (hW59, `cli.option_synonyms`): `train --precision
nvfp4` said only "No such option: --precision", and `--tensor-parallel-size 8` (vLLM's, SGLang's) was offered click's
nearest spelling, `--sequence-parallel`."""

from __future__ import annotations

import pytest

from infraplan.cli.main import main

TRAIN = ["train", "llama3-8b", "--system", "h100-sxm", "--gpus", "8"]
SERVE = ["serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "8"]


@pytest.mark.parametrize(("argv", "said"), [
    ([*TRAIN, "--precision", "nvfp4"], "No such option: --precision; did you mean --dtype?"),
    ([*TRAIN, "--tensor-parallel-size", "8"], "No such option: --tensor-parallel-size; did you mean --tp?"),
    ([*TRAIN, "--expert-model-parallel-size", "8"], "; did you mean --ep?"),
    ([*SERVE, "--max-num-seqs", "256"], "No such option: --max-num-seqs; did you mean --max-batch?"),
    ([*SERVE, "--num-prompts", "100"], "; did you mean --requests?"),
])
def test_a_frameworks_name_gets_ours(argv: list[str], said: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err and len(err.strip().splitlines()) == 1 and "sequence-parallel" not in err


def test_a_synonym_for_an_option_the_command_lacks_keeps_clicks_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*TRAIN, "--kv-cache-dtype", "fp8"]) == 2  # train has no --kv-dtype: click's own list stands
    err = capsys.readouterr().err
    assert "No such option: --kv-cache-dtype" in err and "did you mean --kv-dtype" not in err
